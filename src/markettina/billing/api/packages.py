"""HTTP routes of token packages: the catalogue for accounts, its management for staff."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, status

from markettina.identity.public import Actor, StaffMember, Transaction, record_staff_action, require

from .. import packages
from ..schemas.sales import PackageCreate, PackageOut, PackageUpdate, StaffPackageOut

router = APIRouter(prefix="/billing", tags=["billing"])
staff_router = APIRouter(prefix="/staff/billing", tags=["staff"])

BillingRead = Annotated[Actor, require("billing:read")]


@router.get("/packages", response_model=list[PackageOut], summary="The token packages on sale")
async def list_packages(actor: BillingRead, session: Transaction) -> list[PackageOut]:
    return [PackageOut.model_validate(p) for p in await packages.active_packages(session)]


@staff_router.get(
    "/packages", response_model=list[StaffPackageOut], summary="Every token package, inactive too"
)
async def staff_list_packages(member: StaffMember, session: Transaction) -> list[StaffPackageOut]:
    found = await packages.all_packages(session)
    await record_staff_action(session, staff=member, action="token_package.list")
    return [StaffPackageOut.model_validate(p) for p in found]


@staff_router.post(
    "/packages",
    status_code=status.HTTP_201_CREATED,
    response_model=StaffPackageOut,
    summary="Put a token package on sale",
)
async def create_package(
    body: PackageCreate, member: StaffMember, session: Transaction
) -> StaffPackageOut:
    package = await packages.create_package(session, **body.model_dump())
    await record_staff_action(
        session, staff=member, action="token_package.create", target_type="token_package",
        target_id=str(package.id), details=body.model_dump(),
    )  # fmt: skip
    return StaffPackageOut.model_validate(package)


@staff_router.patch(
    "/packages/{package_id}",
    response_model=StaffPackageOut,
    summary="Change a package (`is_active: false` takes it off sale; packages are never deleted)",
)
async def update_package(
    package_id: uuid.UUID, body: PackageUpdate, member: StaffMember, session: Transaction
) -> StaffPackageOut:
    changes = body.model_dump(exclude_unset=True)
    package = await packages.update_package(session, package_id, **changes)
    await record_staff_action(
        session, staff=member, action="token_package.update", target_type="token_package",
        target_id=str(package_id), details=changes,
    )  # fmt: skip
    return StaffPackageOut.model_validate(package)
