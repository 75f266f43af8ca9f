"""`rnnlab train --preset nsmc` over seeds: test accuracy, wall time, peak memory.

    python bench/nsmc_preset.py --data ../shared/data/nsmc --seeds 42,43,44

The issue's targets: a mean test accuracy of at least 0.87 over 3 seeds (the TF-IDF
of character 1-3-grams, `char-tfidf-logreg`, measured on the same files), and at most
10 minutes per training alone on a 2-core CPU.  Each seed runs as its own command, one
after the other, as a user would run it, so the wall time includes learning the
subword vocabulary (or reading it from the cache after the first seed) and Keras'
start; run it on an otherwise idle machine for times worth reporting.  The baseline is
trained once beside them, so the ratio comes from the same machine and run.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def train(argv: list[str], out: Path) -> tuple[dict, float]:
    """(metrics.json of `rnnlab train ARGV --out OUT`, its wall seconds)."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "rnnlab.cli", "train", *argv, "--out", str(out), "--quiet"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    return json.loads((out / "metrics.json").read_text(encoding="utf-8")), seconds


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", required=True, help="a folder of NSMC's two files, or nsmc")
    parser.add_argument("--seeds", default="42,43,44", help="comma list (default 42,43,44)")
    parser.add_argument("--out", help="where the run folders go (default: a temporary folder)")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="nsmc-preset-"))
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        argv = ["--preset", "nsmc", "--data", args.data, "--seed", str(seed)]
        metrics, seconds = train(argv, out / f"seed{seed}")
        rows.append((seed, metrics["test_accuracy"], seconds, metrics["peak_memory_mb"]))
        print(f"seed {seed}: test {metrics['test_accuracy']:.4f}, best val_accuracy "
              f"{metrics['best_val_accuracy']:.4f}, {seconds:.0f} s, "
              f"{metrics['peak_memory_mb']:,.0f} MB", flush=True)  # fmt: skip
    baseline, seconds = train(
        ["--model", "char-tfidf-logreg", "--data", args.data], out / "char-tfidf-logreg"
    )
    accuracies = [row[1] for row in rows]
    spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
    print(f"char-tfidf-logreg: test {baseline['test_accuracy']:.4f}, {seconds:.0f} s")
    print(
        f"--preset nsmc: test {statistics.mean(accuracies):.4f} +/- {spread:.4f} over "
        f"{len(rows)} seeds (target >= 0.87); {max(row[2] for row in rows) / 60:.1f} min for "
        f"the slowest training (target <= 10 min alone on 2 cores); "
        f"{statistics.mean(accuracies) - baseline['test_accuracy']:+.4f} against the baseline"
    )


if __name__ == "__main__":
    main()
