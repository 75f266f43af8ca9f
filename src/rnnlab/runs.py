"""The run folder: the files of one training, their formats, and how they are read back.

One module owns them, so that nothing else needs to know a file name or a
format: config.json (the settings, the data, the versions), summary.txt,
history.csv, best.keras (the best epoch by val_loss), curves.png,
metrics.json, and preprocessing.json (what predicting on raw text needs: the
tokenizer's name and version, the vocabulary, the padding), with a subword
tokenizer's sentencepiece model beside it in tokenizer.model.
`check` is the one test of whether a folder is a run folder.  Keras is
imported only to load a model, so that `rnnlab compare` starts at once.
"""

import csv
import io
import json
import resource
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from . import runcheck
from .config import TrainConfig
from .data.encoder import INDEX_FROM, OOV, START, TextEncoder
from .data.tokenizers import from_spec
from .errors import RnnlabError
from .files import atomic_write, write_json, write_text
from .locks import Lock, try_acquire

CONFIG = "config.json"
SUMMARY = "summary.txt"
HISTORY = "history.csv"
BEST_MODEL = "best.keras"
BASELINE_MODEL = "model.npz"  # a bag-of-words baseline's arrays (baselines.py), no Keras
CURVES = "curves.png"
METRICS = "metrics.json"
PREPROCESSING = "preprocessing.json"
TOKENIZER_MODEL = "tokenizer.model"  # a subword tokenizer's sentencepiece model (its own format)
FINISHED = "finished"  # written last: the run completed
RUN_FILES = (CONFIG, SUMMARY, HISTORY, BEST_MODEL, CURVES, METRICS, PREPROCESSING, FINISHED)
LOCK = ".rnnlab.lock"  # held (locks.Lock) by the process writing the run
STATE = ".resume.npz"  # what --resume needs (checkpoints.py); removed when the run finishes
PAGE = "page.html"  # what `rnnlab page` writes by default
WRITTEN = (*RUN_FILES, BASELINE_MODEL, TOKENIZER_MODEL, PAGE, STATE)  # all --overwrite removes
PREPROCESSING_FORMAT = 2  # 2: the tokenizer is named (format 1: the word tokenizer)


@dataclass
class Run:
    """A finished run folder, read back (the model stays on disk unless trained here)."""

    path: Path
    config: TrainConfig
    data: dict  # source, path and content_hash of the data it was trained on
    metrics: dict
    history: dict[str, list[float]]
    summary: str
    model: object = None  # the keras.Model with the best weights, when trained in this process


@contextmanager
def claim(out: Path, overwrite=False, resume=False):
    """Hold the run folder `out` for this process, for the life of the block.

    An OS lock (locks.py) on a file in the folder: a second writer gets a one-line
    error instead of mixing its files with the first's, and the kernel
    releases the lock when the process ends, however it ends, so a run killed
    with -9 never blocks `--resume`.  The folder is then empty (a used one is
    emptied only with `overwrite`), or, with `resume`, an unfinished run.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RnnlabError(f"{out} is a file, not a run folder; give a folder")
    if resume:
        check(out, needs=(CONFIG,), allow_unfinished=True)
        if is_finished(out):
            raise RnnlabError(f"{out} is a finished run; there is nothing to resume")
    out.mkdir(parents=True, exist_ok=True)
    lock = Lock(out / LOCK)
    if not try_acquire(lock):
        raise RnnlabError(
            f"run folder {out} is in use by another rnnlab process; wait for it to finish, "
            "or choose another --out"
        )
    try:
        used = [p for p in out.iterdir() if p.name != LOCK]
        if used and not resume:
            if not overwrite:
                raise RnnlabError(
                    f"run folder {out} is not empty; choose another --out or pass --overwrite"
                )
            for name in WRITTEN:
                (out / name).unlink(missing_ok=True)
        yield out
    finally:
        lock.release()


def is_finished(run_dir) -> bool:
    return (Path(run_dir) / FINISHED).is_file()


def mark_finished(out: Path) -> None:
    """The last step of a run: the finished marker, and the resume state is no longer needed."""
    write_text(out / FINISHED, datetime.now().isoformat(timespec="seconds") + "\n")
    (out / STATE).unlink(missing_ok=True)


def default_dir(model: str) -> Path:
    return Path("runs") / f"{model}-{datetime.now():%Y%m%d-%H%M%S}"


def check(run_dir, needs=(CONFIG, HISTORY), allow_unfinished=False) -> Path:
    """`run_dir` as a Path if it is a run folder holding `needs` and finished (or
    `allow_unfinished`), else a one-line error."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RnnlabError(f"{run_dir} is not a folder; give a run folder written by rnnlab train")
    if not (run_dir / CONFIG).is_file():
        raise RnnlabError(f"{run_dir} is not a run folder of rnnlab train (no {CONFIG})")
    if not allow_unfinished and not is_finished(run_dir):
        raise RnnlabError(
            f"{run_dir} is an unfinished run (interrupted, or still training): resume it with "
            f"rnnlab train --resume {run_dir}, or pass --allow-unfinished to use it as it is"
        )
    missing = [name for name in needs if not (run_dir / name).is_file()]
    if missing:
        raise RnnlabError(f"{run_dir} has no {', '.join(missing)}: not a complete run folder")
    return run_dir


