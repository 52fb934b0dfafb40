"""The cross-tenant matrix, built from the OpenAPI document: for every route with a path
id, a resource of account A is requested, changed and deleted by a member of account B,
by an API key of B (holding every permission) and by an anonymous caller. Each attempt
gets 404 (401 for anonymous) and the resource is unchanged. A new route with a path id
fails here until it has a factory below: nothing escapes by being new."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from markettina.identity.permissions import ALL_PERMISSIONS
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.security import digest, new_api_key, opaque_secret
from tests.support.api import make_app
from tests.support.identity import Member, new_account, new_key, new_member

# staff routes act across accounts by design (for staff only); tests/identity/test_staff.py
# proves users, keys and anonymous callers are refused there
CROSS_ACCOUNT_BY_DESIGN = ("/v1/staff/",)


@dataclass(frozen=True)
class Resource:
    params: dict[str, str]
    table: str
    where: str  # identifies the row, for the before/after comparison
    args: tuple[Any, ...]


def _sql(urls: DatabaseURLs, statement: str, *params: Any) -> Any:
    with bootstrap.connect(urls.owner) as conn:
        return conn.execute(statement, params).fetchone()


def _member_of_a(urls: DatabaseURLs, owner: Member) -> Resource:
    other = new_member(urls, owner.account_id, "editor")
    where = "account_id = %s AND user_id = %s"
    return Resource({"user_id": str(other.user_id)}, "account_memberships", where,
                    (owner.account_id, other.user_id))  # fmt: skip


def _invitation(urls: DatabaseURLs, owner: Member) -> Resource:
    (invitation,) = _sql(
        urls,
        "INSERT INTO account_invitations (account_id, email, role, token_hash, invited_by, "
        "expires_at) VALUES (%s, %s, 'viewer', %s, %s, now() + interval '7 days') RETURNING id",
        owner.account_id, f"{uuid.uuid4().hex[:8]}@example.com", digest(opaque_secret()),
        owner.user_id,
    )  # fmt: skip
    return Resource({"invitation_id": str(invitation)}, "account_invitations",
                    "account_id = %s AND id = %s", (owner.account_id, invitation))  # fmt: skip


def _api_key(urls: DatabaseURLs, owner: Member) -> Resource:
    created = new_api_key()
    (key,) = _sql(
        urls,
        "INSERT INTO api_keys (account_id, name, prefix, key_hash, scopes) "
        "VALUES (%s, 'A key', %s, %s, '{content:read}') RETURNING id",
        owner.account_id, created.prefix, created.key_hash,
    )  # fmt: skip
    return Resource({"key_id": str(key)}, "api_keys", "account_id = %s AND id = %s",
                    (owner.account_id, key))  # fmt: skip


def _grant(urls: DatabaseURLs, owner: Member) -> Resource:
    (grant,) = _sql(
        urls,
        "INSERT INTO user_permissions (account_id, user_id, resource_type, permission) "
        "VALUES (%s, %s, 'campaign', 'content:write') RETURNING id",
        owner.account_id, owner.user_id,
    )  # fmt: skip
    return Resource({"grant_id": str(grant)}, "user_permissions", "account_id = %s AND id = %s",
                    (owner.account_id, grant))  # fmt: skip


def _social_account(urls: DatabaseURLs, owner: Member) -> Resource:
    (social,) = _sql(
        urls,
        "INSERT INTO social_accounts (account_id, platform, platform_user_id, handle) "
        "VALUES (%s, 'fakebook', %s, '@a') RETURNING id",
        owner.account_id, uuid.uuid4().hex,
    )  # fmt: skip
    return Resource({"social_account_id": str(social)}, "social_accounts",
                    "account_id = %s AND id = %s", (owner.account_id, social))  # fmt: skip


def _pending_job(urls: DatabaseURLs, owner: Member) -> Resource:
    (job,) = _sql(
        urls,
        "INSERT INTO async_jobs (account_id, job_type, input_data) "
        "VALUES (%s, 'export', '{}') RETURNING id",
        owner.account_id,
    )  # fmt: skip
    return Resource({"job_id": str(job)}, "async_jobs", "account_id = %s AND id = %s",
                    (owner.account_id, job))  # fmt: skip


def _webhook(urls: DatabaseURLs, owner: Member) -> Resource:
    (hook,) = _sql(
        urls,
        "INSERT INTO webhooks (account_id, name, url, events, secret_encrypted) "
        "VALUES (%s, 'A hook', 'https://hooks.example/a', '{*}', 'sealed') RETURNING id",
        owner.account_id,
    )  # fmt: skip
    return Resource({"webhook_id": str(hook)}, "webhooks", "account_id = %s AND id = %s",
                    (owner.account_id, hook))  # fmt: skip


def _webhook_delivery(urls: DatabaseURLs, owner: Member) -> Resource:
    hook = _webhook(urls, owner)
    (delivery,) = _sql(
        urls,
        "INSERT INTO webhook_deliveries (account_id, webhook_id, event_type, event_id, payload, "
        "status, attempts) VALUES (%s, %s, 'webhook.ping', gen_random_uuid(), '{}', "
        "'succeeded', 1) RETURNING id",
        owner.account_id, hook.params["webhook_id"],
    )  # fmt: skip
    return Resource({**hook.params, "delivery_id": str(delivery)}, "webhook_deliveries",
                    "account_id = %s AND id = %s", (owner.account_id, delivery))  # fmt: skip


def _invoice(urls: DatabaseURLs, owner: Member) -> Resource:
    (invoice,) = _sql(
        urls,
        "INSERT INTO invoices (account_id, invoice_number, subtotal_cents, total_cents,"
        " issue_date, status) VALUES (%s, %s, 100, 100, current_date, 'issued') RETURNING id",
        owner.account_id, f"T-{uuid.uuid4().hex[:12]}",
    )  # fmt: skip
    return Resource({"invoice_id": str(invoice)}, "invoices", "account_id = %s AND id = %s",
                    (owner.account_id, invoice))  # fmt: skip


def _session(urls: DatabaseURLs, owner: Member) -> Resource:
    """A's owner's session: a person's, not an account's, but the same holds for it."""
    (family,) = _sql(
        urls, "SELECT family_id FROM refresh_tokens WHERE user_id = %s LIMIT 1", owner.user_id
    )
    return Resource({"session_id": str(family)}, "refresh_tokens", "family_id = %s",
                    (family,))  # fmt: skip


# --- content templates and A/B variants (h-templates) ---------------------------------------


def _template(urls: DatabaseURLs, owner: Member) -> Resource:
    """A private template (a public one is readable by every account, by design)."""
    (template,) = _sql(
        urls,
        "INSERT INTO content_templates (account_id, name, content_type, template_content) "
        "VALUES (%s, 'T', 'social_post', 'Hello') RETURNING id",
        owner.account_id,
    )  # fmt: skip
    return Resource({"template_id": str(template)}, "content_templates",
                    "account_id = %s AND id = %s", (owner.account_id, template))  # fmt: skip


def _variant(urls: DatabaseURLs, owner: Member) -> Resource:
    (post,) = _sql(
        urls,
        "INSERT INTO scheduled_posts (account_id, user_id, content) VALUES (%s, %s, 'p') "
        "RETURNING id",
        owner.account_id, owner.user_id,
    )  # fmt: skip
    (variant,) = _sql(
        urls,
        "INSERT INTO content_variants (account_id, parent_content_type, parent_content_id, "
        "variant_name, variant_content, impressions, conversions) "
        "VALUES (%s, 'post', %s, 'A', 'a', 5000, 900) RETURNING id",
        owner.account_id, str(post),
    )  # fmt: skip
    return Resource({"variant_id": str(variant)}, "content_variants",
                    "account_id = %s AND id = %s", (owner.account_id, variant))  # fmt: skip


CONTENT_TEMPLATE_FACTORIES: dict[str, Callable[[DatabaseURLs, Member], Resource]] = {
    "/v1/templates/{template_id}": _template,
    "/v1/templates/{template_id}/preview": _template,
    "/v1/templates/{template_id}/render": _template,
    "/v1/variants/{variant_id}": _variant,
    "/v1/variants/{variant_id}/counts": _variant,
    "/v1/variants/{variant_id}/declare-winner": _variant,
}


# --- media library ---
def _media_asset(urls: DatabaseURLs, owner: Member) -> Resource:
    (asset,) = _sql(
        urls,
        "INSERT INTO media_assets (account_id, filename, mime_type, file_size_bytes, "
        "storage_path) VALUES (%s, 'a.png', 'image/png', 10, 'x/y/original') RETURNING id",
        owner.account_id,
    )  # fmt: skip
    return Resource({"media_id": str(asset)}, "media_assets", "account_id = %s AND id = %s",
                    (owner.account_id, asset))  # fmt: skip


# --- leads ---
def _lead(urls: DatabaseURLs, owner: Member) -> Resource:
    (lead,) = _sql(
        urls, "INSERT INTO leads (account_id, name, email) VALUES (%s, 'A lead', %s) RETURNING id",
        owner.account_id, f"lead-{uuid.uuid4().hex[:8]}@example.com",
    )  # fmt: skip
    return Resource({"lead_id": str(lead)}, "leads", "account_id = %s AND id = %s",
                    (owner.account_id, lead))  # fmt: skip


FACTORIES: dict[str, Callable[[DatabaseURLs, Member], Resource]] = {
    "/v1/me/sessions/{session_id}": _session,
    "/v1/account/members/{user_id}": _member_of_a,
    "/v1/account/invitations/{invitation_id}": _invitation,
    "/v1/api-keys/{key_id}": _api_key,
    "/v1/billing/invoices/{invoice_id}": _invoice,
    "/v1/billing/invoices/{invoice_id}/pdf": _invoice,
    "/v1/account/permissions/{grant_id}": _grant,
    "/v1/social-accounts/{social_account_id}": _social_account,
    "/v1/social-accounts/{social_account_id}/primary": _social_account,
    "/v1/jobs/{job_id}": _pending_job,
    "/v1/jobs/{job_id}/cancel": _pending_job,
    "/v1/webhooks/{webhook_id}": _webhook,
    "/v1/webhooks/{webhook_id}/deliveries": _webhook,
    "/v1/webhooks/{webhook_id}/test": _webhook,
    "/v1/webhooks/{webhook_id}/rotate-secret": _webhook,
    "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}": _webhook_delivery,
    "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver": _webhook_delivery,
    **CONTENT_TEMPLATE_FACTORIES,
    # media library
    "/v1/media/{media_id}": _media_asset,
    "/v1/media/{media_id}/download": _media_asset,
    "/v1/media/{media_id}/download-link": _media_asset,
}


# --- content: campaigns -----------------------------------------------------------------------


def _campaign(urls: DatabaseURLs, owner: Member) -> Resource:
    (campaign,) = _sql(
        urls,
        "INSERT INTO campaigns (account_id, name, status) VALUES (%s, 'Spring', 'active') "
        "RETURNING id",
        owner.account_id,
    )
    return Resource({"campaign_id": str(campaign)}, "campaigns",
                    "account_id = %s AND id = %s", (owner.account_id, campaign))  # fmt: skip


FACTORIES |= {
    "/v1/campaigns/{campaign_id}": _campaign,
    "/v1/campaigns/{campaign_id}/summary": _campaign,
    # --- leads ---
    "/v1/leads/{lead_id}": _lead,
    "/v1/leads/{lead_id}/history": _lead,
    "/v1/leads/{lead_id}/score": _lead,
}


# --- posts (h-posts) ----------------------------------------------------------------------


def _post(urls: DatabaseURLs, owner: Member) -> Resource:
    """A's draft post with its first content version."""
    (post,) = _sql(
        urls,
        "WITH post AS (INSERT INTO scheduled_posts (account_id, user_id, content) "
        "VALUES (%s, %s, 'Ciao') RETURNING account_id, id) "
        "INSERT INTO content_versions (account_id, content_type, content_id, version_number, "
        "content_snapshot) SELECT account_id, 'post', id::text, 1, "
        """'{"content": "Ciao", "hashtags": [], "campaign_id": null}' FROM post """
        "RETURNING content_id::integer",
        owner.account_id, owner.user_id,
    )  # fmt: skip
    return Resource({"post_id": str(post), "version_number": "1"}, "scheduled_posts",
                    "account_id = %s AND id = %s", (owner.account_id, post))  # fmt: skip


