"""rnnlab's SimpleRNN against Keras' own: equal bit for bit, not just close.

`rnnlab.layers.SimpleRNN` computes `inputs @ kernel` for all steps before the
loop.  Training amplifies any rounding difference (the best epoch
moves), so these tests ask for exact equality of initial weights, outputs and
gradients, in training mode (dropout masks included) and in inference mode.
"""

import jax
import keras
import numpy as np
import pytest

from rnnlab import layers as rnnlab_layers

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


def loss_and_gradients(model, ids, labels, training):
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def loss(trainable):
        probs, _ = model.stateless_call(trainable, non_trainable, ids, training=training)
        return keras.losses.binary_crossentropy(labels, probs).mean()

    value, grads = jax.jit(jax.value_and_grad(loss))(trainable)
    return [np.asarray(value)] + [np.asarray(g) for g in grads]


@pytest.mark.parametrize("case", CASES)
def test_layer_equals_keras_bit_for_bit(case):
    reference = model_with(keras.layers, CASES[case])
    ours = model_with(rnnlab_layers, CASES[case])
    recurrent = ours.layers[1]
    assert isinstance(getattr(recurrent, "forward_layer", recurrent), rnnlab_layers.SimpleRNN)
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


def test_layers_save_and_load(tmp_path):
    model = model_with(rnnlab_layers, {"dropout": 0.3, "bidirectional": True})
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[1].forward_layer, rnnlab_layers.SimpleRNN)
    ids = np.arange(60, dtype="int32").reshape(2, 30) % 50
    np.testing.assert_array_equal(loaded(ids), model(ids))
