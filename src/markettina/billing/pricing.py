"""Service prices by validity period: the price in effect on a day, the current list, and
staff's new prices (each from a date; the one it replaces is closed the day before, so
history is kept and periods never overlap)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ColumnElement, and_, func, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.errors import Conflict, FieldError, ValidationFailed
from markettina.kernel.pagination import Page, decode_cursor, page_of

from .models import ServicePricing

# one writer at a time per service: two new prices must not both close the same period
_SERVICE_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('service_pricing:' || :name))")


def _service_is(service_type: str, service_subtype: str | None) -> list[ColumnElement[bool]]:
    return [
        ServicePricing.service_type == service_type,
        ServicePricing.service_subtype.is_not_distinct_from(service_subtype),
    ]


def _in_effect(on: dt.date) -> ColumnElement[bool]:
    return and_(
        ServicePricing.effective_from <= on,
        or_(ServicePricing.effective_to.is_(None), ServicePricing.effective_to >= on),
    )


async def price_on(
    session: AsyncSession, *, service_type: str, service_subtype: str | None, on: dt.date
) -> ServicePricing | None:
    """The active price of the service in effect on day ``on``, if any."""
    return (
        await session.execute(
            select(ServicePricing).where(
                *_service_is(service_type, service_subtype),
                ServicePricing.is_active,
                _in_effect(on),
            )
        )
    ).scalar_one_or_none()


async def price_list(session: AsyncSession, *, on: dt.date) -> list[ServicePricing]:
    """Every active price in effect on ``on``, by service."""
    statement = (
        select(ServicePricing)
        .where(ServicePricing.is_active, _in_effect(on))
        .order_by(ServicePricing.service_type, ServicePricing.service_subtype.nulls_first())
    )
    return list((await session.execute(statement)).scalars())


async def price_history(
    session: AsyncSession, *, service_type: str | None, limit: int, cursor: str | None
) -> Page[ServicePricing]:
    """Every price ever set (scheduled ones included), by service, newest period first."""
    statement = select(ServicePricing)
    if service_type is not None:
        statement = statement.where(ServicePricing.service_type == service_type)
    # keyset on (service_type, subtype as '' when none, effective_from descending via id)
    subtype = func.coalesce(ServicePricing.service_subtype, "")
    if cursor is not None:
        kind, sub, since = decode_cursor(cursor, 3)
        statement = statement.where(
            or_(
                tuple_(ServicePricing.service_type, subtype) > tuple_(kind, sub),
                and_(
                    ServicePricing.service_type == kind,
                    subtype == sub,
                    ServicePricing.effective_from < dt.date.fromisoformat(since),
                ),
            )
        )
    statement = statement.order_by(
        ServicePricing.service_type, subtype, ServicePricing.effective_from.desc()
    ).limit(limit + 1)
    rows = list((await session.execute(statement)).scalars())
    return page_of(
        rows,
        limit,
        lambda p: (p.service_type, p.service_subtype or "", p.effective_from.isoformat()),
    )


async def set_price(
    session: AsyncSession,
    *,
    service_type: str,
    service_subtype: str | None,
    token_cost: int,
    name: str,
    description: str | None,
    effective_from: dt.date,
    today: dt.date,
) -> ServicePricing:
    """A new price from ``effective_from`` (today or later: charges already made keep
    theirs). The price in effect then is closed the day before; a price already scheduled
    on or after that day is a conflict (409), never silently overlapped."""
    if effective_from < today:
        raise ValidationFailed(
            "a new price takes effect today or later",
            errors=[FieldError("body.effective_from", "must be today or later", "in_past")],
        )
    await session.execute(_SERVICE_LOCK, {"name": f"{service_type}/{service_subtype or ''}"})
    later = (
        await session.execute(
            select(ServicePricing.effective_from)
            .where(
                *_service_is(service_type, service_subtype),
                ServicePricing.effective_from >= effective_from,
            )
            .order_by(ServicePricing.effective_from)
            .limit(1)
        )
    ).scalar_one_or_none()
    if later is not None:
        raise Conflict(
            f"a price of this service already takes effect on {later.isoformat()};"
            " a new one must start after it",
            code="price_period_overlap",
            errors=[FieldError("body.effective_from", "overlaps a scheduled price", "overlap")],
        )
    await session.execute(
        update(ServicePricing)
        .where(*_service_is(service_type, service_subtype), _in_effect(effective_from))
        .values(effective_to=effective_from - dt.timedelta(days=1))
        .execution_options(synchronize_session=False)
    )
    price = ServicePricing(
        id=uuid.uuid4(),
        service_type=service_type,
        service_subtype=service_subtype,
        token_cost=token_cost,
        name=name,
        description=description,
        effective_from=effective_from,
    )
    session.add(price)
    await session.flush()
    await session.refresh(price)
    return price
