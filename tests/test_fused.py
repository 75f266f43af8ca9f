"""The fused recurrent layers against Keras' own: same weights, same numbers.

Outputs and every gradient (each weight's, and through the embedding the
input's) must equal Keras' to float32 rounding: a relative error of at most
1e-5 per tensor.  The kernels sum the recurrent kernel's gradient in another
order than XLA, so bit-for-bit equality is not expected.  Dropout cases run in
training mode: the same seed must give the same masks.

Compiling dominates these tests (Keras' dropout masks most of all), so each
model stacks all three cells.
"""

import os
import subprocess
import sys

import jax
import keras
import numpy as np
import pytest
from helpers import loss_and_gradients

from rnnlab import layers as rnnlab_layers
from rnnlab.engine import fused
from rnnlab.engine.fused import compile_cache
from rnnlab.engine.fused import layers as fused_layers

# Compiled kernels live in one cache for the whole session (conftest.py sets
# NUMBA_CACHE_DIR), not in each test's private RNNLAB_HOME.
fused.configure_numba_cache()
KERNELS_RUN, WHY_NOT = fused.available()
# numba is a dependency: where the kernels cannot run, CI fails rather than skips.
needs_kernels = pytest.mark.skipif(
    not KERNELS_RUN and os.environ.get("CI") != "true", reason=WHY_NOT
)

TOLERANCE = 1e-5


# name: (mask_zero, training, maxlen, vocabulary, hidden layers from a namespace m).
# Between them, every cell is bidirectional, goes backwards, returns its
# sequence (so that its backward kernel gets a gradient for every step) and its
# last state, and draws input and recurrent dropout masks in training mode; one
# has no bias.
CASES = {
    "dropout": (
        False, True, 30, 50,
        lambda m: [
            m.Bidirectional(m.SimpleRNN(8, return_sequences=True, dropout=0.2,
                                        recurrent_dropout=0.3)),
            m.LSTM(8, return_sequences=True, go_backwards=True, dropout=0.2,
                   recurrent_dropout=0.3),
            m.GRU(4, go_backwards=True, dropout=0.2, recurrent_dropout=0.3),
        ],
    ),
    "masked": (
        True, False, 30, 50,
        lambda m: [
            m.Bidirectional(m.GRU(8, return_sequences=True)),
            m.LSTM(8, return_sequences=True),
            m.SimpleRNN(4, go_backwards=True, use_bias=False),
        ],
    ),
    # Wider and longer: Keras' own float32 gradients are then already about
    # 1e-5 from float64 ones for a SimpleRNN, so this case runs the gated cells.
    "wide_long": (
        False, False, 400, 80_000,
        lambda m: [m.LSTM(64, return_sequences=True), m.GRU(64, go_backwards=True)],
    ),
}  # fmt: skip


def build(hidden, maxlen=30, vocabulary=50, mask_zero=False, seed=7):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((maxlen,), dtype="int32"),
            keras.layers.Embedding(vocabulary, 16, mask_zero=mask_zero, name="embedding"),
            *hidden(),
            keras.layers.Dense(1, activation="sigmoid", name="output"),
        ],
        name="model",
    )


