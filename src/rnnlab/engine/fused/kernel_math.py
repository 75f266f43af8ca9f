"""What every kernel is made of: tanh, sigmoid, and matmuls in the kernels' layout.

Arrays are laid out (features, time, batch): the innermost loop always runs
over the contiguous batch, which LLVM turns into SIMD code, and a feature's
values over all steps and the whole batch are one contiguous run.

numba's `np.tanh` calls libm once per number; the rational approximation here
is arithmetic only and vectorizes.  It is XLA's own (Eigen's; max error 3.4e-7
against float64), so that it rounds as `jnp.tanh` does; the sigmoid is
`0.5 * tanh(0.5 x) + 0.5` (XLA's is 1 / (1 + exp(-x)): within 2.4e-7).
"""

import numpy as np
from numba import njit, types

# Float division without Python's zero check (which stops LLVM from
# vectorizing), and fused multiply-adds; no reassociation, no approximate
# reciprocals: the numbers stay close to XLA's.
_FASTMATH = {"contract", "nsz"}
KERNEL_OPTIONS = {"cache": True, "error_model": "numpy", "fastmath": _FASTMATH}
_SCALAR_OPTIONS = {"error_model": "numpy", "fastmath": _FASTMATH}  # inlined by LLVM
# Every array the kernels see is C-contiguous float32 (ffi_frame); helpers called
# with a constant step are given their types up front, so that numba compiles them
# once rather than once for each constant.
F2, F3 = types.float32[:, ::1], types.float32[:, :, ::1]
_STEP = (F3, types.int64)
_PRODUCTS = (F3, types.int64, F3, types.int64, F2, F3)

# Beyond this the approximation is exactly +-1 (Eigen's clamp for FMA machines).
_CLAMP = np.float32(7.99881172180175781)
# Below this |x|, tanh(x) == x in float32.
_TINY = np.float32(0.0004)
_A1, _A3, _A5, _A7 = (
    np.float32(4.89352455891786e-03),
    np.float32(6.37261928875436e-04),
    np.float32(1.48572235717979e-05),
    np.float32(5.12229709037114e-08),
)
_A9, _A11, _A13 = (
    np.float32(-8.60467152213735e-11),
    np.float32(2.00018790482477e-13),
    np.float32(-2.76076847742355e-16),
)
_B0, _B2, _B4, _B6 = (
    np.float32(4.89352518554385e-03),
    np.float32(2.26843463243900e-03),
    np.float32(1.18534705686654e-04),
    np.float32(1.19825839466702e-06),
)
ZERO = np.float32(0.0)
HALF = np.float32(0.5)
ONE = np.float32(1.0)


@njit(**_SCALAR_OPTIONS)
def tanh(x):
    clamped = min(max(x, -_CLAMP), _CLAMP)
    x2 = clamped * clamped
    numerator = (((((_A13 * x2 + _A11) * x2 + _A9) * x2 + _A7) * x2 + _A5) * x2 + _A3) * x2 + _A1
    denominator = ((_B6 * x2 + _B4) * x2 + _B2) * x2 + _B0
    return x if abs(x) < _TINY else clamped * numerator / denominator


@njit(**_SCALAR_OPTIONS)
def tanh_gradient(d_out, out):
    """d_out * (1 - out^2), in the form JAX's derivative of tanh rounds."""
    return (d_out + d_out * out) * (ONE - out)


@njit(**_SCALAR_OPTIONS)
def sigmoid(x):
    return HALF * tanh(HALF * x) + HALF


@njit((F3, types.int64, F2), **KERNEL_OPTIONS)
def set_step(target, t, source):
    """target[:, t] = source, for (U, T, B) and (U, B) arrays.  Here and below,
    loops rather than numpy's slice assignment: numba compiles those with their
    shape checks and error messages, several seconds each."""
    for u in range(source.shape[0]):
        for b in range(source.shape[1]):
            target[u, t, b] = source[u, b]


@njit((F3, types.int64, F3, types.int64), **KERNEL_OPTIONS)
def add_step(target, t_target, source, t):
    """target[:, t_target] += source[:, t]."""
    for u in range(source.shape[0]):
        for b in range(source.shape[2]):
            target[u, t_target, b] += source[u, t, b]


@njit(_STEP, **KERNEL_OPTIONS)
def zero_step(target, t):
    for u in range(target.shape[0]):
        for b in range(target.shape[2]):
            target[u, t, b] = ZERO


