"""Staff: sign-in with password and TOTP, sessions, account look-up and suspension.

Every staff action leaves one ``admin_audit_logs`` row (the app may only add to that table).
A refused sign-in is recorded in a transaction of its own, since the request's rolls back
with the refusal. The log also keeps the TOTP time step of each accepted sign-in: a code is
accepted only for a later step than the last accepted one, so a code cannot be replayed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import uuid
from dataclasses import dataclass
from typing import Any, NoReturn

import pyotp
from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import func, insert, literal, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.tenant import tenant_scope
from markettina.kernel.db.unit_of_work import side_transaction
from markettina.kernel.errors import Conflict, FieldError, NotFound, Unauthorized, ValidationFailed
from markettina.kernel.events import Event, record
from markettina.kernel.logs import get_logger
from markettina.kernel.pagination import Page, decode_time_cursor, page_of
from markettina.kernel.security import (
    SecretBox,
    digest,
    hash_password,
    new_totp_secret,
    opaque_secret,
    totp_code,
    verify_password,
    verify_totp,
)

from .events import AccountReinstated, AccountSuspended
from .lockout import LockoutPolicy, LoginLocked
from .models import Account, AccountMembership, AdminAuditLog, AdminSession, AdminUser
from .sign_in import Client
from .staff_auth import STAFF_SESSION_TTL, Staff

log = get_logger(__name__)

TOTP_ISSUER = "Markettina"
TOTP_STEP_SECONDS = 30
# a step is accepted at most one step (30 s) after it ends, so older sign-ins cannot collide
REPLAY_LOOKBACK = dt.timedelta(minutes=10)
STAFF_PASSWORD_MIN = 12

LOGIN = "staff.login"
LOGOUT = "staff.logout"
CREATED = "staff.created"
MFA_RESET = "staff.mfa_reset"
ACCOUNT_SEARCH = "account.search"
ACCOUNT_VIEW = "account.view"
ACCOUNT_SUSPEND = "account.suspend"
ACCOUNT_UNSUSPEND = "account.unsuspend"

_email = TypeAdapter(EmailStr)


@dataclass(frozen=True)
class StaffSignedIn:
    session_token: str  # shown once; only its digest is kept
    expires_at: dt.datetime


@dataclass(frozen=True)
class AccountView:
    account: Account
    member_count: int


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- staff members --------------------------------------------------------------------------


async def create_staff_member(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    full_name: str | None,
    superadmin: bool,
    box: SecretBox,
) -> str:
    """A staff member with a new TOTP secret (kept encrypted); returns the otpauth:// URI
    to enrol it in an authenticator app. It is shown once: nothing can show it again."""
    try:
        email = str(_email.validate_python(email.strip()))
    except ValidationError as exc:
        raise ValidationFailed(
            "not an e-mail address", errors=[FieldError("email", "not an e-mail address")]
        ) from exc
    if len(password) < STAFF_PASSWORD_MIN:
        raise ValidationFailed(
            f"a staff password has at least {STAFF_PASSWORD_MIN} characters",
            errors=[FieldError("password", f"at least {STAFF_PASSWORD_MIN} characters", "short")],
        )
    if await _member_by_email(session, email) is not None:
        raise Conflict("a staff member has this e-mail address", code="staff_email_taken")
    secret = new_totp_secret()
    member_id = (
        await session.execute(
            insert(AdminUser)
            .values(
                email=email,
                password_hash=await asyncio.to_thread(hash_password, password),
                full_name=full_name,
                mfa_secret_encrypted=box.encrypt(secret),
                is_superadmin=superadmin,
            )
            .returning(AdminUser.id)
        )
    ).scalar_one()
    await _record(
        session, admin_user_id=member_id, action=CREATED, ip=None,
        target_type="admin_user", target_id=str(member_id), details={"superadmin": superadmin},
    )  # fmt: skip
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


async def reset_staff_mfa(session: AsyncSession, *, email: str, box: SecretBox) -> str:
    """A new TOTP secret for a staff member who lost their authenticator; the old one
    stops working and so do their sessions. Returns the enrolment URI, shown once."""
    member = await _member_by_email(session, email, lock=True)
    if member is None:
        raise NotFound("no staff member has this e-mail address", code="staff_member_not_found")
    secret = new_totp_secret()
    member.mfa_secret_encrypted = box.encrypt(secret)
    revoked = await session.execute(
        update(AdminSession)
        .where(AdminSession.admin_user_id == member.id, AdminSession.revoked_at.is_(None))
        .values(revoked_at=_now())
        .returning(AdminSession.id)
    )
    await session.flush()
    await _record(
        session, admin_user_id=member.id, action=MFA_RESET, ip=None,
        target_type="admin_user", target_id=str(member.id),
        details={"sessions_ended": len(revoked.all())},
    )  # fmt: skip
    return pyotp.TOTP(secret).provisioning_uri(name=member.email, issuer_name=TOTP_ISSUER)


# --- sessions -------------------------------------------------------------------------------


async def login(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    totp: str,
    box: SecretBox,
    client: Client,
    lockout: LockoutPolicy,
) -> StaffSignedIn:
    """All three factors or one answer, 401 ``invalid_credentials``, whichever was wrong.
    Refusals lock sign-in from their client address, and past a cap from every address,
    as they do for users (identity/lockout.py)."""
    member = await _member_by_email(session, email, lock=True)
    if member is not None:
        await _refuse_if_locked(session, member=member, client=client, policy=lockout)
    # checked even for an unknown address, against a dummy hash: the time taken tells nothing
    matches = await asyncio.to_thread(
        verify_password, password, member.password_hash if member else None
    )
    if member is None:
        await _refuse(session, member=None, reason="unknown_email", client=client)
    if not matches:
        await _refuse(session, member=member, reason="wrong_password", client=client)
    if not member.is_active:
        await _refuse(session, member=member, reason="disabled", client=client)
    secret = _mfa_secret(member, box)
    if secret is None:
        await _refuse(session, member=member, reason="mfa_unavailable", client=client)
    now = _now()
    step = _accepted_step(secret, totp, now)
    if step is None:
        await _refuse(session, member=member, reason="wrong_totp", client=client)
    last_step = await _last_accepted_step(session, member.id, now)
    if last_step is not None and step <= last_step:
        await _refuse(session, member=member, reason="totp_replayed", client=client)

    token = opaque_secret()
    expires_at = now + STAFF_SESSION_TTL
    session_id = (
        await session.execute(
            insert(AdminSession)
            .values(
                admin_user_id=member.id,
                token_hash=digest(token),
                ip=client.ip,
                user_agent=client.user_agent,
                expires_at=expires_at,
            )
            .returning(AdminSession.id)
        )
    ).scalar_one()
    member.last_login_at = now
    await _record(
        session, admin_user_id=member.id, action=LOGIN, ip=client.ip,
        details={"outcome": "success", "totp_step": step, "session_id": str(session_id),
                 "user_agent": client.user_agent},
    )  # fmt: skip
    log.info("staff_signed_in", admin_user_id=member.id)
    return StaffSignedIn(session_token=token, expires_at=expires_at)


async def logout(session: AsyncSession, *, staff: Staff) -> None:
    await session.execute(
        update(AdminSession)
        .where(AdminSession.id == staff.session_id, AdminSession.revoked_at.is_(None))
        .values(revoked_at=_now())
        .execution_options(synchronize_session=False)
    )
    await _audit(session, staff=staff, action=LOGOUT, details={"session_id": str(staff.session_id)})


# --- accounts -------------------------------------------------------------------------------


async def search_accounts(
    session: AsyncSession, *, staff: Staff, query: str | None, limit: int, cursor: str | None
) -> Page[Account]:
    """Accounts whose id is ``query``, or whose name or slug starts with it (any case)."""
    statement = (
        select(Account)
        .where(Account.deleted_at.is_(None))
        .order_by(Account.created_at, Account.id)
        .limit(limit + 1)
    )
    if query:
        statement = statement.where(_matching(query))
    after = decode_time_cursor(cursor)
    if after is not None:
        statement = statement.where(tuple_(Account.created_at, Account.id) > tuple_(*after))
    rows = list((await session.execute(statement)).scalars())
    page = page_of(rows, limit, lambda a: (a.created_at.isoformat(), a.id))
    await _audit(session, staff=staff, action=ACCOUNT_SEARCH,
                 details={"query": query, "results": len(page.items)})  # fmt: skip
    return page


async def get_account(session: AsyncSession, *, staff: Staff, account_id: uuid.UUID) -> AccountView:
    account = await _account(session, account_id)
    async with tenant_scope(session, account_id):  # memberships are the account's rows
        members = await session.scalar(
            select(func.count())
            .select_from(AccountMembership)
            .where(AccountMembership.account_id == account_id)
        )
    await _audit(session, staff=staff, action=ACCOUNT_VIEW, account_id=account_id)
    return AccountView(account=account, member_count=members or 0)


async def suspend_account(
    session: AsyncSession, *, staff: Staff, account_id: uuid.UUID, reason: str
) -> Account:
    """From now on the account's tokens and API keys are refused (the pipeline checks)."""
    account = await _change_suspension(session, account_id=account_id, suspend=True)
    assert account.suspended_at is not None
    await _publish(
        session, account,
        AccountSuspended(account_id=account_id, suspended_at=account.suspended_at),
    )  # fmt: skip
    await _audit(session, staff=staff, action=ACCOUNT_SUSPEND, account_id=account_id,
                 details={"reason": reason})  # fmt: skip
    log.info("account_suspended", account_id=str(account_id), admin_user_id=staff.admin_user_id)
    return account


