"""The trial function of rnnlab's sweeps: one training, in a long-lived worker.

A worker imports this module once (Keras, JAX: its setup), then calls
`run_trial` for trial after trial; the data stays read and padded between
trials (train.load_split) and compiled code comes from JAX's cache.  The data
source is the worker's RNNLAB_DATA, set by the command that started it, not a
setting of the grid: on several machines each reads its own copy.

A trial's run folder is named after its configuration, so a trial re-queued
after its worker died finds what that worker left: a finished run is kept, an
interrupted one is resumed from its last complete epoch (the same result as
an uninterrupted run), anything else is trained again.  What was left counts
only if it was trained on the worker's data (its content hash): a run on other
data is trained again.
"""

from pathlib import Path

from .. import checkpoints, runs
from ..config import TrainConfig
from ..engine.startup import keras_without_sklearn
from ..errors import RnnlabError

with keras_without_sklearn():
    import keras

    from ..train import load_split, resume, train


class Pruning(keras.callbacks.Callback):
    """After each epoch, asks the search's pruner whether to go on (`prune`, from
    workers.py); stops the training when it says no.  The run folder stays a
    finished run of the epochs trained."""

    def __init__(self, prune):
        super().__init__()
        self.prune = prune
        self.pruned_at: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        if self.prune(epoch + 1, float(logs["val_loss"])):
            self.pruned_at = epoch + 1
            self.model.stop_training = True


def run_trial(config: dict, trial_dir: Path, prune=None) -> dict:
    callbacks = [Pruning(prune)] if prune else []
    config = TrainConfig.from_dict(config)
    if _left_on_other_data(trial_dir, config):
        run = train(config, trial_dir, overwrite=True, verbose=2, callbacks=callbacks)
    elif runs.is_finished(trial_dir):
        run = runs.read(trial_dir)
    elif checkpoints.read_state(trial_dir) is not None:
        run = resume(trial_dir, verbose=2, callbacks=callbacks)
    else:
        run = train(config, trial_dir, overwrite=True, verbose=2, callbacks=callbacks)
    pruned_at = callbacks[0].pruned_at if callbacks else None
    return {
        "objective": run.metrics["best_val_accuracy"],
        "metrics": run.metrics,
        "history": run.history,
        "data": run.data,
        **({"pruned": True, "pruned_at_epoch": pruned_at} if pruned_at else {}),
    }


def _left_on_other_data(trial_dir: Path, config: TrainConfig) -> bool:
    """Whether the trial's folder holds a run (finished or not) of other data than this
    worker's, or one whose config.json is damaged."""
    if not (Path(trial_dir) / runs.CONFIG).is_file():
        return False
    try:
        _, data = runs.read_config(trial_dir)
    except RnnlabError:
        return True
    raw, _ = load_split(config.data, config)  # the data the training would read
    return data["content_hash"] != raw.content_hash
