"""`rnnlab train --resume`: a run killed with SIGKILL ends exactly as an uninterrupted one."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import aclimdb_files, write_tarball

from rnnlab import runs
from rnnlab.cli import main

# lstm-dropout draws dropout masks (their seed state must survive), and a learning
# rate this high makes val_loss go up and down, so some epochs do not improve.
SETTINGS = ["--model", "lstm-dropout", "--num-words", "60", "--maxlen", "30", "--units", "4"]
SETTINGS += ["--embedding-dim", "4", "--batch-size", "16", "--learning-rate", "0.02"]
SETTINGS += ["--epochs", "14", "--patience", "14"]


def rnnlab(*args, env, **popen):
    command = [sys.executable, "-m", "rnnlab.cli", *args]
    return subprocess.Popen(command, env=env, **popen)


def epochs_done(run: str) -> int:
    """The last complete epoch the run's resume state holds (0 before the first)."""
    try:
        with np.load(os.path.join(run, runs.STATE)) as state:
            return json.loads(state["meta"].tobytes())["epochs_done"]
    except (OSError, ValueError, KeyError):
        return 0


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume")
    data = write_tarball(folder / "data.tar.gz", aclimdb_files(n_per_label=150))
    env = {**os.environ, "RNNLAB_HOME": str(folder / "home"), "KERAS_BACKEND": "jax"}
    reference = str(folder / "reference")
    done = rnnlab("train", *SETTINGS, "--data", str(data), "--out", reference, "--quiet", env=env)
    assert done.wait(timeout=300) == 0
    return folder, data, env, reference


def test_a_killed_run_resumes_to_the_same_bytes(setup):
    folder, data, env, reference = setup
    losses = runs.read_history(os.path.join(reference, runs.HISTORY))["val_loss"]
    # Kill after an epoch k that did not improve, followed by another that did not
    # (the kill may land one epoch late), with improvements still to come.
    best_so_far = np.minimum.accumulate(losses)
    worse = [e for e in range(2, len(losses)) if losses[e - 1] > best_so_far[e - 2]]
    k = next(e for e in worse if e + 1 in worse and best_so_far[-1] < best_so_far[e])

    run = str(folder / "killed")
    child = rnnlab("train", *SETTINGS, "--data", str(data), "--out", run, "--quiet", env=env)
    deadline = time.monotonic() + 300
    while epochs_done(run) < k and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    killed_at = epochs_done(run)
    assert killed_at in (k, k + 1) and killed_at < len(losses), "the run ended before the kill"
    assert losses[killed_at - 1] > best_so_far[killed_at - 2]  # that epoch did not improve
    assert not runs.is_finished(run)

    resumed = rnnlab("train", "--resume", run, "--quiet", env=env)
    assert resumed.wait(timeout=300) == 0
    for name in (runs.HISTORY, runs.BEST_MODEL):
        with (
            open(os.path.join(run, name), "rb") as got,
            open(os.path.join(reference, name), "rb") as want,
        ):
            assert got.read() == want.read(), name
    assert runs.is_finished(run) and not os.path.exists(os.path.join(run, runs.STATE))


def test_resume_refuses_what_it_cannot_continue(setup, tmp_path, capsys):
    _, data, _, reference = setup
    assert main(["train", "--resume", reference]) == 2
    assert "is a finished run; there is nothing to resume" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert main(["train", "--resume", reference, "--units", "9"]) == 2
    assert "drop --units" in capsys.readouterr().err
