"""What survives an interruption: the best model, and everything needed to resume.

After every epoch the run folder gets the history so far and a resume state:
the model's variables (seed states of dropout included), the optimizer's,
early stopping's and the checkpoint's counters, and numpy's and Python's
random states (Keras shuffles each epoch with numpy's).  `rnnlab train
--resume` restores them all before the next epoch, so an interrupted run ends
exactly as an uninterrupted one: the same history.csv and best.keras, byte
for byte (tests/test_resume.py).  Every file is written to a temporary name
and renamed, so a kill at any moment leaves the last complete epoch.
"""

import io
import json
import math
import random
import tempfile
import time
import zipfile
from pathlib import Path

import keras
import numpy as np

from . import runs
from .errors import RnnlabError
from .files import atomic_write

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the same bytes for the same model


def save_model(model: keras.Model, path: Path) -> None:
    """`model.save`, atomically and deterministically: the same weights give the same
    bytes (zip dates fixed, metadata.json without its save date, and the ids Keras
    gives shared objects, which are memory addresses, numbered in order instead)."""
    with tempfile.TemporaryDirectory(dir=Path(path).parent, prefix=".save-") as tmp:
        model.save(Path(tmp) / "model.keras")
        buffer = io.BytesIO()
        with (
            zipfile.ZipFile(Path(tmp) / "model.keras") as source,
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
        ):
            for info in source.infolist():
                data = source.read(info.filename)
                if info.filename == "metadata.json":
                    metadata = json.loads(data)
                    metadata.pop("date_saved", None)
                    data = json.dumps(metadata).encode()
                elif info.filename == "config.json":
                    data = json.dumps(_renumber_shared_objects(json.loads(data), {})).encode()
                target.writestr(zipfile.ZipInfo(info.filename, _FIXED_TIME), data)
    atomic_write(path, lambda f: f.write(buffer.getvalue()))


def _renumber_shared_objects(node, numbers: dict):
    if isinstance(node, dict):
        if "shared_object_id" in node:
            node["shared_object_id"] = numbers.setdefault(node["shared_object_id"], len(numbers))
        for value in node.values():
            _renumber_shared_objects(value, numbers)
    elif isinstance(node, list):
        for value in node:
            _renumber_shared_objects(value, numbers)
    return node


class BestCheckpoint(keras.callbacks.Callback):
    """Keeps the model of the best epoch by val_loss in `path`.

    Keras' ModelCheckpoint writes in place, so a crash mid-write would leave a
    broken best.keras.  What is saved is `twin`, the same model built from
    Keras' own layers, given the trained weights: a run folder never needs an
    engine to load.
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
            save_model(self.twin, self.path)


class EpochRecord(keras.callbacks.Callback):
    """After every epoch: the history so far, the epoch's seconds, and the resume state.

    `resumed` is a state read back by `read_state` (or None for a new run): its
    values are put back into the model, the optimizer, the callbacks and the
    random generators when training begins again.
    """

    def __init__(self, out: Path, early_stopping, checkpoint: BestCheckpoint, resumed=None):
        super().__init__()
        self.out, self.early_stopping, self.checkpoint = Path(out), early_stopping, checkpoint
        self.resumed = resumed
        self.history: dict[str, list[float]] = {}
        self.seconds: list[float] = []

    def on_train_begin(self, logs=None):
        if self.resumed is not None:
            restore(self.resumed, self.model, self.early_stopping, self.checkpoint)
            self.history = self.resumed["history"]
            self.seconds = self.resumed["seconds"]

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if not math.isfinite(self.history["loss"][-1]):
            self.model.stop_training = True  # diverged: train.py says so
        runs.write_history(self.out / runs.HISTORY, self.history)
        write_state(self.out / runs.STATE, self, epoch + 1)


def write_state(path: Path, record: EpochRecord, epochs_done: int) -> None:
    model, stopper = record.model, record.early_stopping
    numpy_state = np.random.get_state()
    meta = {
        "epochs_done": epochs_done,
        "stopped": bool(model.stop_training),  # early stopping ended the training here
        "history": record.history,
        "seconds": record.seconds,
        "checkpoint_best": float(record.checkpoint.best),
        "early_stopping": {
            "wait": stopper.wait,
            "best": float(stopper.best),
            "best_epoch": stopper.best_epoch,
            "has_best_weights": stopper.best_weights is not None,
        },
        "numpy_random": [
            numpy_state[0],
            int(numpy_state[2]),
            int(numpy_state[3]),
            float(numpy_state[4]),
        ],  # fmt: skip
        "python_random": random.getstate(),
    }
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    arrays["numpy_keys"] = numpy_state[1]
    for prefix, variables in (
        ("model", model.variables),
        ("optimizer", model.optimizer.variables),
    ):
        arrays.update({f"{prefix}_{i}": np.asarray(v) for i, v in enumerate(variables)})
    for i, weight in enumerate(stopper.best_weights or []):
        arrays[f"best_{i}"] = weight
    atomic_write(path, lambda f: np.savez(f, **arrays))


def read_state(run_dir: Path) -> dict | None:
    """The resume state of an interrupted run, or None when it has none."""
    path = Path(run_dir) / runs.STATE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            state = json.loads(f["meta"].tobytes())
            state["arrays"] = {name: f[name] for name in f.files if name != "meta"}
        if not isinstance(state, dict) or "epochs_done" not in state:
            raise ValueError("no epochs_done")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise RnnlabError(
            f"{path} is damaged ({error}); the run cannot be resumed: train it again with "
            "--overwrite"
        ) from None
    return state


def restore(state: dict, model, early_stopping, checkpoint) -> None:
    arrays = state["arrays"]
    model.optimizer.build(model.trainable_variables)
    groups = (("model", model.variables), ("optimizer", model.optimizer.variables))
    for prefix, variables in groups:
        saved = [arrays.get(f"{prefix}_{i}") for i in range(len(variables))]
        extra = f"{prefix}_{len(variables)}" in arrays
        if extra or any(
            a is None or a.shape != tuple(v.shape) for a, v in zip(saved, variables, strict=True)
        ):
            raise RnnlabError(
                f"the resume state {runs.STATE} does not fit the model config.json builds (its "
                f"{prefix} weights differ: mixed up with another run's?): train it again with "
                "--overwrite"
            )
        for variable, array in zip(variables, saved, strict=True):
            variable.assign(array)
    stopped = state["early_stopping"]
    early_stopping.wait, early_stopping.best = stopped["wait"], stopped["best"]
    early_stopping.best_epoch = stopped["best_epoch"]
    if stopped["has_best_weights"]:
        count = sum(1 for name in arrays if name.startswith("best_"))
        early_stopping.best_weights = [arrays[f"best_{i}"] for i in range(count)]
    checkpoint.best = state["checkpoint_best"]
    kind, pos, has_gauss, cached = state["numpy_random"]
    np.random.set_state((kind, arrays["numpy_keys"], pos, has_gauss, cached))
    version, internal, gauss = state["python_random"]
    random.setstate((version, tuple(internal), gauss))
