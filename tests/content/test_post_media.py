"""The media a post shows, over HTTP: the ordered list replaced at once, every asset the
account's own, usage counted from the links, an asset a post shows cannot be deleted, and
a post whose content is final keeps its media."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.content.test_media_api import uploaded
from tests.content.test_posts_api import new_post
from tests.support.api import api_client
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member
from tests.support.media import media_app, png


@pytest.fixture(scope="module")
async def client(
    db: DatabaseURLs, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    app = media_app(db, tmp_path_factory.mktemp("media"), media_max_upload_bytes=64 * 1024)
    async with api_client(app) as http:
        yield http


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


async def put_media(
    client: httpx.AsyncClient, member: Member, post_id: int, ids: list[Any]
) -> httpx.Response:
    return await client.put(
        f"/v1/posts/{post_id}/media", json={"media_asset_ids": ids}, headers=member.headers
    )


def usage(db: DatabaseURLs, asset_id: str) -> int:
    return int(sql(db, "SELECT usage_count FROM media_assets WHERE id = %s", asset_id)[0][0])


class TestPostMedia:
    async def test_the_list_is_replaced_in_order_and_usage_follows(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        post = await new_post(client, owner)
        a, b, c = [(await uploaded(client, owner, png(8 + i, 8)))["id"] for i in range(3)]

        response = await put_media(client, owner, post["id"], [b, a])
        assert response.status_code == 200, response.text
        assert response.json() == {"post_id": post["id"], "media_asset_ids": [b, a]}
        assert (usage(db, a), usage(db, b), usage(db, c)) == (1, 1, 0)

        await put_media(client, owner, post["id"], [c, b])
        shown = await client.get(f"/v1/posts/{post['id']}/media", headers=owner.headers)
        assert shown.json()["media_asset_ids"] == [c, b]
        assert (usage(db, a), usage(db, b), usage(db, c)) == (0, 1, 1)

        await put_media(client, owner, post["id"], [])
        assert (usage(db, a), usage(db, b), usage(db, c)) == (0, 0, 0)

    async def test_an_asset_a_post_shows_cannot_be_deleted(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        post = await new_post(client, owner)
        asset = await uploaded(client, owner, png(9, 9))
        await put_media(client, owner, post["id"], [asset["id"]])
        refused = await client.delete(f"/v1/media/{asset['id']}", headers=owner.headers)
        assert problem(refused, 409, "media_in_use")["post_ids"] == [post["id"]]

    async def test_another_accounts_asset_or_a_repeat_is_refused_and_nothing_changes(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        stranger = new_member(db, new_account(db), "owner")
        theirs = (await uploaded(client, stranger, png(10, 10)))["id"]
        mine = (await uploaded(client, owner, png(11, 11)))["id"]
        post = await new_post(client, owner)
        await put_media(client, owner, post["id"], [mine])

        foreign = await put_media(client, owner, post["id"], [mine, theirs])
        assert fields(problem(foreign, 422, "unknown_media")) == ["body.media_asset_ids.1"]
        repeated = await put_media(client, owner, post["id"], [mine, mine])
        assert fields(problem(repeated, 422)) == ["body.media_asset_ids.1"]
        unknown = await put_media(client, owner, post["id"], [str(uuid.uuid4())])
        assert fields(problem(unknown, 422, "unknown_media")) == ["body.media_asset_ids.0"]

        shown = await client.get(f"/v1/posts/{post['id']}/media", headers=owner.headers)
        assert shown.json()["media_asset_ids"] == [mine]

    async def test_a_published_post_keeps_its_media(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        post = await new_post(client, owner)
        asset = (await uploaded(client, owner, png(12, 12)))["id"]
        sql(db, "UPDATE scheduled_posts SET status = 'published' WHERE id = %s", post["id"])
        refused = await put_media(client, owner, post["id"], [asset])
        assert problem(refused, 409, "post_not_editable")["post_status"] == "published"

    async def test_a_viewer_reads_but_cannot_set_and_another_account_sees_nothing(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        viewer = new_member(db, owner.account_id, "viewer")
        post = await new_post(client, owner)
        assert (await client.get(f"/v1/posts/{post['id']}/media", headers=viewer.headers)).json()[
            "media_asset_ids"
        ] == []
        problem(await put_media(client, viewer, post["id"], []), 403)
        stranger = new_member(db, new_account(db), "owner")
        problem(await client.get(f"/v1/posts/{post['id']}/media", headers=stranger.headers), 404)
