"""The fused recurrent layers against Keras' own: milliseconds per batch, seconds per epoch.

    python bench/fused_kernels.py [--repeats 7] [--epochs 5] [--no-epochs] [--steps-only]

First, nanoseconds per recurrent step of each kernel called directly from
Python on numpy arrays (no XLA): the recurrence forward and backward, the input
projection and each gradient, in this thread's CPU time (the minimum of 7
repeats of 200 calls), which a busy machine inflates less than wall time.

Per batch (64 reviews x 100 steps, 8 units, embeddings of 16): each model's
loss (forward) and loss and gradients (forward + backward), for 32 batches in
one compiled `lax.scan` as rnnlab's fused train steps run them, divided by 32.
Models: A = OneHotSimpleRNN(8, 500), B = Embedding -> SimpleRNN(8), then
Embedding -> LSTM(8) and -> GRU(8), each -> Dense(1); fused, and with Keras'
layers (A: rnnlab's OneHotSimpleRNN).  Then each cell's kernels alone (from
the embedded inputs to the last state: one FFI call forward, one backward),
and an FFI call that does nothing, in the same scan, against the scan without.

Per epoch: `fit` on random ids (20,000 reviews x 100, validation 5,000 in
batches of 1,024), RMSprop, 32 batches per compiled call (rnnlab's
`fuse_train_steps`).  Everything is timed in one process, the variants
interleaved, and reported as median [min-max] of the repeats: the machine may
be busy.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from rnnlab import layers as rnnlab_layers  # noqa: E402
from rnnlab.engine import fused  # noqa: E402
from rnnlab.engine.fused import layers as fused_layers  # noqa: E402

BATCH, MAXLEN, UNITS, EMBEDDING, WORDS, SCAN = 64, 100, 8, 16, 500, 32
MODELS = ("A", "B", "LSTM", "GRU")


def build(model: str, fused_variant: bool) -> keras.Model:
    m = fused_layers if fused_variant else keras.layers
    keras.utils.set_random_seed(1)
    if model == "A":
        one_hot = fused_layers if fused_variant else rnnlab_layers
        hidden = [one_hot.OneHotSimpleRNN(UNITS, WORDS)]
    else:
        cell = {"B": m.SimpleRNN, "LSTM": m.LSTM, "GRU": m.GRU}[model]
        hidden = [m.Embedding(WORDS, EMBEDDING), cell(UNITS)]
    return keras.Sequential(
        [
            keras.Input((MAXLEN,), dtype="int32"),
            *hidden,
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def timed(function, *args):
    """A compiled call's seconds (the result waited for)."""
    start = time.perf_counter()
    jax.block_until_ready(function(*args))
    return time.perf_counter() - start


def per_batch_programs(model: keras.Model):
    """(forward, forward + backward): jitted scans over SCAN batches of the loss."""
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def loss(trainable, ids, labels):
        probs, _ = model.stateless_call(trainable, non_trainable, ids, training=True)
        return keras.losses.binary_crossentropy(labels, probs).mean()

    def forward(trainable, ids, labels):
        def step(total, batch):
            return total + loss(trainable, *batch), None

        return jax.lax.scan(step, 0.0, (ids, labels))[0]

    def forward_backward(trainable, ids, labels):
        def step(trainable, batch):
            value, grads = jax.value_and_grad(loss)(trainable, *batch)
            return [w - 1e-4 * g for w, g in zip(trainable, grads, strict=True)], value

        return jax.lax.scan(step, trainable, (ids, labels))

    return trainable, jax.jit(forward), jax.jit(forward_backward)


def kernel_programs(cell: str):
    """One cell's forward and backward FFI calls alone (as in model B, from the
    embedded inputs to the last state), SCAN of them in a scan."""
    from rnnlab.engine.fused import recurrence

    width = UNITS * recurrence.CELLS[cell].gates
    rng = np.random.default_rng(0)
    inputs = jnp.asarray(rng.normal(size=(SCAN, BATCH, MAXLEN, EMBEDDING)), jnp.float32)
    weights = [
        jnp.asarray(rng.normal(size=shape) * 0.3, jnp.float32)
        for shape in ((EMBEDDING, width), (width,), (UNITS, width))
    ]
    initial = [jnp.zeros((BATCH, UNITS), jnp.float32)] * (2 if cell == "lstm" else 1)

    def last_state(weights, batch):
        kernel, bias, recurrent_kernel = weights
        return recurrence.run(cell, batch, initial, kernel, bias, recurrent_kernel)[1][0].sum()

    def forward(inputs):
        def step(total, batch):
            return total + last_state(weights, batch), None

        return jax.lax.scan(step, 0.0, inputs)[0]

    def forward_backward(inputs):
        def step(total, batch):
            value, grads = jax.value_and_grad(last_state)(weights, batch)
            return total + value + sum(g.sum() for g in grads), None

        return jax.lax.scan(step, 0.0, inputs)[0]

    return (inputs,), jax.jit(forward), jax.jit(forward_backward)


