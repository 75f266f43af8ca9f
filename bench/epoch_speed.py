"""Seconds per epoch and peak memory: the tutorial as written vs rnnlab's models.

    python bench/epoch_speed.py --data ../shared/data/aclImdb_labeled.tar.gz

Every configuration trains in its own process (so each peak memory is its own)
on the same data: the tutorial's split and padding, batch 64, validation every
epoch, the best model saved.  Reported: the median seconds of epochs 2-5, the
first epoch (compilation included) and the process's peak resident memory.

"The tutorial as written" is its code on Keras 3 + JAX: `to_categorical` and
`SimpleRNN(8, input_shape=(100, 500))` for model A, `Embedding` + `SimpleRNN`
for model B, with ModelCheckpoint and EarlyStopping.  Keras 3's
`to_categorical` returns float64: 8 GB for the training split alone, and over
20 GB peak, which this 24 GB machine may not survive.  By default the one-hot
tensor is therefore built in float32, what the book's TensorFlow 2 code got;
`--tutorial-onehot keras` runs `to_categorical` literally.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")  # as rnnlab does; before Keras is imported

from rnnlab.models import MODELS  # noqa: E402  (light: no Keras import)

TUTORIAL = ("tutorial-onehot", "tutorial-embedding")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_tutorial(name, data, epochs, onehot_mode):
    """The tutorial's code, as written, on Keras 3 + JAX (model A or B)."""
    import keras
    import numpy as np

    from rnnlab.data import open_imdb, tutorial_split

    arrays = tutorial_split(open_imdb(data), num_words=500, maxlen=100)
    keras.utils.set_random_seed(42)
    train_x, val_x = arrays["train_x"], arrays["val_x"]
    if name == "tutorial-onehot":
        if onehot_mode == "keras":
            train_x, val_x = keras.utils.to_categorical(train_x), keras.utils.to_categorical(val_x)
        else:
            eye = np.eye(500, dtype="float32")
            train_x, val_x = eye[train_x], eye[val_x]
        layers = [keras.Input(shape=(100, 500)), keras.layers.SimpleRNN(8)]
    else:
        layers = [
            keras.Input(shape=(100,)),
            keras.layers.Embedding(500, 16),
            keras.layers.SimpleRNN(8),
        ]
    model = keras.Sequential([*layers, keras.layers.Dense(1, activation="sigmoid")])
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-4),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )

    seconds = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    with tempfile.TemporaryDirectory() as tmp:
        model.fit(
            train_x,
            arrays["train_y"],
            epochs=epochs,
            batch_size=64,
            validation_data=(val_x, arrays["val_y"]),
            callbacks=[
                keras.callbacks.ModelCheckpoint(f"{tmp}/best.keras", save_best_only=True),
                keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True),
                Timer(),
            ],
            verbose=0,
        )
    return seconds


def run_rnnlab(name, data, epochs):
    from rnnlab.train import TrainConfig, train

    with tempfile.TemporaryDirectory() as tmp:
        config = TrainConfig(model=name, data=data, epochs=epochs, patience=epochs)
        result = train(config, f"{tmp}/run", verbose=0)
    return result.metrics["epoch_seconds"]


def child(args):
    started = time.perf_counter()
    if args.child in TUTORIAL:
        seconds = run_tutorial(args.child, args.data, args.epochs, args.tutorial_onehot)
    else:
        seconds = run_rnnlab(args.child, args.data, args.epochs)
    print(
        json.dumps(
            {
                "name": args.child,
                "first_epoch": seconds[0],
                "per_epoch": statistics.median(seconds[1:5]),
                "peak_mb": peak_mb(),
                "wall": time.perf_counter() - started,
            }
        )
    )


def measure(name, args) -> dict:
    command = [sys.executable, __file__, "--child", name, "--epochs", str(args.epochs)]
    command += ["--data", args.data, "--tutorial-onehot", args.tutorial_onehot]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"name": name, "error": f"exit {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--data", default=os.environ.get("RNNLAB_DATA"), help="IMDB source (default: $RNNLAB_DATA)"
    )
    parser.add_argument(
        "--epochs", type=int, default=5, help="epochs per configuration (>= 3; default 5)"
    )
    parser.add_argument(
        "--models", nargs="+", default=[*TUTORIAL, *MODELS], help="configurations to run"
    )
    parser.add_argument("--tutorial-onehot", choices=("float32", "keras"), default="float32")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.data:
        parser.error("pass --data PATH or set RNNLAB_DATA")
    if args.child:
        return child(args)

    print(f"data: {args.data}; epochs per configuration: {args.epochs}; cores: {os.cpu_count()}")
    results = {}
    for name in args.models:
        results[name] = measure(name, args)
        r = results[name]
        print(
            f"  measured {name}: " + (r.get("error") or f"{r['per_epoch']:.3f} s/epoch"), flush=True
        )

    print()
    row = "{:<22} {:>8} {:>12} {:>9} {:>12}"
    print(row.format("configuration", "s/epoch", "first epoch", "peak MB", "vs tutorial"))
    tutorial_of = {
        "simplernn-onehot": "tutorial-onehot",
        "simplernn-embedding": "tutorial-embedding",
    }
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<22} {r['error']}")
            continue
        base = results.get(tutorial_of.get(name, ""), {})
        ratio = f"{base['per_epoch'] / r['per_epoch']:.1f}x faster" if "per_epoch" in base else ""
        cells = f"{r['per_epoch']:.3f}", f"{r['first_epoch']:.2f}", f"{r['peak_mb']:,.0f}"
        print(row.format(name, *cells, ratio))
    a, b = results.get("simplernn-onehot", {}), results.get("simplernn-embedding", {})
    if "per_epoch" in a and "per_epoch" in b:
        print(f"\nrnnlab model A / model B time per epoch: {a['per_epoch'] / b['per_epoch']:.2f}")


if __name__ == "__main__":
    main()
