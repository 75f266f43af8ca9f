"""`rnnlab compare`: runs side by side, as a table and as overlaid curves.

Reads only the files of each run folder (no Keras).  comparison.md and .html are
written in the language asked for (`lang`, rnnlab/i18n.py); comparison.csv and
the warnings printed stay English, for scripts.
"""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from . import runcheck, runs
from .files import write_text
from .i18n import N_, gettext_for, translation
from .report import Report, plot_overlay


@dataclass
class ComparedRun:
    name: str  # the folder's name, or its path when two folders share a name
    run: runs.Run
    note: str = ""  # why its numbers are not directly comparable with the first run's
    differs: list[str] = field(default_factory=list)  # settings unlike those of the run
    against: str = ""  # named here (the first)


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


def difference(entry: ComparedRun, lang="en") -> str:
    """Why its numbers are not directly comparable with the first run's ("" if they are)."""
    if not entry.differs:
        return ""
    return (
        translation(lang)
        .gettext("different {settings} from {run}")
        .format(settings=", ".join(entry.differs), run=entry.against)
    )


def note(entry: ComparedRun, lang="en") -> str:
    """The last column: unfinished, or not comparable with the first run."""
    text = difference(entry, lang)
    if runs.is_finished(entry.run.path):
        return text
    unfinished = translation(lang).gettext("unfinished")
    return f"{unfinished} {text}".strip()


COLUMNS = [  # the English names: comparison.csv's columns, and the catalogue's ids
    (N_("run"), lambda r: r.name),
    (N_("model"), lambda r: r.run.config.model),
    (N_("engine"), lambda r: r.run.metrics.get("engine", r.run.config.engine)),
    (N_("parameters"), _metric("parameters", None)),
    (N_("best epoch"), _metric("best_epoch", None)),
    (N_("epochs run"), _metric("epochs_run", None)),
    (N_("best val_loss"), _metric("best_val_loss")),
    (N_("best val_accuracy"), _metric("best_val_accuracy")),
    (N_("test accuracy"), _metric("test_accuracy")),
    (N_("s/epoch"), _metric("seconds_per_epoch", 3)),
    (N_("peak MB"), _metric("peak_memory_mb", 0)),
    (N_("note"), note),  # last
]


def _comparable_key(run: runs.Run) -> tuple:
    return (run.data["content_hash"], run.config.tokenizer, run.config.num_words,
            run.config.maxlen)  # fmt: skip


def mark_incomparable(compared: list[ComparedRun]) -> list[str]:
    """Note, in each run and as warnings, the runs whose data, tokenizer, num_words or maxlen
    differ from the first run's (their numbers are not directly comparable)."""
    first = compared[0]
    reference = _comparable_key(first.run)
    warnings = []
    for entry in compared[1:]:
        key = _comparable_key(entry.run)
        if key != reference:
            what = [
                name
                for name, a, b in zip(
                    ("data", "tokenizer", "num_words", "maxlen"), reference, key, strict=True
                )
                if a != b
            ]
            entry.differs, entry.against = what, first.name
            entry.note = difference(entry)
            warnings.append(f"warning: {entry.name}: {entry.note}; compare with care")
    return warnings


def compare(run_dirs, out, allow_unfinished=False, lang="en") -> Comparison:
    """Write comparison.csv, comparison.md, comparison.html (images embedded),
    val_loss.png and val_accuracy.png to `out`; the report in `lang`."""
    _ = gettext_for(lang)
    read = [runs.read(d, allow_unfinished) for d in run_dirs]
    notes = []
    for run in read:  # a NaN in metrics.json is shown as missing, and said
        run.metrics, found = runcheck.finite_metrics(
            run.metrics, runs.NUMBERS, run.path / runs.METRICS
        )
        notes += found
    names = [run.path.name for run in read]
    unique = len(set(names)) == len(names)  # same folder names from different parents?
    compared = [ComparedRun(run.path.name if unique else str(run.path), run) for run in read]
    warnings = notes + mark_incomparable(compared)
    headers = [name for name, _get in COLUMNS]
    rows = [[get(entry) for _name, get in COLUMNS] for entry in compared]

    out = Path(out)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([headers, *rows])
    write_text(out / "comparison.csv", buffer.getvalue())
    report = Report(_("rnnlab compare"), lang)
    table = [[*row[:-1], note(entry, lang)] for row, entry in zip(rows, compared, strict=True)]
    report.table([_(name) for name in headers], table)
    for entry in compared[1:]:
        if entry.differs:
            report.text(
                _("warning: {run}: {note}; compare with care").format(
                    run=entry.name, note=difference(entry, lang)
                )
            )
    histories = {entry.name: entry.run.history for entry in compared}
    for metric in ("val_loss", "val_accuracy"):
        plot_overlay(histories, metric, out / f"{metric}.png", lang=lang)
        report.image(f"{metric}.png", _("{metric} of every run, per epoch").format(metric=metric))
    report.write(out, "comparison")
    return Comparison(headers, rows, warnings, out)
