"""Training with the tutorial's recipe, into a run folder.

A run folder holds everything about one training:
config.json (settings, data source and hash, versions), summary.txt, history.csv,
best.keras (the best epoch by val_loss), curves.png, metrics.json, and
preprocessing.json (what `rnnlab predict` needs to read raw text).
"""

import itertools
import json
import os
import platform
import statistics
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import keras
import numpy as np

from . import __version__
from .config import TrainConfig
from .data import TOKENIZER_VERSION, open_imdb
from .errors import RnnlabError
from .files import write_json, write_text
from .models import build_model, summary_text
from .predict import PREPROCESSING_FILE, TextEncoder
from .run_folder import RunResult, default_run_dir, peak_memory_mb, prepare_out_dir, write_history


class BestCheckpoint(keras.callbacks.Callback):
    """Keeps the model of the best epoch by `monitor` in `path`, replaced atomically.

    Keras' ModelCheckpoint writes in place; a crash mid-write would leave a
    broken best.keras, so each save goes to a temporary file that is renamed.
    """

    def __init__(self, path: Path, monitor="val_loss"):
        super().__init__()
        self.path, self.monitor = Path(path), monitor
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and value < self.best:
            self.best = value
            tmp = self.path.with_name(f".{self.path.stem}.partial.keras")
            try:
                self.model.save(tmp)
                tmp.replace(self.path)
            finally:
                tmp.unlink(missing_ok=True)


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def versions() -> dict:
    import jax

    return {
        "rnnlab": __version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "jax": jax.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "tokenizer": TOKENIZER_VERSION,
    }


# Speed settings that leave the training itself unchanged (bench/epoch_speed.py):
# 32 batches per compiled call (identical updates, see `fuse_train_steps`), and
# validation in large batches (the same mean loss, summed in another order: it
# can differ in the last float digits), except for models that draw dropout
# masks (see `validation_batch_size`).
STEPS_PER_EXECUTION = 32
EVAL_BATCH_SIZE = 1024


def validation_batch_size(model: keras.Model, batch_size: int) -> int:
    """EVAL_BATCH_SIZE, or the training batch size for a model with RNN dropout.

    Keras' recurrent layers draw their dropout mask at every call, inference
    included, and so advance their seed once per validation batch.  The number
    of validation batches therefore decides the masks of the next epoch: with
    batches of 1,024 instead of 64, lstm-stacked stopped at epoch 32 instead of
    44.  Validating such models in training-size batches keeps their results.
    """
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            layers += [layer.forward_layer, layer.backward_layer]
        else:
            layers.append(layer)
    draws = any(
        getattr(layer, "dropout", 0) or getattr(layer, "recurrent_dropout", 0)
        for layer in layers
        if isinstance(layer, keras.layers.RNN)
    )
    return batch_size if draws else EVAL_BATCH_SIZE


def fuse_train_steps(model: keras.Model) -> keras.Model:
    """Make `model.fit` run its `steps_per_execution` batches in one compiled call.

    Keras' JAX trainer calls the compiled `train_step` once per batch from
    Python.  Here the batches Keras hands over are stacked and run through
    Keras' own `train_step` inside one `lax.scan`: the same updates in the same
    order (tests/test_train.py checks that the history equals plain `fit`'s,
    digit for digit), with one call instead of 32.  Model A's epoch drops from
    0.37-0.43 to 0.30-0.36 s (bench/epoch_speed.py).  A batch of another size
    (the last, smaller one) runs alone.

    This uses the JAX trainer's protocol, `train_function(state, iterator) ->
    (logs, state)`, which `fit` calls for each group of batches.
    """
    if keras.backend.backend() != "jax":
        return model
    import jax

    def scan_steps(state, stacked_batches):
        def one_step(state, batch):
            logs, state = model.train_step(state, batch)
            return state, logs

        state, logs = jax.lax.scan(one_step, state, stacked_batches)
        return jax.tree.map(lambda values: values[-1], logs), state

    several = jax.jit(scan_steps, donate_argnums=0)
    single = jax.jit(model.train_step, donate_argnums=0)

    def shapes(batch):
        return [np.shape(leaf) for leaf in jax.tree.leaves(batch)]

    def train_function(state, iterator):
        batches = list(itertools.islice(iterator, model.steps_per_execution))
        if not batches:
            raise StopIteration  # as Keras' own step function does at the end of the data
        alike = list(itertools.takewhile(lambda b: shapes(b) == shapes(batches[0]), batches))
        if len(alike) > 1:
            logs, state = several(state, jax.tree.map(lambda *xs: np.stack(xs), *alike))
            batches = batches[len(alike) :]
        for batch in batches:
            logs, state = single(state, batch)
        return logs, state

    model.train_function = train_function  # fit builds its own only when this is None
    return model


