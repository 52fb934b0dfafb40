"""Webhooks over HTTP: an account's endpoints, their signing secrets, their delivery log,
redelivery and a ping."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from markettina.identity.public import (
    Actor,
    Connection,
    Transaction,
    not_plain,
    of_acting_account,
    plain_read,
    require,
    require_on_connection,
)
from markettina.kernel import webhooks
from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.if_match import IfMatch, version_read
from markettina.kernel.webhooks.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryStatus,
    SecretRotation,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

WebhooksRead = Annotated[Actor, require("webhooks:read")]
WebhooksListed = Annotated[Actor, require_on_connection("webhooks:read")]  # Core statements only
WebhooksManage = Annotated[Actor, require("webhooks:manage")]


def _rules(request: Request) -> webhooks.UrlRules:
    settings = request.app.state.settings
    return webhooks.UrlRules(
        require_https=settings.environment == "production",
        allow_loopback=settings.webhooks_allow_loopback,
    )


def _detail(found: webhooks.DeliveryDetail) -> DeliveryDetail:
    delivery = found.delivery
    return DeliveryDetail(
        **DeliveryOut.model_validate(delivery).model_dump(),
        payload=delivery.payload,
        response_body=delivery.response_body,
        attempt_log=[AttemptOut.model_validate(attempt) for attempt in found.attempts],
    )


def _with_secret(made: webhooks.WebhookWithSecret) -> WebhookCreated:
    out = WebhookOut.model_validate(made.webhook)
    return WebhookCreated(**out.model_dump(), secret=made.secret)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    summary="Register an endpoint (its signing secret is in this response only)",
)
async def create_webhook(
    body: WebhookCreate, actor: WebhooksManage, session: Transaction, request: Request
) -> WebhookCreated:
    created = await webhooks.create_webhook(
        session, account_id=actor.account_id, created_by=actor.user_id, fields=body,
        box=request.app.state.secrets.box, rules=_rules(request),
    )  # fmt: skip
    return _with_secret(created)


@router.get("", response_model=Page[WebhookOut], summary="The account's endpoints, newest first")
@plain_read(webhooks.LISTED_PAGE, of_acting_account)
async def list_webhooks(
    actor: WebhooksListed, connection: Connection, limit: Limit = 50, cursor: Cursor = None
) -> Response:
    body = await webhooks.LISTED_PAGE.json_page(
        connection, limit=limit, cursor=cursor, **of_acting_account(actor)
    )
    return Response(body, media_type="application/json")  # the page as PostgreSQL rendered it


@router.get(
    "/{webhook_id}", response_model=WebhookOut, summary="One endpoint (its version is the ETag)"
)
async def read_webhook(
    webhook_id: uuid.UUID, actor: WebhooksRead, session: Transaction, response: Response
) -> WebhookOut:
    webhook = await webhooks.get_webhook(
        session, account_id=actor.account_id, webhook_id=webhook_id
    )
    response.headers["ETag"] = f'"{webhook.version}"'
    return WebhookOut.model_validate(webhook)


@router.patch(
    "/{webhook_id}",
    response_model=WebhookOut,
    summary="Change an endpoint (If-Match or body version); is_active true re-enables it",
)
async def update_webhook(
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    actor: WebhooksManage,
    session: Transaction,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> WebhookOut:
    webhook = await webhooks.update_webhook(
        session, account_id=actor.account_id, webhook_id=webhook_id,
        expected_version=version_read(if_match, body.version, "webhook"), fields=body,
        rules=_rules(request),
    )  # fmt: skip
    response.headers["ETag"] = f'"{webhook.version}"'
    return WebhookOut.model_validate(webhook)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookCreated,
    summary="Replace the signing secret; the old one may keep signing for up to 7 days "
    "(the new one is in this response only)",
)
async def rotate_secret(
    webhook_id: uuid.UUID,
    actor: WebhooksManage,
    session: Transaction,
    request: Request,
    response: Response,
    body: SecretRotation | None = None,
    if_match: IfMatch = None,
) -> WebhookCreated:
    grace = dt.timedelta(seconds=body.expires_in_seconds if body is not None else 0)
    rotated = await webhooks.rotate_secret(
        session, account_id=actor.account_id, webhook_id=webhook_id,
        expected_version=version_read(if_match, None, "webhook"), box=request.app.state.secrets.box,
        previous_valid_for=grace,
    )  # fmt: skip
    response.headers["ETag"] = f'"{rotated.webhook.version}"'
    return _with_secret(rotated)


@router.delete(
    "/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an endpoint"
)
async def delete_webhook(
    webhook_id: uuid.UUID, actor: WebhooksManage, session: Transaction
) -> None:
    await webhooks.delete_webhook(
        session, account_id=actor.account_id, webhook_id=webhook_id, deleted_by=actor.user_id
    )


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryOut],
    summary="An endpoint's delivery log, newest first",
)
@not_plain("a path parameter (the webhook): the read lane answers fixed paths")
async def list_deliveries(
    webhook_id: uuid.UUID,
    actor: WebhooksRead,
    session: Transaction,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DeliveryOut]:
    page = await webhooks.list_deliveries(
        session, account_id=actor.account_id, webhook_id=webhook_id, status=delivery_status,
        limit=limit, cursor=cursor,
    )  # fmt: skip
    return Page[DeliveryOut](
        items=[DeliveryOut.model_validate(row) for row in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    summary="One delivery: the payload sent, the last answer and every attempt",
)
async def read_delivery(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, actor: WebhooksRead, session: Transaction
) -> DeliveryDetail:
    found = await webhooks.get_delivery(
        session, account_id=actor.account_id, webhook_id=webhook_id, delivery_id=delivery_id
    )
    return _detail(found)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryDetail,
    summary="Send a delivery again now (an abandoned one too)",
)
async def redeliver(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, actor: WebhooksManage, session: Transaction
) -> DeliveryDetail:
    found = await webhooks.redeliver(
        session, account_id=actor.account_id, webhook_id=webhook_id, delivery_id=delivery_id
    )
    return _detail(found)


@router.post(
    "/{webhook_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryDetail,
    summary="Send a webhook.ping to this endpoint only",
)
async def ping_webhook(
    webhook_id: uuid.UUID, actor: WebhooksManage, session: Transaction
) -> DeliveryDetail:
    found = await webhooks.ping(session, account_id=actor.account_id, webhook_id=webhook_id)
    return _detail(found)
