"""The content context's refusals, each with its HTTP status and stable code."""

from __future__ import annotations

# --- posts (h-posts) ----------------------------------------------------------------------
from markettina.kernel.errors import Conflict, NotFound


class PostNotFound(NotFound):
    code = "post_not_found"

    def __init__(self) -> None:
        super().__init__("no such post")


class PostVersionConflict(Conflict):
    """The post changed since the caller read it (optimistic locking)."""

    code = "version_conflict"

    def __init__(self, current: int) -> None:
        super().__init__(
            f"the post changed since you read it (now at version {current}); "
            "read it again and retry"
        )
        self.extensions = {"current_version": current}


class IllegalPostTransition(Conflict):
    """A post's status cannot go from where it is to where it was asked to go."""

    code = "illegal_transition"

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a {current} post cannot become {wanted}")
        self.extensions = {"post_status": current, "requested_status": wanted}


class PostAwaitingApproval(Conflict):
    """The account requires approval for posts and this one has none yet."""

    code = "approval_pending"

    def __init__(self) -> None:
        super().__init__(
            "this post is waiting for approval: it can be scheduled once it is approved"
        )


class PostVersionNotFound(NotFound):
    code = "post_version_not_found"

    def __init__(self, number: int) -> None:
        super().__init__(f"this post has no version {number}")


class PostNotEditable(Conflict):
    """The post is being published, was published or was cancelled: its content is final."""

    code = "post_not_editable"

    def __init__(self, status: str) -> None:
        super().__init__(f"a {status} post cannot be edited")
        self.extensions = {"post_status": status}


# --- calendar, posting queue, recurring posts, import (h-calendar) --------------------------
from markettina.kernel.errors import FieldError, ValidationFailed  # noqa: E402


class CalendarNotFound(NotFound):
    code = "editorial_calendar_not_found"


class SocialAccountNotFound(NotFound):
    code = "social_account_not_found"


class QueueNotFound(NotFound):
    code = "posting_queue_not_found"


class SeriesNotFound(NotFound):
    code = "post_series_not_found"


class VersionConflict(Conflict):
    """The resource changed since the caller read it (optimistic locking)."""

    code = "version_conflict"

    def __init__(self, what: str, current: int | None) -> None:
        now = "it is gone" if current is None else f"now at version {current}"
        super().__init__(f"the {what} changed since you read it ({now}); read it again and retry")
        self.extensions = {"current_version": current}


class VersionRequired(ValidationFailed):
    code = "version_required"

    def __init__(self) -> None:
        super().__init__(
            "send the version you read, as If-Match or in the body",
            errors=[FieldError("body.version", "required (or If-Match)", "missing")],
        )


class QueueNotConfigured(Conflict):
    """A target social account has no posting slots to queue into."""

    code = "queue_not_configured"

    def __init__(self, social_account_ids: list[str]) -> None:
        super().__init__(
            "no posting slots are configured for social account(s) " + ", ".join(social_account_ids)
        )
        self.extensions = {"social_account_ids": social_account_ids}


class QueueFull(Conflict):
    """Every slot within the horizon is taken: the answer says when the next slot is."""

    code = "queue_full"

    def __init__(self, *, horizon_days: int, next_slot_at: str | None) -> None:
        super().__init__(
            f"every common posting slot of the next {horizon_days} days is taken"
            + (f"; the next slot after that is {next_slot_at}" if next_slot_at else "")
        )
        self.extensions = {"horizon_days": horizon_days, "next_slot_at": next_slot_at}


class RangeTooLong(ValidationFailed):
    code = "range_too_long"

    def __init__(self, max_days: int) -> None:
        super().__init__(
            f"a calendar covers at most {max_days} days",
            errors=[
                FieldError("query.to", f"at most {max_days} days after from", "range_too_long")
            ],
        )


class BadRange(ValidationFailed):
    code = "invalid_range"

    def __init__(self) -> None:
        super().__init__(
            "to must not be before from",
            errors=[FieldError("query.to", "before from", "invalid_range")],
        )