async def unsuspend_account(
    session: AsyncSession, *, staff: Staff, account_id: uuid.UUID
) -> Account:
    account = await _change_suspension(session, account_id=account_id, suspend=False)
    await _publish(session, account, AccountReinstated(account_id=account_id))
    await _audit(session, staff=staff, action=ACCOUNT_UNSUSPEND, account_id=account_id)
    log.info("account_unsuspended", account_id=str(account_id), admin_user_id=staff.admin_user_id)
    return account


# --- actions of other areas -----------------------------------------------------------------


async def record_staff_action(
    session: AsyncSession,
    *,
    staff: Staff,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """The audit row of a staff action taken outside identity (e.g. a feature flag change)."""
    await _record(
        session, admin_user_id=staff.admin_user_id, action=action, ip=staff.client.ip,
        target_type=target_type, target_id=target_id, details=details,
    )  # fmt: skip


# --- the parts ------------------------------------------------------------------------------


def _invalid_credentials() -> Unauthorized:
    # one answer for every wrong factor: the caller learns nothing about the others
    return Unauthorized(
        "the e-mail address, the password or the code is wrong", code="invalid_credentials"
    )


async def _member_by_email(
    session: AsyncSession, email: str, *, lock: bool = False
) -> AdminUser | None:
    statement = select(AdminUser).where(func.lower(AdminUser.email) == email.strip().lower())
    if lock:
        # sign-ins of one member take turns, so two cannot accept the same code; NO KEY
        # leaves the audit rows' foreign key free for the refusals' own transaction
        statement = statement.with_for_update(key_share=True)
    return (await session.execute(statement)).scalar_one_or_none()


def _mfa_secret(member: AdminUser, box: SecretBox) -> str | None:
    if member.mfa_secret_encrypted is None:
        return None
    try:
        return box.decrypt(member.mfa_secret_encrypted)
    except ValueError:
        log.error("staff_mfa_secret_unreadable", admin_user_id=member.id)
        return None


def _accepted_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The time step whose code ``code`` is, if ``verify_totp`` accepts it (latest first)."""
    if not verify_totp(secret, code, at=now):
        return None
    for offset in (1, 0, -1):
        at = now + dt.timedelta(seconds=offset * TOTP_STEP_SECONDS)
        if hmac.compare_digest(totp_code(secret, at=at), code):
            return int(at.timestamp()) // TOTP_STEP_SECONDS
    return None


def _login_outcome(admin_user_id: int, outcome: str, since: dt.datetime) -> Any:
    return (
        (AdminAuditLog.admin_user_id == admin_user_id)
        & (AdminAuditLog.action == LOGIN)
        & (AdminAuditLog.created_at > since)
        & (AdminAuditLog.details["outcome"].astext == outcome)
    )


async def _last_accepted_step(
    session: AsyncSession, admin_user_id: int, now: dt.datetime
) -> int | None:
    return await session.scalar(
        select(func.max(AdminAuditLog.details["totp_step"].as_integer())).where(
            _login_outcome(admin_user_id, "success", now - REPLAY_LOOKBACK)
        )
    )


async def _refuse_if_locked(
    session: AsyncSession, *, member: AdminUser, client: Client, policy: LockoutPolicy
) -> None:
    """Locked while, within the window, ``per_client`` refusals came from this client's
    address since its last success there, or ``all_clients`` from all addresses."""
    since = _now() - policy.window
    from_here = AdminAuditLog.ip.is_not_distinct_from(client.ip)
    last_success_here = (
        select(func.max(AdminAuditLog.created_at))
        .where(_login_outcome(member.id, "success", since), from_here)
        .scalar_subquery()
    )
    here = await _oldest_counted(
        session, member.id, since, policy.per_client,
        from_here, AdminAuditLog.created_at > func.coalesce(last_success_here, literal(since)),
    )  # fmt: skip
    everywhere = await _oldest_counted(session, member.id, since, policy.all_clients)
    oldest = max((at for at in (here, everywhere) if at is not None), default=None)
    if oldest is None:
        return
    await _record_refusal(session, member_id=member.id, reason="locked", client=client)
    retry_after = max(1, int((oldest + policy.window - _now()).total_seconds()) + 1)
    raise LoginLocked(retry_after=retry_after)


async def _oldest_counted(
    session: AsyncSession, admin_user_id: int, since: dt.datetime, limit: int, *where: Any
) -> dt.datetime | None:
    """When the ``limit``-th latest refusal (a locked attempt is not one) since ``since``
    happened, if there were that many."""
    return await session.scalar(
        select(AdminAuditLog.created_at)
        .where(
            _login_outcome(admin_user_id, "failure", since),
            AdminAuditLog.details["reason"].astext != "locked",
            *where,
        )
        .order_by(AdminAuditLog.created_at.desc())
        .offset(limit - 1)
        .limit(1)
    )


async def _refuse(
    session: AsyncSession, *, member: AdminUser | None, reason: str, client: Client
) -> NoReturn:
    if member is None:
        # admin_audit_logs.admin_user_id is required: an unknown address goes to the log only
        log.warning("staff_login_refused", reason=reason, ip=client.ip)
    else:
        await _record_refusal(session, member_id=member.id, reason=reason, client=client)
    raise _invalid_credentials()


async def _record_refusal(
    session: AsyncSession, *, member_id: int, reason: str, client: Client
) -> None:
    async with side_transaction(session) as side:
        await _record(
            side, admin_user_id=member_id, action=LOGIN, ip=client.ip,
            details={"outcome": "failure", "reason": reason, "user_agent": client.user_agent},
        )  # fmt: skip
    log.warning("staff_login_refused", reason=reason, admin_user_id=member_id, ip=client.ip)


def _matching(query: str) -> Any:
    try:
        return Account.id == uuid.UUID(query)
    except ValueError:
        pass
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    prefix = escaped + "%"
    return or_(
        func.lower(Account.name).like(prefix, escape="\\"), Account.slug.like(prefix, escape="\\")
    )


async def _account(session: AsyncSession, account_id: uuid.UUID) -> Account:
    account = (
        await session.execute(
            select(Account).where(Account.id == account_id, Account.deleted_at.is_(None))
        )
    ).scalar_one_or_none()
    if account is None:
        raise NotFound("no such account", code="account_not_found")
    return account


async def _change_suspension(
    session: AsyncSession, *, account_id: uuid.UUID, suspend: bool
) -> Account:
    """Suspend or lift a suspension in one statement: two staff at once cannot both do it."""
    current = Account.suspended_at.is_(None) if suspend else Account.suspended_at.is_not(None)
    changed = (
        await session.execute(
            update(Account)
            .where(Account.id == account_id, Account.deleted_at.is_(None), current)
            .values(suspended_at=_now() if suspend else None)
            .returning(Account)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one_or_none()
    if changed is not None:
        return changed
    await _account(session, account_id)  # gone: 404; else it was already so
    if suspend:
        raise Conflict("the account is already suspended", code="account_already_suspended")
    raise Conflict("the account is not suspended", code="account_not_suspended")


async def _publish(session: AsyncSession, account: Account, event: Event) -> None:
    async with tenant_scope(session, account.id):  # the event is a row of the account
        await record(
            session, event, account_id=account.id, aggregate_id=account.id,
            aggregate_version=account.version,
        )  # fmt: skip


async def _audit(
    session: AsyncSession,
    *,
    staff: Staff,
    action: str,
    account_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await _record(
        session, admin_user_id=staff.admin_user_id, action=action, ip=staff.client.ip,
        target_type="account" if account_id is not None else None,
        target_id=str(account_id) if account_id is not None else None, details=details,
    )  # fmt: skip


async def _record(
    session: AsyncSession,
    *,
    admin_user_id: int,
    action: str,
    ip: str | None,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await session.execute(
        insert(AdminAuditLog).values(
            admin_user_id=admin_user_id, action=action, target_type=target_type,
            target_id=target_id, details=details or {}, ip=ip,
        )
    )  # fmt: skip
