"""The two-proportion z-test against values computed by hand (pooled rate, standard
error, z, two-sided p-value from the normal CDF)."""

from __future__ import annotations

import math
import uuid

import pytest

from markettina.content.ab_statistics import Arm, analyse, normal_cdf, two_proportion_z_test


def _arm(n: int, x: int, name: str = "") -> Arm:
    return Arm(uuid.uuid4(), name or f"{x}/{n}", n, x)


class TestNormalCdf:
    @pytest.mark.parametrize(
        ("z", "phi"),
        [
            (0.0, 0.5),
            (1.0, 0.841344746),
            (1.959963985, 0.975),
            (-1.644853627, 0.05),
            (2.575829304, 0.995),
            (-3.0, 0.001349898),
        ],
    )
    def test_known_quantiles(self, z: float, phi: float) -> None:
        assert normal_cdf(z) == pytest.approx(phi, abs=1e-9)


class TestZTest:
    def test_ten_against_thirteen_percent_of_a_thousand(self) -> None:
        # pooled p = 230/2000 = 0.115; se = sqrt(0.115 * 0.885 * (1/1000 + 1/1000))
        # = sqrt(0.00020355) = 0.0142671; z = 0.03 / 0.0142671 = 2.10274;
        # p = 2 (1 - Phi(2.10274)) = 0.03549
        test = two_proportion_z_test(_arm(1000, 130), _arm(1000, 100))
        assert test.pooled_rate == pytest.approx(0.115)
        assert test.standard_error == pytest.approx(math.sqrt(0.00020355), rel=1e-9)
        assert test.z == pytest.approx(2.10274, abs=1e-5)
        assert test.p_value == pytest.approx(0.03549, abs=1e-5)
        assert test.sample_ok

    def test_unequal_arms(self) -> None:
        # 50/500 = 0.10 against 90/600 = 0.15: pooled 140/1100 = 0.127273;
        # se = sqrt(0.127273 * 0.872727 * (1/500 + 1/600)) = sqrt(0.00040727) = 0.020181;
        # z = -0.05 / se = -2.4776; p = 2 (1 - Phi(2.4776)) = 2 * 0.006614 = 0.01323
        test = two_proportion_z_test(_arm(500, 50), _arm(600, 90))
        assert test.pooled_rate == pytest.approx(140 / 1100)
        assert test.standard_error == pytest.approx(0.020181, abs=1e-6)
        assert test.z == pytest.approx(-2.4776, abs=1e-4)
        assert test.p_value == pytest.approx(0.01323, abs=1e-4)

    def test_equal_rates_give_z_zero_and_p_one(self) -> None:
        test = two_proportion_z_test(_arm(400, 40), _arm(400, 40))
        assert (test.z, test.p_value) == (0.0, 1.0)

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ((20, 1), (20, 9)),  # 10 successes in all: n·p = 5 per arm
            ((1000, 0), (1000, 9)),  # n·p = 4.5
            ((30, 29), (30, 30)),  # n·(1-p) = 0.5: almost every impression converted
            ((10, 11), (100, 50)),
        ],  # more conversions than impressions
    )
    def test_too_small_a_sample_gives_no_statistic(
        self, first: tuple[int, int], second: tuple[int, int]
    ) -> None:
        test = two_proportion_z_test(_arm(*first), _arm(*second))
        assert not test.sample_ok and test.z is None and test.p_value is None

    def test_the_smallest_sample_allowed(self) -> None:
        # pooled p = 20/200 = 0.1: n·p = 10 and n·(1-p) = 90 in each arm, exactly enough
        assert two_proportion_z_test(_arm(100, 5), _arm(100, 15)).sample_ok
        assert not two_proportion_z_test(_arm(100, 5), _arm(100, 14)).sample_ok


class TestAnalysis:
    def test_the_leader_is_the_candidate_and_the_decision_says_why(self) -> None:
        a, b = _arm(1000, 100, "A"), _arm(1000, 130, "B")
        analysis = analyse([a, b], metric="conversions")
        assert analysis.candidate == b.variant_id and analysis.significant
        assert "B" in analysis.reason and "0.05" in analysis.reason

    def test_a_stricter_level_refuses_the_same_data(self) -> None:
        analysis = analyse([_arm(1000, 100), _arm(1000, 130)], metric="conversions", level=0.01)
        assert analysis.decision == "not_significant"
        assert "not below 0.01" in analysis.reason

    def test_one_arm_is_no_test(self) -> None:
        analysis = analyse([_arm(1000, 100)], metric="conversions")
        assert analysis.decision == "not_significant" and "two arms" in analysis.reason

    def test_bonferroni_with_four_arms(self) -> None:
        arms = [_arm(1000, 100), _arm(1000, 100), _arm(1000, 100), _arm(1000, 130)]
        analysis = analyse(arms, metric="clicks")
        # p = 0.0355 against each other arm, above 0.05 / 3
        assert analysis.comparison_level == pytest.approx(0.05 / 3)
        assert analysis.decision == "not_significant"
