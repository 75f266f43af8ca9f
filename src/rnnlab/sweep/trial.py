"""The trial function of rnnlab's sweeps: one training, in a long-lived worker.

A worker imports this module once (Keras, JAX: its setup), then calls
`run_trial` for trial after trial; the data stays read and padded between
trials (train.load_split) and compiled code comes from JAX's cache.  The data
source is the worker's RNNLAB_DATA, set by the command that started it, not a
setting of the grid: on several machines each reads its own copy.

A trial's run folder is named after its configuration, so a trial re-queued
after its worker died finds what that worker left: a finished run is kept, an
interrupted one is resumed from its last complete epoch (the same result as
an uninterrupted run), anything else is trained again.
"""

from pathlib import Path

from .. import checkpoints, runs
from ..config import TrainConfig
from ..engine.startup import keras_without_sklearn

with keras_without_sklearn():
    from ..train import resume, train


def run_trial(config: dict, trial_dir: Path) -> dict:
    if runs.is_finished(trial_dir):
        run = runs.read(trial_dir)
    elif checkpoints.read_state(trial_dir) is not None:
        run = resume(trial_dir, verbose=2)
    else:
        run = train(TrainConfig.from_dict(config), trial_dir, overwrite=True, verbose=2)
    return {
        "objective": run.metrics["best_val_accuracy"],
        "metrics": run.metrics,
        "history": run.history,
        "data": run.data,
    }
