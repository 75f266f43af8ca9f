"""Seconds per epoch and peak memory: the book's code as written vs rnnlab's engines.

    python bench/epoch_speed.py --data ../shared/data/aclImdb_labeled.tar.gz

Every configuration trains in its own process (so each peak memory is its own)
on the same data: the tutorial's split and padding, batch 64, validation every
epoch, the best model saved, early stopping.  Reported: the median seconds of
epochs 2-5, the first epoch (compilation included) and the peak resident
memory; with --repeats N, each configuration runs N times, interleaved, and
the medians of the medians are shown with their range.

`default <model>` is `rnnlab train` with no --engine: the engine a user gets (the
one it resolved to is shown).  The load average (/proc/loadavg, 1 minute) is
recorded before each configuration: on a shared machine, read ratios within
one run.  The last table is the issue's: one row per model, seconds per epoch
and each one's ratio to the book's code as written.

`book <model>` is the tutorial module (rnnlab/tutorial.py) run as the book
runs it, on plain Keras with its ModelCheckpoint and EarlyStopping: model A
reads the one-hot tensor (`tutorial.one_hot`: float32, what the book's
TensorFlow 2 code got; Keras 3's to_categorical would give float64, 8 GB for
the training split alone).  `<engine> <model>` is `rnnlab train --engine ...`.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")  # as rnnlab does; before Keras is imported

from common import epoch_result, epoch_timer, run_child, spread  # noqa: E402

from rnnlab.engine import ENGINES  # noqa: E402
from rnnlab.models import KERAS_MODELS, chapter_models  # noqa: E402

BOOK_MODELS = chapter_models("9-2") + chapter_models("9-3")
DEFAULT = "default"  # `rnnlab train` without --engine
ONE_HOT = "simplernn-onehot"  # the book's model A, whose input is a 4 GB one-hot tensor


def run_book(model: str, data: str, epochs: int):
    """The book's recipe on plain Keras, through rnnlab/tutorial.py."""
    from dataclasses import replace

    import keras

    from rnnlab import tutorial
    from rnnlab.models import MODELS

    split = tutorial.load_and_split(data)
    keras.utils.set_random_seed(42)
    if model == "simplernn-onehot":  # the book feeds model A one-hot vectors
        split = replace(split, train_x=tutorial.one_hot(split.train_x))
        split = replace(split, val_x=tutorial.one_hot(split.val_x))
        net = tutorial.model_a_as_written()
    else:
        net = tutorial.build_model(MODELS[model].hidden_layers)
    tutorial.compile_model(net)
    timer = epoch_timer()
    with tempfile.TemporaryDirectory() as tmp:
        callbacks = [tutorial.checkpoint(f"{tmp}/best.keras"), tutorial.early_stopping(epochs)]
        tutorial.fit(net, split, [*callbacks, timer], epochs=epochs, verbose=0)
    return timer


def run_engine(model: str, engine: str, data: str, epochs: int):
    """(the epoch timer, the engine that ran); engine "default": TrainConfig's."""
    from rnnlab.config import TrainConfig
    from rnnlab.train import train

    chosen = {} if engine == DEFAULT else {"engine": engine}
    config = TrainConfig(model=model, data=data, epochs=epochs, patience=epochs, **chosen)
    timer = epoch_timer()
    with tempfile.TemporaryDirectory() as tmp:
        metrics = train(config, f"{tmp}/run", verbose=0, callbacks=[timer]).metrics
    return timer, metrics["engine"]


def child(args):
    kind, model = args.child.split(" ")
    ran = "keras"
    if kind == "book":
        timer = run_book(model, args.data, args.epochs)
    else:
        timer, ran = run_engine(model, kind, args.data, args.epochs)
    print(json.dumps({**epoch_result(timer.seconds, timer.cpu_seconds), "engine": ran}))


