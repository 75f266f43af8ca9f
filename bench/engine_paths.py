"""What each speed path of rnnlab's engines is worth, measured against plain Keras.

    python bench/engine_paths.py --data ../shared/data/aclImdb_labeled.tar.gz

The xla engine is the keras engine plus three paths (rnnlab/engine); each is
switched on alone, then all together, and every variant trains models A and B
for a few epochs in a fresh process, the variants interleaved, `--repeats`
times (default 5).  Two start-up paths are timed the same way: JAX's
compilation cache (the first epoch of a new process, with an empty and with a
warm cache) and importing Keras without scikit-learn.

A path is worth keeping when its median gain is at least 5% and its range does
not overlap the baseline's; the last column says so.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import replace

os.environ.setdefault("KERAS_BACKEND", "jax")

from common import epoch_result, epoch_timer, run_child, spread  # noqa: E402

from rnnlab.engine import ENGINES  # noqa: E402

KERAS, XLA = ENGINES["keras"], ENGINES["xla"]
VARIANTS = {  # name -> (engine, models it applies to)
    "keras": (KERAS, ("simplernn-onehot", "simplernn-embedding")),
    "+ fused steps": (
        replace(KERAS, steps_per_execution=XLA.steps_per_execution, fuse_steps=True),
        ("simplernn-onehot", "simplernn-embedding"),
    ),
    "+ validation batches of 1024": (
        replace(KERAS, eval_batch_size=XLA.eval_batch_size),
        ("simplernn-onehot", "simplernn-embedding"),
    ),
    "+ hoisted SimpleRNN": (replace(KERAS, layers=XLA.layers), ("simplernn-embedding",)),
    "xla (all)": (XLA, ("simplernn-onehot", "simplernn-embedding")),
}


def train_variant(variant: str, model: str, data: str, epochs: int) -> list[float]:
    """train.py's recipe with the variant's engine (no run folder: only epochs are timed)."""
    import keras

    from rnnlab import tutorial
    from rnnlab.engine.startup import use_compilation_cache
    from rnnlab.models import build_model

    engine = VARIANTS[variant][0]
    use_compilation_cache()
    split = tutorial.load_and_split(data)
    keras.utils.set_random_seed(42)
    net = build_model(model, layers=engine.layer_namespace())
    tutorial.compile_model(net, **engine.compile_options())
    engine.prepare(net)
    timer = epoch_timer()
    with tempfile.TemporaryDirectory() as tmp:
        callbacks = [tutorial.checkpoint(f"{tmp}/best.keras"), tutorial.early_stopping(epochs)]
        tutorial.fit(
            net,
            split,
            [*callbacks, timer],
            epochs=epochs,
            verbose=0,
            validation_batch_size=engine.validation_batch_size(net, tutorial.BATCH_SIZE),
        )
    return timer.seconds


def import_seconds(hide_sklearn: bool) -> float:
    importing = "import keras"
    if hide_sklearn:
        importing = "from rnnlab.engine.startup import keras_without_sklearn\n"
        importing += "with keras_without_sklearn():\n    import keras"
    code = "\n".join(
        [
            "import os, time",
            "os.environ['KERAS_BACKEND'] = 'jax'",
            "start = time.perf_counter()",
            importing,
            "print(time.perf_counter() - start)",
        ]
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout)


def verdict(baseline: list[float], variant: list[float]) -> str:
    gain = 1 - statistics.median(variant) / statistics.median(baseline)
    keep = gain >= 0.05 and max(variant) < min(baseline)
    return f"{gain:+.0%} " + ("keep" if keep else "within noise or under 5%: remove")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", default=os.environ.get("RNNLAB_DATA"), help="IMDB source")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (>= 3)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved runs of each variant")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.data:
        parser.error("pass --data PATH or set RNNLAB_DATA")
    if args.child:
        variant, model = args.child.split("|")
        print(json.dumps(epoch_result(train_variant(variant, model, args.data, args.epochs))))
        return

    runs = [(v, m) for v, (_, models) in VARIANTS.items() for m in models]
    seconds = {run: [] for run in runs}
    startup = {key: [] for key in ("cold", "warm", "with", "without")}
    warm_cache = tempfile.mkdtemp(prefix="jax-cache-")
    data_args = ["--data", args.data, "--epochs", str(args.epochs)]
    print(f"data: {args.data}; {args.repeats} repeats; cores: {os.cpu_count()}", flush=True)
    for repeat in range(args.repeats):
        for variant, model in runs:
            result = run_child(__file__, f"{variant}|{model}", data_args)
            seconds[variant, model].append(result["per_epoch"])
            print(f"  [{repeat + 1}] {variant}, {model}: {result['per_epoch']:.3f} s/epoch")
        for key, cache in (("cold", tempfile.mkdtemp()), ("warm", warm_cache)):
            env = {"JAX_COMPILATION_CACHE_DIR": cache}
            result = run_child(__file__, "keras|simplernn-embedding", data_args, env=env)
            startup[key].append(result["first_epoch"])
        startup["with"].append(import_seconds(hide_sklearn=False))
        startup["without"].append(import_seconds(hide_sklearn=True))

    row = "{:<30} {:<20} {:>22}   {}".format
    print(f"\ns/epoch: median [min-max] of {args.repeats} runs, each the median of its epochs 2+")
    print(row("variant", "model", "s/epoch", "gain vs keras"))
    for variant, model in runs:
        base = seconds["keras", model]
        gain = "" if variant == "keras" else verdict(base, seconds[variant, model])
        print(row(variant, model, spread(seconds[variant, model]), gain))
    print("\nstart-up, seconds, median [min-max]")
    print(row("first epoch of model B", "empty JAX cache", spread(startup["cold"]), ""))
    gain = verdict(startup["cold"], startup["warm"])
    print(row("", "warm JAX cache", spread(startup["warm"]), gain))
    print(row("import keras", "with scikit-learn", spread(startup["with"]), ""))
    gain = verdict(startup["with"], startup["without"])
    print(row("", "without scikit-learn", spread(startup["without"]), gain))


if __name__ == "__main__":
    sys.exit(main())
