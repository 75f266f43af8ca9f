"""LSTM's recurrence, forward and backward through time, as XLA FFI handlers.

Keras' LSTM cell, gates in Keras' order (i, f, c, o):

    z = projected_t + (h_{t-1} * recurrent_mask_gate) @ recurrent_kernel
    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o);  g = tanh(z_c)
    c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)

Shapes as in simple_rnn_kernels.py, with 4 * U pre-activations per step:
projected (4U, T, B); states and cells (U, T + 1, B), [:, 0] the initial
state; gates (4U, T, B) keeps i, f, g, o for the backward pass.
recurrent_masks is (4, U, B), one per gate as Keras draws them, or empty.
Every cell's `forward` and `backward` take the same arguments (cell_io.py);
an LSTM has no use for recurrent_bias or d_recurrent.  Each loop over the
batch writes one array, so that LLVM vectorizes it.
"""

from numba import cfunc, njit

from .cell_io import backward_arguments, finish_backward, forward_arguments
from .ffi_frame import HANDLER_SIGNATURE, null, start
from .kernel_math import (
    KERNEL_OPTIONS,
    ONE,
    add_step,
    add_transposed_products,
    keep_previous,
    products,
    set_step,
    sigmoid,
    tanh,
)


@njit(**KERNEL_OPTIONS)
def forward(
    projected, keep, recurrent_masks, recurrent_kernel, recurrent_bias, h0, c0,
    states, cells, gates,
):  # fmt: skip
    width, steps, batch = projected.shape
    units = width // 4
    i, f, g, o = 0, units, 2 * units, 3 * units  # each gate's first row
    set_step(states, 0, h0)
    set_step(cells, 0, c0)
    for t in range(steps):
        products(gates, t, states, t, recurrent_kernel, recurrent_masks)
        for j in range(width):  # the gates, activated in place
            if g <= j < o:
                for b in range(batch):
                    gates[j, t, b] = tanh(projected[j, t, b] + gates[j, t, b])
            else:
                for b in range(batch):
                    gates[j, t, b] = sigmoid(projected[j, t, b] + gates[j, t, b])
        for u in range(units):
            for b in range(batch):
                c = gates[f + u, t, b] * cells[u, t, b] + gates[i + u, t, b] * gates[g + u, t, b]
                cells[u, t + 1, b] = c
        if keep.shape[0] > 0:
            keep_previous(cells, t, keep)
        for u in range(units):
            for b in range(batch):
                states[u, t + 1, b] = gates[o + u, t, b] * tanh(cells[u, t + 1, b])
        if keep.shape[0] > 0:
            keep_previous(states, t, keep)


@njit(**KERNEL_OPTIONS)
def backward(
    d_outputs, d_last_h, d_last_c, states, cells, gates, keep, recurrent_masks,
    recurrent_kernel, d_projected, d_recurrent, d_h, d_c,
):  # fmt: skip
    """`d_h`, `d_c` (U, 1, B) carry dLoss/dh_t, dLoss/dc_t back; at the end, h0's, c0's.

    Rows of d_projected hold intermediate values before their own: tanh(c_t)
    in o's rows, dLoss/dc_t in g's."""
    width, steps, batch = d_projected.shape
    units = width // 4
    set_step(d_h, 0, d_last_h)
    set_step(d_c, 0, d_last_c)
    for t in range(steps - 1, -1, -1):
        if d_outputs.shape[0] > 0:
            add_step(d_h, 0, d_outputs, t)
        for u in range(units):
            row_i, row_f, row_g, row_o = u, units + u, 2 * units + u, 3 * units + u
            for b in range(batch):
                d_projected[row_o, t, b] = tanh(cells[u, t + 1, b])
            for b in range(batch):  # dLoss/dc_t, zero where masked
                tanh_c, gate_o = d_projected[row_o, t, b], gates[row_o, t, b]
                from_h = d_h[u, 0, b] * gate_o * (ONE - tanh_c * tanh_c)
                d_projected[row_g, t, b] = keep[t, b] * (d_c[u, 0, b] + from_h)
            for b in range(batch):
                gate_o = gates[row_o, t, b]
                d_o_value = keep[t, b] * d_h[u, 0, b] * d_projected[row_o, t, b]
                d_projected[row_o, t, b] = d_o_value * gate_o * (ONE - gate_o)
            for b in range(batch):
                gate_i, d_cell = gates[row_i, t, b], d_projected[row_g, t, b]
                d_projected[row_i, t, b] = d_cell * gates[row_g, t, b] * gate_i * (ONE - gate_i)
            for b in range(batch):
                gate_f, d_cell = gates[row_f, t, b], d_projected[row_g, t, b]
                d_projected[row_f, t, b] = d_cell * cells[u, t, b] * gate_f * (ONE - gate_f)
            for b in range(batch):  # a masked step passes both gradients through
                d_cell = d_projected[row_g, t, b]
                d_c[u, 0, b] = d_cell * gates[row_f, t, b] + (ONE - keep[t, b]) * d_c[u, 0, b]
            for b in range(batch):
                gate_g = gates[row_g, t, b]
                d_projected[row_g, t, b] *= gates[row_i, t, b] * (ONE - gate_g * gate_g)
            for b in range(batch):
                d_h[u, 0, b] *= ONE - keep[t, b]
        add_transposed_products(d_h, 0, d_projected, t, recurrent_kernel, recurrent_masks)


@cfunc(HANDLER_SIGNATURE, cache=True)
def forward_handler(frame_pointer):
    frame, run = start(frame_pointer)
    if run:
        forward(*forward_arguments(frame))
    return null()


@cfunc(HANDLER_SIGNATURE, cache=True)
def backward_handler(frame_pointer):
    frame, run = start(frame_pointer)
    if run:
        arguments = backward_arguments(frame)
        backward(*arguments)
        finish_backward(frame, arguments[9], arguments[10])
    return null()