def padded_ids(batch, maxlen, vocabulary, seed=0):
    """Random ids, pre-padded with 0 as Keras pads, one row all padding."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, vocabulary, size=(batch, maxlen)).astype("int32")
    for row, length in enumerate(rng.integers(1, maxlen, size=batch)):
        ids[row, : maxlen - length] = 0
    ids[3] = 0
    return ids


def assert_close(got, expected, names):
    for name, g, e in zip(names, got, expected, strict=True):
        scale = np.linalg.norm(e)
        error = np.linalg.norm(np.asarray(g) - e)
        assert error <= TOLERANCE * scale or error == scale == 0, f"{name}: {error / scale:.2e}"


def tensor_names(model):
    return ["loss"] + [v.path for v in model.trainable_variables]


def runs_kernels(model, ids) -> bool:
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    jaxpr = jax.make_jaxpr(lambda x: model.stateless_call(trainable, non_trainable, x)[0])(ids)
    return "rnnlab_fused" in str(jaxpr)


@needs_kernels
@pytest.mark.parametrize("case", CASES)
def test_layers_equal_keras(case):
    mask_zero, training, maxlen, vocabulary, hidden = CASES[case]
    reference, ours = (
        build(lambda m=m: hidden(m), maxlen, vocabulary, mask_zero)
        for m in (keras.layers, fused_layers)
    )
    ids = padded_ids(13, maxlen, vocabulary)  # an odd batch, like a last one
    labels = np.random.default_rng(1).integers(0, 2, size=(13, 1)).astype("float32")
    assert runs_kernels(ours, ids)
    assert_close(
        loss_and_gradients(ours, ids, labels, training),
        loss_and_gradients(reference, ids, labels, training),
        tensor_names(reference),
    )


@needs_kernels
def test_one_hot_simple_rnn_equals_rnnlab():
    """Returning its last state, and its sequence to a SimpleRNN above it."""

    def model(m, one_hot):
        keras.utils.set_random_seed(3)
        ids = keras.Input((30,), dtype="int32")
        last = one_hot.OneHotSimpleRNN(8, 50, name="last")(ids)
        sequence = one_hot.OneHotSimpleRNN(8, 50, return_sequences=True, name="sequence")(ids)
        both = keras.layers.Concatenate()([last, m.SimpleRNN(4, name="top")(sequence)])
        return keras.Model(ids, keras.layers.Dense(1, activation="sigmoid", name="output")(both))

    reference = model(keras.layers, rnnlab_layers)
    ours = model(fused_layers, fused_layers)
    ids = padded_ids(13, 30, 50)
    labels = np.ones((13, 1), "float32")
    assert runs_kernels(ours, ids)
    assert_close(
        loss_and_gradients(ours, ids, labels, True),
        loss_and_gradients(reference, ids, labels, True),
        tensor_names(reference),
    )


@needs_kernels
def test_same_weights_and_params_as_keras():
    def hidden(m):
        return [
            m.Bidirectional(m.GRU(8, return_sequences=True, dropout=0.3, name="gru"), name="bi"),
            m.LSTM(8, return_sequences=True, recurrent_dropout=0.2, name="lstm"),
            m.SimpleRNN(8, name="simple_rnn"),
        ]

    reference = build(lambda: hidden(keras.layers))
    ours = build(lambda: hidden(fused_layers))
    assert [v.path for v in ours.weights] == [v.path for v in reference.weights]
    assert [layer.count_params() for layer in ours.layers] == [
        layer.count_params() for layer in reference.layers
    ]
    for got, expected in zip(ours.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)  # same initializers, same draws

    ours.set_weights([w + 0.01 for w in ours.get_weights()])
    plain = build(lambda: hidden(keras.layers), seed=11)
    plain.set_weights(ours.get_weights())
    ids = padded_ids(13, 30, 50)
    predictions = [model.predict(ids, verbose=0) for model in (ours, plain)]
    assert_close(predictions[:1], predictions[1:], ["predictions"])


@needs_kernels
def test_config_round_trip_and_saved_model(tmp_path):
    layer = fused_layers.GRU(8, dropout=0.2, return_sequences=True)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    model = build(lambda: [fused_layers.Bidirectional(layer), fused_layers.LSTM(4)])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[1].backward_layer, fused_layers.GRU)
    assert loaded.layers[1].backward_layer.go_backwards
    assert isinstance(loaded.layers[2], fused_layers.LSTM)
    ids = padded_ids(5, 30, 50)
    np.testing.assert_array_equal(loaded(ids), model(ids))


@needs_kernels
def test_other_activations_run_keras_loop():
    def relu(m):
        return [m.SimpleRNN(8, activation="relu")]

    ours, reference = build(lambda: relu(fused_layers)), build(lambda: relu(keras.layers))
    ids = padded_ids(13, 30, 50)
    assert not runs_kernels(ours, ids)
    np.testing.assert_array_equal(ours(ids), reference(ids))


@needs_kernels
def test_training_steps_in_a_scan():
    """Inside `lax.scan` inside `jit`, as rnnlab's fused train steps run them."""

    def losses(model, ids, labels):
        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]

        def step(trainable, batch):
            def loss(trainable):
                probs, _ = model.stateless_call(trainable, non_trainable, batch[0], training=True)
                return keras.losses.binary_crossentropy(batch[1], probs).mean()

            value, grads = jax.value_and_grad(loss)(trainable)
            return [w - 0.1 * g for w, g in zip(trainable, grads, strict=True)], value

        return np.asarray(jax.jit(lambda t: jax.lax.scan(step, t, (ids, labels)))(trainable)[1])

    ids = np.stack([padded_ids(13, 30, 50, seed) for seed in range(3)])
    labels = np.ones((3, 13, 1), "float32")
    reference, ours = (build(lambda m=m: [m.SimpleRNN(8)]) for m in (keras.layers, fused_layers))
    assert_close([losses(ours, ids, labels)], [losses(reference, ids, labels)], ["losses"])


def test_available_says_why_without_numba(monkeypatch):
    fused.available.cache_clear()
    try:
        with monkeypatch.context() as patch:
            patch.setitem(sys.modules, "numba", None)  # `import numba` now fails
            ok, reason = fused.available()
    finally:
        fused.available.cache_clear()
    assert not ok
    assert "numba" in reason and "\n" not in reason


def test_numba_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path))
    assert fused.numba_cache_dir() == tmp_path / "numba-cache"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert fused.numba_cache_dir() == tmp_path / "mine"
    # The kernels' own folder is named by their sources: no stale machine code.
    kernels = compile_cache.kernels_cache_dir()
    assert kernels.parent == tmp_path / "mine" and kernels.name.startswith("rnnlab-fused-")


def test_compile_lock_is_exclusive_across_processes(tmp_path):
    pytest.importorskip("fcntl")
    try_lock = (
        "import fcntl, sys\n"
        "with open(sys.argv[1], 'a') as f:\n"
        "    try:\n"
        "        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "    except BlockingIOError:\n"
        "        sys.exit(3)\n"
    )
    lock_path = str(tmp_path / compile_cache.LOCK_FILE)
    with compile_cache.compile_lock(tmp_path):
        held = subprocess.run([sys.executable, "-c", try_lock, lock_path], env=os.environ)
    free = subprocess.run([sys.executable, "-c", try_lock, lock_path], env=os.environ)
    assert (held.returncode, free.returncode) == (3, 0)
