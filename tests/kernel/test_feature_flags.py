"""Feature flags: global defaults, per-account overrides, stable percentage rollout, the
per-process cache emptied by NOTIFY, staff management (audited) and the account's view."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.tenant import enter_tenant
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from markettina.kernel.feature_flags import (
    Feature,
    FlagCache,
    FlagChangeListener,
    features_for,
    flag_cache,
    in_rollout,
    is_enabled,
    rollout_bucket,
)
from markettina.kernel.feature_flags.administration import put_global_flag, put_override
from markettina.kernel.feature_flags.service import effective_features
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member
from tests.support.staff import StaffSession, new_staff_session


@pytest.fixture
def staff(db: DatabaseURLs) -> StaffSession:
    return new_staff_session(db)


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


def flag_name() -> str:
    return f"flag_{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Row:
    feature_name: str
    enabled: bool
    account_id: uuid.UUID | None = None
    rollout_percent: int = 100
    config: dict[str, Any] = field(default_factory=dict)


async def new_account_in(session: AsyncSession) -> uuid.UUID:
    slug = f"acct-{uuid.uuid4().hex[:10]}"
    return (
        await session.execute(
            text("INSERT INTO accounts (name, slug) VALUES (:s, :s) RETURNING id"), {"s": slug}
        )
    ).scalar_one()


# --- rollout --------------------------------------------------------------------------------


class TestRollout:
    def test_an_account_always_gets_the_same_bucket(self) -> None:
        account = uuid.uuid4()
        buckets = {rollout_bucket("beta_editor", account) for _ in range(5)}
        assert len(buckets) == 1 and 0 <= buckets.pop() <= 99

    def test_the_bucket_depends_on_the_flag_too(self) -> None:
        accounts = [uuid.uuid4() for _ in range(200)]
        same = sum(rollout_bucket("a", acc) == rollout_bucket("b", acc) for acc in accounts)
        assert same < 20  # independent draws agree about 1 time in 100

    def test_raising_the_percentage_only_adds_accounts(self) -> None:
        accounts = [uuid.uuid4() for _ in range(500)]
        previous: set[uuid.UUID] = set()
        for percent in range(0, 101, 5):
            current = {acc for acc in accounts if in_rollout("gradual", acc, percent)}
            assert previous <= current
            previous = current
        assert previous == set(accounts)

    def test_the_share_of_accounts_follows_the_percentage(self) -> None:
        accounts = [uuid.uuid4() for _ in range(4000)]
        for percent in (0, 10, 50, 90):
            share = sum(in_rollout("share", acc, percent) for acc in accounts) / len(accounts)
            assert abs(share - percent / 100) < 0.04, (percent, share)


# --- what an account gets -------------------------------------------------------------------


class TestEffectiveFeatures:
    def test_defaults_apply_and_unknown_flags_are_absent(self) -> None:
        account = uuid.uuid4()
        features = effective_features([Row("on", True), Row("off", False)], account)
        assert features == {"on": Feature(True, {}), "off": Feature(False, {})}

    def test_an_override_decides_for_its_account_only(self) -> None:
        account, other = uuid.uuid4(), uuid.uuid4()
        rows = [
            Row("beta", False), Row("beta", True, account_id=account),
            Row("ga", True), Row("ga", False, account_id=account),
            Row("beta", True, account_id=other),
        ]  # fmt: skip
        assert effective_features(rows, account) == {
            "beta": Feature(True, {}),
            "ga": Feature(False, {}),
        }

    def test_an_override_wins_over_the_rollout(self) -> None:
        account = uuid.uuid4()
        rows = [Row("x", True, rollout_percent=0), Row("x", True, account_id=account)]
        assert effective_features(rows, account)["x"].enabled is True

    def test_rollout_decides_an_enabled_default(self) -> None:
        accounts = [uuid.uuid4() for _ in range(50)]
        for account in accounts:
            rows = [Row("half", True, rollout_percent=50), Row("none", True, rollout_percent=0)]
            features = effective_features(rows, account)
            assert features["half"].enabled == (rollout_bucket("half", account) < 50)
            assert features["none"].enabled is False

    def test_a_disabled_default_reaches_nobody_whatever_its_rollout(self) -> None:
        rows = [Row("off", False, rollout_percent=100)]
        assert effective_features(rows, uuid.uuid4())["off"].enabled is False

    def test_config_is_the_defaults_with_the_overrides_keys_on_top(self) -> None:
        account = uuid.uuid4()
        rows = [
            Row("c", True, config={"limit": 10, "model": "small"}),
            Row("c", True, account_id=account, config={"limit": 50}),
        ]
        assert effective_features(rows, account)["c"].config == {"limit": 50, "model": "small"}


class TestService:
    async def test_an_account_sees_its_override_and_the_defaults(
        self, session: AsyncSession
    ) -> None:
        flag_cache.clear()
        account, other = await new_account_in(session), await new_account_in(session)
        name = flag_name()
        await put_global_flag(session, admin_user_id=1, name=name, enabled=False,
                              rollout_percent=100, description=None, config={})  # fmt: skip
        await put_override(session, account_id=account, name=name, enabled=True, config={})
        await enter_tenant(session, account)
        assert await is_enabled(session, name, account) is True
        await enter_tenant(session, other)
        assert await is_enabled(session, name, other) is False
        assert await is_enabled(session, "no_such_flag", other) is False

    async def test_a_session_scoped_to_another_account_is_refused(
        self, session: AsyncSession
    ) -> None:
        flag_cache.clear()
        account = await new_account_in(session)
        await enter_tenant(session, uuid.uuid4())
        with pytest.raises(RuntimeError, match="scoped to the account"):
            await features_for(session, account)

    async def test_reads_come_from_the_cache_until_it_is_cleared(
        self, session: AsyncSession
    ) -> None:
        flag_cache.clear()
        account = await new_account_in(session)
        name = flag_name()
        await put_global_flag(session, admin_user_id=1, name=name, enabled=True,
                              rollout_percent=100, description=None, config={})  # fmt: skip
        await enter_tenant(session, account)
        assert await is_enabled(session, name, account) is True
        await session.execute(text("SELECT set_config('app.staff_admin_user_id', '1', true)"))
        await session.execute(
            text("UPDATE feature_flags SET enabled = false WHERE feature_name = :n"), {"n": name}
        )
        assert await is_enabled(session, name, account) is True  # cached
        flag_cache.clear()
        assert await is_enabled(session, name, account) is False


class TestCache:
    def test_an_entry_expires_after_its_ttl(self) -> None:
        now = [100.0]
        cache = FlagCache(ttl_seconds=30, clock=lambda: now[0])
        account = uuid.uuid4()
        cache.put(account, {"x": Feature(True)}, generation=cache.generation)
        now[0] += 29
        assert cache.get(account) == {"x": Feature(True)}
        now[0] += 2
        assert cache.get(account) is None

    def test_a_value_read_before_a_clear_is_not_kept(self) -> None:
        cache = FlagCache()
        account = uuid.uuid4()
        started = cache.generation
        cache.clear()  # a flag changed while the value was being read
        cache.put(account, {"x": Feature(True)}, generation=started)
        assert cache.get(account) is None

    def test_the_least_recently_used_account_goes_first(self) -> None:
        cache = FlagCache(max_accounts=2)
        a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        for account in (a, b):
            cache.put(account, {}, generation=cache.generation)
        assert cache.get(a) == {}
        cache.put(c, {}, generation=cache.generation)
        assert cache.get(b) is None and cache.get(a) == {} and cache.get(c) == {}


# --- row-level security ---------------------------------------------------------------------


class TestRowLevelSecurity:
    async def test_an_account_cannot_change_or_delete_the_global_defaults(
        self, session: AsyncSession
    ) -> None:
        name = flag_name()
        await put_global_flag(session, admin_user_id=1, name=name, enabled=True,
                              rollout_percent=100, description=None, config={})  # fmt: skip
        await session.execute(text("SELECT set_config('app.staff_admin_user_id', '', true)"))
        await enter_tenant(session, await new_account_in(session))
        deleted = await session.execute(
            text("DELETE FROM feature_flags WHERE feature_name = :n"), {"n": name}
        )
        updated = await session.execute(
            text("UPDATE feature_flags SET enabled = false WHERE feature_name = :n"), {"n": name}
        )
        assert (deleted.rowcount, updated.rowcount) == (0, 0)  # type: ignore[attr-defined]
        with pytest.raises(ProgrammingError, match="row-level security"):
            async with session.begin_nested():
                await session.execute(
                    text("INSERT INTO feature_flags (feature_name) VALUES (:n)"), {"n": flag_name()}
                )

    async def test_a_staff_transaction_writes_globals_but_no_accounts_override(
        self, session: AsyncSession
    ) -> None:
        account = await new_account_in(session)
        await session.execute(text("SELECT set_config('app.staff_admin_user_id', '7', true)"))
        await session.execute(
            text("INSERT INTO feature_flags (feature_name) VALUES (:n)"), {"n": flag_name()}
        )
        with pytest.raises(ProgrammingError, match="row-level security"):
            async with session.begin_nested():
                await session.execute(
                    text("INSERT INTO feature_flags (account_id, feature_name) VALUES (:a, :n)"),
                    {"a": account, "n": flag_name()},
                )


# --- invalidation across connections -------------------------------------------------------


async def _eventually(condition: Any, seconds: float = 3.0) -> float:
    """Poll ``condition`` until it holds; returns how long it took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not condition():
        assert loop.time() - started < seconds, "the condition never held"
        await asyncio.sleep(0.01)
    return loop.time() - started