# --- writing ---------------------------------------------------------------------------


def write_config(out: Path, config: TrainConfig, data: dict, sizes: dict, versions: dict):
    record = {
        "settings": asdict(config),
        "data": data,
        "sizes": sizes,
        "versions": versions,
        "created": datetime.now().isoformat(timespec="seconds"),
    }
    write_json(out / CONFIG, record)


def write_model_summary(out: Path, summary: str) -> None:
    write_text(out / SUMMARY, summary + "\n")


def write_metrics(out: Path, metrics: dict) -> None:
    write_json(out / METRICS, metrics)


def write_history(path: Path, history: dict) -> None:
    keys = sorted(history)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for epoch in range(len(history[keys[0]])):
        writer.writerow([epoch + 1, *(repr(float(history[k][epoch])) for k in keys)])
    write_text(path, buffer.getvalue())


def write_preprocessing(out: Path, encoder: TextEncoder) -> None:
    tokenizer = encoder.tokenizer
    if tokenizer.model is not None:
        atomic_write(out / TOKENIZER_MODEL, lambda f: f.write(tokenizer.model))
    write_json(
        out / PREPROCESSING,
        {
            "format": PREPROCESSING_FORMAT,
            "tokenizer": tokenizer.name,
            "tokenizer_version": tokenizer.version,
            "num_words": encoder.num_words,
            "maxlen": encoder.maxlen,
            "padding": encoder.padding,
            "truncating": encoder.truncating,
            "index_from": INDEX_FROM,
            "start_char": START,
            "oov_char": OOV,
            "vocabulary": encoder.vocabulary,
        },
    )


def peak_memory_mb() -> float:
    """The peak resident memory of this process so far (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- reading ---------------------------------------------------------------------------


def read(run_dir, allow_unfinished=False) -> Run:
    """A run folder's files; an unfinished run (if allowed) has the metrics its history gives.
    A baseline's run has no history (it trains no epochs)."""
    run_dir = check(run_dir, (CONFIG, SUMMARY), allow_unfinished)
    config, data = read_config(run_dir)
    baseline = (run_dir / BASELINE_MODEL).is_file()
    history = (
        {} if baseline else read_history(check(run_dir, (HISTORY,), allow_unfinished) / HISTORY)
    )
    if (run_dir / METRICS).is_file():
        metrics = _read_json(run_dir / METRICS)
        wrong = [k for k in NUMBERS if k in metrics and not _is_number(metrics[k])]
        if wrong:
            raise RnnlabError(
                f"{run_dir / METRICS} is damaged ({wrong[0]} is not a number); train the run again"
            )
    else:
        metrics = {"model": config.model, **history_metrics(history, config.epochs)}
    summary = (run_dir / SUMMARY).read_text(encoding="utf-8").rstrip("\n")
    return Run(run_dir, config, data, metrics, history, summary)


NUMBERS = ("parameters", "best_val_loss", "best_val_accuracy", "test_loss", "test_accuracy",
           "seconds_per_epoch", "peak_memory_mb", "best_epoch", "epochs_run")  # fmt: skip


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def history_metrics(history: dict, max_epochs: int) -> dict:
    """What the history says: epochs, the best epoch by val_loss, and its numbers (none
    for a run without epochs: a baseline)."""
    if not history.get("val_loss"):
        return {}
    losses = history["val_loss"]
    best = min(range(len(losses)), key=losses.__getitem__)
    return {
        "epochs_run": len(losses),
        "stopped_early": len(losses) < max_epochs,
        "best_epoch": best + 1,
        "best_val_loss": losses[best],
        "best_val_accuracy": history["val_accuracy"][best],
        "train_loss_at_best": history["loss"][best],
        "train_accuracy_at_best": history["accuracy"][best],
    }


def _read_json(path: Path) -> dict:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise RnnlabError(f"{path} is damaged ({error}); train the run again") from None
    if not isinstance(record, dict):
        raise RnnlabError(f"{path} is damaged (not a JSON object); train the run again")
    return record


def read_config(run_dir) -> tuple[TrainConfig, dict]:
    """(the settings, the data record) of config.json."""
    path = Path(run_dir) / CONFIG
    record = _read_json(path)
    try:
        data = record["data"]
        if not isinstance(data, dict) or not isinstance(data.get("content_hash"), str):
            raise TypeError("no data record")
        return TrainConfig.from_dict(record["settings"]), data
    except (KeyError, TypeError, AttributeError, RnnlabError) as error:
        raise RnnlabError(f"{path} is damaged ({error}); train the run again") from None


