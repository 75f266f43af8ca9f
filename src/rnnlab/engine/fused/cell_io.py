"""What every cell's FFI handlers do around their recurrence.

The handlers of all cells take the same arguments and results, in the order
recurrence.py passes them (its docstring lists them), empty where a cell has
no use for one.  Forward, the inputs are projected first (unless they come
projected: an empty kernel), then the cell runs.  Backward, the cell leaves
the gradient of each step's pre-activations, from which the gradients of the
inputs and of every weight follow (projections.py).

So each *_kernels module ends with the same two short handlers around its own
`forward` and `backward`: numba caches a compiled cfunc only as a module-level
function of its own, so one factory making the handlers for every cell would
compile them again in every process.
"""

from numba import njit

from .ffi_frame import arg1, arg2, arg3, as_one_step, as_step, result1, result2, result3
from .projections import bias_gradient, project, project_gradient, weight_gradient


@njit(cache=True)
def forward_arguments(frame):
    """What a cell's `forward` takes: projected, keep, recurrent_masks,
    recurrent_kernel, recurrent_bias, h0, c0, states, cells, gates."""
    inputs, kernel = arg3(frame, 0), arg2(frame, 1)
    projected = inputs
    if kernel.shape[0] > 0:
        projected = result3(frame, 3)
        project(
            projected, as_one_step(projected), inputs, as_one_step(inputs),
            kernel, arg1(frame, 2), arg3(frame, 3),
        )  # fmt: skip
    return (
        projected, arg2(frame, 4), arg3(frame, 5), arg2(frame, 6), arg1(frame, 7),
        arg2(frame, 8), arg2(frame, 9), result3(frame, 0), result3(frame, 1), result3(frame, 2),
    )  # fmt: skip


@njit(cache=True)
def backward_arguments(frame):
    """What a cell's `backward` takes: d_outputs, d_last_h, d_last_c, states,
    cells, gates, keep, recurrent_masks, recurrent_kernel, d_projected,
    d_recurrent, d_h0, d_c0; d_h0 and d_c0 as (U, 1, B), one step.

    d_projected is the inputs' gradient itself when the inputs came projected;
    d_recurrent, the recurrent part's, is d_projected unless the cell has its own.
    """
    d_projected = result3(frame, 0) if arg2(frame, 7).shape[0] == 0 else result3(frame, 7)
    d_recurrent = result3(frame, 8) if result3(frame, 8).shape[0] > 0 else d_projected
    return (
        arg3(frame, 0), arg2(frame, 1), arg2(frame, 2), arg3(frame, 3), arg3(frame, 4),
        arg3(frame, 5), arg2(frame, 9), arg3(frame, 10), arg2(frame, 11),
        d_projected, d_recurrent, as_step(result2(frame, 5)), as_step(result2(frame, 6)),
    )  # fmt: skip


@njit(cache=True)
def finish_backward(frame, d_projected, d_recurrent):
    """The gradients of the inputs and of every weight, from the pre-activations'
    (`backward_arguments(frame)[9]` and `[10]`)."""
    inputs, kernel, input_masks = arg3(frame, 6), arg2(frame, 7), arg3(frame, 8)
    steps_in_batch = d_projected.shape[1] * d_projected.shape[2]
    d_projected_steps = as_one_step(d_projected)
    if kernel.shape[0] > 0:
        project_gradient(
            result3(frame, 0), as_one_step(result3(frame, 0)), d_projected, d_projected_steps,
            kernel, input_masks,
        )  # fmt: skip
        weight_gradient(
            result2(frame, 1), inputs, as_one_step(inputs), d_projected,
            d_projected_steps, input_masks, steps_in_batch,
        )  # fmt: skip
    d_input_bias = result1(frame, 2)
    if d_input_bias.shape[0] > 0:
        bias_gradient(d_input_bias, d_projected_steps)
    states, recurrent_masks = arg3(frame, 3), arg3(frame, 10)
    d_recurrent_steps = as_one_step(d_recurrent)
    weight_gradient(
        result2(frame, 3), states, as_one_step(states), d_recurrent, d_recurrent_steps,
        recurrent_masks, steps_in_batch,
    )  # fmt: skip
    d_recurrent_bias = result1(frame, 4)
    if d_recurrent_bias.shape[0] > 0:
        bias_gradient(d_recurrent_bias, d_recurrent_steps)
