"""Rows and requests the calendar, queue, recurring and import tests share."""

from __future__ import annotations

import uuid

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import sql
from tests.support.identity import Member


def new_social_account(urls: DatabaseURLs, owner: Member, platform: str = "instagram") -> uuid.UUID:
    (row,) = sql(
        urls,
        "INSERT INTO social_accounts (account_id, platform, platform_user_id, handle)"
        " VALUES (%s, %s, %s, 'h') RETURNING id",
        owner.account_id, platform, uuid.uuid4().hex,
    )  # fmt: skip
    return row[0]
