"""The published OpenAPI document is what the server does: schemathesis over every
operation of ``/openapi.json``, against ``markettina serve``, as a signed-in person (the
anonymous operations too), an API key with every scope and a staff member, each over the
operations whose security scheme is theirs. No answer is a 5xx; every answer's status,
content type, headers and body are the documented ones; a method a path does not serve
is a 405 naming the ones it does; input the document allows is accepted, input it
refuses is refused.

A route added to any router is in the document, so it is fuzzed here without this file
changing. Bounded for CI: a fixed seed, derandomized, a few examples per operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.contract import Finding, Tally, fuzz, make_callers, served

pytestmark = pytest.mark.e2e  # drives `markettina serve` over HTTP; part of the normal suite

SEED = 20261202
EXAMPLES_PER_OPERATION = 5

SETTINGS: dict[str, Any] = {
    "seed": SEED,
    "workers": 1,
    "continue-on-failure": True,
    "cache": {"enabled": False},  # nothing written into the checkout
    "generation": {
        "max-examples": EXAMPLES_PER_OPERATION,
        "deterministic": True,
        "database": "none",  # no example database either
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
        "response_headers_conformance": {"enabled": True},
        "negative_data_rejection": {"enabled": True},
        "positive_data_acceptance": {"enabled": True},
        "missing_required_header": {"enabled": True},
        "unsupported_method": {"enabled": True},
        "allow_header_conformance": {"enabled": True},
    },
}


# the key fuzzes the person's operations again: the boundary cases (coverage phase) once is
# enough, it keeps the generated ones
SETTINGS_BY_CALLER = {
    "api_key": {**SETTINGS, "phases": {**SETTINGS["phases"], "coverage": {"enabled": False}}}
}


@dataclass(frozen=True)
class Allowed:
    """A finding explained: by check, and by the answer's problem code, a field it names
    or the operation, when given."""

    check: str
    reason: str
    problem: str | None = None
    field: str | None = None
    operation: str | None = None

    def explains(self, finding: Finding) -> bool:
        return (
            finding.check == self.check
            and self.problem in (None, finding.problem)
            and (self.field is None or any(_within(f, self.field) for f in finding.fields))
            and self.operation in (None, finding.operation)
        )


def _within(field: str, named: str) -> bool:
    return field == named or field.startswith(named + ".")


# Business rules JSON Schema cannot express: a schema-valid request the server refuses on
# purpose, or a route template that also matches a literal sibling path.
ALLOWED: list[Allowed] = [
    *(
        Allowed(
            "positive_data_acceptance",
            "free-form jsonb: a NUL or lone surrogate anywhere in it, keys included, is refused "
            "on purpose (PostgreSQL cannot store it); JSON Schema cannot forbid a character in "
            "the keys a generator invents",
            field=field,
            operation=operation,
        )
        for operation, field in (
            ("PUT /v1/staff/feature-flags/{name}", "body.config"),
            ("PUT /v1/staff/accounts/{account_id}/feature-flags/{name}", "body.config"),
            ("PATCH /v1/account", "body.settings"),
        )
    ),
    Allowed(
        "positive_data_acceptance",
        "the generator sends the same Idempotency-Key with different requests; a key reused "
        "for another request is refused (docs/api.md, Idempotency)",
        problem="idempotency_key_reused",
    ),
    Allowed(
        "positive_data_acceptance",
        "a permission is granted to a member of the account only; which user ids those are, "
        "the document cannot say (the generated id may or may not be one)",
        problem="not_a_member",
    ),
    Allowed(
        "positive_data_acceptance",
        "a cursor is opaque: only one this API issued is accepted",
        field="query.cursor",
    ),
    Allowed(
        "positive_data_acceptance",
        "a time window must end after it starts (`until` after `since`)",
        field="query.until",
    ),
    Allowed(
        "positive_data_acceptance",
        "e-mailed tokens (verification, password reset) are secrets the server issued",
        problem="invalid_link",
    ),
    Allowed(
        "positive_data_acceptance",
        "only the platforms configured at deployment can be connected",
        problem="unknown_platform",
    ),
    Allowed(
        "positive_data_acceptance",
        "Stripe's webhook is refused unless signed with the endpoint's secret",
        problem="invalid_signature",
    ),
    Allowed(
        "positive_data_acceptance",
        "a new service price takes effect in the future (from tomorrow)",
        field="body.effective_from",
    ),
    Allowed(
        "positive_data_acceptance",
        "an expiry (of an API key, of a grant) must lie in the future",
        field="body.expires_at",
    ),
    Allowed(
        "positive_data_acceptance",
        "the OAuth `state` must be one `POST /v1/social-accounts/connect` issued",
        problem="oauth_state_invalid",
    ),
    Allowed(
        "positive_data_acceptance",
        "every webhook event pattern must match an event type of docs/events.md",
        field="body.events",
    ),
    Allowed(
        "positive_data_acceptance",
        "a change sends the version it read, as If-Match or as body.version: one of two "
        "places, which JSON Schema cannot require across header and body",
        field="body.version",
    ),
    Allowed(
        "positive_data_acceptance",
        "a promo code's window must end after it starts, and a percent discount is at most 100",
        operation="POST /v1/staff/billing/promo-codes",
        field="body",
    ),
    *(
        Allowed(
            "positive_data_acceptance",
            "a promo code's changed window must still end after it starts (the other end is "
            "the stored one)",
            operation="PATCH /v1/staff/billing/promo-codes/{promo_code_id}",
            field=field,
        )
        for field in ("body.valid_from", "body.valid_to")
    ),
    *(
        Allowed(
            check,
            "a DELETE here matches the sibling route `.../{id}` (the literal segment is taken "
            "as an id): the server answers that route, and `Allow` names its method too",
            operation=operation,
        )
        for operation in (
            "POST /v1/me/sessions/end-others",
            "POST /v1/social-accounts/callback",
            "POST /v1/social-accounts/connect",
        )
        for check in ("unsupported_method", "allow_header_conformance")
    ),
    # --- media library ---
    *(
        Allowed(
            check,
            "another method here matches the sibling route `/v1/media/{media_id}` (the literal "
            "segment is taken as an id): the server answers that route, and `Allow` names its "
            "methods too",
            operation="GET /v1/media/storage",
        )
        for check in ("unsupported_method", "allow_header_conformance")
    ),
    Allowed(
        "negative_data_rejection",
        "multipart fields are text: a value of another JSON type (a number for alt_text, one "
        "string for the tags list) arrives as the same bytes as a valid one, so it is taken",
        operation="POST /v1/media",
    ),
    # --- content templates and A/B variants (h-templates) ---
    *(
        Allowed(
            check,
            "a method this literal path lacks matches the sibling route `.../{id}` (the "
            "literal segment is taken as an id): the server answers that route, and `Allow` "
            "names its methods too",
            operation=operation,
        )
        for operation in (
            "GET /v1/templates/public",
            "GET /v1/variants/analysis",
            "PUT /v1/variants/split",
        )
        for check in ("unsupported_method", "allow_header_conformance")
    ),
    Allowed(
        "positive_data_acceptance",
        "a template's text must parse in the sandbox, use none of its forbidden tags or "
        "names, and read only the variables it declares",
        field="body.template_content",
    ),
    Allowed(
        "positive_data_acceptance",
        "a variable's default must have its declared type (only an optional one has one) and "
        "a name is declared once; the values rendered must match the template's declarations "
        "(each required one, of its type, none undeclared)",
        field="body.variables",
    ),
    Allowed(
        "positive_data_acceptance",
        "a traffic split lists variants of its parent once each, summing to 100",
        field="body.split",
    ),
    Allowed(
        "positive_data_acceptance",
        "a count records at least one impression, click or conversion",
        field="body.impressions",
    ),
    # --- leads ---
    Allowed(
        "positive_data_acceptance",
        "a CSV file of leads needs a header with a name or an e-mail column, at most 100,000 "
        "rows, and a mapping that names its columns: JSON Schema sees only a string",
        operation="POST /v1/lead-imports",
        field="body.csv",
    ),
    Allowed(
        "positive_data_acceptance",
        "the scoring weights may not all be 0 (the score divides by their sum)",
        operation="PUT /v1/lead-scoring/weights",
        field="body",
    ),
    *(
        Allowed(
            "positive_data_acceptance",
            "an e-mail address at a special-use domain (.test, .invalid, .localhost, ...) can "
            "reach nobody and is refused (kernel.web.inputs.Email); JSON Schema's `email` "
            "format accepts it",
            operation=operation,
            field="body.email",
        )
        for operation in ("POST /v1/leads", "PATCH /v1/leads/{lead_id}")
    ),
    Allowed(
        "positive_data_acceptance",
        "a score range must not start above its end (`score_min` <= `score_max`)",
        operation="GET /v1/leads",
        field="query.score_min",
    ),
]

# --- calendar, posting queue, recurring posts, import (h-calendar) --------------------------
ALLOWED += [
    *(
        Allowed(
            "positive_data_acceptance",
            "a time zone is a name of the IANA tz database (Europe/Rome), a list the document "
            "does not repeat",
            operation=operation,
            field=field,
        )
        for operation, field in (
            ("GET /v1/calendar", "query.tz"),
            ("PUT /v1/posting-queues/{social_account_id}", "body.timezone"),
            ("POST /v1/post-series", "body.timezone"),
        )
    ),
    Allowed(
        "positive_data_acceptance",
        "a calendar's range ends on or after its first day, at most 366 days later",
        operation="GET /v1/calendar",
        field="query.to",
    ),
    *(
        Allowed(
            "positive_data_acceptance",
            "a series ends by a day or after a count (one of the two), has 1 to 366 "
            "occurrences, the first in the future, weekdays only when weekly",
            operation="POST /v1/post-series",
            field=field,
        )
        for field in ("body.occurrences", "body.until", "body.starts_on", "body.weekdays")
    ),
    *(
        Allowed(
            "positive_data_acceptance",
            "posts go to the account's own connected social accounts (a post to queue without "
            "targets names them)",
            operation=operation,
            field="body.social_account_ids",
        )
        for operation in ("POST /v1/post-series", "POST /v1/posts/{post_id}/queue")
    ),
    Allowed(
        "positive_data_acceptance",
        "a hashtag is a word (letters, digits, underscore), with or without `#`",
        operation="POST /v1/post-series",
        field="body.hashtags",
    ),
    *(
        Allowed(
            "positive_data_acceptance",
            "an import file is CSV or JSON (said by `format` or the file's name or type) with "
            "the documented columns, at most 1,000 rows",
            operation="POST /v1/post-imports",
            field=field,
        )
        for field in ("query.format", "body.file")
    ),
    Allowed(
        "positive_data_acceptance",
        "`all_or_nothing` refuses a file with a refused row (the rows are the file's content)",
        operation="POST /v1/post-imports",
        problem="import_refused",
    ),
    *(
        Allowed(
            "positive_data_acceptance",
            "a span (a calendar's, an entry's) ends on or after the day it starts",
            operation=operation,
            field=field,
        )
        for operation in (
            "POST /v1/editorial-calendars",
            "PATCH /v1/editorial-calendars/{calendar_id}",
        )
        for field in ("body.end_date", "body.entries")
    ),
    *(
        Allowed(
            "positive_data_acceptance",
            "a campaign must be one of the account's; a hashtag is a word",
            operation="PATCH /v1/post-series/{series_id}",
            field=field,
        )
        for field in ("body.campaign_id", "body.hashtags")
    ),
    Allowed(
        "positive_data_acceptance",
        "a campaign must be one of the account's",
        operation="POST /v1/post-series",
        field="body.campaign_id",
    ),
    # --- posts ---
    *(
        Allowed(
            "positive_data_acceptance",
            "a post's content is more than white space, a hashtag is one word (letters, digits, "
            "underscore: any script's), a campaign is one of the account's",
            operation=operation,
            field=field,
        )
        for operation in ("POST /v1/posts", "PATCH /v1/posts/{post_id}")
        for field in ("body.content", "body.hashtags", "body.campaign_id")
    ),
    *(
        Allowed(
            "positive_data_acceptance",
            "a post is scheduled in the future, in a zone of the IANA database, on connected "
            "social accounts of the account",
            operation="POST /v1/posts/{post_id}/schedule",
            field=field,
        )
        for field in ("body.scheduled_at", "body.timezone", "body.social_account_ids")
    ),
]


def _explained(finding: Finding) -> bool:
    return any(rule.explains(finding) for rule in ALLOWED)


def test_every_operation_answers_as_documented(db: DatabaseURLs, tmp_path: Path) -> None:
    tally = Tally()
    with served(db, tmp_path) as base_url:
        document = httpx.get(f"{base_url}/openapi.json").json()
        groups = {path.split("/")[2] for path in document["paths"] if path.startswith("/v1/")}
        for caller in make_callers(db, groups):
            fuzz(base_url, caller, SETTINGS_BY_CALLER.get(caller.name, SETTINGS), tally)
    documented = {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    }
    print(
        f"\nschemathesis: {len(tally.operations)} operations, {tally.cases} cases, "
        f"{tally.server_errors} 5xx, {len(tally.findings)} non-conformances "
        f"({sum(not _explained(f) for f in tally.findings)} unexplained); "
        f"cases by phase: {dict(tally.cases_by_phase)}"
    )
    for operation in sorted(tally.server_error_operations):
        print(f"  5xx: {operation}")
    for finding in tally.findings:
        print(("  allowed " if _explained(finding) else "  ") + str(finding))
        if not _explained(finding):
            print("      " + finding.request.replace("\n", " ")[:400])
    assert tally.operations == documented, "every documented operation is fuzzed"
    assert not tally.errors, tally.errors
    unexplained = [str(f) for f in tally.findings if not _explained(f)]
    assert not unexplained, "\n".join(unexplained)
