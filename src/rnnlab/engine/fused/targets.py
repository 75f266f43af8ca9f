"""The kernels registered with XLA as FFI targets, once per process, on first use.

Each cell's kernel module is imported (compiled, or loaded from numba's disk
cache) only when a layer of that cell first runs, so that a model of SimpleRNNs
never waits for the LSTM kernels to compile.
"""

import threading

# cell -> the module that holds its `forward_handler` and `backward_handler`.
KERNEL_MODULES = {
    "simple_rnn": "simple_rnn_kernels",
    "lstm": "lstm_kernels",
    "gru": "gru_kernels",
}
PROBE_TARGET = "rnnlab_fused_probe"

_registered: set[str] = set()
_lock = threading.Lock()


def target_name(cell: str, direction: str) -> str:
    return f"rnnlab_fused_{cell}_{direction}"


def _register(name: str, handler) -> None:
    import jax

    # Initialize the CPU backend first: a target registered before it exists is
    # registered when it starts, and a failure there would take the backend down
    # with it; registered after, a failure raises here.
    jax.devices("cpu")
    jax.ffi.register_ffi_target(
        name, jax.ffi.pycapsule(handler.address), platform="cpu", api_version=1
    )


def ensure_registered(cell: str) -> None:
    """Register `cell`'s forward and backward targets (or the probe: "probe")."""
    with _lock:
        if cell in _registered:
            return
        from .compile_cache import import_kernels

        if cell == "probe":
            _register(PROBE_TARGET, import_kernels("ffi_frame").probe_handler)
        else:
            module = import_kernels(KERNEL_MODULES[cell])
            _register(target_name(cell, "forward"), module.forward_handler)
            _register(target_name(cell, "backward"), module.backward_handler)
        _registered.add(cell)


def probe() -> None:
    """Call the probe target; raise unless it answers as the frame layout says."""
    import jax
    import numpy as np

    ensure_registered("probe")
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    call = jax.ffi.ffi_call(PROBE_TARGET, jax.ShapeDtypeStruct(values.shape, values.dtype))
    with jax.ensure_compile_time_eval():  # a real call, even when asked while tracing
        answer = np.asarray(jax.jit(call)(values))
    if not np.array_equal(answer, values + 1):
        raise RuntimeError(f"the probe kernel answered {answer.tolist()}, not argument + 1")
