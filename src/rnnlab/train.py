"""Training: the tutorial's recipe (tutorial.py) plus bookkeeping, into a run folder.

`train` runs the book's steps with the settings of a TrainConfig on the
engine it names, and writes what runs.py describes: the settings and
versions, the model summary, the history (after every epoch), the best
model, the curves, the metrics, the preprocessing that predicting on raw
text needs, and last the finished marker.  `resume` continues a run that was
interrupted, from its last complete epoch (checkpoints.py).
"""

import functools
import math
import platform
import statistics
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np

from . import __version__, baselines, checkpoints, runs, tutorial
from .config import TrainConfig
from .data import open_dataset
from .data.encoder import TextEncoder
from .data.sources import DOWNLOADS, data_spec, local_paths
from .engine import get_engine
from .engine.startup import device_in_use, use_compilation_cache
from .errors import RnnlabError
from .models import MODELS, build_model, summary_text


def versions() -> dict:
    import jax

    return {
        "device": device_in_use(),
        "rnnlab": __version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "jax": jax.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def train(config: TrainConfig, out=None, overwrite=False, verbose=2, callbacks=()) -> runs.Run:
    """Train `config.model` with the tutorial's recipe and write the run folder;
    `callbacks`: Keras callbacks of the caller's, after the recipe's (a search's pruning)."""
    config.check_memory()
    out = Path(out) if out else runs.default_dir(config.model)
    with runs.claim(out, overwrite=overwrite):
        if MODELS[config.model].is_baseline:
            return _train_baseline(config, out)
        return _train(config, out, None, verbose, callbacks=callbacks)


def resume(run_dir, verbose=2, callbacks=()) -> runs.Run:
    """Continue an interrupted run from its last complete epoch, to the same end."""
    run_dir = Path(run_dir)
    with runs.claim(run_dir, resume=True):
        config, data = runs.read_config(run_dir)
        state = checkpoints.read_state(run_dir)
        if state is None:
            raise RnnlabError(
                f"{run_dir} was interrupted before its first epoch ended: nothing to resume; "
                "train it again with --overwrite"
            )
        return _train(config, run_dir, state, verbose, data, callbacks)


def load_split(data: str | None, config: TrainConfig):
    """(the opened source, steps 1-3 on it) for `config`'s data settings, kept for the
    process's next trainings while the source files are unchanged: a sweep worker
    reads and pads the data once."""
    spec = data_spec(data)
    paths = [] if spec in DOWNLOADS else local_paths(spec)
    stamp = tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.is_file())
    options = tuple(sorted(config.data_options.items()))
    settings = config.num_words, config.maxlen, config.padding, config.truncating
    return _load_split(spec, stamp, options, *settings)


@functools.lru_cache(maxsize=4)
def _load_split(spec: str, stamp, options, num_words, maxlen, padding, truncating):
    raw = open_dataset(spec, **dict(options))
    return raw, tutorial.load_and_split(raw, num_words, maxlen, padding, truncating)


def _data_record(raw) -> dict:
    return {"source": raw.source, "path": raw.path, "content_hash": raw.content_hash}


def _write_start(out: Path, config: TrainConfig, raw, split, summary: str) -> None:
    """What a run folder holds from its start: summary, settings, preprocessing."""
    runs.write_model_summary(out, summary)
    sizes = {"train": len(split.train_x), "val": len(split.val_x), "test": len(split.test_x)}
    tokenizer = {"tokenizer": raw.tokenizer.spec()}  # the one that made this run's tokens
    runs.write_config(out, config, _data_record(raw), sizes, {**versions(), **tokenizer})
    if raw.words is not None:  # a Keras npz without its word index has no words to map
        encoder = TextEncoder(
            raw.words, config.num_words, config.maxlen, config.padding, config.truncating,
            raw.tokenizer,
        )  # fmt: skip
        runs.write_preprocessing(out, encoder)


