"""GRU's recurrence (Keras' default, reset_after=True), forward and backward, as
XLA FFI handlers.

Gates in Keras' order (z, r, h); the recurrent part carries its own bias:

    x_z, x_r, x_h = projected_t            (x_t @ kernel + input bias)
    r_z, r_r, r_h = (h_{t-1} * recurrent_mask_gate) @ recurrent_kernel + recurrent_bias
    z = sigmoid(x_z + r_z);  r = sigmoid(x_r + r_r);  hh = tanh(x_h + r * r_h)
    h_t = z * h_{t-1} + (1 - z) * hh

Shapes as in simple_rnn_kernels.py, with 3 * U pre-activations per step:
projected (3U, T, B); states (U, T + 1, B); gates (4U, T, B) keeps z, r, hh
and r_h for the backward pass.  The input part and the recurrent part of the
pre-activations have different gradients (r multiplies r_h): d_projected and
d_recurrent, (3U, T, B) each.  Every cell's `forward` and `backward` take the
same arguments (cell_io.py); a GRU has no use for c0, cells or d_c.  Each loop
over the batch writes one array, so that LLVM vectorizes it.
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
    units = width // 3
    z, r, h, saved_r_h = 0, units, 2 * units, 3 * units  # first rows in gates
    set_step(states, 0, h0)
    for t in range(steps):
        products(gates, t, states, t, recurrent_kernel, recurrent_masks)
        for j in range(width):  # r_z, r_r, r_h
            for b in range(batch):
                gates[j, t, b] += recurrent_bias[j]
        for j in range(h):  # z and r, in place
            for b in range(batch):
                gates[j, t, b] = sigmoid(projected[j, t, b] + gates[j, t, b])
        for u in range(units):
            for b in range(batch):
                gates[saved_r_h + u, t, b] = gates[h + u, t, b]
            for b in range(batch):  # the candidate hh, over r_h
                r_h = gates[r + u, t, b] * gates[saved_r_h + u, t, b]
                gates[h + u, t, b] = tanh(projected[h + u, t, b] + r_h)
            for b in range(batch):
                previous, gate_z = states[u, t, b], gates[z + u, t, b]
                states[u, t + 1, b] = gate_z * previous + (ONE - gate_z) * gates[h + u, t, b]
        if keep.shape[0] > 0:
            keep_previous(states, t, keep)


@njit(**KERNEL_OPTIONS)
def backward(
    d_outputs, d_last_h, d_last_c, states, cells, gates, keep, recurrent_masks,
    recurrent_kernel, d_projected, d_recurrent, d_h, d_c,
):  # fmt: skip
    """`d_h` (U, 1, B) carries dLoss/dh_t back through time; at the end, dLoss/dh0."""
    width, steps, batch = d_projected.shape
    units = width // 3
    set_step(d_h, 0, d_last_h)
    for t in range(steps - 1, -1, -1):
        if d_outputs.shape[0] > 0:
            add_step(d_h, 0, d_outputs, t)
        for u in range(units):
            z, r, h, saved_r_h = u, units + u, 2 * units + u, 3 * units + u  # this unit's rows
            for b in range(batch):  # through the candidate hh
                d_state, gate_z, candidate = (
                    keep[t, b] * d_h[u, 0, b],
                    gates[z, t, b],
                    gates[h, t, b],
                )
                d_projected[h, t, b] = d_state * (ONE - gate_z) * (ONE - candidate * candidate)
            for b in range(batch):
                d_state, gate_z = keep[t, b] * d_h[u, 0, b], gates[z, t, b]
                d_projected[z, t, b] = (
                    d_state * (states[u, t, b] - gates[h, t, b]) * gate_z * (ONE - gate_z)
                )
            for b in range(batch):
                gate_r = gates[r, t, b]
                d_r_h = d_projected[h, t, b] * gates[saved_r_h, t, b]
                d_projected[r, t, b] = d_r_h * gate_r * (ONE - gate_r)
            for j in (z, r):
                for b in range(batch):
                    d_recurrent[j, t, b] = d_projected[j, t, b]
            for b in range(batch):
                d_recurrent[h, t, b] = d_projected[h, t, b] * gates[r, t, b]
            for b in range(batch):  # h_{t-1} reaches h_t through z; a masked step, wholly
                d_h[u, 0, b] *= keep[t, b] * gates[z, t, b] + (ONE - keep[t, b])
        add_transposed_products(d_h, 0, d_recurrent, t, recurrent_kernel, recurrent_masks)


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
