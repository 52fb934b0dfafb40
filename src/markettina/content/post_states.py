"""A post's life: draft -> pending_approval -> scheduled -> publishing -> published or
failed; cancelled from any state before publishing. Every change of status goes through
``check_transition``, so an illegal one is a 409 naming both states."""

from __future__ import annotations

from typing import Final

from .errors import IllegalPostTransition

STATUSES: Final = (
    "draft", "pending_approval", "scheduled", "publishing", "published", "failed", "cancelled",
)  # fmt: skip

# where each status may go (scheduled -> scheduled is a reschedule; scheduled ->
# pending_approval is an edit that needs approving again; failed may be scheduled again)
TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "draft": frozenset({"pending_approval", "scheduled", "cancelled"}),
    "pending_approval": frozenset({"pending_approval", "scheduled", "cancelled"}),
    "scheduled": frozenset({"scheduled", "pending_approval", "publishing", "cancelled"}),
    "publishing": frozenset({"published", "failed"}),
    "published": frozenset(),
    "failed": frozenset({"pending_approval", "scheduled", "cancelled"}),
    "cancelled": frozenset(),
}

# a post's content may change until the publisher takes it
EDITABLE: Final = frozenset({"draft", "pending_approval", "scheduled", "failed"})


def check_transition(current: str, wanted: str) -> None:
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise IllegalPostTransition(current, wanted)