def load_average() -> float:
    """The 1-minute load average (Linux), or nan."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return float("nan")


def issue_table(per_epoch: dict, engines: list[str], resolved: dict, title: str) -> None:
    """Models as rows, the book's code and each engine as columns, ratios to the book."""
    models = sorted({name.split(" ")[1] for name in per_epoch}, key=list(KERAS_MODELS).index)
    columns = ["book", *engines]
    heads = [resolved.get(c, c) if c == DEFAULT else c for c in columns]
    print(f"\n{title} (ratio: the book's as written / this; A against the book's B)")
    print("| model | " + " | ".join(heads) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for model in models:
        book = per_epoch.get(f"book {'simplernn-embedding' if model == ONE_HOT else model}")
        cells = []
        for column in columns:
            seconds = per_epoch.get(f"{column} {model}")
            if seconds is None:
                cells.append("–")
            elif column == "book" or not book:
                cells.append(f"{seconds:.3f}")
            else:
                cells.append(f"{seconds:.3f} ({book / seconds:.1f}x)")
        xla, default = per_epoch.get(f"xla {model}"), per_epoch.get(f"{DEFAULT} {model}")
        extra = f" default vs xla {xla / default:.1f}x" if xla and default else ""
        print(f"| {model} | " + " | ".join(cells) + f" |{extra}")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", default=os.environ.get("RNNLAB_DATA"), help="IMDB source")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per configuration (>= 3)")
    parser.add_argument("--models", nargs="+", default=list(KERAS_MODELS), choices=KERAS_MODELS)
    parser.add_argument(
        "--engines", nargs="+", default=["keras", "xla", DEFAULT], choices=[*ENGINES, DEFAULT]
    )
    parser.add_argument(
        "--book-one-hot", action="store_true", help="also the book's model A (4-8 GB of memory)"
    )
    parser.add_argument("--repeats", type=int, default=1, help="interleaved runs of each")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.data:
        parser.error("pass --data PATH or set RNNLAB_DATA")
    if args.child:
        return child(args)

    names = [
        f"book {m}" for m in args.models if m in BOOK_MODELS and (m != ONE_HOT or args.book_one_hot)
    ]
    names += [f"{engine} {m}" for m in args.models for engine in args.engines]
    print(f"data: {args.data}; {args.epochs} epochs each, {args.repeats} repeats; "
          f"cores: {os.cpu_count()}", flush=True)  # fmt: skip
    results = {name: [] for name in names}
    resolved = {}
    for repeat in range(args.repeats):
        for name in names:
            load = load_average()
            result = run_child(__file__, name, ["--data", args.data, "--epochs", str(args.epochs)])
            results[name].append(result)
            if name.startswith(DEFAULT) and "engine" in result:
                resolved[DEFAULT] = f"default ({result['engine']})"
            shown = result.get("error") or (
                f"{result['per_epoch']:.3f} s/epoch, CPU {result['cpu_per_epoch']:.3f} s"
            )
            print(f"  [{repeat + 1}/{args.repeats}] {name}: {shown}   load {load:.2f} before,"
                  f" {load_average():.2f} after", flush=True)  # fmt: skip

    print()
    row = "{:<30} {:>24} {:>12} {:>9} {:>22}"
    print(
        row.format("configuration", "s/epoch median [range]", "first epoch", "peak MB", "vs book")
    )
    per_epoch, cpu_per_epoch = {}, {}
    for name, runs in results.items():
        good = [r for r in runs if "error" not in r]
        if not good:
            print(f"{name:<30} {runs[0]['error']}")
            continue
        per_epoch[name] = statistics.median(r["per_epoch"] for r in good)
        cpu_per_epoch[name] = statistics.median(r["cpu_per_epoch"] for r in good)
        model = name.split(" ")[1]
        book = per_epoch.get(f"book {model}")
        ratio = f"{book / per_epoch[name]:.2f}x" if book and not name.startswith("book") else ""
        if model == "simplernn-onehot" and "book simplernn-embedding" in per_epoch:
            ratio += f" ({per_epoch['book simplernn-embedding'] / per_epoch[name]:.2f}x book B)"
        first = statistics.median(r["first_epoch"] for r in good)
        peak = max(r["peak_mb"] for r in good)
        cells = spread([r["per_epoch"] for r in good]), f"{first:.2f}", f"{peak:,.0f}", ratio
        print(row.format(name, *cells))
    issue_table(per_epoch, args.engines, resolved, "seconds per epoch, wall")
    issue_table(cpu_per_epoch, args.engines, resolved, "CPU seconds per epoch (both cores)")


if __name__ == "__main__":
    sys.exit(main())
