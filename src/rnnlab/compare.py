"""`rnnlab compare`: runs side by side, as a table and as overlaid curves.

Reads only the files of each run folder (no Keras).
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from . import runs
from .files import write_text
from .report import Report, plot_overlay


@dataclass
class ComparedRun:
    name: str  # the folder's name, or its path when two folders share a name
    run: runs.Run
    note: str = ""  # why its numbers are not directly comparable with the first run's


@dataclass
class Comparison:
    headers: list[str]
    rows: list[list]
    warnings: list[str]
    out: Path


def _metric(key: str, digits: int | None = 4):
    """A column of metrics.json, or '–' where an unfinished run has no such number."""

    def get(entry):
        value = entry.run.metrics.get(key)
        if isinstance(value, int | float) and digits is not None:
            return round(value, digits) if digits else round(value)
        return "–" if value is None else value

    return get


COLUMNS = [
    ("run", lambda r: r.name),
    ("model", lambda r: r.run.config.model),
    ("engine", lambda r: r.run.config.engine),
    ("parameters", _metric("parameters", None)),
    ("best epoch", _metric("best_epoch", None)),
    ("epochs run", _metric("epochs_run", None)),
    ("best val_loss", _metric("best_val_loss")),
    ("best val_accuracy", _metric("best_val_accuracy")),
    ("test accuracy", _metric("test_accuracy")),
    ("s/epoch", _metric("seconds_per_epoch", 3)),
    ("peak MB", _metric("peak_memory_mb", 0)),
    ("note", lambda r: r.note if runs.is_finished(r.run.path) else f"unfinished {r.note}".strip()),
]


def _comparable_key(run: runs.Run) -> tuple:
    return (run.data["content_hash"], run.config.num_words, run.config.maxlen)


def mark_incomparable(compared: list[ComparedRun]) -> list[str]:
    """Note, in each run and as warnings, the runs whose data, num_words or maxlen
    differ from the first run's (their numbers are not directly comparable)."""
    first = compared[0]
    reference = _comparable_key(first.run)
    warnings = []
    for entry in compared[1:]:
        key = _comparable_key(entry.run)
        if key != reference:
            what = [
                name
                for name, a, b in zip(("data", "num_words", "maxlen"), reference, key, strict=True)
                if a != b
            ]
            entry.note = f"different {', '.join(what)} from {first.name}"
            warnings.append(f"warning: {entry.name}: {entry.note}; compare with care")
    return warnings


def compare(run_dirs, out, allow_unfinished=False) -> Comparison:
    """Write comparison.csv, comparison.md, comparison.html (images embedded),
    val_loss.png and val_accuracy.png to `out`."""
    read = [runs.read(d, allow_unfinished) for d in run_dirs]
    names = [run.path.name for run in read]
    unique = len(set(names)) == len(names)  # same folder names from different parents?
    compared = [ComparedRun(run.path.name if unique else str(run.path), run) for run in read]
    warnings = mark_incomparable(compared)
    headers = [name for name, _ in COLUMNS]
    rows = [[get(entry) for _, get in COLUMNS] for entry in compared]

    out = Path(out)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([headers, *rows])
    write_text(out / "comparison.csv", buffer.getvalue())
    report = Report("rnnlab compare")
    report.table(headers, rows)
    for warning in warnings:
        report.text(warning)
    histories = {entry.name: entry.run.history for entry in compared}
    for metric in ("val_loss", "val_accuracy"):
        plot_overlay(histories, metric, out / f"{metric}.png")
        report.image(f"{metric}.png", f"{metric} of every run, per epoch")
    report.write(out, "comparison")
    return Comparison(headers, rows, warnings, out)
