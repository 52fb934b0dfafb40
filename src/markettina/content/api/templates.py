"""Content templates over HTTP: the account's own and the public ones, changes under
optimistic locking, preview (counts nothing) and render (counts a use)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from markettina.identity.public import (
    Actor,
    Transaction,
    of_acting_account,
    plain_read,
    require,
)
from markettina.kernel.errors import Forbidden
from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.if_match import IfMatch, version_read
from markettina.kernel.web.openapi import problems

from .. import templates
from ..schemas.templates import (
    RenderedOut,
    RenderRequest,
    TemplateCreate,
    TemplateOut,
    TemplateUpdate,
)

router = APIRouter(prefix="/templates", tags=["content"])

TemplatesRead = Annotated[Actor, require("content:read")]
TemplatesWrite = Annotated[Actor, require("content:write")]


def _may_publish(actor: Actor) -> bool:
    try:
        actor.authorize(templates.PUBLISH_PERMISSION)
    except Forbidden:
        return False
    return True


def _out(template: object, response: Response) -> TemplateOut:
    out = TemplateOut.model_validate(template)
    response.headers["ETag"] = f'"{out.version}"'
    return out


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TemplateOut,
    summary="Save a template (its variables are checked against the text)",
    responses=problems(403),
)
async def create_template(
    body: TemplateCreate, actor: TemplatesWrite, session: Transaction, response: Response
) -> TemplateOut:
    template = await templates.create_template(
        session,
        account_id=actor.account_id,
        created_by=actor.user_id,
        fields=body,
        may_publish=_may_publish(actor),
    )
    return _out(template, response)


@router.get("", response_model=Page[TemplateOut], summary="The account's templates, newest first")
@plain_read(templates.LISTED_PAGE, of_acting_account)
async def list_templates(
    actor: TemplatesRead, session: Transaction, limit: Limit = 50, cursor: Cursor = None
) -> Response:
    body = await templates.LISTED_PAGE.json_page(
        session, limit=limit, cursor=cursor, **of_acting_account(actor)
    )
    return Response(body, media_type="application/json")  # the page as PostgreSQL rendered it


@router.get(
    "/public",
    response_model=Page[TemplateOut],
    summary="Every account's active public templates, newest first (read-only)",
)
@plain_read(templates.PUBLIC_PAGE, templates.no_parameters)
async def list_public_templates(
    actor: TemplatesRead, session: Transaction, limit: Limit = 50, cursor: Cursor = None
) -> Response:
    body = await templates.PUBLIC_PAGE.json_page(
        session, limit=limit, cursor=cursor, **templates.no_parameters(actor)
    )
    return Response(body, media_type="application/json")


@router.get(
    "/{template_id}",
    response_model=TemplateOut,
    summary="One template: the account's own, or a public one (its version is the ETag)",
)
async def read_template(
    template_id: uuid.UUID, actor: TemplatesRead, session: Transaction, response: Response
) -> TemplateOut:
    return _out(await templates.get_template(session, template_id=template_id), response)


@router.patch(
    "/{template_id}",
    response_model=TemplateOut,
    summary="Change a template (If-Match or body version)",
    responses=problems(403),
)
async def update_template(
    template_id: uuid.UUID,
    body: TemplateUpdate,
    actor: TemplatesWrite,
    session: Transaction,
    response: Response,
    if_match: IfMatch = None,
) -> TemplateOut:
    template = await templates.update_template(
        session,
        account_id=actor.account_id,
        template_id=template_id,
        expected_version=version_read(if_match, body.version, "template"),
        fields=body,
        may_publish=_may_publish(actor),
    )
    return _out(template, response)


@router.delete(
    "/{template_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a template (If-Match optional)",
    responses=problems(403),
)
async def delete_template(
    template_id: uuid.UUID, actor: TemplatesWrite, session: Transaction, if_match: IfMatch = None
) -> None:
    await templates.delete_template(
        session,
        account_id=actor.account_id,
        template_id=template_id,
        expected_version=version_read(if_match, None, "template"),
        deleted_by=actor.user_id,
    )


@router.post(
    "/{template_id}/preview",
    response_model=RenderedOut,
    summary="Render with these variables without counting a use (inactive templates too)",
)
async def preview_template(
    template_id: uuid.UUID, body: RenderRequest, actor: TemplatesRead, session: Transaction
) -> RenderedOut:
    rendered = await templates.render_template(
        session,
        account_id=actor.account_id,
        template_id=template_id,
        variables=body.variables,
        count_usage=False,
    )
    return RenderedOut.model_validate(rendered)


@router.post(
    "/{template_id}/render",
    response_model=RenderedOut,
    summary="Render with these variables, counting a use of the template",
)
async def render_template(
    template_id: uuid.UUID, body: RenderRequest, actor: TemplatesWrite, session: Transaction
) -> RenderedOut:
    rendered = await templates.render_template(
        session,
        account_id=actor.account_id,
        template_id=template_id,
        variables=body.variables,
        count_usage=True,
    )
    return RenderedOut.model_validate(rendered)
