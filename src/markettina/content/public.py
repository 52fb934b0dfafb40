"""What other contexts may use from content. Every function runs in the caller's
transaction, as the acting tenant, and never commits."""

from __future__ import annotations

# --- posts (h-posts) ----------------------------------------------------------------------
# (``x as x``: an explicit re-export, which the linters keep)
from .approval_gate import ApprovalGate as ApprovalGate
from .approval_gate import NoApprovalRequired as NoApprovalRequired
from .approval_gate import bind_approval_gate as bind_approval_gate
from .post_drafts import create_post as create_post
from .post_drafts import edit_post as edit_post
from .post_drafts import get_post as get_post
from .post_publishing import DuePost as DuePost
from .post_publishing import claim_due_posts as claim_due_posts
from .post_publishing import record_failed as record_failed
from .post_publishing import record_published as record_published
from .post_schedule import cancel_post as cancel_post
from .post_schedule import release_approved_post as release_approved_post
from .post_schedule import schedule_post as schedule_post
