"""The run folder: what `rnnlab train` writes, and how it is read back.

Light on purpose (no Keras), so that `rnnlab compare` starts instantly and
`rnnlab reproduce` can train each model in a process of its own.
"""

import csv
import io
import json
import resource
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from .child import start_python
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


def peak_memory_mb() -> float:
    """The peak resident memory of this process so far (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class RunResult:
    out: Path
    metrics: dict
    history: dict
    summary: str
    model: object = None  # the keras.Model with the best weights, when trained in this process


def read_run_result(out: Path) -> RunResult:
    """A finished run folder's metrics, history and summary (the model stays on disk)."""
    out = Path(out)
    return RunResult(
        out,
        json.loads((out / "metrics.json").read_text()),
        read_history(out / "history.csv"),
        (out / "summary.txt").read_text().rstrip("\n"),
    )


_TRAIN_JOB = """
import sys
from rnnlab.child import keras_without_sklearn
with keras_without_sklearn():
    from rnnlab.train import train_job
    sys.exit(train_job(sys.argv[1]))
"""


def train_in_subprocess(config, out: Path, overwrite=False, verbose=2, log=print) -> RunResult:
    """`train.train(config, out, ...)` in a fresh Python, so that several models
    can train at once, one per core.  Its output reaches `log` line by line,
    each line prefixed with the model's name."""
    job = json.dumps(
        {"config": asdict(config), "out": str(out), "overwrite": overwrite, "verbose": verbose}
    )
    lines = []
    with start_python(
        _TRAIN_JOB, job, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as child:
        for line in child.stdout:
            lines.append(line.rstrip())
            if verbose:
                log(f"[{config.model}] {lines[-1]}")
    if child.returncode != 0:
        last = next((line for line in reversed(lines) if line.strip()), "no output")
        raise RnnlabError(f"training {config.model} failed: {last.removeprefix('error: ')}")
    return read_run_result(out)