def use_compilation_cache() -> None:
    """Keep JAX's compiled programs in the rnnlab cache folder, so that the next
    run skips most of the first epoch's compilation (5.5 s -> 1.8 s for model B).
    A JAX_COMPILATION_CACHE_DIR set by the user wins."""
    import jax

    from .data import cache

    if keras.backend.backend() != "jax" or os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return
    jax.config.update("jax_compilation_cache_dir", str(cache.home() / "jax-cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def compile_model(model: keras.Model, learning_rate: float) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return model


def train(config: TrainConfig, out=None, overwrite=False, verbose=2) -> RunResult:
    """Train `config.model` with the tutorial's recipe and write the run folder."""
    out = prepare_out_dir(Path(out) if out else default_run_dir(config.model), overwrite)
    started = time.perf_counter()
    use_compilation_cache()
    raw = open_imdb(config.data)
    arrays = config.split(raw)
    keras.utils.set_random_seed(config.seed)
    model = compile_model(build_model(config.model, config.shape), config.learning_rate)
    fuse_train_steps(model)
    summary = summary_text(model)
    write_text(out / "summary.txt", summary + "\n")
    write_json(
        out / "config.json",
        {
            "settings": asdict(config),
            "data": {"source": raw.source, "path": raw.path, "content_hash": raw.content_hash},
            "sizes": {k: len(arrays[f"{k}_x"]) for k in ("train", "val", "test")},
            "versions": versions(),
            "created": datetime.now().isoformat(timespec="seconds"),
        },
    )

    if raw.words is not None:  # a Keras npz without its word index has no words to map
        TextEncoder(
            raw.words, config.num_words, config.maxlen, config.padding, config.truncating
        ).save(out / PREPROCESSING_FILE)

    checkpoint = BestCheckpoint(out / "best.keras")
    timer = EpochTimer()
    # restore_best_weights also applies when the epoch limit ends training
    # (Keras 3.15 restores in on_train_end; tests/test_train.py checks it).
    stopper = keras.callbacks.EarlyStopping(patience=config.patience, restore_best_weights=True)
    fit = model.fit(
        arrays["train_x"],
        arrays["train_y"],
        batch_size=config.batch_size,
        epochs=config.epochs,
        validation_data=(arrays["val_x"], arrays["val_y"]),
        validation_batch_size=validation_batch_size(model, config.batch_size),
        callbacks=[checkpoint, stopper, timer],
        verbose=verbose,
    )
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    write_history(out / "history.csv", history)
    test_loss, test_accuracy = model.evaluate(
        arrays["test_x"], arrays["test_y"], batch_size=EVAL_BATCH_SIZE, verbose=0
    )

    best = int(np.argmin(history["val_loss"]))
    later_epochs = timer.seconds[1:] or timer.seconds
    metrics = {
        "model": config.model,
        "parameters": model.count_params(),
        "epochs_run": len(history["val_loss"]),
        "stopped_early": len(history["val_loss"]) < config.epochs,
        "best_epoch": best + 1,
        "best_val_loss": history["val_loss"][best],
        "best_val_accuracy": history["val_accuracy"][best],
        "train_loss_at_best": history["loss"][best],
        "train_accuracy_at_best": history["accuracy"][best],
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "epoch_seconds": timer.seconds,
        "first_epoch_seconds": timer.seconds[0],
        "seconds_per_epoch": statistics.median(later_epochs),
        "train_seconds": sum(timer.seconds),
        "total_seconds": time.perf_counter() - started,
        "peak_memory_mb": peak_memory_mb(),
    }
    from .report import plot_curves

    plot_curves(history, out / "curves.png", title=config.model)
    write_json(out / "metrics.json", metrics)
    return RunResult(out, metrics, history, summary, model)


def load_run(run_dir) -> tuple[dict, keras.Model]:
    """(config.json, the best model) of a run folder, or a one-line error."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RnnlabError(f"{run_dir} is not a folder; give a run folder written by rnnlab train")
    for name in ("config.json", "best.keras"):
        if not (run_dir / name).exists():
            raise RnnlabError(f"{run_dir} has no {name}: not a finished run folder of rnnlab train")
    try:
        config = json.loads((run_dir / "config.json").read_text())
        TrainConfig(**config["settings"])
    except (ValueError, KeyError, TypeError) as error:
        raise RnnlabError(f"{run_dir}/config.json is unreadable ({error})") from None
    from . import layers  # noqa: F401  registers rnnlab's layers for loading

    use_compilation_cache()
    try:
        model = keras.saving.load_model(run_dir / "best.keras")
    except Exception as error:  # Keras raises many kinds for a damaged file
        raise RnnlabError(
            f"{run_dir}/best.keras is damaged or not a Keras model ({type(error).__name__}); "
            "train again"
        ) from None
    return config, model


def evaluate(run_dir, data=None) -> dict:
    """Test loss and accuracy of a saved run's best model."""
    config, model = load_run(run_dir)
    settings = TrainConfig(**config["settings"])
    raw = open_imdb(data if data is not None else config["data"]["path"])
    arrays = settings.split(raw)
    compile_model(model, settings.learning_rate)
    loss, accuracy = model.evaluate(
        arrays["test_x"], arrays["test_y"], batch_size=EVAL_BATCH_SIZE, verbose=0
    )
    return {
        "test_loss": float(loss),
        "test_accuracy": float(accuracy),
        "test_reviews": len(arrays["test_x"]),
        "data": raw.source,
        "same_data_as_training": raw.content_hash == config["data"]["content_hash"],
    }


def train_job(job: str) -> int:
    """`train` for `run_folder.train_in_subprocess`: a JSON job in, an exit code out."""
    job = json.loads(job)
    try:
        train(TrainConfig(**job["config"]), job["out"], job["overwrite"], job["verbose"])
    except RnnlabError as error:
        print(f"error: {error}")
        return 2
    return 0
