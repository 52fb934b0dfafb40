"""What other contexts may use from content. Every function runs in the caller's
transaction, as the acting tenant, and never commits."""

from __future__ import annotations

# --- posts (h-posts) ----------------------------------------------------------------------
