"""rnnlab's own Keras layers: the one-hot SimpleRNN fed ids, and faster RNNs.

`OneHotSimpleRNN` is the tutorial's model A without its one-hot tensor.
`SimpleRNN` is Keras' layer with the input projection moved out of the time
loop, equal to Keras' bit for bit (see `_project_inputs`).

The tutorial feeds `SimpleRNN(8)` one-hot vectors of size 500: a
(25000, 100, 500) float tensor, gigabytes.  A one-hot vector times the input
kernel is one row of the kernel, so `OneHotSimpleRNN` looks the row up by id.
Same weights (kernel 500x8, recurrent kernel 8x8, bias 8: 4,072 parameters),
same mathematics, same outputs as `keras.layers.SimpleRNN` on
`keras.utils.to_categorical(ids, 500)` (tests/test_models.py checks outputs and
gradients), and the input stays (batch, 100) int32.
"""

import keras
from keras import ops

# Builders in models.py take their layers from here: Keras' own, except
# SimpleRNN, which is the faster equivalent below.
Bidirectional = keras.layers.Bidirectional
Embedding = keras.layers.Embedding
GRU = keras.layers.GRU
LSTM = keras.layers.LSTM


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


# --- Keras' recurrent layers, with the input projection taken out of the loop ------------


def _sum_in_order(terms, reverse: bool):
    """terms[0] + terms[1] + ... one add at a time, last term first when `reverse`.

    This is the order in which the gradient of a scan accumulates a weight used
    at every step: from the last step back to the first (or, for a scan that
    runs backwards, from the first to the last).
    """
    first, *rest = reversed(range(len(terms))) if reverse else range(len(terms))
    total = terms[first]
    for t in rest:
        total = total + terms[t]
    return total


def _project_inputs(inputs_by_step, kernel, go_backwards: bool):
    """`inputs_by_step[t] @ kernel` for every step t, in one compiled call.

    Keras' cells compute `inputs_t @ kernel` inside the time loop, then the
    gradient of the loop adds the kernel's gradient step by step.  Here the 100
    products are one batched matmul outside the loop (one matmul per step, as
    XLA computes it inside the loop; one big matmul rounds differently) and
    the kernel's gradient is summed in the loop's order, so that outputs and
    gradients equal Keras' bit for bit (tests/test_layers.py), not merely to
    float32 rounding.  That matters: RMSprop amplifies rounding differences
    until the best epoch moves (B's moved from 23 to 20 with a plain matmul).
    """
    import jax
    import jax.numpy as jnp

    def per_step(x, w):
        return jnp.matmul(x, w)

    @jax.custom_vjp
    def project(x, w):
        return jax.vmap(per_step)(x, jnp.broadcast_to(w, (x.shape[0], *w.shape)))

    def forward(x, w):
        return project(x, w), (x, w)

    def backward(residuals, grad):
        x, w = residuals
        # One matmul gives the inputs' gradient the per-step bits; the kernel's
        # per-step gradients need one (batched) matmul per step.
        grad_x = jnp.matmul(grad, w.T)
        grad_w = jax.vmap(lambda x_t, g_t: jax.vjp(per_step, x_t, w)[1](g_t)[1])(x, grad)
        return grad_x, _sum_in_order(grad_w, reverse=not go_backwards)

    project.defvjp(forward, backward)
    return project(inputs_by_step, kernel)


@keras.saving.register_keras_serializable(package="rnnlab")
class SimpleRNN(keras.layers.SimpleRNN):
    """`keras.layers.SimpleRNN`, same weights and numbers, faster on JAX.

    `inputs @ kernel` is computed for all steps before the time loop
    (`_project_inputs`); each step is left with the recurrent matmul, the bias
    and the activation, in the order SimpleRNNCell.call applies them, so the
    numbers stay Keras' own.  Anything this path does not cover (masks,
    recurrent dropout, unrolling, other backends) runs Keras' loop unchanged.

    Model B's epoch drops from 0.71-0.75 to 0.46-0.57 s (bench/epoch_speed.py).
    The same change made Keras' LSTM slower, not faster (an elementwise step
    that reads its input from the stacked projections compiles to slower code
    than one that reads a matmul's output), so rnnlab keeps Keras' LSTM;
    Keras' GRU already works this way.
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        covered = keras.backend.backend() == "jax" and mask is None and not self.unroll
        if not covered or cell.recurrent_dropout:
            return super().inner_loop(sequences, initial_state, mask=mask, training=training)
        import jax

        if training and 0.0 < cell.dropout < 1.0:
            # The mask Keras drew for this batch (RNN.call draws it before the loop).
            sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0]), 1)
        projected = _project_inputs(
            ops.transpose(sequences, (1, 0, 2)),
            ops.convert_to_tensor(cell.kernel),
            self.go_backwards,
        )
        recurrent_kernel = ops.convert_to_tensor(cell.recurrent_kernel)
        bias = None if cell.bias is None else ops.convert_to_tensor(cell.bias)

        def step(states, projected_t):
            # SimpleRNNCell.call without `inputs @ kernel`.
            h = projected_t if bias is None else ops.add(projected_t, bias)
            output = h + ops.matmul(states[0], recurrent_kernel)
            if cell.activation is not None:
                output = cell.activation(output)
            return [output], output

        states, outputs = jax.lax.scan(
            step, list(initial_state), projected, reverse=self.go_backwards
        )
        if self.go_backwards:
            outputs = ops.flip(outputs, axis=0)
        # As Keras' own loop: (last output, all outputs batch-first, final states).
        return outputs[-1], ops.transpose(outputs, (1, 0, 2)), states
