"""The content context's refusals, each with its HTTP status and stable code."""

from __future__ import annotations

# --- leads -------------------------------------------------------------------------------
from markettina.kernel.errors import Conflict as _Conflict
from markettina.kernel.errors import NotFound as _NotFound


class LeadNotFound(_NotFound):
    code = "lead_not_found"

    def __init__(self) -> None:
        super().__init__("no such lead")


class LeadVersionConflict(_Conflict):
    code = "version_conflict"

    def __init__(self, current: int) -> None:
        super().__init__(
            f"the lead changed since you read it (now at version {current}); "
            "read it again and retry"
        )


class IllegalLeadTransition(_Conflict):
    """A status change the pipeline does not allow (docs/api.md lists the allowed ones)."""

    code = "illegal_transition"

    def __init__(self, from_status: str, to_status: str, allowed: tuple[str, ...]) -> None:
        then = ", ".join(allowed) if allowed else "nothing (it is final)"
        super().__init__(
            f"a lead cannot move from {from_status} to {to_status}; from {from_status} "
            f"it can move to {then}"
        )
        self.extensions = {"from_status": from_status, "to_status": to_status}


class LeadScoringWeightsConflict(_Conflict):
    code = "version_conflict"

    def __init__(self, current: int) -> None:
        super().__init__(
            f"the scoring weights changed since you read them (now at version {current}); "
            "read them again and retry"
        )
