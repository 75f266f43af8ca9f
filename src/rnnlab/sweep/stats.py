"""Statistics of a sweep's results: each group (a model) over its seeds, and two
groups compared seed by seed.

A sweep has a handful of seeds per model, so intervals use Student's t, not
the normal distribution.  Comparing two models on the same seeds pairs each
seed's two results: the seed's luck (initial weights, data order) cancels in
the difference.  "Are they the same?" is not answered by a large p-value of a
difference test: the equivalence test (TOST) asks instead whether the mean
difference is shown to lie within a margin the user calls negligible.  The
tests and intervals are scipy.stats'; this module adds what a sweep needs
around them: pairing by seed, and the cases scipy answers with NaN.

Where a statistic cannot be computed (one value: no spread) it is None and
`note` says why, rather than NaN.
"""

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from rnnlab.errors import RnnlabError

CONFIDENCE = 0.95
ONE_VALUE = "one value: no spread, so no interval"
NO_SPREAD = "all values are equal: the interval has no width"


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    sd: float | None  # sample standard deviation (ddof=1); None for one value
    min: float
    max: float
    ci_low: float | None  # confidence interval of the mean (Student t); None for one value
    ci_high: float | None
    note: str | None = None  # why there is no interval, or why it has no width


@dataclass(frozen=True)
class PairedDifference:
    """First group minus second, seed by seed."""

    n: int  # seeds
    mean: float
    sd: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None  # paired t-test, two-sided, of "the mean difference is 0"
    note: str | None = None


@dataclass(frozen=True)
class Equivalence:
    """Two one-sided t-tests (TOST) on the paired differences, first minus second."""

    n: int
    mean_difference: float
    margin: float  # differences within +/- margin count as negligible
    p_value: float | None  # the larger of the two one-sided p-values; None for one pair
    equivalent: bool  # p_value < alpha: the difference is shown to be within the margin
    verdict: str


def summarize(values: Sequence[float], confidence: float = CONFIDENCE) -> Summary:
    """n, mean, sd, min, max and the t interval of the mean; ValueError if empty."""
    data = _finite(values)
    mean, sd, low, high, note = _mean_and_interval(data, confidence)
    return Summary(len(data), mean, sd, float(data.min()), float(data.max()), low, high, note)


def paired_difference(
    first: Mapping[Hashable, float],
    second: Mapping[Hashable, float],
    confidence: float = CONFIDENCE,
) -> PairedDifference:
    """The mean of first[seed] - second[seed], its t interval and the paired
    t-test's p-value; RnnlabError if the two were not run on the same seeds."""
    differences = _differences(first, second)
    mean, sd, low, high, note = _mean_and_interval(differences, confidence)
    if sd is None:
        p_value = None
    elif sd == 0:
        p_value = 1.0 if mean == 0 else 0.0  # no spread: any difference is certain
    else:  # the paired t-test is the one-sample test of the differences
        p_value = float(stats.ttest_1samp(differences, 0).pvalue)
    return PairedDifference(len(differences), mean, sd, low, high, p_value, note)


def equivalence_test(
    first: Mapping[Hashable, float],
    second: Mapping[Hashable, float],
    margin: float,
    alpha: float = 0.05,
) -> Equivalence:
    """TOST: is the mean of first[seed] - second[seed] within (-margin, margin)?

    Two one-sided t-tests, of "mean <= -margin" and of "mean >= margin"; both
    must be rejected, so the p-value is the larger of the two.
    """
    if not margin > 0:
        raise ValueError(f"the equivalence margin must be above 0, got {margin}")
    differences = _differences(first, second)
    n = len(differences)
    mean = float(differences.mean())
    within = f"within +/-{margin:g}"
    if n == 1:
        verdict = f"cannot tell whether {within}: one pair, no spread"
        return Equivalence(n, mean, margin, None, False, verdict)
    if differences.max() == differences.min():  # no spread: the mean is the difference
        p_value = 0.0 if -margin < mean < margin else 1.0
    else:
        above_lower = stats.ttest_1samp(differences, -margin, alternative="greater")
        below_upper = stats.ttest_1samp(differences, margin, alternative="less")
        p_value = float(max(above_lower.pvalue, below_upper.pvalue))
    equivalent = p_value < alpha
    if equivalent:
        verdict = f"equivalent {within} (TOST p = {p_value:.3g} < {alpha:g})"
    else:
        verdict = f"not shown equivalent {within} (TOST p = {p_value:.3g} >= {alpha:g})"
    return Equivalence(n, mean, margin, p_value, equivalent, verdict)


def _mean_and_interval(data: np.ndarray, confidence: float):
    """mean, sd, interval low, high, note."""
    n = len(data)
    if n == 1:
        return float(data[0]), None, None, None, ONE_VALUE
    if data.max() == data.min():  # exactly: float rounding would make a tiny sd
        return float(data[0]), 0.0, float(data[0]), float(data[0]), NO_SPREAD
    low, high = stats.ttest_1samp(data, 0).confidence_interval(confidence)
    return float(data.mean()), float(data.std(ddof=1)), float(low), float(high), None


def _differences(first: Mapping, second: Mapping) -> np.ndarray:
    if first.keys() != second.keys():
        only_first = sorted(map(str, first.keys() - second.keys()))
        only_second = sorted(map(str, second.keys() - first.keys()))
        raise RnnlabError(
            "a paired comparison needs results for the same seeds: "
            f"only in the first group: {only_first or 'none'}; "
            f"only in the second: {only_second or 'none'}"
        )
    seeds = list(first)
    return _finite([first[seed] for seed in seeds]) - _finite([second[seed] for seed in seeds])


def _finite(values: Sequence[float]) -> np.ndarray:
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or len(data) == 0:
        raise ValueError("need at least one value")
    if not np.isfinite(data).all():
        raise ValueError(f"values must be finite numbers, got {list(values)}")
    return data