def ffi_overhead_programs():
    """A scan step with a do-nothing FFI call (the probe on one number), and without."""
    from rnnlab.engine.fused import targets

    targets.ensure_registered("probe")
    probe = jax.ffi.ffi_call(targets.PROBE_TARGET, jax.ShapeDtypeStruct((1, 1), jnp.float32))

    def with_call(x):
        return jax.lax.scan(lambda c, _: (probe(c) * 0.5, None), x, None, length=SCAN)[0]

    def without(x):
        return jax.lax.scan(lambda c, _: ((c + 1.0) * 0.5, None), x, None, length=SCAN)[0]

    return (jnp.ones((1, 1), jnp.float32),), jax.jit(with_call), jax.jit(without)


def _thread_seconds(function, *args, calls=200, repeats=7) -> float:
    """The least thread CPU time of one call, over `repeats` runs of `calls` calls."""
    function(*args)
    best = float("inf")
    for _ in range(repeats):
        start = time.thread_time()
        for _ in range(calls):
            function(*args)
        best = min(best, (time.thread_time() - start) / calls)
    return best


def step_report() -> None:
    """ns per step (batch 64) of each part of each cell's kernels."""
    from rnnlab.engine.fused import projections, recurrence
    from rnnlab.engine.fused.compile_cache import import_kernels

    rng = np.random.default_rng(0)

    def zeros(*shape):
        return np.zeros(shape, np.float32)

    def normal(*shape):
        return (rng.normal(size=shape) * 0.3).astype(np.float32)

    def one_step(array):
        return array.reshape(array.shape[0], 1, -1)

    batch, steps, units, depth = BATCH, MAXLEN, UNITS, EMBEDDING
    print(f"\nns per step of {batch} reviews, kernels called directly (thread CPU time):")
    for cell, spec in recurrence.CELLS.items():
        kernels = import_kernels(targets_module(cell))
        width, carry = spec.gates * units, spec.has_carry
        projected, recurrent_kernel = normal(width, steps, batch), normal(units, width)
        recurrent_bias = zeros(width) if spec.recurrent_bias else zeros(0)
        states = zeros(units, steps + 1, batch)
        cells = zeros(units, steps + 1, batch) if carry else zeros(0, steps + 1, batch)
        gates = zeros(spec.saved_gates * units, steps, batch)
        no_masks = zeros(0, units, batch)
        h0, c0 = zeros(units, batch), zeros(units, batch) if carry else zeros(0, batch)
        forward = kernels.forward, projected, zeros(0, batch), no_masks, recurrent_kernel
        forward = (*forward, recurrent_bias, h0, c0, states, cells, gates)
        d_projected = zeros(width, steps, batch)
        d_recurrent = zeros(width, steps, batch) if spec.own_recurrent_gradient else d_projected
        backward = (
            kernels.backward, zeros(0, 0, batch), normal(units, batch), zeros(units, batch),
            states, cells, gates, np.ones((steps, batch), np.float32), no_masks,
            recurrent_kernel, d_projected, d_recurrent, zeros(units, 1, batch),
            zeros(units if carry else 0, 1, batch),
        )  # fmt: skip
        inputs, kernel = normal(depth, steps, batch), normal(depth, width)
        d_inputs, no_input_masks = zeros(depth, steps, batch), zeros(0, depth, batch)
        parts = {
            "forward": forward,
            "backward": backward,
            "projection": (
                projections.project, projected, one_step(projected), inputs, one_step(inputs),
                kernel, zeros(width), no_input_masks,
            ),
            "d_inputs": (
                projections.project_gradient, d_inputs, one_step(d_inputs), projected,
                one_step(projected), kernel, no_input_masks,
            ),
            "d_kernel": (
                projections.weight_gradient, zeros(depth, width), inputs, one_step(inputs),
                projected, one_step(projected), no_input_masks, steps * batch,
            ),
            "d_recurrent_kernel": (
                projections.weight_gradient, zeros(units, width), states, one_step(states),
                projected, one_step(projected), no_masks, steps * batch,
            ),
        }  # fmt: skip
        ns = {name: _thread_seconds(*call) / steps * 1e9 for name, call in parts.items()}
        shown = "  ".join(f"{name} {value:5.0f}" for name, value in ns.items())
        print(f"  {cell:10} {shown}  total {sum(ns.values()):5.0f}")


def targets_module(cell: str) -> str:
    from rnnlab.engine.fused import targets

    return targets.KERNEL_MODULES[cell]


