"""The billing details an account keeps (name, e-mail, VAT id, address): read and
replaced by the account, copied onto each invoice when it is issued."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .models import BillingDetails

FIELDS = ("name", "email", "vat_id", "address")


async def billing_details_of(session: AsyncSession, account_id: uuid.UUID) -> BillingDetails | None:
    return (
        await session.execute(select(BillingDetails).where(BillingDetails.account_id == account_id))
    ).scalar_one_or_none()


async def replace_billing_details(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    name: str | None,
    email: str | None,
    vat_id: str | None,
    address: str | None,
) -> BillingDetails:
    """Replace every field (a missing one becomes empty); issued invoices keep their copy."""
    values = {"name": name, "email": email, "vat_id": vat_id, "address": address}
    statement = (
        insert(BillingDetails)
        .values(account_id=account_id, **values)
        .on_conflict_do_update(index_elements=[BillingDetails.account_id], set_=values)
        .returning(BillingDetails)
    )
    details = (
        await session.execute(statement, execution_options={"populate_existing": True})
    ).scalar_one()
    return details