HISTORY_COLUMNS = ("loss", "accuracy", "val_loss", "val_accuracy")


def read_history(path: Path) -> dict[str, list[float]]:
    """history.csv as {column: values}; a damaged file is a one-line error."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        history = {key: [float(row[key]) for row in rows] for key in rows[0]} if rows else {}
    except (ValueError, TypeError, UnicodeDecodeError, csv.Error) as error:
        raise RnnlabError(f"{path} is damaged ({error}); train the run again") from None
    missing = [c for c in HISTORY_COLUMNS if c not in history]
    if missing:
        raise RnnlabError(f"{path} is damaged (no {', '.join(missing)} column); train again")
    return history


def read_encoder(run_dir) -> TextEncoder:
    """The preprocessing of a run: raw text -> the ids its model reads."""
    run_dir = Path(run_dir)
    path = run_dir / PREPROCESSING
    if not path.is_file():
        raise RnnlabError(
            f"{run_dir} has no {PREPROCESSING} (not a run folder, or its data had no word "
            "list: a Keras npz without imdb_word_index.json beside it); retrain with words"
        )
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        if spec.get("format") not in (1, PREPROCESSING_FORMAT):
            raise RnnlabError(
                f"{path} has format {spec.get('format')}, this rnnlab reads formats 1 to "
                f"{PREPROCESSING_FORMAT}: use the rnnlab version that trained it, or retrain"
            )
        tokenizer = _read_tokenizer(run_dir, spec)
        runcheck.check_preprocessing(spec, path)
        keras_defaults = (spec["index_from"], spec["start_char"], spec["oov_char"])
        if keras_defaults != (INDEX_FROM, START, OOV):
            raise RnnlabError(f"{path}: unsupported index_from/start/oov ids {keras_defaults}")
        return TextEncoder(
            spec["vocabulary"],
            spec["num_words"],
            spec["maxlen"],
            spec["padding"],
            spec["truncating"],
            tokenizer,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise RnnlabError(f"{path} is unreadable ({type(error).__name__}: {error})") from None


def _read_tokenizer(run_dir: Path, spec: dict):
    """The tokenizer preprocessing.json names (format 1: the word tokenizer)."""
    name, version = spec.get("tokenizer", "word"), spec["tokenizer_version"]
    model = None
    if name == "subword":
        try:
            model = (run_dir / TOKENIZER_MODEL).read_bytes()
        except OSError:
            raise RnnlabError(
                f"{run_dir} has no {TOKENIZER_MODEL}, the subword tokenizer its model was "
                "trained with: copy the whole run folder, or retrain"
            ) from None
    try:
        return from_spec({"name": name, "version": version}, model)
    except ValueError as error:
        raise RnnlabError(f"{run_dir / PREPROCESSING}: {error}") from None
    except RuntimeError:  # sentencepiece's error for a damaged model file
        raise RnnlabError(f"{run_dir / TOKENIZER_MODEL} is damaged; train the run again") from None


def load_model(run_dir, allow_unfinished=False):
    """The best model of a run folder (Keras, or a baseline's arrays), or a one-line error."""
    run_dir = Path(run_dir)
    if (run_dir / BASELINE_MODEL).is_file():
        return _load_baseline(check(run_dir, (CONFIG,), allow_unfinished))
    run_dir = check(run_dir, (CONFIG, BEST_MODEL), allow_unfinished)
    import keras

    from . import layers  # noqa: F401  registers rnnlab's layers for loading
    from .engine.startup import use_compilation_cache

    use_compilation_cache()
    # Run folders from before the engines saved model B's SimpleRNN as rnnlab's own class, with
    # Keras' weights and config: read it back as Keras' layer.
    earlier = {"rnnlab>SimpleRNN": keras.layers.SimpleRNN}
    runcheck.check_keras_archive(run_dir / BEST_MODEL)
    try:
        model = keras.saving.load_model(run_dir / BEST_MODEL, custom_objects=earlier)
    except Exception as error:  # Keras raises many kinds for a damaged file
        raise RnnlabError(
            f"{run_dir}/{BEST_MODEL} is damaged or not a Keras model ({type(error).__name__}); "
            "train again"
        ) from None
    runcheck.check_model(model, read_config(run_dir)[0], run_dir)
    return model


def _load_baseline(run_dir: Path):
    from .baselines import NgramLogReg

    config, _ = read_config(run_dir)
    try:
        return NgramLogReg.load(run_dir / BASELINE_MODEL, config.model)
    except (OSError, ValueError, KeyError) as error:
        raise RnnlabError(
            f"{run_dir}/{BASELINE_MODEL} is damaged ({error}); train the baseline again"
        ) from None