def _train_baseline(config: TrainConfig, out: Path) -> runs.Run:
    """A bag-of-words baseline (baselines.py) on the same split, into a run folder of the
    files that apply: no epochs, so no history, curves or best.keras."""
    started = time.perf_counter()
    raw, split = load_split(config.data, config)
    model = baselines.new(config.model).fit(split.train_x, split.train_y)
    _write_start(out, config, raw, split, model.summary())
    model.save(out / runs.BASELINE_MODEL)
    val_loss, val_accuracy = baselines.loss_and_accuracy(model, split.val_x, split.val_y)
    test_loss, test_accuracy = baselines.loss_and_accuracy(model, split.test_x, split.test_y)
    metrics = {
        "model": config.model,
        "engine": "scikit-learn",
        "parameters": model.count_params(),
        "best_val_loss": val_loss,
        "best_val_accuracy": val_accuracy,
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "total_seconds": time.perf_counter() - started,
        "peak_memory_mb": runs.peak_memory_mb(),
    }
    runs.write_metrics(out, metrics)
    runs.mark_finished(out)
    return runs.Run(out, config, _data_record(raw), metrics, {}, model.summary(), model)


def _train(config: TrainConfig, out: Path, resumed, verbose, data_record=None,
           callbacks=()) -> runs.Run:  # fmt: skip
    engine = get_engine(config.engine)
    config = replace(config, engine=engine.name)  # the engine that runs, `auto` resolved
    started = time.perf_counter()
    use_compilation_cache()
    source = data_record["path"] if data_record else config.data
    raw, split = load_split(source, config)
    if data_record and raw.content_hash != data_record["content_hash"]:
        raise RnnlabError(
            f"the data at {raw.path} changed since {out} began training; it cannot be resumed"
        )
    keras.utils.set_random_seed(config.seed)
    model = build_model(config.model, config.shape, engine.layer_namespace())
    tutorial.compile_model(
        model, config.learning_rate, config.optimizer, **engine.compile_options()
    )
    engine.prepare(model)
    summary = summary_text(model)
    data = _data_record(raw)
    if resumed is None:
        _write_start(out, config, raw, split, summary)

    twin = build_model(config.model, config.shape)  # Keras' own layers, for best.keras
    checkpoint = checkpoints.BestCheckpoint(out / runs.BEST_MODEL, twin)
    # restore_best_weights also applies when the epoch limit ends training
    # (Keras 3.15 restores in on_train_end; tests/test_train.py checks it).
    stopper = tutorial.early_stopping(config.patience)
    record = checkpoints.EpochRecord(out, stopper, checkpoint, resumed)
    done = resumed["epochs_done"] if resumed else 0
    # A run killed after its last epoch (stopped early, or at the limit) resumes to no
    # more epochs: fit then only restores the best weights, as the run would have.
    last = done if resumed and resumed.get("stopped") else config.epochs
    tutorial.fit(
        model,
        split,
        # in this order: record restores after stopper resets
        [checkpoint, stopper, record, *callbacks],
        config.batch_size,
        last,
        verbose,
        initial_epoch=done,
        validation_batch_size=engine.validation_batch_size(model, config.batch_size),
    )
    history = record.history
    diverged = [epoch for epoch, loss in enumerate(history["loss"], 1) if not math.isfinite(loss)]
    if diverged:
        raise RnnlabError(
            f"training diverged: the loss is not a number from epoch {diverged[0]} on; "
            "lower --learning-rate"
        )
    test_loss, test_accuracy = tutorial.evaluate_test(model, split, engine.eval_batch_size)

    later_epochs = record.seconds[1:] or record.seconds
    metrics = {
        "model": config.model,
        "engine": engine.name,
        "parameters": model.count_params(),
        **runs.history_metrics(history, config.epochs),
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "epoch_seconds": record.seconds,
        "first_epoch_seconds": record.seconds[0],
        "seconds_per_epoch": statistics.median(later_epochs),
        "train_seconds": sum(record.seconds),
        "total_seconds": time.perf_counter() - started,
        "peak_memory_mb": runs.peak_memory_mb(),
        "resumed": resumed is not None,
    }
    from .report import plot_curves

    plot_curves(history, out / runs.CURVES, title=config.model)
    runs.write_metrics(out, metrics)
    runs.mark_finished(out)
    return runs.Run(out, config, data, metrics, history, summary, model)