@njit((F3, types.int64, F2), **KERNEL_OPTIONS)
def keep_previous(states, t, keep):
    """states[:, t + 1] = states[:, t] where keep[t] is 0 (a step Keras' mask masks)."""
    units, _, batch = states.shape
    for u in range(units):
        for b in range(batch):
            states[u, t + 1, b] = (
                keep[t, b] * states[u, t + 1, b] + (ONE - keep[t, b]) * states[u, t, b]
            )


@njit(_PRODUCTS, **KERNEL_OPTIONS)
def products(out, t_out, sources, t, kernel, masks):
    """out[j, t_out] = sum_i (sources[i, t] * mask of j's gate[i]) * kernel[i, j].

    A matmul in the kernels' layout, summed from zero in order as XLA's small
    matmuls do, so that a step rounds as Keras' does.  Two rows of `out` at a
    time share each load of `sources`, four products per store (an odd last
    row is computed twice).  `masks` is dropout on the sources: empty, one
    (1, I, B) mask, or one per gate (G, I, B), as Keras draws them in its
    cells' "implementation 1".
    """
    rows, width = kernel.shape
    batch = out.shape[2]
    if masks.shape[0] > 0:
        gate_width = width // masks.shape[0]
        zero_step(out, t_out)
        for j in range(width):
            for i in range(rows):
                weight, mask = kernel[i, j], j // gate_width
                for b in range(batch):
                    out[j, t_out, b] += (sources[i, t, b] * masks[mask, i, b]) * weight
        return
    for j in range(0, width, 2):
        k = min(j + 1, width - 1)
        for b in range(batch):
            out[j, t_out, b] = ZERO
            out[k, t_out, b] = ZERO
        i = 0
        while i + 4 <= rows:
            u0, u1, u2, u3 = kernel[i, j], kernel[i + 1, j], kernel[i + 2, j], kernel[i + 3, j]
            v0, v1, v2, v3 = kernel[i, k], kernel[i + 1, k], kernel[i + 2, k], kernel[i + 3, k]
            for b in range(batch):
                s0, s1 = sources[i, t, b], sources[i + 1, t, b]
                s2, s3 = sources[i + 2, t, b], sources[i + 3, t, b]
                out[j, t_out, b] = out[j, t_out, b] + s0 * u0 + s1 * u1 + s2 * u2 + s3 * u3
                out[k, t_out, b] = out[k, t_out, b] + s0 * v0 + s1 * v1 + s2 * v2 + s3 * v3
            i += 4
        for rest in range(i, rows):
            u, v = kernel[rest, j], kernel[rest, k]
            for b in range(batch):
                out[j, t_out, b] += sources[rest, t, b] * u
                out[k, t_out, b] += sources[rest, t, b] * v


@njit(_PRODUCTS, **KERNEL_OPTIONS)
def add_transposed_products(target, t_target, d_out, t, kernel, masks):
    """target[i, t_target] += sum_j d_out[j, t] * kernel[i, j] (* mask of j's gate[i]):
    the gradient that `products` sends back to its sources.  As there, two rows
    of `target` share each load of `d_out`."""
    rows, width = kernel.shape
    batch = target.shape[2]
    if masks.shape[0] > 0:
        gate_width = width // masks.shape[0]
        for i in range(rows):
            for j in range(width):
                weight, mask = kernel[i, j], j // gate_width
                for b in range(batch):
                    target[i, t_target, b] += (d_out[j, t, b] * weight) * masks[mask, i, b]
        return
    for i in range(0, rows, 2):
        k = min(i + 1, rows - 1)
        if k == i:  # an odd last row: added once, not twice
            for j in range(width):
                weight = kernel[i, j]
                for b in range(batch):
                    target[i, t_target, b] += d_out[j, t, b] * weight
            continue
        j = 0
        while j + 4 <= width:
            u0, u1, u2, u3 = kernel[i, j], kernel[i, j + 1], kernel[i, j + 2], kernel[i, j + 3]
            v0, v1, v2, v3 = kernel[k, j], kernel[k, j + 1], kernel[k, j + 2], kernel[k, j + 3]
            for b in range(batch):
                d0, d1 = d_out[j, t, b], d_out[j + 1, t, b]
                d2, d3 = d_out[j + 2, t, b], d_out[j + 3, t, b]
                sum_i = target[i, t_target, b] + d0 * u0 + d1 * u1 + d2 * u2 + d3 * u3
                sum_k = target[k, t_target, b] + d0 * v0 + d1 * v1 + d2 * v2 + d3 * v3
                target[i, t_target, b], target[k, t_target, b] = sum_i, sum_k
            j += 4
        for rest in range(j, width):
            u, v = kernel[i, rest], kernel[k, rest]
            for b in range(batch):
                target[i, t_target, b] += d_out[rest, t, b] * u
                target[k, t_target, b] += d_out[rest, t, b] * v
