"""The xla engine: Keras' layers and fit, with speed paths that change no result here.

1. `SimpleRNN`: Keras' layer with `inputs @ kernel` computed for all steps
   before the time loop (one batched matmul), the kernel's gradient summed in
   the loop's order: equal to Keras' layer bit for bit on one machine
   (tests/test_engine.py).  Across machines the batched matmul can round
   differently (XLA hands it to processor-specific kernels), so model B's
   results on this engine are reproducible per machine only.
2. `fuse_train_steps`: `steps_per_execution` batches run through Keras' own
   `train_step` inside one `lax.scan`, one compiled call instead of one per
   batch: the same updates in the same order (tests/test_engine.py).

Both lean on Keras internals (named where used); pyproject.toml bounds Keras
to the versions these were tested with.  bench/engine_paths.py measures what
each is worth.
"""

import itertools

import keras
import numpy as np
from keras import ops

from ..layers import GRU, LSTM, Bidirectional, Embedding, OneHotSimpleRNN

__all__ = ["GRU", "LSTM", "Bidirectional", "Embedding", "OneHotSimpleRNN", "SimpleRNN"]


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
    gradients equal Keras' bit for bit (tests/test_engine.py), not merely to
    float32 rounding.  That matters: RMSprop amplifies rounding differences
    until another epoch is best.
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
    recurrent dropout, unrolling) runs Keras' loop unchanged.  The same change
    made Keras' LSTM slower (bench/step_profile.py), so it is not applied there.
    """

    # Keras internals: RNN.inner_loop (the time loop RNN.call runs) and the cell's
    # get_dropout_mask (the mask RNN.call drew for this batch).
    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if mask is not None or self.unroll or cell.recurrent_dropout:
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


def fuse_train_steps(model: keras.Model) -> keras.Model:
    """Make `model.fit` run its `steps_per_execution` batches in one compiled call.

    Keras' JAX trainer calls the compiled `train_step` once per batch from
    Python.  Here the batches Keras hands over are stacked and run through
    Keras' own `train_step` inside one `lax.scan`: the same updates in the same
    order, with one call instead of 32.  A batch of another size (the last,
    smaller one) runs alone.

    Keras internals: the JAX trainer's protocol `train_function(state,
    iterator) -> (logs, state)`, which `fit` calls for each group of batches.
    """
    import jax

    def scan_steps(state, stacked_batches):
        def one_step(state, batch):
            logs, state = model.train_step(state, batch)
            return state, logs

        state, logs = jax.lax.scan(one_step, state, stacked_batches)
        return jax.tree.map(lambda values: values[-1], logs), state

    several = jax.jit(scan_steps, donate_argnums=0)
    single = jax.jit(model.train_step, donate_argnums=0)

    def shapes(batch):
        return [np.shape(leaf) for leaf in jax.tree.leaves(batch)]

    def train_function(state, iterator):
        batches = list(itertools.islice(iterator, model.steps_per_execution))
        if not batches:
            raise StopIteration  # as Keras' own step function does at the end of the data
        alike = list(itertools.takewhile(lambda b: shapes(b) == shapes(batches[0]), batches))
        if len(alike) > 1:
            logs, state = several(state, jax.tree.map(lambda *xs: np.stack(xs), *alike))
            batches = batches[len(alike) :]
        for batch in batches:
            logs, state = single(state, batch)
        return logs, state

    model.train_function = train_function  # fit builds its own only when this is None
    return model
