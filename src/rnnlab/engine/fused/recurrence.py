"""A recurrent layer as one FFI call forward and one backward, under `jax.custom_vjp`.

The kernels do the whole layer: the input projection, the recurrence, and
backward every gradient (inputs, kernels, biases, initial states).  Their
layout is (features, time, batch); the inputs and their gradient stay in
Keras' (batch, time, features), turned by the kernels (XLA's transposes of
these shapes took longer than the projection).

Every cell's handlers take the same arguments and results, empty (a leading
dimension of 0) where a cell, or a layer, has no use for one:

    forward arguments: 0 inputs (B, T, D), 1 kernel (D, G*U), 2 input_bias (G*U,),
        3 input_masks (G, D, B), 4 keep (T, B), 5 recurrent_masks (G, U, B),
        6 recurrent_kernel (U, G*U), 7 recurrent_bias (G*U,), 8 h0 (U, B), 9 c0 (U, B)
    forward results: 0 states (U, T+1, B), 1 cells (U, T+1, B), 2 gates (4*U, T, B),
        3 projected (G*U, T, B), a workspace, 4 inputs_t (D, T, B): the inputs in the
        kernels' layout, for the kernel's gradient
    backward arguments: 0 d_outputs (U, T, B), 1 d_last_h (U, B), 2 d_last_c (U, B),
        3 states, 4 cells, 5 gates, 6 inputs_t, 7 kernel, 8 input_masks, 9 keep,
        10 recurrent_masks, 11 recurrent_kernel
    backward results: 0 d_inputs (B, T, D), 1 d_kernel, 2 d_input_bias,
        3 d_recurrent_kernel, 4 d_recurrent_bias, 5 d_h0, 6 d_c0, then workspaces:
        7 d_projected and 8 d_recurrent (G*U, T, B), 9 d_inputs_t (D, T, B)

T steps in processing order, D input features, G gates, U units, B the batch.
An empty kernel means the inputs come projected (OneHotSimpleRNN looks its
rows up).  states[:, 0] is h0 and states[:, t + 1] the state after step t;
cells the same for an LSTM's carry; gates the activations the backward pass
needs.  Masks: input and recurrent dropout (one, or one per gate); keep is
Keras' mask as numbers (a step where it is 0 keeps the previous state): ones
when there is none, and then empty in the forward call.
"""

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from . import targets


@dataclass(frozen=True)
class Cell:
    name: str
    gates: int  # blocks of `units` columns in the kernels
    has_carry: bool  # a second state: the LSTM's c
    saved_gates: int  # blocks of `units` rows of activations kept per step
    own_recurrent_gradient: bool  # d_recurrent differs from d_projected (GRU)
    recurrent_bias: bool  # a bias inside the recurrent part (GRU)


CELLS = {
    "simple_rnn": Cell("simple_rnn", 1, has_carry=False, saved_gates=0,
                       own_recurrent_gradient=False, recurrent_bias=False),
    "lstm": Cell("lstm", 4, has_carry=True, saved_gates=4,
                 own_recurrent_gradient=False, recurrent_bias=False),
    "gru": Cell("gru", 3, has_carry=False, saved_gates=4,
                own_recurrent_gradient=True, recurrent_bias=True),
}  # fmt: skip


def _f32(*shape):
    return jax.ShapeDtypeStruct(shape, jnp.float32)


def _empty_unless(present, *shape):
    """A result of `shape`, or an empty one when not `present`."""
    return _f32(*shape) if present else _f32(*(0 for _ in shape[:-1]), shape[-1])


def _forward_call(cell, masked, weights, masks):
    inputs, kernel, input_bias, recurrent_kernel, recurrent_bias, h0, c0 = weights
    input_masks, keep, recurrent_masks = masks
    if not masked:  # the forward pass blends states only where Keras' mask masks
        keep = jnp.zeros((0, keep.shape[1]), jnp.float32)
    batch, steps, depth = inputs.shape
    units, width = recurrent_kernel.shape
    results = (
        _f32(units, steps + 1, batch),
        _empty_unless(cell.has_carry, units, steps + 1, batch),
        _empty_unless(cell.saved_gates, cell.saved_gates * units, steps, batch),
        _f32(width, steps, batch),
        _empty_unless(kernel.shape[0], depth, steps, batch),
    )
    call = jax.ffi.ffi_call(targets.target_name(cell.name, "forward"), results)
    states, cells, gates, _, inputs_t = call(
        inputs, kernel, input_bias, input_masks, keep, recurrent_masks,
        recurrent_kernel, recurrent_bias, h0, c0,
    )  # fmt: skip
    return states, cells, gates, inputs_t


