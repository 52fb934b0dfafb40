"""Posts over HTTP: drafts and their content versions (list, show, diff, restore),
optimistic locking, scheduling on the account's social accounts, the approval gate,
cancelling, the status machine and the events."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.content.posts_support import ApprovalRequired, gate_bound, new_social_account
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_key, new_member


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


def future(hours: float = 2) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).isoformat()


async def new_post(client: httpx.AsyncClient, member: Member, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/v1/posts", json={"content": "Ciao a tutti", **body}, headers=member.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def patch(
    client: httpx.AsyncClient, member: Member, post: dict[str, Any], body: dict[str, Any],
    version: int | None = None,
) -> httpx.Response:  # fmt: skip
    headers = {**member.headers, "If-Match": f'"{version or post["version"]}"'}
    return await client.patch(f"/v1/posts/{post['id']}", json=body, headers=headers)


async def schedule(
    client: httpx.AsyncClient, member: Member, post_id: int, accounts: list[uuid.UUID],
    **body: Any,
) -> httpx.Response:  # fmt: skip
    payload = {
        "scheduled_at": future(), "timezone": "Europe/Rome",
        "social_account_ids": [str(one) for one in accounts], **body,
    }  # fmt: skip
    return await client.post(f"/v1/posts/{post_id}/schedule", json=payload, headers=member.headers)


def events_of(urls: DatabaseURLs, post_id: int, account_id: uuid.UUID) -> list[str]:
    rows = sql(
        urls,
        "SELECT event_type FROM domain_events WHERE account_id = %s AND aggregate_type = 'post' "
        "AND aggregate_id = %s ORDER BY created_at, event_type",  # one transaction: by name
        account_id, str(post_id),
    )  # fmt: skip
    return [row[0] for row in rows]


class TestDrafts:
    async def test_a_new_post_is_a_draft_with_version_1(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        response = await client.post(
            "/v1/posts",
            json={"content": "Ciao", "hashtags": ["#Roma", "roma", "estate"]},
            headers=owner.headers,
        )
        assert response.status_code == 201, response.text
        post = response.json()
        assert (post["status"], post["hashtags"], post["version"]) == (
            "draft",
            ["Roma", "estate"],
            1,
        )
        assert response.headers["ETag"] == '"1"'
        versions = await client.get(f"/v1/posts/{post['id']}/versions", headers=owner.headers)
        assert [v["version_number"] for v in versions.json()["items"]] == [1]

    async def test_an_api_key_writes_posts_with_no_person_behind_them(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        key = new_key(db, owner.account_id, ["content:read", "content:write"])
        response = await client.post("/v1/posts", json={"content": "x"}, headers=key.headers)
        assert response.status_code == 201, response.text
        assert response.json()["created_by"] is None

    async def test_a_viewer_cannot_write(self, client: httpx.AsyncClient, db: DatabaseURLs) -> None:
        viewer = new_member(db, new_account(db), "viewer")
        response = await client.post("/v1/posts", json={"content": "x"}, headers=viewer.headers)
        problem(response, 403, "permission_denied")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"content": "   "}, "body.content"),
            ({"content": "x" * 10_001}, "body.content"),
            ({"content": "x", "hashtags": ["two words"]}, "body.hashtags"),
            ({"content": "x", "hashtags": [f"t{i}" for i in range(31)]}, "body.hashtags"),
            ({"content": "x", "campaign_id": str(uuid.uuid4())}, "body.campaign_id"),
        ],
    )
    async def test_refuses_bad_fields_naming_them(
        self, client: httpx.AsyncClient, owner: Member, body: dict[str, Any], field: str
    ) -> None:
        response = await client.post("/v1/posts", json=body, headers=owner.headers)
        assert field in fields(problem(response, 422))

    async def test_another_accounts_campaign_is_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        (theirs,) = sql(
            db, "INSERT INTO campaigns (account_id, name) VALUES (%s, 'c') RETURNING id",
            new_account(db),
        )  # fmt: skip
        body = {"content": "x", "campaign_id": str(theirs[0])}
        response = await client.post("/v1/posts", json=body, headers=owner.headers)
        assert fields(problem(response, 422)) == ["body.campaign_id"]

    async def test_deleted_posts_are_gone(self, client: httpx.AsyncClient, owner: Member) -> None:
        post = await new_post(client, owner)
        deleted = await client.delete(f"/v1/posts/{post['id']}", headers=owner.headers)
        assert deleted.status_code == 204
        problem(await client.get(f"/v1/posts/{post['id']}", headers=owner.headers), 404)
        listed = await client.get("/v1/posts", headers=owner.headers)
        assert post["id"] not in [item["id"] for item in listed.json()["items"]]


class TestEditing:
    async def test_an_edit_writes_the_next_version_with_the_changed_fields(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        post = await new_post(client, owner, hashtags=["a"])
        response = await patch(
            client, owner, post, {"content": "Nuovo", "hashtags": ["a"], "change_summary": "typo"}
        )
        assert response.status_code == 200, response.text
        assert (response.json()["content"], response.json()["version"]) == ("Nuovo", 2)
        assert response.headers["ETag"] == '"2"'
        version = await client.get(f"/v1/posts/{post['id']}/versions/2", headers=owner.headers)
        assert version.json()["changed_fields"] == ["content"]
        assert version.json()["change_summary"] == "typo"
        assert version.json()["content_snapshot"] == {
            "content": "Nuovo", "hashtags": ["a"], "campaign_id": None,
        }  # fmt: skip
        assert events_of(db, post["id"], owner.account_id) == ["post.created", "post.updated"]

    async def test_an_edit_that_changes_nothing_writes_nothing(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        post = await new_post(client, owner)
        response = await patch(client, owner, post, {"content": post["content"]})
        assert response.json()["version"] == 1
        versions = await client.get(f"/v1/posts/{post['id']}/versions", headers=owner.headers)
        assert len(versions.json()["items"]) == 1

    async def test_the_version_read_is_required(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        post = await new_post(client, owner)
        response = await client.patch(
            f"/v1/posts/{post['id']}", json={"content": "y"}, headers=owner.headers
        )
        assert fields(problem(response, 422)) == ["body.version"]
        response = await client.patch(
            f"/v1/posts/{post['id']}", json={"content": "y", "version": 1}, headers=owner.headers
        )
        assert response.status_code == 200

    async def test_of_two_editors_saving_the_same_post_one_gets_a_conflict(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        post = await new_post(client, owner)
        first, second = await asyncio.gather(
            patch(client, owner, post, {"content": "Alice's words"}),
            patch(client, owner, post, {"content": "Bob's words"}),
        )
        statuses = sorted([first.status_code, second.status_code])
        assert statuses == [200, 409], (first.text, second.text)
        loser = first if first.status_code == 409 else second
        assert problem(loser, 409, "version_conflict")["current_version"] == 2
        versions = await client.get(f"/v1/posts/{post['id']}/versions", headers=owner.headers)
        assert [v["version_number"] for v in versions.json()["items"]] == [2, 1]

    async def test_a_stale_version_is_a_conflict(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        post = await new_post(client, owner)
        assert (await patch(client, owner, post, {"content": "one"})).status_code == 200
        problem(await patch(client, owner, post, {"content": "two"}, version=1), 409,
                "version_conflict")  # fmt: skip


class TestVersions:
    async def test_diff_and_restore(self, client: httpx.AsyncClient, owner: Member) -> None:
        post = await new_post(client, owner, content="Prima", hashtags=["a"])
        await patch(client, owner, post, {"content": "Seconda", "hashtags": ["a", "b"]})
        url = f"/v1/posts/{post['id']}"
        diff = await client.get(f"{url}/diff?from=1&to=2", headers=owner.headers)
        assert diff.json() == {
            "from_version": 1,
            "to_version": 2,
            "changes": [
                {"field": "content", "before": "Prima", "after": "Seconda"},
                {"field": "hashtags", "before": ["a"], "after": ["a", "b"]},
            ],
        }
        latest = await client.get(f"{url}/diff", headers=owner.headers)
        assert latest.json() == diff.json()

        restored = await client.post(
            f"{url}/versions/1/restore", headers={**owner.headers, "If-Match": '"2"'}
        )
        assert restored.status_code == 200, restored.text
        assert (restored.json()["content"], restored.json()["hashtags"]) == ("Prima", ["a"])
        versions = (await client.get(f"{url}/versions", headers=owner.headers)).json()["items"]
        assert [v["version_number"] for v in versions] == [3, 2, 1]
        assert versions[0]["change_summary"] == "restored version 1"
        assert versions[0]["changed_fields"] == ["content", "hashtags"]
        assert versions[1]["content_snapshot"]["content"] == "Seconda"  # history kept

    async def test_restoring_needs_the_version_read(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        post = await new_post(client, owner)
        await patch(client, owner, post, {"content": "two"})
        url = f"/v1/posts/{post['id']}/versions/1/restore"
        assert fields(problem(await client.post(url, headers=owner.headers), 422)) == [
            "body.version"
        ]
        stale = await client.post(url, json={"version": 1}, headers=owner.headers)
        problem(stale, 409, "version_conflict")

    async def test_versions_page_and_unknown_ones_are_404(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        post = await new_post(client, owner)
        for n in range(3):
            await patch(client, owner, post, {"content": f"v{n + 2}"}, version=n + 1)
        url = f"/v1/posts/{post['id']}/versions"
        first = (await client.get(f"{url}?limit=3", headers=owner.headers)).json()
        assert [v["version_number"] for v in first["items"]] == [4, 3, 2]
        rest = await client.get(
            f"{url}?limit=3", params={"cursor": first["next_cursor"]}, headers=owner.headers
        )
        assert [v["version_number"] for v in rest.json()["items"]] == [1]
        assert rest.json()["next_cursor"] is None
        problem(await client.get(f"{url}/9", headers=owner.headers), 404, "post_version_not_found")
        problem(
            await client.get(f"/v1/posts/{post['id']}/diff?from=1&to=9", headers=owner.headers),
            404,
        )


class TestScheduling:
    async def test_schedules_on_the_chosen_social_accounts(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        insta = new_social_account(db, owner.account_id, "instagram")
        linked = new_social_account(db, owner.account_id, "linkedin")
        post = await new_post(client, owner)
        at = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)
        response = await schedule(
            client, owner, post["id"], [linked, insta],
            scheduled_at=at.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat(),
        )  # fmt: skip
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["timezone"]) == ("scheduled", "Europe/Rome")
        assert dt.datetime.fromisoformat(body["scheduled_at"]) == at
        assert body["platforms"] == ["instagram", "linkedin"]
        assert sorted(body["social_account_ids"]) == sorted([str(insta), str(linked)])

        # rescheduled: another time, only one account; the targets follow
        again = await schedule(client, owner, post["id"], [insta], timezone="America/New_York")
        assert again.status_code == 200, again.text
        assert (again.json()["platforms"], again.json()["social_account_ids"]) == (
            ["instagram"], [str(insta)]
        )  # fmt: skip
        rows = sql(db, "SELECT social_account_id FROM scheduled_post_targets WHERE post_id = %s "
                   "AND account_id = %s", post["id"], owner.account_id)  # fmt: skip
        assert rows == [(insta,)]
        assert events_of(db, post["id"], owner.account_id) == [
            "post.created", "post.scheduled", "post.scheduled",
        ]  # fmt: skip

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"scheduled_at": "2020-01-01T10:00:00+01:00"}, "body.scheduled_at"),
            ({"timezone": "Europe/Atlantis"}, "body.timezone"),
            ({"timezone": "../etc/passwd"}, "body.timezone"),
            ({"scheduled_at": "2100-01-01T10:00:00"}, "body.scheduled_at"),
        ],
    )
    async def test_refuses_a_past_time_or_an_unknown_zone(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member,
        change: dict[str, str], field: str,
    ) -> None:  # fmt: skip
        social = new_social_account(db, owner.account_id)
        post = await new_post(client, owner)
        response = await schedule(client, owner, post["id"], [social], **change)
        assert field in fields(problem(response, 422))
        assert (await client.get(f"/v1/posts/{post['id']}", headers=owner.headers)).json()[
            "status"
        ] == "draft"

    async def test_only_the_accounts_own_connected_active_social_accounts(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        mine = new_social_account(db, owner.account_id)
        theirs = new_social_account(db, new_account(db))
        inactive = new_social_account(db, owner.account_id, "x", active=False)
        disconnected = new_social_account(db, owner.account_id, "facebook")
        sql(db, "UPDATE social_accounts SET deleted_at = now() WHERE id = %s", disconnected)
        post = await new_post(client, owner)
        for other in (theirs, inactive, disconnected, uuid.uuid4()):
            response = await schedule(client, owner, post["id"], [mine, other])
            body = problem(response, 422)
            assert fields(body) == ["body.social_account_ids"]
            assert str(other) in body["detail"]
        assert fields(problem(await schedule(client, owner, post["id"], []), 422)) == [
            "body.social_account_ids"
        ]
        assert sql(db, "SELECT count(*) FROM scheduled_post_targets WHERE account_id = %s",
                   owner.account_id) == [(0,)]  # fmt: skip

    async def test_cancel_and_illegal_transitions_name_both_states(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner.account_id)
        post = await new_post(client, owner)
        assert (await schedule(client, owner, post["id"], [social])).status_code == 200
        url = f"/v1/posts/{post['id']}"
        cancelled = await client.post(f"{url}/cancel", headers=owner.headers)
        assert cancelled.json()["status"] == "cancelled"
        again = problem(await client.post(f"{url}/cancel", headers=owner.headers), 409,
                        "illegal_transition")  # fmt: skip
        assert again["detail"] == "a cancelled post cannot become cancelled"
        body = problem(await schedule(client, owner, post["id"], [social]), 409,
                       "illegal_transition")  # fmt: skip
        assert (body["post_status"], body["requested_status"]) == ("cancelled", "scheduled")
        problem(await patch(client, owner, cancelled.json(), {"content": "z"}), 409,
                "post_not_editable")  # fmt: skip
        assert events_of(db, post["id"], owner.account_id)[-1] == "post.cancelled"

    @pytest.mark.parametrize("current", ["published", "publishing"])
    async def test_a_published_or_publishing_post_stays_so(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, current: str
    ) -> None:
        social = new_social_account(db, owner.account_id)
        post = await new_post(client, owner)
        sql(db, "UPDATE scheduled_posts SET status = %s WHERE account_id = %s AND id = %s",
            current, owner.account_id, post["id"])  # fmt: skip
        body = problem(await schedule(client, owner, post["id"], [social]), 409)
        assert body["detail"] == f"a {current} post cannot become scheduled"
        body = problem(await client.post(f"/v1/posts/{post['id']}/cancel", headers=owner.headers),
                       409)  # fmt: skip
        assert body["detail"] == f"a {current} post cannot become cancelled"

    async def test_a_stale_version_cannot_schedule(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner.account_id)
        post = await new_post(client, owner)
        await patch(client, owner, post, {"content": "changed"})
        problem(await schedule(client, owner, post["id"], [social], version=1), 409,
                "version_conflict")  # fmt: skip

    async def test_a_failed_post_can_be_scheduled_again(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner.account_id)
        post = await new_post(client, owner)
        sql(db, "UPDATE scheduled_posts SET status = 'failed', error_message = 'boom' "
            "WHERE account_id = %s AND id = %s", owner.account_id, post["id"])  # fmt: skip
        response = await schedule(client, owner, post["id"], [social])
        assert (response.json()["status"], response.json()["error_message"]) == ("scheduled", None)


class TestApprovalGate:
    async def test_a_post_needing_approval_waits_until_approved(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner.account_id)
        post = await new_post(client, owner)
        gate = ApprovalRequired()
        with gate_bound(gate):
            waiting = await schedule(client, owner, post["id"], [social])
            assert waiting.status_code == 200, waiting.text
            assert waiting.json()["status"] == "pending_approval"
            # asking again, through the route itself, does not skip the gate
            again = await schedule(client, owner, post["id"], [social], timezone="Europe/Paris")
            assert (again.json()["status"], again.json()["timezone"]) == (
                "pending_approval", "Europe/Paris",
            )  # fmt: skip
            assert gate.asked == [(post["id"], 1), (post["id"], 1)]

            gate.approvals.add((post["id"], 1))
            approved = await schedule(client, owner, post["id"], [social])
            assert approved.json()["status"] == "scheduled"

            # new words need a new approval: the edit sends the post back
            edited = await patch(client, owner, approved.json(), {"content": "Parole nuove"})
            assert edited.json()["status"] == "pending_approval"
            assert gate.asked[-1] == (post["id"], 2)
        assert events_of(db, post["id"], owner.account_id) == [
            "post.created", "post.approval_requested", "post.scheduled",
            "post.approval_requested", "post.updated",
        ]  # fmt: skip

    async def test_the_default_gate_requires_no_approval(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner.account_id)
        post = await new_post(client, owner)
        assert (await schedule(client, owner, post["id"], [social])).json()["status"] == "scheduled"
