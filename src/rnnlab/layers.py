"""The layers rnnlab's models are built from: Keras' own, and OneHotSimpleRNN.

The model builders (tutorial.py) take their layer classes from a namespace
like this module; an engine (rnnlab/engine) may hand them faster twins with
the same weights and mathematics instead.

`OneHotSimpleRNN` is the tutorial's model A without its one-hot tensor.  The
tutorial feeds `SimpleRNN(8)` one-hot vectors of size 500: a
(20000, 100, 500) float tensor, gigabytes.  A one-hot vector times the input
kernel is one row of the kernel, so `OneHotSimpleRNN` looks the row up by id.
Same weights (kernel 500x8, recurrent kernel 8x8, bias 8: 4,072 parameters),
same mathematics, same outputs as `keras.layers.SimpleRNN` on one-hot input
(tests/test_models.py checks outputs and gradients), public Keras API only,
and the input stays (batch, 100) int32.
"""

import keras
from keras import ops

Bidirectional = keras.layers.Bidirectional
Embedding = keras.layers.Embedding
GRU = keras.layers.GRU
LSTM = keras.layers.LSTM
SimpleRNN = keras.layers.SimpleRNN


@keras.saving.register_keras_serializable(package="rnnlab")
class OneHotSimpleRNN(keras.layers.Layer):
    """`SimpleRNN(units)` over one-hot vectors of size `num_words`, given the ids."""

    def __init__(self, units: int, num_words: int, return_sequences=False, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.num_words = num_words
        self.return_sequences = return_sequences

    def build(self, input_shape):
        # Names and initializers as in keras.layers.SimpleRNN's cell.
        self.kernel = self.add_weight(
            shape=(self.num_words, self.units), initializer="glorot_uniform", name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer="orthogonal", name="recurrent_kernel"
        )
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, ids):
        # x_t @ kernel for every step at once: a row lookup, then the bias.
        projected = ops.take(self.kernel, ops.cast(ids, "int32"), axis=0) + self.bias

        def step(state, x_t):
            state = ops.tanh(x_t + ops.matmul(state, self.recurrent_kernel))
            return state, state if self.return_sequences else None

        initial = ops.zeros((ops.shape(ids)[0], self.units), dtype=projected.dtype)
        final, states = ops.scan(step, initial, ops.transpose(projected, (1, 0, 2)))
        return ops.transpose(states, (1, 0, 2)) if self.return_sequences else final

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (input_shape[0], input_shape[1], self.units)
        return (input_shape[0], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "num_words": self.num_words,
            "return_sequences": self.return_sequences,
        }
