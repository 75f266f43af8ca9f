"""rnnlab.sweep.stats's use of scipy.stats (pairing by seed, the confidence level, TOST's two
one-sided tests) on fixed numbers, and the cases scipy answers with NaN."""

import numpy as np
import pytest
from scipy import stats

from rnnlab.errors import RnnlabError
from rnnlab.sweep.stats import (
    NO_SPREAD,
    ONE_VALUE,
    equivalence_test,
    paired_difference,
    summarize,
)

# Validation accuracies of two models over five seeds.
GRU = {0: 0.861, 1: 0.874, 2: 0.858, 3: 0.869, 4: 0.866}
LSTM = {0: 0.859, 1: 0.868, 2: 0.861, 3: 0.862, 4: 0.860}


def test_summary_matches_numpy_and_scipy():
    values = list(GRU.values())
    summary = summarize(values)
    low, high = stats.t.interval(0.95, len(values) - 1, np.mean(values), stats.sem(values))
    assert summary.n == 5
    assert summary.mean == pytest.approx(np.mean(values))
    assert summary.sd == pytest.approx(np.std(values, ddof=1))
    assert (summary.min, summary.max) == (0.858, 0.874)
    assert (summary.ci_low, summary.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert summary.note is None


def test_a_99_percent_interval_is_wider_and_matches_scipy():
    values = list(LSTM.values())
    summary = summarize(values, confidence=0.99)
    low, high = stats.t.interval(0.99, 4, np.mean(values), stats.sem(values))
    assert (summary.ci_low, summary.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert summary.ci_high - summary.ci_low > summarize(values).ci_high - summarize(values).ci_low


def test_one_value_has_no_sd_and_no_interval_and_says_so():
    summary = summarize([0.87])
    assert (summary.n, summary.mean, summary.min, summary.max) == (1, 0.87, 0.87, 0.87)
    assert (summary.sd, summary.ci_low, summary.ci_high) == (None, None, None)
    assert summary.note == ONE_VALUE


def test_equal_values_have_zero_sd_and_a_zero_width_interval():
    summary = summarize([0.1, 0.1, 0.1])  # 0.1 is inexact: the mean must still be 0.1
    assert (summary.mean, summary.sd, summary.ci_low, summary.ci_high) == (0.1, 0.0, 0.1, 0.1)
    assert summary.note == NO_SPREAD


def test_no_values_and_non_finite_values_are_refused():
    with pytest.raises(ValueError, match="at least one"):
        summarize([])
    with pytest.raises(ValueError, match="finite"):
        summarize([0.8, float("nan")])


def test_paired_difference_matches_ttest_rel():
    difference = paired_difference(GRU, LSTM)
    first, second = list(GRU.values()), list(LSTM.values())
    expected = stats.ttest_rel(first, second)
    low, high = expected.confidence_interval(0.95)
    assert difference.n == 5
    assert difference.mean == pytest.approx(np.mean(np.subtract(first, second)))
    assert difference.sd == pytest.approx(np.std(np.subtract(first, second), ddof=1))
    assert (difference.ci_low, difference.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert difference.p_value == pytest.approx(expected.pvalue)


def test_pairs_are_made_by_seed_not_by_order():
    reordered = {seed: LSTM[seed] for seed in reversed(list(LSTM))}
    assert paired_difference(GRU, reordered) == paired_difference(GRU, LSTM)


def test_groups_on_different_seeds_cannot_be_paired():
    with pytest.raises(RnnlabError, match=r"only in the first group: \['4'\]"):
        paired_difference(GRU, {seed: LSTM[seed] for seed in range(4)})


def test_paired_difference_edge_cases():
    one = paired_difference({0: 0.9}, {0: 0.8})
    assert one.mean == pytest.approx(0.1)
    assert (one.sd, one.ci_low, one.ci_high, one.p_value) == (None, None, None, None)
    assert one.note == ONE_VALUE
    constant = paired_difference({0: 0.5, 1: 0.75}, {0: 0.25, 1: 0.5})  # exact in binary
    assert (constant.mean, constant.sd, constant.ci_low, constant.ci_high) == (0.25, 0, 0.25, 0.25)
    assert constant.p_value == 0.0 and constant.note == NO_SPREAD
    same = paired_difference({0: 0.5, 1: 0.75}, {0: 0.5, 1: 0.75})
    assert (same.mean, same.p_value) == (0.0, 1.0)


def test_equivalence_matches_two_one_sided_ttest_1samp():
    differences = np.subtract(list(GRU.values()), list(LSTM.values()))
    for margin in (0.002, 0.01, 0.02):
        expected = max(
            stats.ttest_1samp(differences, -margin, alternative="greater").pvalue,
            stats.ttest_1samp(differences, margin, alternative="less").pvalue,
        )
        result = equivalence_test(GRU, LSTM, margin)
        assert result.p_value == pytest.approx(expected)
        assert result.equivalent == (expected < 0.05)
        assert result.mean_difference == pytest.approx(differences.mean())


def test_equivalence_verdicts():
    assert equivalence_test(GRU, LSTM, 0.02).verdict.startswith("equivalent within +/-0.02")
    narrow = equivalence_test(GRU, LSTM, 0.002)
    assert not narrow.equivalent
    assert narrow.verdict.startswith("not shown equivalent within +/-0.002")


def test_equivalence_edge_cases():
    one = equivalence_test({0: 0.9}, {0: 0.9}, 0.01)
    assert (one.p_value, one.equivalent) == (None, False)
    assert "one pair" in one.verdict
    inside = equivalence_test({0: 0.5, 1: 0.75}, {0: 0.5, 1: 0.75}, 0.01)  # no spread
    assert (inside.p_value, inside.equivalent) == (0.0, True)
    outside = equivalence_test({0: 0.5, 1: 0.75}, {0: 0.25, 1: 0.5}, 0.01)
    assert (outside.p_value, outside.equivalent) == (1.0, False)
    with pytest.raises(ValueError, match="margin"):
        equivalence_test(GRU, LSTM, 0)
