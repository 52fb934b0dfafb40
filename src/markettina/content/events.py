"""The events the content context publishes."""

from __future__ import annotations

# --- A/B variants (h-templates) ----------------------------------------------------------------
import uuid
from typing import ClassVar

from markettina.kernel.events import Event


class VariantWinnerDeclared(Event):
    """An A/B test ended: a variant was shown to beat every other arm of its post or
    e-mail campaign (two-proportion z-test; the statistics are in the payload). The
    winner now takes all the traffic; the other variants are inactive."""

    event_type: ClassVar[str] = "variant.winner_declared"
    aggregate_type: ClassVar[str] = "content_variant"

    variant_id: uuid.UUID
    parent_content_type: str
    parent_content_id: str
    metric: str
    level: float
    impressions: int
    successes: int
    rate: float
    p_values: list[float]
