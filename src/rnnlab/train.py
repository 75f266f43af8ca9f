"""Training: the tutorial's recipe (tutorial.py) plus bookkeeping, into a run folder.

`train` runs the book's steps with the settings of a TrainConfig on the
engine it names, and writes what runs.py describes: the settings and
versions, the model summary, the history, the best model, the curves, the
metrics, and the preprocessing that predicting on raw text needs.
"""

import json
import platform
import statistics
import time
from pathlib import Path

import keras
import numpy as np

from . import __version__, runs, tutorial
from .config import TrainConfig
from .data import TOKENIZER_VERSION, open_imdb
from .data.encoder import TextEncoder
from .engine import get_engine
from .engine.startup import use_compilation_cache
from .errors import RnnlabError
from .models import build_model, summary_text


class BestCheckpoint(keras.callbacks.Callback):
    """Keeps the model of the best epoch by val_loss in `path`, replaced atomically.

    Keras' ModelCheckpoint writes in place, so a crash mid-write would leave a
    broken best.keras; each save here goes to a temporary file that is renamed.
    What is saved is `twin`, the same model built from Keras' own layers,
    given the trained weights: a run folder never needs an engine to load.
    """

    def __init__(self, path: Path, twin: keras.Model):
        super().__init__()
        self.path, self.twin = Path(path), twin
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get("val_loss")
        if value is not None and value < self.best:
            self.best = value
            self.twin.set_weights(self.model.get_weights())
            tmp = self.path.with_name(f".{self.path.stem}.partial.keras")
            try:
                self.twin.save(tmp)
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


def train(config: TrainConfig, out=None, overwrite=False, verbose=2) -> runs.Run:
    """Train `config.model` with the tutorial's recipe and write the run folder."""
    engine = get_engine(config.engine)
    out = runs.prepare(Path(out) if out else runs.default_dir(config.model), overwrite)
    started = time.perf_counter()
    use_compilation_cache()
    raw = open_imdb(config.data)
    split = tutorial.load_and_split(
        raw, config.num_words, config.maxlen, config.padding, config.truncating
    )
    keras.utils.set_random_seed(config.seed)
    model = build_model(config.model, config.shape, engine.layer_namespace())
    tutorial.compile_model(model, config.learning_rate, **engine.compile_options())
    engine.prepare(model)
    summary = summary_text(model)
    runs.write_summary(out, summary)
    data = {"source": raw.source, "path": raw.path, "content_hash": raw.content_hash}
    sizes = {"train": len(split.train_x), "val": len(split.val_x), "test": len(split.test_x)}
    runs.write_config(out, config, data, sizes, versions())
    if raw.words is not None:  # a Keras npz without its word index has no words to map
        encoder = TextEncoder(
            raw.words, config.num_words, config.maxlen, config.padding, config.truncating
        )
        runs.write_preprocessing(out, encoder)

    checkpoint = BestCheckpoint(out / runs.BEST_MODEL, build_model(config.model, config.shape))
    timer = EpochTimer()
    # restore_best_weights also applies when the epoch limit ends training
    # (Keras 3.15 restores in on_train_end; tests/test_train.py checks it).
    fit = tutorial.fit(
        model,
        split,
        checkpoint,
        config.batch_size,
        config.epochs,
        config.patience,
        callbacks=[timer],
        verbose=verbose,
        validation_batch_size=engine.validation_batch_size(model, config.batch_size),
    )
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    runs.write_history(out / runs.HISTORY, history)
    test_loss, test_accuracy = tutorial.evaluate_test(model, split, engine.eval_batch_size)

    best = int(np.argmin(history["val_loss"]))
    later_epochs = timer.seconds[1:] or timer.seconds
    metrics = {
        "model": config.model,
        "engine": engine.name,
        "parameters": model.count_params(),
        "epochs_run": len(history["val_loss"]),
        "stopped_early": len(history["val_loss"]) < config.epochs,
        "best_epoch": best + 1,
        "best_val_loss": history["val_loss"][best],
        "best_val_accuracy": history["val_accuracy"][best],
        "train_loss_at_best": history["loss"][best],
        "train_accuracy_at_best": history["accuracy"][best],
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "epoch_seconds": timer.seconds,
        "first_epoch_seconds": timer.seconds[0],
        "seconds_per_epoch": statistics.median(later_epochs),
        "train_seconds": sum(timer.seconds),
        "total_seconds": time.perf_counter() - started,
        "peak_memory_mb": runs.peak_memory_mb(),
    }
    from .report import plot_curves

    plot_curves(history, out / runs.CURVES, title=config.model)
    runs.write_metrics(out, metrics)
    return runs.Run(out, config, data, metrics, history, summary, model)


def train_job(job: str) -> int:
    """`train` for a child process (reproduce.py): a JSON job in, an exit code out."""
    job = json.loads(job)
    try:
        config = TrainConfig.from_dict(job["config"])
        train(config, job["out"], job["overwrite"], job["verbose"])
    except RnnlabError as error:
        print(f"error: {error}")
        return 2
    return 0
