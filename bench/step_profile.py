"""Where an epoch's time goes: one training batch, and one time step of the loop.

    python bench/step_profile.py

Part 1 times each model's compiled forward pass and forward+backward pass on
one batch of 64 reviews x 100 steps (median of 5 x 100 calls), and multiplies
by the 313 batches of an epoch: the compute floor of an epoch under Keras + JAX,
before the optimizer, metrics and Python.

Part 2 times `lax.scan` loops of 100 steps on (64, 8) states to price what one
step costs on XLA's CPU runtime: the loop itself, the recurrent matmul, and the
activations.  No data is needed; random ids stand in for reviews.
"""

import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

BATCHES_PER_EPOCH = 313  # 20,000 training reviews in batches of 64


def median_ms(function, *args, calls=100, repeats=5) -> float:
    function = jax.jit(function)
    jax.block_until_ready(function(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            out = function(*args)
        jax.block_until_ready(out)
        times.append((time.perf_counter() - start) / calls * 1e3)
    return statistics.median(times)


def model_costs(name: str, batches=32) -> tuple[float, float]:
    """Milliseconds per batch: forward, and forward + backward.  `batches`
    batches run in one compiled call, as rnnlab's training does, so that the
    cost of calling from Python is not counted."""
    import keras

    from rnnlab.models import build_model

    keras.utils.set_random_seed(42)
    model = build_model(name)
    trainable = [v.value for v in model.trainable_variables]
    fixed = [v.value for v in model.non_trainable_variables]
    ids = np.random.default_rng(0).integers(0, 500, (batches, 64, 100)).astype("int32")
    labels = np.zeros((batches, 64, 1), "float32")

    def forward(trainable, ids):
        return model.stateless_call(trainable, fixed, ids, training=True)[0]

    def loss(trainable, ids, labels):
        return keras.losses.binary_crossentropy(labels, forward(trainable, ids)).mean()

    def each_batch(step):
        def run(trainable, ids, labels):
            def body(total, batch):
                out = step(trainable, *batch)
                return total + sum(jnp.sum(leaf) for leaf in jax.tree.leaves(out)), None

            return jax.lax.scan(body, 0.0, (ids, labels))[0]

        return run

    data = trainable, ids, labels
    forward_ms = median_ms(each_batch(lambda t, x, y: forward(t, x)), *data, calls=5)
    both_ms = median_ms(each_batch(jax.value_and_grad(loss)), *data, calls=5)
    return forward_ms / batches, both_ms / batches


def loop_costs() -> dict[str, float]:
    """Microseconds per step of a 100-step loop over a (64, 8) state."""
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    inputs8 = jax.random.normal(keys[0], (100, 64, 8))
    inputs32 = jax.random.normal(keys[1], (100, 64, 32))
    u8, u32 = jnp.eye(8) * 0.5, jax.random.normal(keys[2], (8, 32)) * 0.3
    h, hc = jnp.zeros((64, 8)), (jnp.zeros((64, 8)), jnp.zeros((64, 8)))

    def lstm_cell(sigmoid, tanh):
        def step(state, x_t, u):
            h, c = state
            z0, z1, z2, z3 = jnp.split(x_t + h @ u, 4, axis=1)
            c = sigmoid(z1) * c + sigmoid(z0) * tanh(z2)
            return sigmoid(z3) * tanh(c), c

        return step

    cases = {  # label: (step, inputs, recurrent kernel, initial state)
        "loop only: h + x_t": (lambda h, x_t, u: h + x_t, inputs8, u8, h),
        "+ tanh: tanh(h + x_t)": (lambda h, x_t, u: jnp.tanh(h + x_t), inputs8, u8, h),
        "+ matmul: tanh(x_t + h @ U), SimpleRNN": (
            lambda h, x_t, u: jnp.tanh(x_t + h @ u),
            inputs8,
            u8,
            h,
        ),
        "LSTM cell, activations replaced by 0.5 z": (
            lstm_cell(lambda z: 0.5 * z, lambda z: 0.5 * z),
            inputs32,
            u32,
            hc,
        ),
        "LSTM cell (3 sigmoids, 2 tanh)": (lstm_cell(jax.nn.sigmoid, jnp.tanh), inputs32, u32, hc),
    }
    costs = {}
    for label, (step, inputs, u, initial) in cases.items():

        def final_sum(x, u, step=step, initial=initial):
            state = jax.lax.scan(lambda s, x_t: (step(s, x_t, u), None), initial, x)[0]
            return sum(jnp.sum(part) for part in jax.tree.leaves(state))

        costs[label] = median_ms(final_sum, inputs, u) * 1e3 / 100
        costs[label + ", with gradient"] = (
            median_ms(jax.grad(final_sum, (0, 1)), inputs, u) * 1e3 / 100
        )
    return costs


def main():
    from rnnlab.models import KERAS_MODELS

    print(f"cores: {os.cpu_count()}; batch 64 x 100 steps; {BATCHES_PER_EPOCH} batches per epoch")
    row = "{:<22} {:>12} {:>16} {:>22}"
    print(row.format("model", "forward ms", "fwd+bwd ms", "fwd+bwd x 313 (s)"))
    for name in KERAS_MODELS:
        forward, both = model_costs(name)
        print(row.format(name, f"{forward:.3f}", f"{both:.3f}", f"{both * 313 / 1e3:.3f}"))
    print()
    print("one step of a 100-step lax.scan, (64, 8) state (microseconds):")
    for label, micros in loop_costs().items():
        print(f"  {label:<58} {micros:6.2f}")


if __name__ == "__main__":
    main()
