"""Request and response models of content templates and their rendering."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from markettina.kernel.web.inputs import (
    Flag,
    JsonObject,
    Omittable,
    PositiveInt32,
    RequestModel,
    small_json_object,
)
from markettina.kernel.web.outputs import ResponseModel

from ..template_sandbox import MAX_TEMPLATE_CHARS

MAX_VARIABLES = 50


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


Instant = Annotated[dt.datetime, AfterValidator(_utc)]  # stored timestamps, rendered in UTC

VariableName = Annotated[
    str,
    StringConstraints(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$"),
    Field(description="A name the template reads, e.g. `first_name` (letters, digits, _)."),
]
VariableType = Literal["string", "integer", "number", "boolean", "date", "list"]
# a JSON value bounded by its size; its type is checked against the declared one
# (template_variables.check_declarations), which JSON Schema cannot tie to ``type``
DefaultValue = Annotated[
    Any,
    AfterValidator(small_json_object),
    Field(
        description="Only for an optional variable; a value of the declared type.",
        json_schema_extra={"type": ["string", "number", "boolean", "array"]},
    ),
]

ContentType = Annotated[
    str,
    StringConstraints(max_length=50, pattern=r"^[a-z][a-z0-9_]{0,49}$"),
    Field(
        description="What the template writes, e.g. `social_post`, `email`, `email_html`. "
        "`html` or a type ending in `_html` renders with HTML escaping of the variables.",
        examples=["social_post"],
    ),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=2000)]
Platform = Annotated[str, StringConstraints(max_length=50, pattern=r"^[a-z][a-z0-9_]{0,49}$")]
TemplateText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TEMPLATE_CHARS),
    Field(
        description="Jinja2 text, rendered in a sandbox: `{{ first_name }}`, `{% if %}`, "
        "`{% for %}`, filters. No include, import, extends, macro or block.",
        examples=["Hi {{ first_name }}, {{ offer }} ends {{ ends_on.strftime('%d %B') }}!"],
    ),
]


class VariableDeclaration(RequestModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    def stored(self) -> dict[str, Any]:
        """The declaration as ``content_templates.variables`` keeps it (``type``, ...)."""
        return self.model_dump(by_alias=True)

    name: VariableName
    # "type" on the wire; kind in Python (a field named type reads as a schema's own key)
    kind: VariableType = Field(default="string", alias="type")
    required: Flag = True
    default: DefaultValue = None
    description: ShortText | None = None


Declarations = Annotated[list[VariableDeclaration], Field(max_length=MAX_VARIABLES)]


class TemplateCreate(RequestModel):
    name: Name
    content_type: ContentType
    template_content: TemplateText
    variables: Declarations = Field(default_factory=list)
    description: ShortText | None = None
    platform: Platform | None = None
    tone_of_voice: ShortText | None = None
    target_audience: ShortText | None = None
    is_active: Flag = True
    is_public: Flag = Field(
        default=False,
        description="Shared read-only with every account; needs the account:update permission.",
    )


class TemplateUpdate(RequestModel):
    """Only the fields sent change (`description: null` removes the description)."""

    name: Omittable[Name] = None
    content_type: Omittable[ContentType] = None
    template_content: Omittable[TemplateText] = None
    variables: Omittable[Declarations] = None
    description: ShortText | None = None
    platform: Platform | None = None
    tone_of_voice: ShortText | None = None
    target_audience: ShortText | None = None
    is_active: Omittable[Flag] = None
    is_public: Omittable[Flag] = None
    version: Omittable[PositiveInt32] = Field(
        default=None, description="The version you read (or If-Match)."
    )

    def changes(self) -> dict[str, Any]:
        changed = self.model_dump(exclude_unset=True, exclude={"version"})
        if "variables" in changed:
            changed["variables"] = [v.stored() for v in self.variables or []]
        return changed


class RenderRequest(RequestModel):
    variables: JsonObject = Field(
        default_factory=dict,
        description="One value per declared variable, of its type (a date as YYYY-MM-DD).",
        examples=[{"first_name": "Ada", "offer": "20% off", "ends_on": "2026-12-31"}],
    )


class TemplateOut(ResponseModel):
    id: uuid.UUID
    name: str
    description: str | None
    content_type: str
    platform: str | None
    template_content: str
    variables: list[dict[str, Any]]
    tone_of_voice: str | None
    target_audience: str | None
    usage_count: int = Field(description="Renders by any account (previews do not count).")
    is_active: bool
    is_public: bool
    created_at: Instant
    updated_at: Instant
    version: int


class RenderedOut(ResponseModel):
    template_id: uuid.UUID
    content_type: str
    text: str
    counted: bool = Field(description="Whether this render was added to the usage count.")
