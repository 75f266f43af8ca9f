"""The input projection and the weight gradients, in the kernels' layout.

XLA's CPU matmuls are slow at these skinny shapes (6,400 x 16 times 16 x 8 for
the tutorial's model B, bench/fused_kernels.py), the weight gradients above
all: the projection and its gradients would cost more than the recurrence.

    project:          projected = (inputs * mask) @ kernel + bias, every step
    project_gradient: d_inputs = d_projected @ kernel.T (* mask)
    weight_gradient:  d_kernel = sum over steps and batch of (inputs * mask) x d_projected
    bias_gradient:    d_bias = sum over steps and batch of d_projected

Shapes: inputs (D, T, B), kernel (D, G*U), projected (G*U, T, B); masks as in
kernel_math.products, one per batch and feature, the same at every step.
Without masks, steps and batch are one long axis.  weight_gradient also gives
the recurrent kernel's gradient: its inputs are then the states, of which it
reads the first T steps (the states before each step).
"""

from numba import njit

from .kernel_math import KERNEL_OPTIONS, ZERO, add_transposed_products, products

# Sums over the batch may be reordered (and so vectorized): these gradients
# need not round as XLA's do.
_SUM_OPTIONS = {**KERNEL_OPTIONS, "fastmath": KERNEL_OPTIONS["fastmath"] | {"reassoc"}}


@njit(**KERNEL_OPTIONS)
def _as_one_step(array):
    """A (features, T, B) array as (features, 1, T * B): all steps as one long batch."""
    features, steps, batch = array.shape
    return array.reshape((features, 1, steps * batch))


@njit(**KERNEL_OPTIONS)
def _row(array, i, length):
    """The first `length` values of feature i's contiguous run over steps and batch."""
    return array[i].reshape(array.shape[1] * array.shape[2])[:length]


@njit(**KERNEL_OPTIONS)
def project(projected, inputs, kernel, bias, masks):
    width, steps, batch = projected.shape
    if masks.shape[0] == 0:
        products(_as_one_step(projected), 0, _as_one_step(inputs), 0, kernel, masks)
    else:
        for t in range(steps):
            products(projected, t, inputs, t, kernel, masks)
    if bias.shape[0] > 0:
        for j in range(width):
            projected[j] += bias[j]


@njit(**KERNEL_OPTIONS)
def project_gradient(d_inputs, d_projected, kernel, masks):
    steps = d_projected.shape[1]
    d_inputs[:] = ZERO
    if masks.shape[0] == 0:
        add_transposed_products(
            _as_one_step(d_inputs), 0, _as_one_step(d_projected), 0, kernel, masks
        )
    else:
        for t in range(steps):
            add_transposed_products(d_inputs, t, d_projected, t, kernel, masks)


@njit(**_SUM_OPTIONS)
def weight_gradient(d_kernel, inputs, d_projected, masks):
    width, steps, batch = d_projected.shape
    if masks.shape[0] > 0:
        gate_width = width // masks.shape[0]
        for i in range(d_kernel.shape[0]):
            for j in range(width):
                mask, total = j // gate_width, ZERO
                for t in range(steps):
                    for b in range(batch):
                        total += (inputs[i, t, b] * masks[mask, i, b]) * d_projected[j, t, b]
                d_kernel[i, j] = total
        return
    length = steps * batch
    for i in range(d_kernel.shape[0]):
        x = _row(inputs, i, length)
        j = 0
        while j + 4 <= width:  # four columns per pass over the inputs
            d0, d1 = _row(d_projected, j, length), _row(d_projected, j + 1, length)
            d2, d3 = _row(d_projected, j + 2, length), _row(d_projected, j + 3, length)
            total0 = total1 = total2 = total3 = ZERO
            for n in range(length):
                total0 += x[n] * d0[n]
                total1 += x[n] * d1[n]
                total2 += x[n] * d2[n]
                total3 += x[n] * d3[n]
            d_kernel[i, j : j + 4] = (total0, total1, total2, total3)
            j += 4
        for rest in range(j, width):
            total, d = ZERO, _row(d_projected, rest, length)
            for n in range(length):
                total += x[n] * d[n]
            d_kernel[i, rest] = total


@njit(**_SUM_OPTIONS)
def bias_gradient(d_bias, d_projected):
    width, steps, batch = d_projected.shape
    length = steps * batch
    for j in range(width):
        total, d = ZERO, _row(d_projected, j, length)
        for n in range(length):
            total += d[n]
        d_bias[j] = total
