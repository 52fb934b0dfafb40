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
