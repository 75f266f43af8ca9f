"""Trainings per minute: a sweep's long-lived workers vs one `rnnlab train` process each.

    python bench/sweep_throughput.py --data ../shared/data/aclImdb_labeled.tar.gz

The same 20 trainings (model B, 5 epochs each, seeds 42-61) three ways, in one
run: `rnnlab sweep --jobs 2`, `rnnlab sweep --jobs 1`, and 20 separate
`rnnlab train` commands two at a time.  Reported: the wall time and
trainings per minute of each, the sweep's speed-up over separate commands,
its scaling from 1 to 2 jobs (efficiency = speed-up / jobs), and the
per-trial overhead of a worker for shapes it has already compiled (a trial's
time minus its epochs, for every trial but a worker's first).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRIALS, EPOCHS = 20, 5
SETTINGS = ["--epochs", str(EPOCHS), "--patience", str(EPOCHS)]  # every trial runs 5 epochs


def rnnlab(*args: str) -> list[str]:
    return [sys.executable, "-m", "rnnlab.cli", *args]


def timed_sweep(data: str, folder: Path, jobs: int) -> dict:
    grid = ["--models", "simplernn-embedding", *SETTINGS, "--seeds", str(TRIALS)]
    command = rnnlab("sweep", "--data", data, *grid, "--jobs", str(jobs), "--out", str(folder))
    started = time.perf_counter()
    subprocess.run([*command, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    metrics = [json.loads((p / "metrics.json").read_text()) for p in folder.glob("trials/*")]
    return {"wall": wall, "metrics": metrics}


def timed_commands(data: str, folder: Path, at_once: int) -> float:
    """TRIALS separate `rnnlab train` processes, `at_once` at a time."""
    started = time.perf_counter()
    pending = list(range(42, 42 + TRIALS))
    running: list[subprocess.Popen] = []
    while pending or running:
        while pending and len(running) < at_once:
            seed = pending.pop(0)
            out = ["--out", str(folder / f"seed{seed}"), "--quiet"]
            command = rnnlab("train", "--data", data, "--seed", str(seed), *SETTINGS, *out)
            running.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))
        running[0].wait()
        if running[0].returncode:
            raise SystemExit(f"rnnlab train failed: exit {running[0].returncode}")
        running.pop(0)
    return time.perf_counter() - started


def overhead_per_trial(metrics: list[dict]) -> float:
    """Median seconds a trial spends outside its epochs, its worker's first trial left out
    (the slowest first epoch per worker holds the compilation)."""
    by_first_epoch = sorted(metrics, key=lambda m: m["first_epoch_seconds"])
    later = by_first_epoch[: len(metrics) - 2]  # two workers: two first trials
    return statistics.median(m["total_seconds"] - m["train_seconds"] for m in later)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", default=os.environ.get("RNNLAB_DATA"), help="IMDB source")
    args = parser.parse_args()
    if not args.data:
        parser.error("pass --data PATH or set RNNLAB_DATA")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run(
            rnnlab("data", "--data", args.data, "--out", str(tmp / "data")),
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip  (cache the data)
        two = timed_sweep(args.data, tmp / "two", 2)
        one = timed_sweep(args.data, tmp / "one", 1)
        separate = timed_commands(args.data, tmp / "separate", 2)

    def per_minute(wall: float) -> str:
        return f"{TRIALS / wall * 60:5.1f}"

    print(f"{TRIALS} trainings of model B, {EPOCHS} epochs each; cores: {os.cpu_count()}")
    row = "{:<44} {:>9} {:>16}".format
    print(row("", "wall (s)", "trainings/min"))
    print(row("rnnlab sweep --jobs 2", f"{two['wall']:.1f}", per_minute(two["wall"])))
    print(row("rnnlab sweep --jobs 1", f"{one['wall']:.1f}", per_minute(one["wall"])))
    print(row("20 x rnnlab train, two at a time", f"{separate:.1f}", per_minute(separate)))
    print(f"sweep (2 jobs) vs separate commands: {separate / two['wall']:.2f}x the throughput")
    speedup = one["wall"] / two["wall"]
    print(f"scaling 1 -> 2 jobs: {speedup:.2f}x, efficiency {speedup / 2:.2f}")
    print(
        f"per-trial overhead, shapes already compiled: {overhead_per_trial(two['metrics']):.2f} s"
    )
    training = sum(m["train_seconds"] for m in two["metrics"])
    all_in = (two["wall"] * 2 - training) / TRIALS
    print(f"everything but epochs, per trial (start-up, data, storage included): {all_in:.2f} s")
    epochs = statistics.median(m["seconds_per_epoch"] for m in two["metrics"])
    print(f"(median seconds per epoch inside the sweep's trials: {epochs:.2f})")


if __name__ == "__main__":
    main()
