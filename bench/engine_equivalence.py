"""Are the fused kernels the same models as Keras'?  Best val_accuracy over seeds, paired.

    python bench/engine_equivalence.py --data ../shared/data/aclImdb_labeled.tar.gz

The fused engine gives Keras' numbers to float32 rounding, not bit for bit, and
small RNNs at learning rate 1e-4 amplify rounding until another epoch is best:
one seed cannot tell whether the engines differ.  So models B and lstm train
with seeds 42-51 on both engines (a sweep: 40 trainings), each seed's two
results are paired, and two one-sided t-tests (TOST) ask whether the mean
difference lies within +/- 0.01 of best val_accuracy.  Rerunning continues
the same sweep folder (--out).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from rnnlab.sweep.stats import equivalence_test, paired_difference, summarize

MODELS, ENGINES, SEEDS, MARGIN = ("simplernn-embedding", "lstm"), ("keras", "fused"), 10, 0.01


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", default=os.environ.get("RNNLAB_DATA"), help="IMDB source")
    parser.add_argument("--out", default="runs/bench/engine-equivalence", help="sweep folder")
    parser.add_argument("--jobs", default=str(os.cpu_count() or 1))
    args = parser.parse_args()
    if not args.data:
        parser.error("pass --data PATH or set RNNLAB_DATA")
    command = [sys.executable, "-m", "rnnlab.cli", "sweep", "--data", args.data, "--quiet"]
    command += ["--models", ",".join(MODELS), "--engine", ",".join(ENGINES)]
    command += ["--seeds", str(SEEDS), "--jobs", args.jobs, "--out", args.out]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    results: dict[tuple, dict[int, float]] = {}
    for trial in Path(args.out).glob("trials/*"):
        settings = json.loads((trial / "config.json").read_text())["settings"]
        metrics = json.loads((trial / "metrics.json").read_text())
        key = (settings["model"], settings["engine"])
        results.setdefault(key, {})[settings["seed"]] = metrics["best_val_accuracy"]

    row = "{:<22} {:<8} {:>20} {:>22} {:>8}  {}".format
    print(f"best val_accuracy over seeds 42-{42 + SEEDS - 1}; TOST margin +/- {MARGIN}")
    print(row("model", "engine", "mean ± sd", "fused - keras [95% CI]", "p (TOST)", "verdict"))
    for model in MODELS:
        keras, fused = results[(model, "keras")], results[(model, "fused")]
        for engine, values in (("keras", keras), ("fused", fused)):
            s = summarize(list(values.values()))
            print(row(model, engine, f"{s.mean:.4f} ± {s.sd:.4f}", "", "", ""))
        test = equivalence_test(fused, keras, MARGIN)
        d = paired_difference(fused, keras)
        interval = f"{d.mean:+.4f} [{d.ci_low:+.4f}, {d.ci_high:+.4f}]"
        print(row("", "", "", interval, f"{test.p_value:.4f}", test.verdict))


if __name__ == "__main__":
    main()
