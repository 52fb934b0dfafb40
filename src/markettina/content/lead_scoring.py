"""Lead scoring: a documented rule set that turns what we know of a lead into 0-100, with
each rule's contribution kept beside the number (``score_breakdown``) so it explains itself.

Each rule gives a fraction between 0 and 1; an account weighs the rules (``weights``, 0-100
each, defaults below). The score is ``round(100 * sum(weight * fraction) / sum(weights))``
and each rule's ``points`` are its share of it. The rules (docs/api.md, "Lead scoring"):

- ``source``: how well the channel converts, by a word of the source (referral or partner
  1, website, web, form or organic 0.8, event or webinar 0.7, social networks, email or
  newsletter 0.6, ads or paid 0.5, any other source 0.3, none 0).
- ``email_engagement``: opens count 1, clicks 3, out of 10 (the counters the e-mail
  open and click event handlers keep).
- ``form_submissions``: one submitted form is 0.5, two or more 1 (kept by the
  form.submitted handler).
- ``post_engagement``: 0 for every lead, and weighted 0 by default: nothing yet links a
  lead to the engagement with our social posts. Its reason says so.
- ``recency``: 1 when the lead's last engagement (or its creation) is at most 7 days old,
  falling linearly to 0 at 90 days, as of ``scored_at``.
- ``completeness``: the share of e-mail, phone, company, source and UTM source known.
- ``status``: NEW 0.1, CONTACTED 0.3, QUALIFIED 0.6, PROPOSAL_SENT 0.8, NEGOTIATION 0.9,
  WON 1, LOST 0.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import LeadScoringWeightsConflict
from .models import LeadScoringWeights

RULES = (
    "source",
    "email_engagement",
    "form_submissions",
    "post_engagement",
    "recency",
    "completeness",
    "status",
)
DEFAULT_WEIGHTS: dict[str, int] = {
    "source": 20,
    "email_engagement": 20,
    "form_submissions": 10,
    "post_engagement": 0,
    "recency": 15,
    "completeness": 15,
    "status": 20,
}

# the first group with a word of the source (lower-cased) decides its fraction
_SOURCES: tuple[tuple[tuple[str, ...], float], ...] = (
    (("referral", "referred", "partner"), 1.0),
    (("website", "web", "form", "landing", "organic", "seo"), 0.8),
    (("event", "webinar", "fair", "meetup"), 0.7),
    (
        ("social", "facebook", "instagram", "linkedin", "twitter", "tiktok", "email", "newsletter"),
        0.6,
    ),
    (("ads", "adwords", "paid", "ppc", "cpc"), 0.5),
)
_OTHER_SOURCE = 0.3
_STATUS = {
    "NEW": 0.1,
    "CONTACTED": 0.3,
    "QUALIFIED": 0.6,
    "PROPOSAL_SENT": 0.8,
    "NEGOTIATION": 0.9,
    "WON": 1.0,
    "LOST": 0.0,
}
FRESH_DAYS = 7
STALE_DAYS = 90
ENGAGEMENT_TARGET = 10  # open = 1, click = 3


@dataclass(frozen=True)
class LeadFacts:
    """What the rules read of a lead."""

    status: str
    source: str | None
    email: str | None
    phone: str | None
    company: str | None
    utm_source: str | None
    email_opens: int
    email_clicks: int
    form_submissions: int
    last_engaged_at: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def of(cls, lead: Any = None, **overrides: Any) -> LeadFacts:
        """The facts of ``lead`` (any object with the attributes), ``overrides`` winning."""
        values: dict[str, Any] = {
            name: overrides[name] if name in overrides else getattr(lead, name)
            for name in cls.__dataclass_fields__
        }
        return cls(**values)


async def transaction_now(session: AsyncSession) -> dt.datetime:
    """The transaction's time, as PostgreSQL's now() gives it to created_at."""
    now = await session.scalar(select(func.now()))
    assert isinstance(now, dt.datetime)
    return now


@dataclass(frozen=True)
class Scored:
    score: int
    breakdown: dict[str, Any]


def _source(facts: LeadFacts) -> tuple[float, str]:
    if not facts.source:
        return 0.0, "no source known"
    words = set(re.findall(r"[a-z0-9]+", facts.source.lower()))
    for keywords, fraction in _SOURCES:
        if words.intersection(keywords):
            return fraction, f"source {facts.source!r}"
    return _OTHER_SOURCE, f"source {facts.source!r} (another source)"


def _email_engagement(facts: LeadFacts) -> tuple[float, str]:
    points = facts.email_opens + 3 * facts.email_clicks
    return (
        min(1.0, points / ENGAGEMENT_TARGET),
        f"{facts.email_opens} e-mail opens, {facts.email_clicks} clicks",
    )


def _form_submissions(facts: LeadFacts) -> tuple[float, str]:
    return min(1.0, facts.form_submissions / 2), f"{facts.form_submissions} forms submitted"


def _post_engagement(facts: LeadFacts) -> tuple[float, str]:
    return 0.0, "no data links a lead to engagement with our posts yet: contributes 0"


def _recency(facts: LeadFacts, now: dt.datetime) -> tuple[float, str]:
    last = facts.last_engaged_at or facts.created_at
    days = max(0.0, (now - last).total_seconds() / 86400)
    what = "last engagement" if facts.last_engaged_at else "created"
    if days <= FRESH_DAYS:
        fraction = 1.0
    else:
        fraction = max(0.0, 1 - (days - FRESH_DAYS) / (STALE_DAYS - FRESH_DAYS))
    return fraction, f"{what} {int(days)} days ago"


def _completeness(facts: LeadFacts) -> tuple[float, str]:
    known = {
        "email": facts.email,
        "phone": facts.phone,
        "company": facts.company,
        "source": facts.source,
        "utm_source": facts.utm_source,
    }
    present = [name for name, value in known.items() if value]
    return len(present) / len(known), f"{len(present)} of {len(known)} profile fields known"


def _status(facts: LeadFacts) -> tuple[float, str]:
    return _STATUS[facts.status], f"status {facts.status}"


def score_lead(facts: LeadFacts, weights: dict[str, int], now: dt.datetime) -> Scored:
    """The score and its breakdown: each rule's weight, fraction, points and reason."""
    fractions = {
        "source": _source(facts),
        "email_engagement": _email_engagement(facts),
        "form_submissions": _form_submissions(facts),
        "post_engagement": _post_engagement(facts),
        "recency": _recency(facts, now),
        "completeness": _completeness(facts),
        "status": _status(facts),
    }
    total_weight = sum(weights[rule] for rule in RULES)
    rules: dict[str, Any] = {}
    raw = 0.0
    for rule in RULES:
        fraction, reason = fractions[rule]
        points = 100 * weights[rule] * fraction / total_weight if total_weight else 0.0
        raw += points
        rules[rule] = {
            "weight": weights[rule],
            "fraction": round(fraction, 4),
            "points": round(points, 2),
            "reason": reason,
        }
    score = max(0, min(100, round(raw)))
    return Scored(score, {"rules": rules, "total_weight": total_weight})


