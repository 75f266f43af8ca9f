"""A sweep's grid: the configurations that `rnnlab sweep`'s options describe.

Every training setting (TrainConfig's fields, but the data) can be a comma
list, and each list is an axis: `--models lstm,gru --units 8,16 --seeds 5`
is 2 x 2 x 5 = 20 configurations.  `--grid` adds explicit configurations as
JSON (a list of objects, or @FILE), each crossed with the axes and the seeds:
one change at a time, for an ablation.  A configuration holds only what
differs from TrainConfig's defaults, plus the model and the seed, so the same
training has the same identity however it was asked for.
"""

import itertools
import json
from dataclasses import dataclass, fields

from ..config import TrainConfig
from ..errors import RnnlabError
from ..files import read_small_text
from ..models import BASELINE_SETTINGS, MODELS

FIRST_SEED = 42  # --seeds N means 42, 43, ..., 42 + N - 1
NOT_IN_GRID = ("data",)  # each machine reads its own copy of the data


@dataclass(frozen=True)
class Range:
    """LOW..HIGH: the values a search (search.py) samples a numeric setting from."""

    low: int | float
    high: int | float

    def __str__(self) -> str:
        return f"{self.low}..{self.high}"


def seeds(text: str) -> list[int]:
    """`--seeds N` (a count: 42 ... 42+N-1) or `--seeds 1,7,9` (a list)."""
    expected = "expected a count or a comma list of whole numbers"
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{expected}, got {text!r}") from None
    if not values:
        raise ValueError(f"{expected}, got nothing")
    if "," not in text:
        if values[0] < 1:
            raise ValueError(f"a count of seeds must be at least 1, got {values[0]}")
        return list(range(FIRST_SEED, FIRST_SEED + values[0]))
    if len(set(values)) < len(values):
        raise ValueError(f"a seed is listed twice in {text!r}")
    return values


MAX_GRID_FILE = 1 << 20  # a grid of thousands of configurations fits in far less


def explicit(text: str) -> list[dict]:
    """`--grid`: a JSON list of objects of settings, inline or in a file (@FILE: a regular
    file of at most MAX_GRID_FILE bytes, so that a FIFO or /dev/zero is refused at once)."""
    source = text
    if text.startswith("@"):
        source = read_small_text(text[1:], MAX_GRID_FILE, "the --grid file")
    try:
        entries = json.loads(source)
    except ValueError as error:
        raise ValueError(f"not JSON ({error}); give a list of objects of settings") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply; give a list of objects of settings") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError('give a JSON list of objects, e.g. [{"units": 16}, {"maxlen": 200}]')
    return entries


DEFAULTS = {spec.name: spec.default for spec in fields(TrainConfig) if spec.name != "data"}


def build(axes: dict[str, list], entries: list[dict] | None, seed_list: list[int],
          preset: str | None = None) -> list[dict]:  # fmt: skip
    """Every configuration: each explicit entry (or one empty one) x the axes x the seeds,
    over the preset's settings if one is named, each checked as a TrainConfig (a one-line
    error names the first bad one).  An entry's setting (its seed too) replaces an
    axis of one value, and is refused against an axis of several."""
    if entries == []:
        raise RnnlabError("the grid is empty: --grid lists no configuration")
    entries = entries or [{}]
    for name, values in axes.items():
        ranges = [value for value in values if isinstance(value, Range)]
        if ranges:
            option = "--" + name.replace("_", "-")
            raise RnnlabError(
                f"{option} {ranges[0]} is a range, which only a search samples from: "
                f"add --search N, or give {option} a comma list"
            )
    axes = {**axes, "seed": seed_list}  # the seeds are an axis too
    names = list(axes)
    grid, seen = [], set()
    for entry in entries:
        if set(entry) & set(NOT_IN_GRID):
            raise RnnlabError("the data is not a setting of the grid: give it with --data")
        # An entry's setting replaces an option's single value (the base of an ablation)
        # but cannot pick one value out of a list.
        clash = (set(entry) & set(names)) - {n for n in names if len(axes[n]) == 1}
        if clash:
            options = ", ".join(_option(name) for name in sorted(clash))
            raise RnnlabError(
                f"--grid sets {', '.join(sorted(clash))}, also given as a list of values by "
                f"{options}: give it in one place"
            )
        for values in itertools.product(*(axes[name] for name in names)):
            settings = {**dict(zip(names, values, strict=True)), **entry}
            config = configuration(settings, preset)
            key = json.dumps(config, sort_keys=True)
            if key not in seen:
                seen.add(key)
                grid.append(config)
    return grid


def _option(name: str) -> str:
    return {"seed": "--seeds", "model": "--models"}.get(name, "--" + name.replace("_", "-"))


def configuration(settings: dict, preset: str | None = None) -> dict:
    """A training as a sweep stores it: the settings checked as a TrainConfig, over the
    preset's (a one-line error when they are bad), then only what differs from
    TrainConfig's defaults, with the model, the seed and every setting the model has a
    default of its own for (the command that trains it again must say those)."""
    config = _checked(settings, preset)
    spec = MODELS[config["model"]]
    return _read_by(spec, {
        k: v
        for k, v in config.items()
        if k in ("model", "seed") or k in spec.defaults or v != DEFAULTS[k]
    })  # fmt: skip


def applied(config: dict) -> dict:
    """Every setting a configuration trains with: TrainConfig's defaults, then its
    model's own, then its own; for a baseline only the settings a baseline reads."""
    spec = MODELS[config["model"]]
    return _read_by(spec, {**DEFAULTS, **spec.defaults, **config})


def _read_by(spec, settings: dict) -> dict:
    """The settings the model reads: all of them, or for a baseline only its few."""
    if not spec.is_baseline:
        return settings
    return {k: v for k, v in settings.items() if k in ("model", "seed", *BASELINE_SETTINGS)}


def _checked(settings: dict, preset: str | None) -> dict:
    """The settings as TrainConfig reads them (over the model's own defaults and the
    preset's), or a one-line error naming the bad one."""
    try:
        config = TrainConfig.resolve(preset, **settings)
    except RnnlabError as error:
        raise RnnlabError(f"a bad configuration {settings}: {error}") from None
    config.check_memory()
    return {spec.name: getattr(config, spec.name) for spec in fields(config) if spec.name != "data"}