class TestChangeListener:
    async def test_a_committed_change_elsewhere_empties_the_cache_quickly(
        self, db: DatabaseURLs
    ) -> None:
        cache = FlagCache()
        listener = FlagChangeListener(as_libpq_url(db.app), cache=cache)
        await listener.start()
        try:
            assert listener.listening.is_set()
            account = uuid.uuid4()
            cache.put(account, {"x": Feature(True)}, generation=cache.generation)
            sql(db, "INSERT INTO feature_flags (feature_name, enabled) VALUES (%s, true)",
                flag_name())  # fmt: skip
            took = await _eventually(lambda: cache.get(account) is None)
            assert took < 1.0
        finally:
            await listener.stop()

    async def test_the_listener_reconnects_after_losing_its_connection(
        self, db: DatabaseURLs
    ) -> None:
        cache = FlagCache()
        listener = FlagChangeListener(as_libpq_url(db.app), cache=cache, reconnect_seconds=0.05)
        await listener.start()
        try:
            first_pid = listener.backend_pid
            with psycopg.connect(as_libpq_url(db.admin), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (first_pid,))
            await _eventually(
                lambda: (
                    listener.listening.is_set() and listener.backend_pid not in (None, first_pid)
                )
            )
            account = uuid.uuid4()
            cache.put(account, {"x": Feature(True)}, generation=cache.generation)
            sql(db, "INSERT INTO feature_flags (feature_name) VALUES (%s)", flag_name())
            await _eventually(lambda: cache.get(account) is None)
        finally:
            await listener.stop()


