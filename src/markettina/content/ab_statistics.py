"""The statistics of an A/B test: two-proportion z-tests between its arms.

An arm is a variant: ``n`` its impressions, ``successes`` its conversions (or clicks).
The candidate (the arm asked about, or else the one with the highest rate) is compared
with every other arm:

- pooled rate ``p = (x1 + x2) / (n1 + n2)``;
- standard error ``se = sqrt(p (1 - p) (1/n1 + 1/n2))``;
- ``z = (p1 - p2) / se``; two-sided p-value ``2 (1 - Phi(|z|))``, with
  ``Phi(z) = (1 + erf(z / sqrt 2)) / 2``.

A comparison is valid only when the normal approximation holds for both arms:
``n·p >= 10`` and ``n·(1 - p) >= 10`` with the pooled ``p`` (so at least 10 expected
successes and 10 expected failures in each). With more than two arms the level is split
among the comparisons (Bonferroni: ``level / (arms - 1)`` each). The candidate wins only
if it has the higher rate in every comparison and every p-value is below that level:
never by a fixed threshold on the rates alone.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field

DEFAULT_LEVEL = 0.05
MIN_EXPECTED = 10  # successes and failures each arm must expect under the pooled rate


def normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


@dataclass(frozen=True)
class Arm:
    variant_id: uuid.UUID
    name: str
    n: int
    successes: int

    @property
    def rate(self) -> float:
        return self.successes / self.n if self.n else 0.0


@dataclass(frozen=True)
class Comparison:
    """The candidate against one other arm."""

    against: uuid.UUID
    pooled_rate: float
    standard_error: float
    z: float | None
    p_value: float | None
    sample_ok: bool
    significant: bool
    reason: str


@dataclass(frozen=True)
class ZTest:
    """The z-test of two arms (``first`` minus ``second``)."""

    pooled_rate: float
    standard_error: float
    z: float | None
    p_value: float | None
    sample_ok: bool


def two_proportion_z_test(first: Arm, second: Arm) -> ZTest:
    n = first.n + second.n
    pooled = (first.successes + second.successes) / n if n else 0.0
    sample_ok = all(
        arm.n * pooled >= MIN_EXPECTED and arm.n * (1 - pooled) >= MIN_EXPECTED
        for arm in (first, second)
    ) and all(0 <= arm.successes <= arm.n for arm in (first, second))
    if not sample_ok:
        return ZTest(pooled, 0.0, None, None, False)
    se = math.sqrt(pooled * (1 - pooled) * (1 / first.n + 1 / second.n))
    z = (first.rate - second.rate) / se
    p_value = 2.0 * (1.0 - normal_cdf(abs(z)))
    return ZTest(pooled, se, z, p_value, True)


@dataclass(frozen=True)
class Analysis:
    metric: str
    level: float
    comparison_level: float
    arms: list[Arm]
    candidate: uuid.UUID | None
    comparisons: list[Comparison] = field(default_factory=list)
    decision: str = "not_significant"  # significant | not_significant | insufficient_sample
    reason: str = ""

    @property
    def significant(self) -> bool:
        return self.decision == "significant"


def analyse(
    arms: list[Arm],
    *,
    metric: str,
    level: float = DEFAULT_LEVEL,
    candidate: uuid.UUID | None = None,
) -> Analysis:
    """Whether ``candidate`` (else the arm with the highest rate) beats every other arm."""
    if len(arms) < 2:
        return Analysis(
            metric,
            level,
            level,
            arms,
            candidate,
            decision="not_significant",
            reason="an A/B test needs at least two arms",
        )
    comparison_level = level / (len(arms) - 1)
    chosen = (
        next(arm for arm in arms if arm.variant_id == candidate)
        if candidate is not None
        else max(arms, key=lambda arm: (arm.rate, arm.n))
    )
    comparisons = [
        _compare(chosen, other, comparison_level) for other in arms if other is not chosen
    ]
    if not all(c.sample_ok for c in comparisons):
        decision, reason = (
            "insufficient_sample",
            (
                f"each arm needs n·p >= {MIN_EXPECTED} and n·(1-p) >= {MIN_EXPECTED} "
                "(p the pooled rate) before the normal approximation holds"
            ),
        )
    elif all(c.significant for c in comparisons):
        decision, reason = (
            "significant",
            (
                f"{chosen.name} converts better than every other arm, each p-value below "
                f"{comparison_level:.4g}"
            ),
        )
    else:
        decision, reason = (
            "not_significant",
            "; ".join(c.reason for c in comparisons if not c.significant),
        )
    return Analysis(
        metric, level, comparison_level, arms, chosen.variant_id, comparisons, decision, reason
    )


def _compare(candidate: Arm, other: Arm, level: float) -> Comparison:
    test = two_proportion_z_test(candidate, other)
    if not test.sample_ok or test.z is None or test.p_value is None:
        return Comparison(
            other.variant_id,
            test.pooled_rate,
            0.0,
            None,
            None,
            False,
            False,
            f"too few impressions or outcomes against {other.name}",
        )
    if test.z <= 0:
        reason = f"{candidate.name} does not have a higher rate than {other.name}"
        significant = False
    elif test.p_value >= level:
        reason = f"against {other.name}: p-value {test.p_value:.4g} is not below {level:.4g}"
        significant = False
    else:
        reason = f"against {other.name}: p-value {test.p_value:.4g} < {level:.4g}"
        significant = True
    return Comparison(
        other.variant_id,
        test.pooled_rate,
        test.standard_error,
        test.z,
        test.p_value,
        True,
        significant,
        reason,
    )
