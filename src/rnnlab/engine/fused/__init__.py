"""Fused recurrent layers: a whole sequence in one kernel call forward, one backward.

Keras' recurrent layers on JAX run a `lax.scan`: XLA's CPU runtime then pays
for every time step of every batch.  Here each recurrent layer (SimpleRNN,
LSTM, GRU: input projection, recurrence, and every gradient) is a numba kernel
called once per batch through the typed XLA FFI forward, and once backward
through time, wired into JAX with `jax.custom_vjp`: Keras' fit loop,
optimizers, losses and metrics stay as they are.

    from rnnlab.engine.fused import layers   # Embedding, Bidirectional, SimpleRNN,
                                             # LSTM, GRU, OneHotSimpleRNN

The layers are Keras' own subclasses (same weights, configs and numbers, to
float32 rounding), and run Keras' code wherever the kernels do not apply, or
when `available()` says they cannot run.  Modules, from the bottom up:

    compile_cache  where numba keeps compiled kernels; one compilation at a time
    ffi_frame      reading XLA's call frame from numba
    kernel_math    tanh, sigmoid, matmuls in the kernels' layout
    projections    the input projection and the weight gradients
    cell_io        what every cell's handlers do around its recurrence
    *_kernels      each cell's forward and backward recurrence, and its handlers
    targets        the handlers registered with XLA
    recurrence     the JAX side: one FFI call each way, under custom_vjp
    rnn_layers     the Keras layers

Nothing here imports numba until a kernel is needed.
"""

import functools

from .compile_cache import configure_numba_cache, numba_cache_dir

__all__ = ["available", "configure_numba_cache", "numba_cache_dir"]


@functools.cache
def available() -> tuple[bool, str]:
    """(True, what runs) when the kernels can run here, else (False, why not).

    Checks that numba imports, that the JAX backend is the CPU, and that a probe
    kernel registers with XLA (which refuses a handler written for another FFI
    API version) and answers a call as expected.  Asked once per process.
    """
    configure_numba_cache()
    try:
        import numba
    except ImportError as error:
        return False, f"numba cannot be imported ({error}); pip install numba"
    try:
        import jax

        if jax.default_backend() != "cpu":
            return False, f"the kernels run on the CPU; JAX's backend is {jax.default_backend()}"
        from . import targets

        targets.probe()
        from .ffi_frame import API_VERSION
    except Exception as error:  # any failure means: use Keras' own layers
        reason = " ".join(str(error).split())
        return False, f"the XLA FFI probe failed: {type(error).__name__}: {reason}"
    return True, f"numba {numba.__version__}, XLA FFI API {API_VERSION[0]}.{API_VERSION[1]}"
