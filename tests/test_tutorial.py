"""The book's recipe (tutorial.py): what `rnnlab train --engine keras` runs, and nothing more."""

import subprocess
import sys

from helpers import tiny_config

from rnnlab import runs, tutorial
from rnnlab.train import train


def test_the_keras_engine_is_the_tutorial_on_plain_keras(tiny_tarball, tmp_path):
    """history.csv of `train --engine keras` equals the book's recipe run by hand."""
    config = tiny_config(tiny_tarball, model="simplernn-embedding", epochs=4, engine="keras")
    trained = train(config, tmp_path / "run", verbose=0)

    import keras

    split = tutorial.load_and_split(str(tiny_tarball), config.num_words, config.maxlen)
    keras.utils.set_random_seed(config.seed)
    model = tutorial.compile_model(
        tutorial.build_model(tutorial.model_b, config.shape), config.learning_rate
    )
    checkpoint = keras.callbacks.ModelCheckpoint(tmp_path / "book.keras", save_best_only=True)
    fit = tutorial.fit(model, split, checkpoint, config.batch_size, config.epochs, verbose=0)
    runs.write_history(tmp_path / "book.csv", fit.history)
    assert (tmp_path / "book.csv").read_bytes() == (trained.path / runs.HISTORY).read_bytes()


def test_the_recipe_imports_no_speed_module(tiny_tarball, tmp_path):
    code = f"""
import os, sys
os.environ["KERAS_BACKEND"] = "jax"
from rnnlab import tutorial
history, (loss, accuracy) = tutorial.run(
    tutorial.model_b, {str(tiny_tarball)!r}, {str(tmp_path / "best.keras")!r},
    epochs=2, verbose=0,
)
assert 0 <= accuracy <= 1 and len(history.history["loss"]) == 2
print(sorted(m for m in sys.modules if m.startswith("rnnlab.engine")))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_split_follows_the_book(tiny_tarball):
    split = tutorial.load_and_split(str(tiny_tarball), num_words=30, maxlen=20)
    assert len(split.loaded_input) == 40  # the tiny training set
    assert (len(split.train_x), len(split.val_x), len(split.test_x)) == (32, 8, 40)
    assert split.train_x.shape == (32, 20) and split.train_x.dtype == "int32"
    assert split.train_x.max() < 30 and set(split.train_y) <= {0, 1}
    assert [len(x) for x in split.train_input] != [20] * 32  # before padding
