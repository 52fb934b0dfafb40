"""Content templates: saved (their text and declared variables checked together), listed,
read (an account's own and every account's public ones), changed under optimistic locking,
soft-deleted, previewed and rendered.

Public templates are readable by every account (row-level security, migration
0025_public_templates) and changed only by their own account. Making one public needs the
``account:update`` permission (an owner or admin, or a key holding it): publishing
shares the text with every other account. Every render counts toward ``usage_count``,
another account's render of a public template too (through the owner's function
``content_template_count_use``); a preview never counts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.keyset import NewestFirst
from markettina.kernel.errors import FieldError, ValidationFailed

from . import template_sandbox, template_variables
from .errors import (
    TemplateInactive,
    TemplateNotFound,
    TemplateNotRenderable,
    TemplatePublishForbidden,
    TemplateReadOnly,
    TemplateVersionConflict,
)
from .models import ContentTemplate
from .schemas.templates import TemplateCreate, TemplateUpdate

PUBLISH_PERMISSION = "account:update"
_COUNT_USE = text("SELECT content_template_count_use(:template_id)")

_LISTED = (
    ContentTemplate.id,
    ContentTemplate.name,
    ContentTemplate.description,
    ContentTemplate.content_type,
    ContentTemplate.platform,
    ContentTemplate.template_content,
    ContentTemplate.variables,
    ContentTemplate.tone_of_voice,
    ContentTemplate.target_audience,
    ContentTemplate.usage_count,
    ContentTemplate.is_active,
    ContentTemplate.is_public,
    ContentTemplate.created_at,
    ContentTemplate.updated_at,
    ContentTemplate.version,
)

# the acting account's templates, newest first (the columns of TemplateOut, in its order)
LISTED_PAGE = NewestFirst(
    select(*_LISTED).where(
        ContentTemplate.account_id == bindparam("account_id"),
        ContentTemplate.deleted_at.is_(None),
    ),
    at=ContentTemplate.created_at,
    id_=ContentTemplate.id,
)

# every account's active public templates (row-level security lets every tenant read them)
PUBLIC_PAGE = NewestFirst(
    select(*_LISTED).where(
        ContentTemplate.is_public.is_(True),
        ContentTemplate.is_active.is_(True),
        ContentTemplate.deleted_at.is_(None),
    ),
    at=ContentTemplate.created_at,
    id_=ContentTemplate.id,
)


def no_parameters(actor: object) -> dict[str, Any]:
    """The public page takes no parameter: row-level security decides what is visible."""
    return {}


@dataclass(frozen=True)
class Rendered:
    template_id: uuid.UUID
    content_type: str
    text: str
    counted: bool


def _refused(refusal: template_sandbox.TemplateRefused, field: str) -> TemplateNotRenderable:
    return TemplateNotRenderable(refusal.code, refusal.message, field=field)


def check_template(source: str, declarations: list[dict[str, Any]]) -> None:
    """The checks of a save: the sandbox's (syntax, forbidden tags and names) and the
    declarations against the names the text reads."""
    try:
        inspection = template_sandbox.inspect(source)
    except template_sandbox.TemplateRefused as refusal:
        raise _refused(refusal, "body.template_content") from None
    template_variables.check_declarations(declarations, inspection.names)


async def create_template(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    created_by: int | None,
    fields: TemplateCreate,
    may_publish: bool,
) -> ContentTemplate:
    if fields.is_public and not may_publish:
        raise _publish_forbidden()
    declarations = [v.stored() for v in fields.variables]
    check_template(fields.template_content, declarations)
    template = ContentTemplate(
        account_id=account_id,
        created_by=created_by,
        **fields.model_dump(exclude={"variables"}),
        variables=declarations,
    )
    session.add(template)
    await session.flush()
    await session.refresh(template)
    return template


async def get_template(session: AsyncSession, *, template_id: uuid.UUID) -> ContentTemplate:
    """The acting account's template, or another account's public one."""
    template = (
        await session.execute(
            select(ContentTemplate).where(
                ContentTemplate.id == template_id, ContentTemplate.deleted_at.is_(None)
            )
        )
    ).scalar_one_or_none()
    if template is None:
        raise TemplateNotFound("no such template")
    return template


async def _own_template(
    session: AsyncSession, *, account_id: uuid.UUID, template_id: uuid.UUID
) -> ContentTemplate:
    template = await get_template(session, template_id=template_id)
    if template.account_id != account_id:
        raise TemplateReadOnly("another account's public template can be read, not changed")
    return template


async def update_template(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    template_id: uuid.UUID,
    expected_version: int | None,
    fields: TemplateUpdate,
    may_publish: bool,
) -> ContentTemplate:
    """Change the template if it is still at ``expected_version``; its text and
    declarations are checked together, whichever of them changes."""
    current = await _own_template(session, account_id=account_id, template_id=template_id)
    if expected_version is None:
        raise ValidationFailed(
            "send the version you read, as If-Match or in the body",
            errors=[FieldError("body.version", "required (or If-Match)", "missing")],
        )
    changes = fields.changes()
    if changes.get("is_public") and not current.is_public and not may_publish:
        raise _publish_forbidden()
    if "template_content" in changes or "variables" in changes:
        check_template(
            changes.get("template_content", current.template_content),
            changes.get("variables", current.variables),
        )
    if not changes:
        if current.version != expected_version:
            raise TemplateVersionConflict(current.version)
        return current
    updated = (
        await session.execute(
            update(ContentTemplate)
            .where(
                ContentTemplate.account_id == account_id,
                ContentTemplate.id == template_id,
                ContentTemplate.deleted_at.is_(None),
                ContentTemplate.version == expected_version,
            )
            .values(**changes)
            .returning(ContentTemplate)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one_or_none()
    if updated is None:
        raise TemplateVersionConflict(current.version)
    return updated


async def delete_template(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    template_id: uuid.UUID,
    expected_version: int | None,
    deleted_by: int | None,
) -> None:
    """Soft delete (if still at ``expected_version``, when given)."""
    current = await _own_template(session, account_id=account_id, template_id=template_id)
    if expected_version is not None and current.version != expected_version:
        raise TemplateVersionConflict(current.version)
    await session.execute(
        update(ContentTemplate)
        .where(ContentTemplate.account_id == account_id, ContentTemplate.id == template_id)
        .values(deleted_at=dt.datetime.now(dt.UTC), deleted_by=deleted_by)
    )


async def render_template(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    template_id: uuid.UUID,
    variables: dict[str, Any],
    count_usage: bool,
) -> Rendered:
    """The template rendered with ``variables``. A real render (``count_usage``) needs an
    active template and adds one to its usage count; a preview renders an inactive one
    too and counts nothing."""
    template = await get_template(session, template_id=template_id)
    if count_usage and not template.is_active:
        raise TemplateInactive("the template is inactive; activate it to render it")
    values = template_variables.values_for(template.variables, variables)
    try:
        rendered = template_sandbox.render(
            template.template_content, values, html=template_sandbox.is_html(template.content_type)
        )
    except template_sandbox.TemplateRefused as refusal:
        raise _refused(refusal, "body.variables") from None
    if count_usage:
        # one statement, so concurrent renders each add one (the version stays: a use is no
        # edit); through the owner's function, since another account may not write the row
        await session.execute(_COUNT_USE, {"template_id": template.id})
    return Rendered(template.id, template.content_type, rendered, count_usage)


def _publish_forbidden() -> TemplatePublishForbidden:
    return TemplatePublishForbidden(
        f"making a template public shares it with every account: it needs {PUBLISH_PERMISSION}"
    )
