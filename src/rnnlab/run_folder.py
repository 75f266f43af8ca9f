"""The run folder: what `rnnlab train` writes, and how it is read back.

Light on purpose (no Keras), so that `rnnlab compare` starts instantly.
"""

import csv
import io
from datetime import datetime
from pathlib import Path

from .errors import RnnlabError
from .files import write_text

RUN_FILES = (
    "config.json",
    "summary.txt",
    "history.csv",
    "best.keras",
    "curves.png",
    "metrics.json",
    "preprocessing.json",  # what predicting on raw text needs (see predict.py)
)


def prepare_out_dir(out: Path, overwrite: bool) -> Path:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RnnlabError(f"--out {out} is a file; give a folder")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise RnnlabError(
                f"run folder {out} is not empty; choose another --out or pass --overwrite"
            )
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    return out


def default_run_dir(model: str) -> Path:
    return Path("runs") / f"{model}-{datetime.now():%Y%m%d-%H%M%S}"


def write_history(path: Path, history: dict) -> None:
    keys = sorted(history)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for epoch in range(len(history[keys[0]])):
        writer.writerow([epoch + 1, *(repr(float(history[k][epoch])) for k in keys)])
    write_text(path, buffer.getvalue())


def read_history(path: Path) -> dict[str, list[float]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {key: [float(row[key]) for row in rows] for key in rows[0]} if rows else {}