FACTORIES |= {
    "/v1/posts/{post_id}": _post,
    "/v1/posts/{post_id}/media": _post,
    "/v1/posts/{post_id}/schedule": _post,
    "/v1/posts/{post_id}/cancel": _post,
    "/v1/posts/{post_id}/versions": _post,
    "/v1/posts/{post_id}/versions/{version_number}": _post,
    "/v1/posts/{post_id}/versions/{version_number}/restore": _post,
    "/v1/posts/{post_id}/diff": _post,
}


def _openapi() -> dict[str, Any]:
    return make_app(DatabaseURLs.derive("postgresql://nobody@127.0.0.1:1/none")).openapi()


SPEC = _openapi()
ROUTES = sorted(
    (path, method)
    for path, operations in SPEC["paths"].items()
    if "{" in path and not path.startswith(CROSS_ACCOUNT_BY_DESIGN)
    for method in operations
)


def _example(schema: dict[str, Any]) -> Any:
    """A value that passes the request schema, so the answer is about the resource."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _example(SPEC["components"]["schemas"][name])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return _example(schema[key][0])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        required = schema.get("required", [])
        return {k: _example(v) for k, v in schema.get("properties", {}).items() if k in required}
    if kind == "array":
        return [_example(schema.get("items", {}))]
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if schema.get("format") == "email":
        return "someone@example.com"
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("format") == "date-time":
        return "2100-01-01T00:00:00Z"
    return "x" * max(1, int(schema.get("minLength", 1)))


def _body(path: str, method: str) -> Any:
    content = SPEC["paths"][path][method].get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return None if schema is None else _example(schema)


def test_every_route_with_a_path_id_has_a_factory() -> None:
    missing = sorted({path for path, _ in ROUTES} - set(FACTORIES))
    assert missing == [], f"add a factory to FACTORIES for {missing}"
    assert ROUTES, "the API has routes with path ids"


@pytest.mark.parametrize(("path", "method"), ROUTES)
async def test_another_accounts_resource_is_not_found(
    client: httpx.AsyncClient, db: DatabaseURLs, path: str, method: str
) -> None:
    owner_a = new_member(db, new_account(db), "owner")
    account_b = new_account(db)
    callers = {
        "member of B": new_member(db, account_b, "owner").headers,
        "API key of B": new_key(db, account_b, sorted(ALL_PERMISSIONS)).headers,
        "anonymous": {},
    }
    resource = FACTORIES[path](db, owner_a)
    row = f"SELECT to_jsonb(t) FROM {resource.table} t WHERE {resource.where}"
    before = _sql(db, row, *resource.args)
    assert before is not None

    url = path.format(**resource.params)
    body = _body(path, method)
    for caller, headers in callers.items():
        response = await client.request(method.upper(), url, headers=headers, json=body)
        expected = 401 if caller == "anonymous" else 404
        assert response.status_code == expected, (caller, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert str(owner_a.account_id) not in response.text
    assert _sql(db, row, *resource.args) == before


# --- calendar, posting queue, recurring posts (h-calendar) ---------------------------------


def _editorial_calendar(urls: DatabaseURLs, owner: Member) -> Resource:
    (calendar,) = _sql(
        urls,
        "INSERT INTO editorial_calendars (account_id, user_id, name, entries) VALUES (%s, %s,"
        """ 'Themes', '[{"date": "2026-05-01", "kind": "holiday", "title": "May Day"}]')"""
        " RETURNING id",
        owner.account_id, owner.user_id,
    )  # fmt: skip
    return Resource({"calendar_id": str(calendar)}, "editorial_calendars",
                    "account_id = %s AND id = %s", (owner.account_id, calendar))  # fmt: skip


def _posting_queue(urls: DatabaseURLs, owner: Member) -> Resource:
    """A's social account with a queue of one slot (the row checked is the queue)."""
    social = _social_account(urls, owner).params["social_account_id"]
    (queue,) = _sql(
        urls,
        "WITH q AS (INSERT INTO posting_queues (account_id, social_account_id, timezone)"
        " VALUES (%s, %s, 'Europe/Rome') RETURNING account_id, id)"
        " INSERT INTO posting_slots (account_id, queue_id, weekday, local_time)"
        " SELECT account_id, id, 1, '09:00' FROM q RETURNING queue_id",
        owner.account_id, social,
    )  # fmt: skip
    return Resource({"social_account_id": social}, "posting_queues",
                    "account_id = %s AND id = %s", (owner.account_id, queue))  # fmt: skip


def _post_series(urls: DatabaseURLs, owner: Member) -> Resource:
    social = _social_account(urls, owner).params["social_account_id"]
    (series,) = _sql(
        urls,
        "INSERT INTO post_series (account_id, content, social_account_ids, timezone, starts_on,"
        " local_time, frequency, occurrences) VALUES (%s, 'Tip', ARRAY[%s]::uuid[], 'UTC',"
        " '2100-01-04', '09:00', 'weekly', 3) RETURNING id",
        owner.account_id, social,
    )  # fmt: skip
    return Resource({"series_id": str(series)}, "post_series", "account_id = %s AND id = %s",
                    (owner.account_id, series))  # fmt: skip


FACTORIES |= {
    "/v1/editorial-calendars/{calendar_id}": _editorial_calendar,
    "/v1/posting-queues/{social_account_id}": _posting_queue,
    "/v1/posting-queues/{social_account_id}/upcoming": _posting_queue,
    "/v1/post-series/{series_id}": _post_series,
    "/v1/posts/{post_id}/queue": _post,
}
