"""The events the content context publishes."""

from __future__ import annotations

# --- leads (lead.created is the change-capture event of the leads table) ---------------------
from typing import ClassVar as _ClassVar

from pydantic import Field as _Field

from markettina.kernel.events import Event as _Event


class _LeadEvent(_Event):
    aggregate_type: _ClassVar[str] = "lead"

    lead_id: int = _Field(description="The lead's id.")


class LeadStatusChanged(_LeadEvent):
    """A lead moved along the pipeline (through the API or a CSV import)."""

    event_type: _ClassVar[str] = "lead.status_changed"

    from_status: str = _Field(description="The status it left.")
    to_status: str = _Field(description="The status it reached.")
    changed_by: int | None = _Field(
        description="The user who changed it (an import's: its uploader)."
    )


class LeadScoreChanged(_LeadEvent):
    """A lead's score changed (the lead changed, it engaged, or the weights changed)."""

    event_type: _ClassVar[str] = "lead.score_changed"

    from_score: int = _Field(description="The score before, 0-100.")
    to_score: int = _Field(description="The score now, 0-100.")


class LeadConverted(_LeadEvent):
    """A lead was won (its status became WON)."""

    event_type: _ClassVar[str] = "lead.converted"

    changed_by: int | None = _Field(description="The user who marked it won.")
