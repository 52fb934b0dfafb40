"""The tenant is set only once the caller is verified and allowed to act for the account:
a refused credential, or an account named that the caller may not act for, leaves the
transaction with no tenant (or the one it had), whatever the look-up ran before."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity import members
from markettina.identity.permissions import ROLE_PERMISSIONS
from markettina.identity.pipeline import enter_actor_tenant, identify
from markettina.identity.principal import Actor, Credentials, Principal
from markettina.kernel.db.raw import driver_connection
from markettina.kernel.db.tenant import current_tenant, enter_tenant
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.errors import MarkettinaError, NotFound, Unauthorized
from markettina.kernel.security import new_api_key
from tests.support.checks import sql
from tests.support.identity import TEST_SECRET_KEY, access_token, new_account, new_key, new_member


async def resolve(session: AsyncSession, **credentials: str | None) -> Actor:
    given = {"bearer": None, "api_key": None, "account_header": None, **credentials}
    connection = await driver_connection(session)
    actor = await identify(connection, Credentials(**given), secret=TEST_SECRET_KEY)
    await enter_actor_tenant(connection, actor)  # as admit does, once the caller is accepted
    return actor


def forged(key: str) -> str:
    """The key's prefix (so its row is found) with another secret."""
    prefix, _ = key.rsplit("_", 1)
    return f"{prefix}_{new_api_key().key.rsplit('_', 1)[1]}"


class TestRefusedCallersSetNoTenant:
    async def test_a_person_naming_an_account_they_are_not_in(
        self, session: AsyncSession, shared_db: DatabaseURLs
    ) -> None:
        member = new_member(shared_db, new_account(shared_db))
        stranger = new_account(shared_db)
        with pytest.raises(NotFound):
            await resolve(session, bearer=member.token, account_header=str(stranger))
        assert await current_tenant(session) is None

    async def test_a_person_whose_session_ended(
        self, session: AsyncSession, shared_db: DatabaseURLs
    ) -> None:
        member = new_member(shared_db, new_account(shared_db))
        sql(shared_db, "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = %s",
            member.user_id)  # fmt: skip
        with pytest.raises(Unauthorized):
            await resolve(session, bearer=member.token)
        assert await current_tenant(session) is None

    async def test_a_key_with_the_wrong_secret(
        self, session: AsyncSession, shared_db: DatabaseURLs
    ) -> None:
        key = new_key(shared_db, new_account(shared_db), ["content:read"])
        with pytest.raises(Unauthorized):
            await resolve(session, api_key=forged(key.key))
        assert await current_tenant(session) is None

    async def test_a_key_naming_an_account_that_is_not_its_sub_account(
        self, session: AsyncSession, shared_db: DatabaseURLs
    ) -> None:
        key = new_key(shared_db, new_account(shared_db), ["content:read"])
        stranger = new_account(shared_db)
        with pytest.raises(NotFound):
            await resolve(session, api_key=key.key, account_header=str(stranger))
        assert await current_tenant(session) is None

    async def test_a_forged_key_naming_an_account(
        self, session: AsyncSession, shared_db: DatabaseURLs
    ) -> None:
        agency = new_account(shared_db)
        key = new_key(shared_db, agency, ["content:read"])
        client = new_account(shared_db, parent=agency)
        with pytest.raises(MarkettinaError):
            await resolve(session, api_key=forged(key.key), account_header=str(client))
        assert await current_tenant(session) is None


class TestAcceptedCallersActForTheirAccount:
    async def test_a_person_for_a_sub_account(
        self, session: AsyncSession, shared_db: DatabaseURLs
    ) -> None:
        agency = new_account(shared_db)
        member = new_member(shared_db, agency)
        client = new_account(shared_db, parent=agency)
        family = uuid.uuid4()
        sql(shared_db, "INSERT INTO refresh_tokens (user_id, session_account_id, family_id, "
            "token_hash, expires_at) VALUES (%s, %s, %s, %s, now() + interval '1 day')",
            member.user_id, agency, family, uuid.uuid4().hex)  # fmt: skip
        token = access_token(member.user_id, agency, family)
        actor = await resolve(session, bearer=token, account_header=str(client))
        assert actor.account_id == client
        assert await current_tenant(session) == client

    async def test_a_key_for_a_sub_account_is_recorded_on_its_own_account(
        self, session: AsyncSession, shared_db: DatabaseURLs
    ) -> None:
        agency = new_account(shared_db)
        key = new_key(shared_db, agency, ["content:read"])
        client = new_account(shared_db, parent=agency)
        actor = await resolve(session, api_key=key.key, account_header=str(client))
        assert actor.account_id == client
        assert await current_tenant(session) == client
        await enter_tenant(session, agency)  # the key's row, touched in this transaction
        used = await session.scalar(_LAST_USED, {"id": key.key_id})
        assert used is not None


_LAST_USED = text("SELECT last_used_at FROM api_keys WHERE id = :id")


class TestInvitationLookUp:
    async def test_a_token_that_opens_nothing_leaves_the_callers_tenant(
        self, session: AsyncSession, shared_db: DatabaseURLs
    ) -> None:
        home = new_account(shared_db)
        guest = new_member(shared_db, home)
        team = new_account(shared_db)
        sql(shared_db, "INSERT INTO account_invitations (account_id, email, role, token_hash, "
            "expires_at) VALUES (%s, %s, 'viewer', %s, now() + interval '1 day')",
            team, guest.email, uuid.uuid4().hex)  # fmt: skip
        actor = Actor(
            principal=Principal(kind="user", home_account_id=home, user_id=guest.user_id),
            account_id=home, role="owner", permissions=ROLE_PERMISSIONS["owner"],
        )  # fmt: skip
        await enter_tenant(session, home)
        # names the inviting account, but the secret is not its invitation's
        with pytest.raises(NotFound):
            await members.accept_invitation(session, actor=actor, token=f"{team}.guessed")
        assert await current_tenant(session) == home
