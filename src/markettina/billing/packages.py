"""The token packages on sale: managed by staff (deactivated, never deleted: payments
name them), listed to accounts while active."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.errors import NotFound

from .models import TokenPackage


async def active_packages(session: AsyncSession) -> list[TokenPackage]:
    return list(
        (
            await session.execute(
                select(TokenPackage)
                .where(TokenPackage.is_active)
                .order_by(TokenPackage.sort_order, TokenPackage.price_cents, TokenPackage.id)
            )
        ).scalars()
    )


async def all_packages(session: AsyncSession) -> list[TokenPackage]:
    """Every package, inactive ones included (the catalogue is small: no paging)."""
    return list(
        (
            await session.execute(
                select(TokenPackage).order_by(
                    TokenPackage.sort_order, TokenPackage.price_cents, TokenPackage.id
                )
            )
        ).scalars()
    )


async def active_package(session: AsyncSession, package_id: uuid.UUID) -> TokenPackage:
    package = await session.get(TokenPackage, package_id)
    if package is None or not package.is_active:
        raise NotFound("no such package on sale", code="package_not_found")
    return package


async def create_package(session: AsyncSession, **values: Any) -> TokenPackage:
    package = TokenPackage(**values)
    session.add(package)
    await session.flush()
    await session.refresh(package)
    return package


async def update_package(
    session: AsyncSession, package_id: uuid.UUID, **changes: Any
) -> TokenPackage:
    """Change the given fields only; a price change applies to checkouts started after it."""
    package = await session.get(TokenPackage, package_id, with_for_update=True)
    if package is None:
        raise NotFound("no such package", code="package_not_found")
    for name, value in changes.items():
        setattr(package, name, value)
    await session.flush()  # a Stripe price taken by another package: 409 (kernel.db.integrity)
    await session.refresh(package)
    return package