# --- staff management -----------------------------------------------------------------------


async def put_flag(
    client: httpx.AsyncClient, staff: StaffSession, name: str, **body: Any
) -> httpx.Response:
    payload = {"enabled": True, **body}
    return await client.put(f"/v1/staff/feature-flags/{name}", json=payload, headers=staff.headers)


def audit_rows(db: DatabaseURLs, staff: StaffSession) -> list[tuple[Any, ...]]:
    return sql(
        db,
        "SELECT action, target_type, target_id, details FROM admin_audit_logs "
        "WHERE admin_user_id = %s ORDER BY created_at, id",
        staff.admin_user_id,
    )


class TestStaffGlobalFlags:
    async def test_create_then_replace_a_flag_each_audited(
        self, client: httpx.AsyncClient, db: DatabaseURLs, staff: StaffSession
    ) -> None:
        name = flag_name()
        created = await put_flag(client, staff, name, rollout_percent=20, description=" Beta ",
                                 config={"limit": 3})  # fmt: skip
        assert created.status_code == 201, created.text
        body = created.json()
        shown = {k: body[k] for k in ("name", "enabled", "rollout_percent", "description")}
        assert shown == {"name": name, "enabled": True, "rollout_percent": 20,
                         "description": "Beta"}  # fmt: skip
        assert body["config"] == {"limit": 3}
        replaced = await put_flag(client, staff, name, enabled=False)
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["rollout_percent"] == 100 and replaced.json()["config"] == {}
        assert sql(db, "SELECT enabled, rollout_percent FROM feature_flags "
                       "WHERE feature_name = %s", name) == [(False, 100)]  # fmt: skip
        rows = audit_rows(db, staff)
        assert [(a, t, i) for a, t, i, _ in rows] == [
            ("feature_flag.put", "feature_flag", name),
            ("feature_flag.put", "feature_flag", name),
        ]
        assert rows[0][3]["created"] is True and rows[0][3]["rollout_percent"] == 20
        assert rows[1][3]["created"] is False and rows[1][3]["enabled"] is False

    async def test_list_pages_the_global_flags_by_name(
        self, client: httpx.AsyncClient, db: DatabaseURLs, staff: StaffSession
    ) -> None:
        for _ in range(3):
            assert (await put_flag(client, staff, flag_name())).status_code == 201
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = await client.get("/v1/staff/feature-flags", params=params,
                                    headers=staff.headers)  # fmt: skip
            assert page.status_code == 200, page.text
            seen += [item["name"] for item in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 3
        assert ("feature_flag.list", None, None) in [r[:3] for r in audit_rows(db, staff)]

    @pytest.mark.parametrize(
        ("name", "body", "field"),
        [
            ("ok_name", {"enabled": True, "rollout_percent": 101}, "body.rollout_percent"),
            ("ok_name", {"enabled": True, "rollout_percent": -1}, "body.rollout_percent"),
            ("ok_name", {"rollout_percent": 5}, "body.enabled"),
            ("ok_name", {"enabled": True, "colour": "red"}, "body.colour"),
            ("ok_name", {"enabled": True, "config": {str(i): i for i in range(51)}},
             "body.config"),
            ("Bad Name", {"enabled": True}, "path.name"),
        ],
    )  # fmt: skip
    async def test_bad_input_is_a_422_naming_the_field(
        self, client: httpx.AsyncClient, staff: StaffSession, name: str, body: dict[str, Any],
        field: str,
    ) -> None:  # fmt: skip
        response = await client.put(f"/v1/staff/feature-flags/{name}", json=body,
                                    headers=staff.headers)  # fmt: skip
        assert field in fields(problem(response, 422))

    async def test_users_and_anonymous_callers_are_refused(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        for headers in (owner.headers, {}):
            response = await client.put(
                f"/v1/staff/feature-flags/{flag_name()}", json={"enabled": True}, headers=headers
            )
            problem(response, 401)


class TestStaffOverrides:
    async def test_override_then_remove_changes_the_accounts_features(
        self, client: httpx.AsyncClient, db: DatabaseURLs, staff: StaffSession, owner: Member
    ) -> None:
        name = flag_name()
        await put_flag(client, staff, name, enabled=False, config={"size": 1})
        url = f"/v1/staff/accounts/{owner.account_id}/feature-flags/{name}"
        features = await client.get("/v1/features", headers=owner.headers)
        assert features.json()["features"][name] == {"enabled": False, "config": {"size": 1}}

        created = await client.put(url, json={"enabled": True, "config": {"size": 2}},
                                   headers=staff.headers)  # fmt: skip
        assert created.status_code == 201, created.text
        again = await client.put(url, json={"enabled": True}, headers=staff.headers)
        assert again.status_code == 200, again.text
        features = await client.get("/v1/features", headers=owner.headers)
        assert features.json()["features"][name] == {"enabled": True, "config": {"size": 1}}

        view = await client.get(f"/v1/staff/accounts/{owner.account_id}/feature-flags",
                                headers=staff.headers)  # fmt: skip
        [shown] = [f for f in view.json()["features"] if f["name"] == name]
        assert shown["enabled"] is True and shown["override"]["enabled"] is True

        assert (await client.delete(url, headers=staff.headers)).status_code == 204
        problem(await client.delete(url, headers=staff.headers), 404, "override_not_found")
        features = await client.get("/v1/features", headers=owner.headers)
        assert features.json()["features"][name]["enabled"] is False

        actions = [(a, t, i) for a, t, i, _ in audit_rows(db, staff)]
        account = str(owner.account_id)
        assert actions[1:] == [
            ("feature_flag.override_put", "account", account),
            ("feature_flag.override_put", "account", account),
            ("feature_flag.account_view", "account", account),
            ("feature_flag.override_remove", "account", account),
        ]

    async def test_an_override_needs_an_existing_flag_and_account(
        self, client: httpx.AsyncClient, staff: StaffSession, owner: Member
    ) -> None:
        name = flag_name()
        url = f"/v1/staff/accounts/{owner.account_id}/feature-flags/{name}"
        response = await client.put(url, json={"enabled": True}, headers=staff.headers)
        problem(response, 404, "feature_flag_not_found")
        await put_flag(client, staff, name)
        response = await client.put(
            f"/v1/staff/accounts/{uuid.uuid4()}/feature-flags/{name}", json={"enabled": True},
            headers=staff.headers,
        )  # fmt: skip
        problem(response, 404, "account_not_found")

    async def test_the_override_body_is_checked(
        self, client: httpx.AsyncClient, staff: StaffSession, owner: Member
    ) -> None:
        url = f"/v1/staff/accounts/{owner.account_id}/feature-flags/{flag_name()}"
        response = await client.put(url, json={"enabled": "maybe"}, headers=staff.headers)
        assert fields(problem(response, 422)) == ["body.enabled"]
        response = await client.put(url, json={"enabled": True, "rollout_percent": 5},
                                    headers=staff.headers)  # fmt: skip
        assert fields(problem(response, 422)) == ["body.rollout_percent"]


# --- the account's view ---------------------------------------------------------------------


class TestAccountFeatures:
    async def test_every_role_sees_its_accounts_features_with_rollout_applied(
        self, client: httpx.AsyncClient, db: DatabaseURLs, staff: StaffSession, owner: Member
    ) -> None:
        everyone, nobody, off = flag_name(), flag_name(), flag_name()
        await put_flag(client, staff, everyone, config={"quota": 5})
        await put_flag(client, staff, nobody, rollout_percent=0)
        await put_flag(client, staff, off, enabled=False)
        viewer = new_member(db, owner.account_id, "viewer")
        response = await client.get("/v1/features", headers=viewer.headers)
        assert response.status_code == 200, response.text
        features = response.json()["features"]
        assert features[everyone] == {"enabled": True, "config": {"quota": 5}}
        assert features[nobody]["enabled"] is False
        assert features[off]["enabled"] is False

    async def test_a_flag_change_shows_in_the_next_request(
        self, client: httpx.AsyncClient, staff: StaffSession, owner: Member
    ) -> None:
        name = flag_name()
        await put_flag(client, staff, name, enabled=False)
        before = await client.get("/v1/features", headers=owner.headers)  # now cached
        assert before.json()["features"][name]["enabled"] is False
        await put_flag(client, staff, name, enabled=True)
        after = await client.get("/v1/features", headers=owner.headers)
        assert after.json()["features"][name]["enabled"] is True

    async def test_anonymous_callers_are_refused(self, client: httpx.AsyncClient) -> None:
        problem(await client.get("/v1/features"), 401)
