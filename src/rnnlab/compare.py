"""`rnnlab compare`: runs side by side, as a table and as overlaid curves.

Reads only the files of each run folder (no Keras): metrics.json, config.json
and history.csv.
"""

import csv
import io
import json
from pathlib import Path

from .errors import RnnlabError
from .files import write_text
from .report import Report, plot_overlay
from .run_folder import read_history

COLUMNS = [
    ("run", lambda r: r["name"]),
    ("model", lambda r: r["metrics"]["model"]),
    ("parameters", lambda r: r["metrics"]["parameters"]),
    ("best epoch", lambda r: r["metrics"]["best_epoch"]),
    ("epochs run", lambda r: r["metrics"]["epochs_run"]),
    ("best val_loss", lambda r: round(r["metrics"]["best_val_loss"], 4)),
    ("best val_accuracy", lambda r: round(r["metrics"]["best_val_accuracy"], 4)),
    ("test accuracy", lambda r: round(r["metrics"]["test_accuracy"], 4)),
    ("s/epoch", lambda r: round(r["metrics"]["seconds_per_epoch"], 3)),
    ("peak MB", lambda r: round(r["metrics"]["peak_memory_mb"])),
    ("note", lambda r: r["note"]),
]


def read_run(run_dir: Path) -> dict:
    """The files of a finished run folder, or a one-line error."""
    run_dir = Path(run_dir)
    missing = [
        n for n in ("metrics.json", "config.json", "history.csv") if not (run_dir / n).is_file()
    ]
    if missing:
        raise RnnlabError(
            f"{run_dir} is not a finished run folder of rnnlab train (no {', '.join(missing)})"
        )
    try:
        return {
            "name": run_dir.name,
            "path": run_dir,
            "metrics": json.loads((run_dir / "metrics.json").read_text()),
            "config": json.loads((run_dir / "config.json").read_text()),
            "history": read_history(run_dir / "history.csv"),
            "note": "",
        }
    except (ValueError, KeyError) as error:
        raise RnnlabError(f"{run_dir} has an unreadable metrics or config file ({error})") from None


def _comparable_key(run: dict) -> tuple:
    settings = run["config"]["settings"]
    return (run["config"]["data"]["content_hash"], settings["num_words"], settings["maxlen"])


def mark_incomparable(runs: list[dict]) -> list[str]:
    """Note, in each run and as warnings, the runs whose data, num_words or maxlen
    differ from the first run's (their numbers are not directly comparable)."""
    reference = _comparable_key(runs[0])
    warnings = []
    for run in runs[1:]:
        key = _comparable_key(run)
        if key != reference:
            what = [
                name
                for name, a, b in zip(("data", "num_words", "maxlen"), reference, key, strict=True)
                if a != b
            ]
            run["note"] = f"different {', '.join(what)} from {runs[0]['name']}"
            warnings.append(f"warning: {run['name']}: {run['note']}; compare with care")
    return warnings


def compare(run_dirs, out) -> dict:
    """Write comparison.csv, comparison.md, comparison.html (images embedded),
    val_loss.png and val_accuracy.png to `out`."""
    runs = [read_run(d) for d in run_dirs]
    names = [r["name"] for r in runs]
    if len(set(names)) < len(names):  # same folder names from different parents
        for r in runs:
            r["name"] = str(r["path"])
    warnings = mark_incomparable(runs)
    headers = [name for name, _ in COLUMNS]
    rows = [[get(r) for _, get in COLUMNS] for r in runs]

    out = Path(out)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([headers, *rows])
    write_text(out / "comparison.csv", buffer.getvalue())
    report = Report("rnnlab compare")
    report.table(headers, rows)
    for warning in warnings:
        report.text(warning)
    histories = {r["name"]: r["history"] for r in runs}
    for metric in ("val_loss", "val_accuracy"):
        plot_overlay(histories, metric, out / f"{metric}.png")
        report.image(f"{metric}.png", f"{metric} of every run, per epoch")
    report.write(out, "comparison")
    return {"headers": headers, "rows": rows, "warnings": warnings, "out": out}
