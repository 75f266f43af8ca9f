"""SimpleRNN's recurrence, forward and backward through time, as XLA FFI handlers.

    h_t = tanh(projected_t + (h_{t-1} * recurrent_mask) @ recurrent_kernel)

Shapes (features, time, batch): projected (U, T, B); states (U, T + 1, B),
states[:, 0] = h0 and states[:, t + 1] = h_t.  keep (T, B) is Keras' mask as
numbers (where it is 0 the step keeps the previous state): ones when there is
none, and empty in the forward pass then.  recurrent_masks (1, U, B) is the
recurrent dropout mask, or empty.

Every cell's `forward` and `backward` take the same arguments (cell_io.py); a
SimpleRNN has no use for recurrent_bias, c0, cells, gates or d_recurrent.  As
in every kernel here, each loop over the batch writes one array, so that LLVM
vectorizes it.
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
    tanh,
    tanh_gradient,
)


@njit(**KERNEL_OPTIONS)
def forward(
    projected, keep, recurrent_masks, recurrent_kernel, recurrent_bias, h0, c0,
    states, cells, gates,
):  # fmt: skip
    units, steps, batch = projected.shape
    set_step(states, 0, h0)
    for t in range(steps):
        products(states, t + 1, states, t, recurrent_kernel, recurrent_masks)
        for j in range(units):
            for b in range(batch):
                states[j, t + 1, b] = tanh(projected[j, t, b] + states[j, t + 1, b])
        if keep.shape[0] > 0:
            keep_previous(states, t, keep)


@njit(**KERNEL_OPTIONS)
def backward(
    d_outputs, d_last_h, d_last_c, states, cells, gates, keep, recurrent_masks,
    recurrent_kernel, d_projected, d_recurrent, d_h, d_c,
):  # fmt: skip
    """`d_h` (U, 1, B) carries dLoss/dh_t back through time; at the end, dLoss/dh0."""
    units, steps, batch = d_projected.shape
    set_step(d_h, 0, d_last_h)
    for t in range(steps - 1, -1, -1):
        if d_outputs.shape[0] > 0:
            add_step(d_h, 0, d_outputs, t)
        for j in range(units):
            for b in range(batch):
                d_state = keep[t, b] * d_h[j, 0, b]
                d_projected[j, t, b] = tanh_gradient(d_state, states[j, t + 1, b])
            for b in range(batch):
                d_h[j, 0, b] *= ONE - keep[t, b]  # a masked step passes its gradient through
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
