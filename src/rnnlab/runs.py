"""The run folder: the files of one training, their formats, and how they are read back.

One module owns them, so that nothing else needs to know a file name or a
format: config.json (the settings, the data, the versions), summary.txt,
history.csv, best.keras (the best epoch by val_loss), curves.png,
metrics.json, and preprocessing.json (what predicting on raw text needs).
`check` is the one test of whether a folder is a run folder.  Keras is
imported only to load a model, so that `rnnlab compare` starts at once.
"""

import csv
import io
import json
import resource
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from .config import TrainConfig
from .data.encoder import INDEX_FROM, OOV, START, TextEncoder
from .data.tokenizer import TOKENIZER_VERSION
from .errors import RnnlabError
from .files import write_json, write_text

CONFIG = "config.json"
SUMMARY = "summary.txt"
HISTORY = "history.csv"
BEST_MODEL = "best.keras"
CURVES = "curves.png"
METRICS = "metrics.json"
PREPROCESSING = "preprocessing.json"
RUN_FILES = (CONFIG, SUMMARY, HISTORY, BEST_MODEL, CURVES, METRICS, PREPROCESSING)
PREPROCESSING_FORMAT = 1


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


def prepare(out: Path, overwrite: bool) -> Path:
    """An empty folder for a new run (a used one only with `overwrite`)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RnnlabError(f"--out {out} is a file; give a folder")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise RnnlabError(
                f"run folder {out} is not empty; choose another --out or pass --overwrite"
            )
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    return out


def default_dir(model: str) -> Path:
    return Path("runs") / f"{model}-{datetime.now():%Y%m%d-%H%M%S}"


def check(run_dir, needs=(CONFIG, METRICS, HISTORY)) -> Path:
    """`run_dir` as a Path if it is a finished run folder holding `needs`, else a one-line error."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RnnlabError(f"{run_dir} is not a folder; give a run folder written by rnnlab train")
    missing = [name for name in needs if not (run_dir / name).is_file()]
    if missing:
        raise RnnlabError(
            f"{run_dir} is not a finished run folder of rnnlab train (no {', '.join(missing)})"
        )
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


def write_summary(out: Path, summary: str) -> None:
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
    write_json(
        out / PREPROCESSING,
        {
            "format": PREPROCESSING_FORMAT,
            "tokenizer_version": TOKENIZER_VERSION,
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


def read(run_dir) -> Run:
    run_dir = check(run_dir, needs=(CONFIG, METRICS, HISTORY, SUMMARY))
    config, data = read_config(run_dir)
    try:
        metrics = json.loads((run_dir / METRICS).read_text(encoding="utf-8"))
        history = read_history(run_dir / HISTORY)
    except (ValueError, KeyError) as error:
        raise RnnlabError(f"{run_dir}: {METRICS} or {HISTORY} is unreadable ({error})") from None
    summary = (run_dir / SUMMARY).read_text(encoding="utf-8").rstrip("\n")
    return Run(run_dir, config, data, metrics, history, summary)


def read_config(run_dir) -> tuple[TrainConfig, dict]:
    """(the settings, the data record) of config.json."""
    path = Path(run_dir) / CONFIG
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return TrainConfig.from_dict(record["settings"]), record["data"]
    except (ValueError, KeyError, TypeError, RnnlabError) as error:
        raise RnnlabError(f"{path} is unreadable ({error})") from None


def read_history(path: Path) -> dict[str, list[float]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {key: [float(row[key]) for row in rows] for key in rows[0]} if rows else {}


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
        if spec.get("format") != PREPROCESSING_FORMAT:
            raise RnnlabError(
                f"{path} has format {spec.get('format')}, this rnnlab reads format "
                f"{PREPROCESSING_FORMAT}: use the rnnlab version that trained it, or retrain"
            )
        if spec["tokenizer_version"] != TOKENIZER_VERSION:
            raise RnnlabError(
                f"{path} was made with tokenizer v{spec['tokenizer_version']}, this rnnlab has "
                f"v{TOKENIZER_VERSION}: use the rnnlab version that trained it, or retrain"
            )
        keras_defaults = (spec["index_from"], spec["start_char"], spec["oov_char"])
        if keras_defaults != (INDEX_FROM, START, OOV):
            raise RnnlabError(f"{path}: unsupported index_from/start/oov ids {keras_defaults}")
        return TextEncoder(
            spec["vocabulary"],
            spec["num_words"],
            spec["maxlen"],
            spec["padding"],
            spec["truncating"],
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise RnnlabError(f"{path} is unreadable ({type(error).__name__}: {error})") from None


def load_model(run_dir):
    """The best model of a run folder (Keras), or a one-line error."""
    run_dir = check(run_dir, needs=(CONFIG, BEST_MODEL))
    import keras

    from . import layers  # noqa: F401  registers rnnlab's layers for loading
    from .engine.startup import use_compilation_cache

    use_compilation_cache()
    # Run folders of rnnlab 0.1 saved model B's SimpleRNN as rnnlab's own class, with
    # Keras' weights and config: read it back as Keras' layer.
    earlier = {"rnnlab>SimpleRNN": keras.layers.SimpleRNN}
    try:
        return keras.saving.load_model(run_dir / BEST_MODEL, custom_objects=earlier)
    except Exception as error:  # Keras raises many kinds for a damaged file
        raise RnnlabError(
            f"{run_dir}/{BEST_MODEL} is damaged or not a Keras model ({type(error).__name__}); "
            "train again"
        ) from None
