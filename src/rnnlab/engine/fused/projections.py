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
Without masks, steps and batch are one long axis (the `*_steps` views).
weight_gradient also gives the recurrent kernel's gradient: its inputs are
then the states, of which it reads the first T steps (the states before each
step).
"""

from numba import njit

from .kernel_math import KERNEL_OPTIONS, ZERO, add_transposed_products, products, zero_step

# Sums over the batch may be reordered (and so vectorized): these gradients
# need not round as XLA's do.
_SUM_OPTIONS = {**KERNEL_OPTIONS, "fastmath": KERNEL_OPTIONS["fastmath"] | {"reassoc"}}


@njit(**KERNEL_OPTIONS)
def project(projected, projected_steps, inputs, inputs_steps, kernel, bias, masks):
    """`*_steps`: the same arrays as (features, 1, T * B) (ffi_frame.as_one_step)."""
    width, steps, batch = projected.shape
    if masks.shape[0] == 0:
        products(projected_steps, 0, inputs_steps, 0, kernel, masks)
    else:
        for t in range(steps):
            products(projected, t, inputs, t, kernel, masks)
    if bias.shape[0] > 0:
        for j in range(width):
            for n in range(steps * batch):
                projected_steps[j, 0, n] += bias[j]


@njit(**KERNEL_OPTIONS)
def project_gradient(d_inputs, d_inputs_steps, d_projected, d_projected_steps, kernel, masks):
    steps = d_projected.shape[1]
    zero_step(d_inputs_steps, 0)
    if masks.shape[0] == 0:
        add_transposed_products(d_inputs_steps, 0, d_projected_steps, 0, kernel, masks)
    else:
        for t in range(steps):
            add_transposed_products(d_inputs, t, d_projected, t, kernel, masks)


@njit(**_SUM_OPTIONS)
def weight_gradient(d_kernel, inputs, inputs_steps, d_projected, d_projected_steps, masks, length):
    """Sums over the first `length` of T * B (the states have one step more)."""
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
    x, d = inputs_steps, d_projected_steps
    for i in range(d_kernel.shape[0]):
        j = 0
        while j + 4 <= width:  # four columns per pass over the inputs
            total0 = total1 = total2 = total3 = ZERO
            for n in range(length):
                total0 += x[i, 0, n] * d[j, 0, n]
                total1 += x[i, 0, n] * d[j + 1, 0, n]
                total2 += x[i, 0, n] * d[j + 2, 0, n]
                total3 += x[i, 0, n] * d[j + 3, 0, n]
            d_kernel[i, j], d_kernel[i, j + 1] = total0, total1
            d_kernel[i, j + 2], d_kernel[i, j + 3] = total2, total3
            j += 4
        for rest in range(j, width):
            total = ZERO
            for n in range(length):
                total += x[i, 0, n] * d[rest, 0, n]
            d_kernel[i, rest] = total


@njit(**_SUM_OPTIONS)
def bias_gradient(d_bias, d_projected_steps):
    for j in range(d_bias.shape[0]):
        total = ZERO
        for n in range(d_projected_steps.shape[2]):
            total += d_projected_steps[j, 0, n]
        d_bias[j] = total
