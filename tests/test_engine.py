"""Every engine against plain Keras: the speed paths change no result on this machine.

The xla engine's SimpleRNN computes `inputs @ kernel` for all steps before the
loop.  Training amplifies any rounding difference (the best epoch moves), so
these tests ask for exact equality of initial weights, outputs and gradients,
in training mode (dropout masks included) and in inference mode; then of whole
trainings on every engine.
"""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import loss_and_gradients, tiny_config

from rnnlab import runs
from rnnlab.engine import ENGINES, draws_dropout_masks
from rnnlab.engine import xla as xla_layers
from rnnlab.errors import RnnlabError
from rnnlab.models import KERAS_MODELS, build_model
from rnnlab.train import train

CASES = {
    "plain": {},
    "dropout": {"dropout": 0.3},
    "sequences": {"dropout": 0.3, "return_sequences": True},
    "backwards": {"go_backwards": True},
    "bidirectional": {"bidirectional": True},
}


def model_with(module, options, seed=7):
    options = dict(options)
    bidirectional = options.pop("bidirectional", False)
    keras.utils.set_random_seed(seed)
    recurrent = module.SimpleRNN(8, **options)
    if bidirectional:
        recurrent = keras.layers.Bidirectional(recurrent)
    return keras.Sequential(
        [
            keras.Input((30,), dtype="int32"),
            keras.layers.Embedding(50, 16),
            recurrent,
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


@pytest.mark.parametrize("case", CASES)
def test_layer_equals_keras_bit_for_bit(case):
    reference = model_with(keras.layers, CASES[case])
    ours = model_with(xla_layers, CASES[case])
    recurrent = ours.layers[1]
    assert isinstance(getattr(recurrent, "forward_layer", recurrent), xla_layers.SimpleRNN)
    # Same draws at construction: the same initial weights.
    for ours_w, reference_w in zip(ours.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(ours_w, reference_w)

    rng = np.random.default_rng(0)
    for batch in (64, 13):  # a full batch and a ragged last one
        ids = rng.integers(0, 50, size=(batch, 30)).astype("int32")
        labels = rng.integers(0, 2, size=(batch, 1)).astype("float32")
        np.testing.assert_array_equal(ours(ids), reference(ids))
        for training in (True, False):
            ours_out = loss_and_gradients(ours, ids, labels, training)
            reference_out = loss_and_gradients(reference, ids, labels, training)
            for got, expected in zip(ours_out, reference_out, strict=True):
                np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("model", ["simplernn-onehot", "simplernn-embedding", "lstm-dropout"])
def test_fused_steps_give_the_same_history_as_keras_fit(tiny_tarball, model):
    """Several batches per compiled call change nothing: same losses, digit for digit.
    Batch 5 leaves a smaller last batch, which runs on its own."""
    from rnnlab import tutorial

    config = tiny_config(tiny_tarball, model=model)
    split = tutorial.load_and_split(str(tiny_tarball), config.num_words, config.maxlen)
    histories = []
    for fuse in (False, True):
        keras.utils.set_random_seed(42)
        net = tutorial.compile_model(
            build_model(model, config.shape), learning_rate=0.01, steps_per_execution=32
        )
        if fuse:
            xla_layers.fuse_train_steps(net)
            ours = net.train_function
        fit = net.fit(
            split.train_x,
            split.train_y,
            batch_size=5,
            epochs=3,
            validation_data=(split.val_x, split.val_y),
            verbose=0,
        )
        histories.append(fit.history)
    assert net.train_function is ours  # fit ran the fused steps
    assert histories[0] == histories[1]


@pytest.mark.parametrize(
    "model", ["simplernn-onehot", "simplernn-embedding", "lstm-dropout", "gru"]
)
def test_every_engine_trains_as_keras_does(tiny_tarball, tmp_path, model):
    """Whole trainings on every engine against the keras engine: xla's losses and
    accuracies equal digit for digit (validation in larger batches sums the same numbers
    in another order); the fused kernels' are Keras' to float32 rounding, which training
    amplifies slowly: the first epoch's loss within 2e-3."""
    histories = {}
    for name in ENGINES:
        config = tiny_config(tiny_tarball, model=model, epochs=4, engine=name)
        result = train(config, tmp_path / name, verbose=0)
        assert result.metrics["engine"] == name == result.config.engine
        histories[name] = runs.read_history(result.path / runs.HISTORY)
    reference = histories["keras"]
    assert histories["xla"]["loss"] == reference["loss"]
    assert histories["xla"]["accuracy"] == reference["accuracy"]
    np.testing.assert_allclose(histories["xla"]["val_loss"], reference["val_loss"], rtol=1e-6)
    assert abs(histories["fused"]["loss"][0] - reference["loss"][0]) <= 2e-3
    np.testing.assert_allclose(histories["fused"]["val_loss"], reference["val_loss"], atol=2e-3)


def test_auto_is_fused_where_the_kernels_run_else_xla(tiny_tarball, tmp_path, monkeypatch, capsys):
    result = train(tiny_config(tiny_tarball, epochs=1, engine="auto"), tmp_path / "a", verbose=0)
    assert result.config.engine == "fused" == result.metrics["engine"]
    recorded = json.loads((result.path / runs.CONFIG).read_text())
    assert recorded["settings"]["engine"] == "fused" and recorded["versions"]["device"] == "cpu"
    from rnnlab.engine import fused

    monkeypatch.setattr(fused, "available", lambda: (False, "numba cannot be imported"))
    result = train(tiny_config(tiny_tarball, epochs=1, engine="auto"), tmp_path / "b", verbose=0)
    assert result.config.engine == "xla"
    assert "the fused engine cannot run here (numba cannot be imported); using xla" in (
        capsys.readouterr().err
    )
    with pytest.raises(RnnlabError, match="the fused engine cannot run here: numba"):
        train(tiny_config(tiny_tarball, epochs=1, engine="fused"), tmp_path / "c", verbose=0)


def test_a_fused_model_loads_and_predicts_without_numba(tiny_tarball, tmp_path):
    """best.keras of a fused training holds Keras' layers: a process that cannot import
    numba loads it and predicts what the fused model predicts, to 1e-5."""
    config = tiny_config(tiny_tarball, model="gru", epochs=2, engine="fused")
    result = train(config, tmp_path / "run", verbose=0)
    ids = np.random.default_rng(0).integers(0, config.num_words, (8, config.maxlen))
    expected = result.model.predict(ids.astype("int32"), verbose=0)
    np.save(tmp_path / "ids.npy", ids)
    code = f"""
import sys
sys.modules["numba"] = None  # numba cannot be imported
import numpy as np
from rnnlab import runs
model = runs.load_model({str(result.path)!r})
ids = np.load({str(tmp_path / "ids.npy")!r}).astype("int32")
np.save({str(tmp_path / "got.npy")!r}, model.predict(ids, verbose=0))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(np.load(tmp_path / "got.npy"), expected, atol=1e-5)


def test_run_folders_load_without_the_engine(tiny_tarball, tmp_path):
    """best.keras holds Keras' own layers, whatever engine trained it."""
    result = train(tiny_config(tiny_tarball, engine="xla"), tmp_path / "run", verbose=0)
    code = f"""
import keras, sys
model = keras.saving.load_model({str(result.path / runs.BEST_MODEL)!r})
print(type(model.layers[1]).__module__, 'rnnlab.engine.xla' in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["keras.src.layers.rnn.simple_rnn", "False"], done.stderr


def test_run_folders_of_earlier_versions_load(tiny_tarball, tmp_path):
    """rnnlab 0.1 saved model B with its own SimpleRNN class: it loads as Keras' layer."""
    result = train(tiny_config(tiny_tarball), tmp_path / "run", verbose=0)
    earlier = build_model("simplernn-embedding", result.config.shape, xla_layers)
    earlier.set_weights(result.model.get_weights())
    earlier.save(result.path / runs.BEST_MODEL)
    code = f"""
import sys
from rnnlab import runs
from rnnlab.errors import RnnlabError
model = runs.load_model({str(result.path)!r})
print(type(model.layers[1]).__module__, "rnnlab.engine.xla" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["keras.src.layers.rnn.simple_rnn", "False"], done.stderr


def test_models_with_rnn_dropout_validate_in_training_size_batches():
    """Keras draws an RNN's dropout mask at every call, validation included: the
    number of validation batches moves the next epoch's masks, so it stays 64."""
    xla = ENGINES["xla"]
    sizes = {name: xla.validation_batch_size(build_model(name), 64) for name in KERAS_MODELS}
    assert sizes["lstm-dropout"] == sizes["lstm-stacked"] == 64
    for name in ("simplernn-onehot", "simplernn-embedding", "lstm", "gru", "bilstm", "bigru"):
        assert sizes[name] == xla.eval_batch_size, name
        assert not draws_dropout_masks(build_model(name))
    assert ENGINES["keras"].validation_batch_size(build_model("gru"), 64) == 64


def test_keras_imports_without_sklearn_and_sklearn_still_imports_after():
    code = """
import os, sys
os.environ["KERAS_BACKEND"] = "jax"
from rnnlab.engine.startup import keras_without_sklearn
with keras_without_sklearn():
    import keras
assert "sklearn" not in sys.modules, "Keras imported scikit-learn"
import sklearn  # the block is lifted
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
