"""A/B variants over HTTP: parents that must exist in the account, the traffic split set
at once, counters that lose no update under concurrency, and a winner only a significant
z-test may declare."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from markettina.content import variants
from markettina.content.schemas.variants import VariantCounts, VariantCreate
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.errors import Conflict
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member


def new_post(db: DatabaseURLs, member: Member) -> str:
    ((post,),) = sql(
        db,
        "INSERT INTO scheduled_posts (account_id, user_id, content) "
        "VALUES (%s, %s, 'Launch day') RETURNING id",
        member.account_id,
        member.user_id,
    )
    return str(post)


def new_email_campaign(db: DatabaseURLs, member: Member) -> str:
    ((campaign,),) = sql(
        db,
        "INSERT INTO email_campaigns (account_id, user_id, name) "
        "VALUES (%s, %s, 'Newsletter') RETURNING id",
        member.account_id,
        member.user_id,
    )
    return str(campaign)


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


async def _variant(
    client: httpx.AsyncClient, member: Member, parent: tuple[str, str], name: str = "A"
) -> dict[str, Any]:
    response = await client.post(
        "/v1/variants",
        headers=member.headers,
        json={
            "parent_content_type": parent[0],
            "parent_content_id": parent[1],
            "variant_name": name,
            "variant_content": f"Text {name}",
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _split(
    client: httpx.AsyncClient,
    member: Member,
    parent: tuple[str, str],
    shares: list[tuple[str, Any]],
) -> httpx.Response:
    return await client.put(
        "/v1/variants/split",
        headers=member.headers,
        json={
            "parent_content_type": parent[0],
            "parent_content_id": parent[1],
            "split": [{"variant_id": v, "traffic_percent": p} for v, p in shares],
        },
    )


async def _count(
    client: httpx.AsyncClient, member: Member, variant: str, **counts: int
) -> httpx.Response:
    return await client.post(f"/v1/variants/{variant}/counts", headers=member.headers, json=counts)


class TestParents:
    async def test_a_variant_of_a_post_and_of_an_email_campaign(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        post = await _variant(client, owner, ("post", new_post(db, owner)))
        assert (post["is_active"], post["traffic_percent"], post["impressions"]) == (False, 0, 0)
        email = await _variant(client, owner, ("email_campaign", new_email_campaign(db, owner)))
        assert email["parent_content_type"] == "email_campaign"
        read = await client.get(f"/v1/variants/{email['id']}", headers=owner.headers)
        assert read.json() == email

    @pytest.mark.parametrize("kind", ["post", "email_campaign"])
    async def test_a_parent_outside_the_account_is_not_found_by_name(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs, kind: str
    ) -> None:
        other = new_member(db, new_account(db))
        theirs = new_post(db, other) if kind == "post" else new_email_campaign(db, other)
        for parent_id in (theirs, "999999", str(uuid.uuid4()), "not-an-id"):
            response = await client.post(
                "/v1/variants",
                headers=owner.headers,
                json={
                    "parent_content_type": kind,
                    "parent_content_id": parent_id,
                    "variant_name": "A",
                    "variant_content": "x",
                },
            )
            body = problem(response, 404, "variant_parent_not_found")
            assert fields(body) == ["body.parent_content_id"]
            assert parent_id in body["detail"]
        assert sql(
            db, "SELECT count(*) FROM content_variants WHERE account_id = %s", owner.account_id
        ) == [(0,)]

    async def test_a_deleted_post_is_no_parent(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        post = new_post(db, owner)
        sql(db, "UPDATE scheduled_posts SET deleted_at = now() WHERE id = %s", int(post))
        response = await client.post(
            "/v1/variants",
            headers=owner.headers,
            json={
                "parent_content_type": "post",
                "parent_content_id": post,
                "variant_name": "A",
                "variant_content": "x",
            },
        )
        problem(response, 404, "variant_parent_not_found")

    async def test_list_update_and_delete(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        parent = ("post", new_post(db, owner))
        a = await _variant(client, owner, parent, "A")
        b = await _variant(client, owner, parent, "B")
        listed = await client.get(
            "/v1/variants",
            headers=owner.headers,
            params={"parent_content_type": parent[0], "parent_content_id": parent[1]},
        )
        assert [v["id"] for v in listed.json()["items"]] == [a["id"], b["id"]]
        changed = await client.patch(
            f"/v1/variants/{a['id']}",
            headers=owner.headers,
            json={"variant_content": "New text", "variant_name": "A1"},
        )
        assert (changed.json()["variant_content"], changed.json()["variant_name"]) == (
            "New text",
            "A1",
        )
        assert (
            await client.delete(f"/v1/variants/{b['id']}", headers=owner.headers)
        ).status_code == 204
        problem(
            await client.get(f"/v1/variants/{b['id']}", headers=owner.headers),
            404,
            "variant_not_found",
        )


class TestLimits:
    async def test_a_parent_has_at_most_twenty_variants_even_when_created_at_once(
        self, fresh_db: DatabaseURLs
    ) -> None:
        member = new_member(fresh_db, new_account(fresh_db))
        post = new_post(fresh_db, member)
        engine = create_async_engine(fresh_db.app, pool_size=10, max_overflow=0)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        fields = VariantCreate(
            parent_content_type="post", parent_content_id=post, variant_name="v",
            variant_content="x",
        )  # fmt: skip

        async def one() -> str:
            try:
                async with unit_of_work(sessions, account_id=member.account_id) as session:
                    await variants.create_variant(
                        session, account_id=member.account_id, fields=fields
                    )
                    await asyncio.sleep(0.01)  # hold the transaction open meanwhile
            except Conflict as refused:
                return refused.code
            return "created"

        try:
            outcomes = await asyncio.gather(*(one() for _ in range(30)))
        finally:
            await engine.dispose()
        assert sorted(outcomes) == ["created"] * 20 + ["too_many_variants"] * 10
        assert sql(fresh_db, "SELECT count(*) FROM content_variants WHERE account_id = %s",
                   member.account_id) == [(20,)]  # fmt: skip


class TestSplit:
    async def test_the_split_is_set_at_once_and_sums_to_100(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        parent = ("post", new_post(db, owner))
        a, b, c = [(await _variant(client, owner, parent, n))["id"] for n in "ABC"]
        response = await _split(client, owner, parent, [(a, 33), (b, 33), (c, 34)])
        assert response.status_code == 200, response.text
        assert [(v["traffic_percent"], v["is_active"]) for v in response.json()["items"]] == [
            (33, True),
            (33, True),
            (34, True),
        ]
        again = await _split(client, owner, parent, [(a, 50), (c, 50)])
        assert [(v["traffic_percent"], v["is_active"]) for v in again.json()["items"]] == [
            (50, True),
            (0, False),
            (50, True),
        ]

    @pytest.mark.parametrize(
        "shares",
        [
            [("a", 50), ("b", 49)],
            [("a", 60), ("b", 60)],
            [("a", 101)],
            [("a", 0), ("b", 100)],
        ],
    )
    async def test_a_split_not_summing_to_100_changes_nothing(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs, shares: list[Any]
    ) -> None:
        parent = ("post", new_post(db, owner))
        ids = {n: (await _variant(client, owner, parent, n))["id"] for n in "ab"}
        assert (
            await _split(client, owner, parent, [(ids["a"], 50), (ids["b"], 50)])
        ).status_code == 200
        response = await _split(client, owner, parent, [(ids[n], p) for n, p in shares])
        problem(response, 422)
        rows = sql(
            db,
            "SELECT traffic_percent, is_active FROM content_variants "
            "WHERE account_id = %s ORDER BY variant_name",
            owner.account_id,
        )
        assert [(float(p), active) for p, active in rows] == [(50, True), (50, True)]

    async def test_percentages_are_whole_numbers(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        parent = ("post", new_post(db, owner))
        a = (await _variant(client, owner, parent, "a"))["id"]
        b = (await _variant(client, owner, parent, "b"))["id"]
        response = await _split(client, owner, parent, [(a, 33.5), (b, 66.5)])
        assert fields(problem(response, 422)) == ["body.split.0.traffic_percent",
                                                  "body.split.1.traffic_percent"]  # fmt: skip

    async def test_the_sum_and_bad_ids_are_named(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        parent = ("post", new_post(db, owner))
        other_parent = ("post", new_post(db, owner))
        a = (await _variant(client, owner, parent))["id"]
        elsewhere = (await _variant(client, owner, other_parent))["id"]
        response = await _split(client, owner, parent, [(a, 40), (a, 40), (elsewhere, 10)])
        body = problem(response, 422, "traffic_split_invalid")
        assert fields(body) == ["body.split.1.variant_id", "body.split.2.variant_id", "body.split"]
        assert "sum to 90" in body["errors"][-1]["message"]

    async def test_a_variant_in_the_split_is_not_deleted(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        parent = ("post", new_post(db, owner))
        a = (await _variant(client, owner, parent))["id"]
        await _split(client, owner, parent, [(a, 100)])
        problem(
            await client.delete(f"/v1/variants/{a}", headers=owner.headers), 409, "variant_in_split"
        )


class TestCounters:
    async def test_counts_add_up(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        a = (await _variant(client, owner, ("post", new_post(db, owner))))["id"]
        await _count(client, owner, a, impressions=10, clicks=3)
        after = (await _count(client, owner, a, impressions=5, conversions=1)).json()
        assert (after["impressions"], after["clicks"], after["conversions"]) == (15, 3, 1)
        problem(await _count(client, owner, a), 422)
        problem(await _count(client, owner, a, impressions=-1), 422)

    async def test_concurrent_counts_lose_no_update(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        a = (await _variant(client, owner, ("post", new_post(db, owner))))["id"]
        answers = await asyncio.gather(
            *(_count(client, owner, a, impressions=1, clicks=1, conversions=1) for _ in range(20))
        )
        assert [r.status_code for r in answers] == [200] * 20
        assert sql(
            db, "SELECT impressions, clicks, conversions FROM content_variants WHERE id = %s", a
        ) == [(20, 20, 20)]

    async def test_concurrent_transactions_lose_no_count(self, fresh_db: DatabaseURLs) -> None:
        member = new_member(fresh_db, new_account(fresh_db))
        post = new_post(fresh_db, member)
        ((variant,),) = sql(
            fresh_db,
            "INSERT INTO content_variants (account_id, parent_content_type, parent_content_id, "
            "variant_name, variant_content) VALUES (%s, 'post', %s, 'A', 'a') RETURNING id",
            member.account_id, post,
        )  # fmt: skip
        engine = create_async_engine(fresh_db.app, pool_size=10, max_overflow=0)
        sessions = async_sessionmaker(engine, expire_on_commit=False)

        async def one() -> None:
            async with unit_of_work(sessions, account_id=member.account_id) as session:
                await variants.record_counts(
                    session, account_id=member.account_id, variant_id=variant,
                    counts=VariantCounts(impressions=2, clicks=1, conversions=1),
                )  # fmt: skip
                await asyncio.sleep(0.01)  # hold the transaction open meanwhile

        try:
            await asyncio.gather(*(one() for _ in range(30)))
        finally:
            await engine.dispose()
        assert sql(fresh_db, "SELECT impressions, clicks, conversions FROM content_variants "
                             "WHERE id = %s", variant) == [(60, 30, 30)]  # fmt: skip

    async def test_a_counter_never_overflows(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        a = (await _variant(client, owner, ("post", new_post(db, owner))))["id"]
        sql(db, "UPDATE content_variants SET impressions = 2147483600 WHERE id = %s", a)
        problem(await _count(client, owner, a, impressions=100), 409, "counter_overflow")


class TestWinner:
    async def _test(
        self,
        client: httpx.AsyncClient,
        owner: Member,
        db: DatabaseURLs,
        arms: list[tuple[int, int]],
    ) -> tuple[tuple[str, str], list[str]]:
        parent = ("email_campaign", new_email_campaign(db, owner))
        ids = [(await _variant(client, owner, parent, f"V{i}"))["id"] for i in range(len(arms))]
        shares = [(v, 100 // len(arms)) for v in ids[:-1]]
        shares.append((ids[-1], 100 - sum(p for _, p in shares)))
        assert (await _split(client, owner, parent, shares)).status_code == 200
        for variant, (n, x) in zip(ids, arms, strict=True):
            await _count(client, owner, variant, impressions=n, conversions=x)
        return parent, ids

    async def test_a_significant_winner_takes_the_traffic(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        parent, (a, b) = await self._test(client, owner, db, [(1000, 100), (1000, 130)])
        analysis = await client.get(
            "/v1/variants/analysis",
            headers=owner.headers,
            params={"parent_content_type": parent[0], "parent_content_id": parent[1]},
        )
        stats = analysis.json()
        assert (stats["decision"], stats["candidate"]) == ("significant", b)
        (comparison,) = stats["comparisons"]
        assert comparison["pooled_rate"] == pytest.approx(0.115)
        assert comparison["z"] == pytest.approx(2.1027, abs=1e-4)
        assert comparison["p_value"] == pytest.approx(0.0355, abs=1e-4)
        strict = await client.get(
            "/v1/variants/analysis",
            headers=owner.headers,
            params={"parent_content_type": parent[0], "parent_content_id": parent[1],
                    "level": "0.01"},
        )  # fmt: skip
        assert (strict.json()["level"], strict.json()["decision"]) == (0.01, "not_significant")
        declared = await client.post(f"/v1/variants/{b}/declare-winner", headers=owner.headers)
        assert declared.status_code == 200, declared.text
        assert (
            declared.json()["variant"]["is_winner"],
            declared.json()["variant"]["traffic_percent"],
        ) == (True, 100)
        rows = sql(
            db,
            "SELECT id::text, is_winner, is_active, traffic_percent FROM "
            "content_variants WHERE account_id = %s ORDER BY variant_name",
            owner.account_id,
        )
        assert [(r[1], r[2], float(r[3])) for r in rows] == [(False, False, 0), (True, True, 100)]
        events = sql(
            db,
            "SELECT event_data->>'variant_id', event_data->>'metric' FROM domain_events "
            "WHERE account_id = %s AND event_type = 'variant.winner_declared'",
            owner.account_id,
        )
        assert events == [(b, "conversions")]
        again = await client.post(f"/v1/variants/{a}/declare-winner", headers=owner.headers)
        problem(again, 409, "winner_already_declared")
        # the test has ended: no new split, no new variant
        problem(await _split(client, owner, parent, [(a, 100)]), 409, "winner_already_declared")
        late = await client.post(
            "/v1/variants",
            headers=owner.headers,
            json={"parent_content_type": parent[0], "parent_content_id": parent[1],
                  "variant_name": "late", "variant_content": "x"},
        )  # fmt: skip
        problem(late, 409, "winner_already_declared")

    async def test_not_significant_is_409_with_the_statistics(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        # 10.0 % against 11.5 %: pooled 0.1075, se 0.013852, z = 1.0829, p = 0.2789
        _, (_a, b) = await self._test(client, owner, db, [(1000, 100), (1000, 115)])
        response = await client.post(f"/v1/variants/{b}/declare-winner", headers=owner.headers)
        body = problem(response, 409, "winner_not_significant")
        analysis = body["analysis"]
        assert analysis["decision"] == "not_significant"
        assert analysis["comparisons"][0]["p_value"] == pytest.approx(0.2789, abs=1e-4)
        assert "not below 0.05" in analysis["reason"]
        looser = await client.post(
            f"/v1/variants/{b}/declare-winner", headers=owner.headers, json={"level": "0.1"}
        )
        problem(looser, 409, "winner_not_significant")
        assert sql(
            db,
            "SELECT count(*) FROM content_variants WHERE account_id = %s AND is_winner",
            owner.account_id,
        ) == [(0,)]

    async def test_the_worse_arm_never_wins(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        _, (a, _b) = await self._test(client, owner, db, [(1000, 100), (1000, 200)])
        body = problem(
            await client.post(f"/v1/variants/{a}/declare-winner", headers=owner.headers),
            409,
            "winner_not_significant",
        )
        assert "does not have a higher rate" in body["analysis"]["reason"]

    async def test_a_large_gap_on_a_small_sample_is_no_winner(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        # 1 of 20 against 9 of 20: a big gap, but 10 conversions in all (n·p = 5 per arm)
        _, (_a, b) = await self._test(client, owner, db, [(20, 1), (20, 9)])
        body = problem(
            await client.post(f"/v1/variants/{b}/declare-winner", headers=owner.headers), 409
        )
        assert body["analysis"]["decision"] == "insufficient_sample"

    async def test_three_arms_share_the_level(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        # C beats A (z = 3.069, p = 0.0021) but not B (z = 1.9947, p = 0.0461: below 0.05,
        # not below 0.025, the level split between the two comparisons)
        parent, (_a, _b, c) = await self._test(
            client, owner, db, [(1000, 100), (1000, 115), (1000, 145)]
        )
        stats = (
            await client.get(
                "/v1/variants/analysis",
                headers=owner.headers,
                params={"parent_content_type": parent[0], "parent_content_id": parent[1]},
            )
        ).json()
        assert (stats["candidate"], stats["comparison_level"]) == (c, 0.025)
        assert [cmp["significant"] for cmp in stats["comparisons"]] == [True, False]
        assert stats["decision"] == "not_significant"