def interleaved(programs: dict, repeats: int) -> dict:
    """{name: [ms per batch, one per repeat]}, the programs taking turns."""
    for function, args in programs.values():
        timed(function, *args)  # compile
    times = {name: [] for name in programs}
    for _ in range(repeats):
        for name, (function, args) in programs.items():
            times[name].append(timed(function, *args) / SCAN * 1e3)
    return times


def spread(values) -> str:
    return f"{statistics.median(values):7.3f} [{min(values):.3f}-{max(values):.3f}]"


def per_batch_report(repeats: int) -> None:
    rng = np.random.default_rng(0)
    ids = jnp.asarray(rng.integers(0, WORDS, size=(SCAN, BATCH, MAXLEN)), jnp.int32)
    labels = jnp.asarray(rng.integers(0, 2, size=(SCAN, BATCH, 1)), jnp.float32)
    programs = {}
    for model in MODELS:
        for variant in ("fused", "keras"):
            trainable, forward, forward_backward = per_batch_programs(
                build(model, variant == "fused")
            )
            programs[(model, variant, "forward")] = (forward, (trainable, ids, labels))
            programs[(model, variant, "forward+backward")] = (
                forward_backward,
                (trainable, ids, labels),
            )
    for cell in ("simple_rnn", "lstm", "gru"):
        args, forward, forward_backward = kernel_programs(cell)
        programs[(cell, "kernels alone", "forward")] = (forward, args)
        programs[(cell, "kernels alone", "forward+backward")] = (forward_backward, args)
    args, with_call, without = ffi_overhead_programs()
    programs[("scan step", "with a no-op FFI call", "")] = (with_call, args)
    programs[("scan step", "without", "")] = (without, args)

    times = interleaved(programs, repeats)
    print(f"\nms per batch of {BATCH} x {MAXLEN}, in a scan of {SCAN}: median [min-max]")
    for (model, variant, part), values in times.items():
        print(f"  {model:10} {variant:22} {part:17} {spread(values)}")
    for model in MODELS:
        for part in ("forward", "forward+backward"):
            ratio = statistics.median(times[(model, "keras", part)]) / statistics.median(
                times[(model, "fused", part)]
            )
            print(f"  {model:10} fused is {ratio:4.1f}x faster than Keras, {part}")
    overhead = statistics.median(times[("scan step", "with a no-op FFI call", "")]) - (
        statistics.median(times[("scan step", "without", "")])
    )
    print(f"  FFI overhead per call inside a scan: {overhead * 1e3:.2f} us")


def epoch_report(repeats: int) -> None:
    from rnnlab.engine.xla import fuse_train_steps

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, WORDS, size=(20_000, MAXLEN)), rng.integers(0, 2, size=(20_000, 1))
    val = rng.integers(0, WORDS, size=(5_000, MAXLEN)), rng.integers(0, 2, size=(5_000, 1))
    models = {}
    for model in MODELS:
        for variant in ("fused", "keras"):
            net = build(model, variant == "fused")
            net.compile(
                optimizer=keras.optimizers.RMSprop(1e-4),
                loss="binary_crossentropy",
                metrics=["accuracy"],
                steps_per_execution=32,
            )
            models[(model, variant)] = fuse_train_steps(net)

    def epoch_seconds(net):
        start = {}

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                start["t"] = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                start["seconds"] = time.perf_counter() - start["t"]

        net.fit(
            x, y, batch_size=BATCH, epochs=1, validation_data=val,
            validation_batch_size=1024, verbose=0, callbacks=[Timer()],
        )  # fmt: skip
        return start["seconds"]

    first = {key: epoch_seconds(net) for key, net in models.items()}  # compilation
    seconds = {key: [] for key in models}
    for _ in range(repeats):
        for key, net in models.items():
            seconds[key].append(epoch_seconds(net))
    print("\nseconds per epoch (313 batches + validation of 5,000): median [min-max]")
    for (model, variant), values in seconds.items():
        first_s = first[(model, variant)]
        print(f"  {model:5} {variant:6} {spread(values)}   first epoch {first_s:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per model")
    parser.add_argument("--no-epochs", action="store_true", help="no epochs")
    parser.add_argument("--steps-only", action="store_true", help="per-step figures only")
    args = parser.parse_args()
    ok, reason = fused.available()
    print(f"fused kernels: {reason}; jax {jax.__version__}, keras {keras.__version__}")
    if not ok:
        raise SystemExit(1)
    print(f"load average: {Path('/proc/loadavg').read_text().split()[0]}")
    step_report()
    if args.steps_only:
        return
    per_batch_report(args.repeats)
    if not args.no_epochs:
        epoch_report(args.epochs)


if __name__ == "__main__":
    main()
