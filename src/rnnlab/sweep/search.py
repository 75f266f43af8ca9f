"""A search: Optuna's TPE sampler picks each trial's settings, from what earlier trials found.

`rnnlab sweep --search 20 --models gru,lstm --units 8..64 --learning-rate 1e-4..1e-2`
trains 20 configurations.  A comma list is a choice; a range LOW..HIGH of a
whole-number setting samples whole numbers; a range whose ends differ by a
factor of 10 or more is sampled on a log scale (a learning rate: 1e-4 is as far
from 1e-3 as 1e-3 from 1e-2).  Settings given once are shared by every trial.

One seed for every trial: a search compares settings, not seeds, and statistics
over seeds of trials that were pruned, or chosen by their score, would be
biased.  Measure the winner over seeds afterwards (the summary prints the
command).  `--prune`: a trial whose validation loss after an epoch is worse
than the median of earlier trials' at that epoch stops there (MedianPruner).

The sampler is seeded from the search and the number of trials asked for before,
so that with one worker the same command samples the same trials.  Samples whose
settings do not go together (a dropout with the book's models) are skipped and
not counted; settings sampled twice are trained once (study.py).
"""

import hashlib
import itertools
from dataclasses import dataclass

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from ..errors import RnnlabError
from .grid import Range, configuration
from .identity import canonical_json

STARTUP_TRIALS = 5  # sampled at random before TPE has enough trials to model
PRUNE_AFTER = 3  # epochs every trial trains before it may be pruned
# Completed trials the median needs before it prunes anything: with one worker the random
# ones all finish, so that the median is not that of a few lucky fast learners.
PRUNE_FROM_TRIAL = STARTUP_TRIALS
SIGNIFICANT_DIGITS = 3  # a sampled learning rate of 0.00211, not 0.0021130462287855148
LOG_SCALE_FROM = 10  # a range whose HIGH is 10 x LOW or more is searched on a log scale


@dataclass(frozen=True)
class Search:
    fixed: dict  # the settings every trial shares, the seed included
    space: dict  # setting -> {"choices": [...]} or {"low": x, "high": y}
    trials: int  # how many configurations to sample
    prune: bool = False
    preset: str | None = None

    def __len__(self) -> int:
        """The trials it trains, as a grid's len() is."""
        return self.trials

    def to_json(self) -> dict:
        return {
            "fixed": self.fixed, "space": self.space, "trials": self.trials,
            "prune": self.prune, "preset": self.preset,
        }  # fmt: skip

    @classmethod
    def from_json(cls, stored: dict) -> "Search":
        return cls(**stored)

    def hash(self) -> str:
        return hashlib.sha256(canonical_json(self.to_json()).encode()).hexdigest()[:16]

    def distributions(self) -> dict:
        found = {}
        for name, span in self.space.items():
            if "choices" in span:
                found[name] = CategoricalDistribution(span["choices"])
                continue
            low, high = span["low"], span["high"]
            log = low > 0 and high >= LOG_SCALE_FROM * low
            whole = isinstance(low, int) and isinstance(high, int)
            kind = IntDistribution if whole else FloatDistribution
            found[name] = kind(low, high, log=log)
        return found

    def configuration(self, params: dict) -> dict:
        """The configuration that sampled settings give, as a sweep stores it (numbers
        between whole ones to SIGNIFICANT_DIGITS: finer than that is noise)."""
        rounded = {
            name: _rounded(value, self.space[name]) if "low" in self.space[name] else value
            for name, value in params.items()
        }
        return configuration({**self.fixed, **rounded}, self.preset)

    def sampler(self, asked: int) -> optuna.samplers.TPESampler:
        """TPE, seeded from the search and how many trials the study has asked for."""
        seed = int(self.hash()[:8], 16) + asked
        # constant_liar: workers sampling at once treat each other's running trials as
        # poor, so they do not all sample the same promising point.
        return optuna.samplers.TPESampler(
            n_startup_trials=STARTUP_TRIALS, seed=seed, constant_liar=True
        )

    def pruner(self) -> optuna.pruners.BasePruner:
        if not self.prune:
            return optuna.pruners.NopPruner()
        return optuna.pruners.MedianPruner(
            n_startup_trials=PRUNE_FROM_TRIAL, n_warmup_steps=PRUNE_AFTER
        )


def _rounded(value, span: dict):
    """A sampled number of a range, to SIGNIFICANT_DIGITS (whole numbers as they are)."""
    if isinstance(value, int):
        return value
    return min(max(float(f"{value:.{SIGNIFICANT_DIGITS}g}"), span["low"]), span["high"])


def build(axes: dict[str, list], seed_list: list[int], trials: int, prune: bool,
          preset: str | None = None) -> Search:  # fmt: skip
    """The search that `rnnlab sweep --search N`'s options describe; a one-line error
    when it cannot run: each range end and each choice must make a good configuration
    with some end or choice of the other searched settings."""
    if trials < 1:
        raise RnnlabError(f"--search needs at least 1 trial, got {trials}")
    if len(seed_list) != 1:
        raise RnnlabError(
            f"a search trains each configuration with one seed, and --seeds gives "
            f"{len(seed_list)} (--seeds 7, gives seed 7): search first, then measure the best "
            "over seeds (its summary prints the command)"
        )
    fixed, space = {"seed": seed_list[0]}, {}
    for name, values in axes.items():
        if len(values) > 1:
            space[name] = {"choices": values}
        elif isinstance(values[0], Range):
            space[name] = {"low": values[0].low, "high": values[0].high}
        else:
            fixed[name] = values[0]
    if not space:
        raise RnnlabError(
            "nothing to search: give a setting a range (--units 8..64) or a comma list "
            "(--models lstm,gru)"
        )
    search = Search(fixed, space, trials, prune, preset)
    _check_corners(search)
    return search


def _check_corners(search: Search) -> None:
    """Every end and choice goes with some end or choice of the other settings; else the
    error of its first combination (settings that only some combinations refuse, like a
    dropout with the book's models, are left to the sampler, which skips them)."""
    candidates = {
        name: span.get("choices") or [span["low"], span["high"]]
        for name, span in search.space.items()
    }
    names = list(candidates)
    good, first_error = set(), {}
    for values in itertools.product(*candidates.values()):
        try:
            search.configuration(dict(zip(names, values, strict=True)))
        except RnnlabError as error:
            for name, value in zip(names, values, strict=True):
                first_error.setdefault((name, repr(value)), error)
            continue
        good.update((name, repr(value)) for name, value in zip(names, values, strict=True))
    for name in names:
        for value in candidates[name]:
            if (name, repr(value)) not in good:
                raise first_error[(name, repr(value))]
