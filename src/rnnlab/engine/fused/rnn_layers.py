"""Keras' SimpleRNN, LSTM and GRU, and rnnlab's OneHotSimpleRNN, with fused loops.

Each layer is a subclass of the original: same constructor, weights, names,
initializers and config.  Only the loop changes: Keras' `RNN.call` still
prepares the initial state and draws the dropout masks (from the cell's seed
generator, one mask per batch, at every call), then calls `inner_loop`, which
here runs the kernels (input projection and recurrence) with those same masks.
With the same seed the outputs are Keras' own, to float32 rounding, in
training mode too.  Keras' masks (`mask_zero` embeddings) run in the kernels
as in Keras' loop: a masked step keeps the previous state, and with
`zero_output_for_mask` (Bidirectional sets it) outputs zeros.

Private Keras API used (keras 3.15), all in `FusedLoop.inner_loop`:
`RNN.inner_loop(sequences, initial_state, mask, training)` and its return value
(last output, all outputs, final states); and the cell's
`get_dropout_mask` / `get_recurrent_dropout_mask`, which return the masks
`RNN.call` drew for this batch.

Keras' own loop runs instead whenever the kernels cannot: another backend or
dtype, other activations, `unroll=True`, a dropout rate of 1, GRU with
reset_after=False, or `available()` false.
"""

import keras
from keras import ops

from ...layers import OneHotSimpleRNN as _OneHotSimpleRNN
from . import available, recurrence

_PACKAGE = "rnnlab.fused"


def _backend_runs_kernels(layer) -> bool:
    return keras.backend.backend() == "jax" and layer.compute_dtype == "float32" and available()[0]


def _as_list(masks) -> list:
    """A cell's dropout masks for this batch: none, one, or one per gate."""
    if masks is None:
        return []
    return masks if isinstance(masks, list) else [masks]


class FusedLoop:
    """For subclasses of keras.layers.RNN: the time loop as one kernel call."""

    cell_name: str  # a key of recurrence.CELLS

    def _kernels_apply(self) -> bool:
        cell = self.cell
        return (
            not self.unroll
            and cell.activation is keras.activations.tanh
            and getattr(cell, "recurrent_activation", keras.activations.sigmoid)
            is keras.activations.sigmoid
            and getattr(cell, "reset_after", True)
            and cell.dropout < 1
            and cell.recurrent_dropout < 1
            and _backend_runs_kernels(self)
        )

    def _biases(self):
        """(input bias, recurrent bias): GRU keeps both in one (2, 3U) weight."""
        bias = self.cell.bias
        if bias is None:
            return None, None
        bias = ops.convert_to_tensor(bias)
        return (bias[0], bias[1]) if len(bias.shape) == 2 else (bias, None)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if not self._kernels_apply():
            return super().inner_loop(sequences, initial_state, mask=mask, training=training)
        cell = self.cell
        input_bias, recurrent_bias = self._biases()
        sequence, final_states = recurrence.run(
            self.cell_name,
            sequences,
            list(initial_state),
            ops.convert_to_tensor(cell.kernel),
            input_bias,
            ops.convert_to_tensor(cell.recurrent_kernel),
            recurrent_bias,
            input_masks=_as_list(cell.get_dropout_mask(sequences[:, 0, :]) if training else None),
            recurrent_masks=_as_list(
                cell.get_recurrent_dropout_mask(initial_state[0]) if training else None
            ),
            mask=mask,
            go_backwards=self.go_backwards,
            return_sequences=self.return_sequences,
        )
        last_output = final_states[0]
        if mask is not None and self.zero_output_for_mask:
            # Keras' outputs are zeros at masked steps; the states carry on.
            keep = ops.cast(mask, last_output.dtype)
            keep = ops.flip(keep, axis=1) if self.go_backwards else keep
            last_output = last_output * keep[:, -1:]
            if sequence is not None:
                sequence = sequence * ops.expand_dims(keep, -1)
        # RNN.call reads the outputs of every step only when return_sequences.
        outputs = sequence if sequence is not None else ops.expand_dims(last_output, 1)
        return last_output, outputs, final_states


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SimpleRNN(FusedLoop, keras.layers.SimpleRNN):
    """keras.layers.SimpleRNN with its time loop fused."""

    cell_name = "simple_rnn"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LSTM(FusedLoop, keras.layers.LSTM):
    """keras.layers.LSTM with its time loop fused."""

    cell_name = "lstm"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class GRU(FusedLoop, keras.layers.GRU):
    """keras.layers.GRU (reset_after=True, the default) with its time loop fused."""

    cell_name = "gru"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class OneHotSimpleRNN(_OneHotSimpleRNN):
    """rnnlab's OneHotSimpleRNN (ids in, kernel rows looked up) with its loop fused."""

    def call(self, ids):
        if not _backend_runs_kernels(self):
            return super().call(ids)
        # The kernel's rows, looked up by id: the inputs come projected.
        projected = ops.take(self.kernel, ops.cast(ids, "int32"), axis=0) + self.bias
        initial_state = ops.zeros((ops.shape(ids)[0], self.units), dtype=projected.dtype)
        sequence, final_states = recurrence.run(
            "simple_rnn",
            projected,
            [initial_state],
            None,
            None,
            ops.convert_to_tensor(self.recurrent_kernel),
            return_sequences=self.return_sequences,
        )
        return sequence if self.return_sequences else final_states[0]
