"""The identity of configurations and grids: what makes two the same, and their names.

A configuration is a dict of settings; its key is a hash of its canonical
JSON, so the same settings are the same configuration whatever their order.
A grid's hash does not depend on the order of its configurations.
"""

import hashlib
import json
import re
from typing import Any

from rnnlab.errors import RnnlabError


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_key(config: dict) -> str:
    """The identity of a configuration: a hash of its canonical JSON."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


def trial_label(config: dict) -> str:
    """A configuration as a folder name: "lstm-seed43-units16" (the model and the seed
    first, then the other settings in order); a name that had to be cut or cleaned
    ends in its key."""
    settings = dict(config)
    parts = [str(settings.pop("model", ""))]
    if "seed" in settings:
        parts.append(f"seed{settings.pop('seed')}")
    parts += [f"{key.replace('_', '-')}{value}" for key, value in sorted(settings.items())]
    label = "-".join(part for part in parts if part)
    clean = re.sub(r"[^A-Za-z0-9.+-]", "_", label)
    if clean != label or len(clean) > 80:
        clean = f"{clean[:70]}-{config_key(config)[:8]}"
    return clean or config_key(config)


def grid_hash(grid: list[dict]) -> str:
    """The identity of a grid, whatever the order of its configurations."""
    keys = sorted(config_key(config) for config in grid)
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")


def check_name(text: str) -> str:
    """A sweep's name as --name gives it: also its folder's name (runs/sweeps/NAME), so
    letters, digits and . _ + - only, never a path."""
    if not NAME.fullmatch(text):
        raise ValueError(
            f"{text!r} is not a sweep name: use letters, digits and . _ + - (at most 100, "
            "starting with a letter or digit); to choose the folder, use --out"
        )
    return text


def default_name(grid: list[dict]) -> str:
    return f"grid-{grid_hash(grid)[:12]}"


def check_grid(grid: list[dict]) -> list[dict]:
    """The grid as it will be stored (JSON round trip: tuples become lists); raises
    RnnlabError for an empty grid, a configuration that is not a JSON object,
    or one listed twice."""
    if not grid:
        raise RnnlabError("the sweep's grid is empty: give at least one configuration")
    stored, seen = [], set()
    for config in grid:
        try:
            text = canonical_json(config)
        except (TypeError, ValueError) as error:
            raise RnnlabError(f"configuration {config!r} is not JSON: {error}") from None
        if not isinstance(config, dict):
            raise RnnlabError(f"configuration {config!r} is not a dict of settings")
        if text in seen:
            raise RnnlabError(f"the grid lists one configuration twice: {text}")
        seen.add(text)
        stored.append(json.loads(text))
    return stored
