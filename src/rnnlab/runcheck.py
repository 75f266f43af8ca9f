"""A run folder's files checked against each other before they are used.

runs.py reads each file of a run folder on its own; these checks make sure the files
belong together.  The preprocessing holds what TextEncoder needs (a vocabulary of
words, whole numbers, a padding Keras knows) and gives what config.json trained on;
the model is the architecture config.json names, with its input as long as maxlen
and its vocabulary as large as num_words; its archive inflates to what a model of
rnnlab needs.  A folder edited by hand or mixed up with another is a one-line error
naming the files that disagree, never predictions from a mismatched pair.
"""

import math
import zipfile
from pathlib import Path

from .config import TrainConfig, available_memory
from .errors import RnnlabError

PADDINGS = ("pre", "post")
MAX_KERAS_JSON = 16 << 20  # config.json, metadata.json of a .keras archive: kilobytes


def check_preprocessing(spec: dict, path: Path) -> None:
    """preprocessing.json's fields, as TextEncoder reads them (today's: a field it does
    not know is left to its reader)."""
    vocabulary = spec.get("vocabulary")
    if not isinstance(vocabulary, list) or not all(isinstance(w, str) for w in vocabulary):
        raise damaged(path, "its vocabulary is not a list of words")
    for key in ("num_words", "maxlen"):
        value = spec.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise damaged(path, f"{key} is {value!r}, not a whole number of at least 1")
    for key in ("padding", "truncating"):
        if spec.get(key) not in PADDINGS:
            raise damaged(path, f"{key} is {spec.get(key)!r}, not 'pre' or 'post'")


def check_encoder(encoder, config: TrainConfig, run_dir: Path) -> None:
    """The preprocessing gives the ids the run was trained on (config.json's settings)."""
    keys = ("num_words", "maxlen", "padding", "truncating")
    differ = [k for k in keys if getattr(encoder, k) != getattr(config, k)]
    if differ:
        shown = ", ".join(f"{k} {getattr(encoder, k)!r} vs {getattr(config, k)!r}" for k in differ)
        raise mixed_up(run_dir, f"preprocessing.json and config.json disagree ({shown})")


def check_keras_archive(path: Path) -> None:
    """Refuse a .keras archive whose members would inflate past what a model needs (the
    sizes its zip directory declares, which bound what Python's zipfile inflates)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return  # not a zip: Keras' own error says the file is damaged
    limits = {".json": MAX_KERAS_JSON}
    for member in members:
        limit = limits.get(Path(member.filename).suffix, available_memory())
        if member.file_size > limit:
            raise RnnlabError(
                f"{path} is damaged or not a model of rnnlab: its {member.filename} would "
                f"inflate to {member.file_size / 1e6:,.0f} MB (at most {limit / 1e6:,.0f} MB); "
                "train it again"
            )


def check_model(model, config: TrainConfig, run_dir: Path) -> None:
    """The model is the architecture config.json names: the same weights, shape by shape
    (an architecture built from the settings, compared with the one loaded)."""
    from .models import build_model

    expected = [tuple(w.shape) for w in build_model(config.model, config.shape).weights]
    loaded = [tuple(w.shape) for w in model.weights]
    if loaded != expected:
        raise mixed_up(
            run_dir,
            f"best.keras is not the {config.model} that config.json describes ({len(loaded)} "
            f"weight arrays, {sum(map(math.prod, loaded)):,} numbers; expected "
            f"{len(expected)}, {sum(map(math.prod, expected)):,})",
        )


def finite_metrics(metrics: dict, numbers, path: Path) -> tuple[dict, list[str]]:
    """(metrics.json without the numbers that are not finite, a note for each): NaN or
    infinity is shown as missing, and the note says why."""
    bad = [
        k for k in numbers if isinstance(metrics.get(k), float) and not math.isfinite(metrics[k])
    ]
    notes = [f"note: {path} holds {metrics[k]} for {k}, shown as missing" for k in bad]
    return {k: v for k, v in metrics.items() if k not in bad}, notes


def damaged(path: Path, what: str) -> RnnlabError:
    return RnnlabError(f"{path} is damaged ({what}); train the run again")


def mixed_up(run_dir: Path, what: str) -> RnnlabError:
    return RnnlabError(f"{run_dir}: {what}: the folder was edited or mixed up; train it again")
