"""Child Pythons: what they import, and how their failures reach the user."""

import subprocess
import sys

import pytest

from rnnlab.config import TrainConfig
from rnnlab.errors import RnnlabError
from rnnlab.run_folder import train_in_subprocess


def test_keras_imports_without_sklearn_and_sklearn_still_imports_after():
    code = """
import os, sys
os.environ["KERAS_BACKEND"] = "jax"
from rnnlab.child import keras_without_sklearn
with keras_without_sklearn():
    import keras
assert "sklearn" not in sys.modules, "Keras imported scikit-learn"
import sklearn  # the block is lifted
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_failed_training_in_a_child_is_a_one_line_error(tmp_path):
    config = TrainConfig(data=str(tmp_path / "missing.tar.gz"), epochs=1)
    lines = []
    with pytest.raises(RnnlabError, match="training simplernn-embedding failed: .*missing"):
        train_in_subprocess(config, tmp_path / "run", log=lines.append)
    assert all(line.startswith("[simplernn-embedding] ") for line in lines)