# --- per-account weights ---------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    weights: dict[str, int]
    version: int  # 0: the defaults, never changed
    updated_at: dt.datetime | None


async def account_weights(session: AsyncSession, *, account_id: uuid.UUID) -> Weights:
    row = await session.scalar(
        select(LeadScoringWeights).where(LeadScoringWeights.account_id == account_id)
    )
    if row is None:
        return Weights(dict(DEFAULT_WEIGHTS), 0, None)
    return Weights({**DEFAULT_WEIGHTS, **row.weights}, row.version, row.updated_at)


async def set_weights(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    weights: dict[str, int],
    expected_version: int | None,
    updated_by: int | None,
) -> Weights:
    """Replace the account's weights (at ``expected_version`` when given; 0 names the
    defaults). The caller rescores the account's leads."""
    current = await account_weights(session, account_id=account_id)
    if expected_version is not None and expected_version != current.version:
        raise LeadScoringWeightsConflict(current.version)
    statement = (
        insert(LeadScoringWeights)
        .values(account_id=account_id, weights=weights, updated_by=updated_by)
        .on_conflict_do_update(
            index_elements=[LeadScoringWeights.account_id],
            set_={"weights": weights, "updated_by": updated_by},
            where=(
                LeadScoringWeights.version == expected_version
                if expected_version is not None
                else None
            ),
        )
        .returning(LeadScoringWeights.version, LeadScoringWeights.updated_at)
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:  # changed between our read and our write
        latest = await account_weights(session, account_id=account_id)
        raise LeadScoringWeightsConflict(latest.version)
    return Weights(dict(weights), row.version, row.updated_at)
