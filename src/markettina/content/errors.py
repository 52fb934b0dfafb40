"""The content context's refusals, each with its HTTP status and stable code."""

from __future__ import annotations

# --- templates and A/B variants (h-templates) ------------------------------------------------
from typing import Any

from markettina.kernel.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
)


class TemplateNotFound(NotFound):
    code = "template_not_found"


class TemplateReadOnly(Forbidden):
    """Another account's public template: readable and renderable, never changed."""

    code = "template_read_only"


class TemplatePublishForbidden(Forbidden):
    """Making a template public (shared with every account) needs account:update."""

    code = "template_publish_forbidden"


class TemplateInactive(Conflict):
    code = "template_inactive"


class TemplateVersionConflict(Conflict):
    code = "version_conflict"

    def __init__(self, current: int) -> None:
        super().__init__(
            f"the template changed since you read it (now at version {current}); "
            "read it again and retry"
        )
        self.extensions = {"current_version": current}


class TemplateVariablesInvalid(ValidationFailed):
    code = "template_variables_invalid"

    def __init__(
        self, detail: str, *, errors: list[FieldError], undeclared: list[str] | None = None
    ) -> None:
        super().__init__(detail, errors=errors)
        if undeclared:
            self.extensions = {"undeclared_variables": undeclared}


class TemplateNotRenderable(ValidationFailed):
    """The sandbox refused the template (``code`` says how: template_unsafe,
    template_too_expensive, template_syntax_error ...), at save or at render."""

    def __init__(self, code: str, message: str, *, field: str) -> None:
        super().__init__(message, errors=[FieldError(field, message, code)], code=code)


class VariantNotFound(NotFound):
    code = "variant_not_found"


class VariantParentNotFound(NotFound):
    """The post or e-mail campaign a variant belongs to is not in the account."""

    code = "variant_parent_not_found"

    def __init__(self, parent_type: str, parent_id: str, *, field: str) -> None:
        super().__init__(
            f"no {parent_type.replace('_', ' ')} {parent_id} in this account",
            errors=[FieldError(field, "no such parent in this account", "not_found")],
        )


class TrafficSplitInvalid(ValidationFailed):
    code = "traffic_split_invalid"


class WinnerNotSignificant(Conflict):
    """The test has not shown a significant difference: the statistics say why."""

    code = "winner_not_significant"

    def __init__(self, detail: str, analysis: dict[str, Any]) -> None:
        super().__init__(detail)
        self.extensions = {"analysis": analysis}


class WinnerAlreadyDeclared(Conflict):
    code = "winner_already_declared"