def _final(cell, return_sequences, states, cells):
    sequence = states[:, 1:] if return_sequences else None
    return sequence, (states[:, -1], cells[:, -1] if cell.has_carry else None)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def _recurrence(cell, return_sequences, masked, weights, masks):
    """weights: differentiable (inputs, kernel, input_bias, recurrent_kernel,
    recurrent_bias, h0, c0); masks: (input_masks, keep, recurrent_masks)."""
    states, cells, _, _ = _forward_call(cell, masked, weights, masks)
    return _final(cell, return_sequences, states, cells)


def _recurrence_forward(cell, return_sequences, masked, weights, masks):
    states, cells, gates, inputs_t = _forward_call(cell, masked, weights, masks)
    saved = states, cells, gates, inputs_t, weights, masks
    return _final(cell, return_sequences, states, cells), saved


def _recurrence_backward(cell, return_sequences, masked, saved, cotangents):
    states, cells, gates, inputs_t, weights, masks = saved
    kernel, recurrent_kernel, c0 = weights[1], weights[3], weights[6]
    input_masks, keep, recurrent_masks = masks
    d_sequence, (d_last_h, d_last_c) = cotangents
    steps, batch, width = states.shape[1] - 1, states.shape[2], recurrent_kernel.shape[1]
    results = (
        *(_f32(*w.shape) for w in weights),
        _f32(width, steps, batch),
        _empty_unless(cell.own_recurrent_gradient, width, steps, batch),
        _empty_unless(kernel.shape[0], kernel.shape[0], steps, batch),
    )
    call = jax.ffi.ffi_call(targets.target_name(cell.name, "backward"), results)
    gradients = call(
        d_sequence if return_sequences else jnp.zeros((0, 0, batch), jnp.float32),
        d_last_h,
        d_last_c if cell.has_carry else jnp.zeros(c0.shape, jnp.float32),
        states, cells, gates, inputs_t, kernel, input_masks, keep, recurrent_masks,
        recurrent_kernel,
    )  # fmt: skip
    return tuple(gradients[:7]), None


_recurrence.defvjp(_recurrence_forward, _recurrence_backward)


def _batch_last(masks, rows, batch):
    """(B, rows) masks, one per gate, as one (count, rows, B) array; empty when none."""
    if not masks:
        return jnp.zeros((0, rows, batch), jnp.float32)
    return jnp.stack([jnp.transpose(m).astype(jnp.float32) for m in masks])


def run(
    cell: str,
    inputs,
    initial_states,
    kernel,
    input_bias,
    recurrent_kernel,
    recurrent_bias=None,
    *,
    input_masks=(),
    recurrent_masks=(),
    mask=None,
    go_backwards=False,
    return_sequences=False,
):
    """A recurrent layer in Keras' layout; float32 throughout.

    inputs (B, T, D), or (B, T, G*U) already projected when kernel is None;
    initial_states: [h0] or [h0, c0], each (B, U); input_bias and
    recurrent_bias (GRU's) may be None; input_masks and recurrent_masks are
    dropout, one (B, D) or (B, U) mask or one per gate; mask is Keras' (B, T).
    Returns (every step's output (B, T, U) in processing order, or None unless
    return_sequences; the final states, as initial_states).
    """
    spec = CELLS[cell]
    targets.ensure_registered(cell)
    batch, _, depth = inputs.shape
    units, width = recurrent_kernel.shape
    steps = inputs.shape[1]
    keep = jnp.ones((steps, batch)) if mask is None else jnp.transpose(mask)
    keep = keep.astype(jnp.float32)
    if go_backwards:
        inputs, keep = inputs[:, ::-1], keep[::-1]
    empty_state = jnp.zeros((0, batch), jnp.float32)
    weights = (
        inputs,
        jnp.zeros((0, width), jnp.float32) if kernel is None else kernel,
        jnp.zeros((0,), jnp.float32) if input_bias is None else input_bias,
        recurrent_kernel,
        _recurrent_bias(spec, recurrent_bias, width),
        jnp.transpose(initial_states[0]),
        jnp.transpose(initial_states[1]) if spec.has_carry else empty_state,
    )
    masks = (
        _batch_last(input_masks, depth, batch),
        keep,
        _batch_last(recurrent_masks, units, batch),
    )
    sequence, (h, c) = _recurrence(spec, return_sequences, mask is not None, weights, masks)
    if sequence is not None:
        sequence = jnp.transpose(sequence, (2, 1, 0))
    finals = [jnp.transpose(h)] + ([jnp.transpose(c)] if spec.has_carry else [])
    return sequence, finals


def _recurrent_bias(spec, recurrent_bias, width):
    if not spec.recurrent_bias:
        return jnp.zeros((0,), jnp.float32)
    return jnp.zeros((width,), jnp.float32) if recurrent_bias is None else recurrent_bias
