"""The content context's refusals, each with its HTTP status and stable code."""

from __future__ import annotations

# --- campaigns ------------------------------------------------------------------------------
from markettina.kernel.errors import Conflict, NotFound


class CampaignNotFound(NotFound):
    code = "campaign_not_found"

    def __init__(self) -> None:
        super().__init__("no such campaign in this account")


class IllegalCampaignTransition(Conflict):
    """409: the status machine has no arrow from the current status to the one asked for;
    the problem document names both."""

    code = "illegal_status_transition"

    def __init__(self, current: str, requested: str) -> None:
        super().__init__(f"a campaign cannot go from {current} to {requested}")
        self.extensions = {"from": current, "to": requested}


class CampaignVersionConflict(Conflict):
    code = "version_conflict"

    def __init__(self, current: int) -> None:
        super().__init__(
            f"the campaign changed since you read it (now at version {current}); "
            "read it again and retry"
        )
        self.extensions = {"current_version": current}
