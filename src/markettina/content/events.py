"""The events the content context publishes."""

from __future__ import annotations

# --- leads (lead.created is the change-capture event of the leads table) ---------------------
from typing import ClassVar as _ClassVar

from markettina.kernel.events import Event as _Event


class _LeadEvent(_Event):
    aggregate_type: _ClassVar[str] = "lead"

    lead_id: int


class LeadStatusChanged(_LeadEvent):
    """A lead moved along the pipeline (through the API or a CSV import)."""

    event_type: _ClassVar[str] = "lead.status_changed"

    from_status: str
    to_status: str
    changed_by: int | None


class LeadScoreChanged(_LeadEvent):
    """A lead's score changed (the lead changed, it engaged, or the weights changed)."""

    event_type: _ClassVar[str] = "lead.score_changed"

    from_score: int
    to_score: int


class LeadConverted(_LeadEvent):
    """A lead was won (its status became WON)."""

    event_type: _ClassVar[str] = "lead.converted"

    changed_by: int | None
