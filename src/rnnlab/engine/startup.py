"""Before and while Keras starts: the device JAX runs on, its compilation cache, and Keras
without scikit-learn.

None of these changes a result; bench/engine_paths.py measures what the last two save.
"""

import os
import sys
from contextlib import contextmanager

# --device -> (JAX_PLATFORMS, the backend JAX then reports); auto: JAX's own choice
DEVICES = {"cpu": ("cpu", "cpu"), "gpu": ("cuda", "gpu"), "auto": (None, None)}


def choose_device(device: str) -> None:
    """Point JAX at `device` before it starts.  rnnlab's models are small: on a GPU every
    time step is a kernel launch, so they run slower there than on the same machine's
    CPU, and each worker would take most of the GPU's memory.  So the CPU is the default
    (rnnlab/__init__.py), `gpu` asks for CUDA, `auto` lets JAX choose."""
    from ..errors import RnnlabError

    platforms, backend = DEVICES[device]
    if "jax" in sys.modules:  # too late to choose: accept only what is running
        import jax

        if backend is not None and jax.default_backend() != backend:
            raise RnnlabError(
                f"JAX already runs on {jax.default_backend()}: choose the device before JAX "
                "starts (--device on the command line, or JAX_PLATFORMS)"
            )
    elif platforms is None:
        os.environ.pop("JAX_PLATFORMS", None)
    else:
        os.environ["JAX_PLATFORMS"] = platforms


def check_backend() -> None:
    """rnnlab's commands run Keras on JAX (its engines, its choice of device and its
    compilation cache are JAX's): another KERAS_BACKEND is a one-line error, before
    Keras imports it."""
    from ..errors import RnnlabError

    backend = os.environ.get("KERAS_BACKEND", "jax")
    if backend.strip().lower() != "jax":
        raise RnnlabError(
            f"KERAS_BACKEND is {backend!r}, but rnnlab runs Keras on JAX: unset KERAS_BACKEND "
            "or set it to jax"
        )


def device_in_use() -> str:
    """The device JAX runs on, or a one-line error when the one asked for is missing."""
    from ..errors import RnnlabError

    try:
        import jax

        return jax.default_backend()
    except (RuntimeError, AssertionError) as error:
        # RuntimeError: JAX_PLATFORMS names a platform this JAX does not have; an
        # AssertionError: JAX skipped CUDA for want of a visible GPU and had nothing left.
        reason = str(error).splitlines()[0] if str(error).strip() else "no GPU is visible"
        raise RnnlabError(
            f"JAX cannot start on {os.environ.get('JAX_PLATFORMS')} ({reason}): use --device "
            "cpu, or run on a machine with a GPU and jax with GPU support (pip install "
            "'jax[cuda12]')"
        ) from None


def use_compilation_cache() -> None:
    """Keep JAX's compiled programs in the rnnlab cache folder, so that the next
    run skips most of the first epoch's compilation.  A JAX_COMPILATION_CACHE_DIR
    set by the user wins."""
    import jax

    from ..data import cache

    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return
    jax.config.update("jax_compilation_cache_dir", str(cache.home() / "jax-cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def import_keras() -> None:
    """Import Keras now, without scikit-learn (see keras_without_sklearn)."""
    with keras_without_sklearn():
        import keras  # noqa: F401


@contextmanager
def keras_without_sklearn():
    """Within this block, Keras imports without scikit-learn.

    Keras imports scikit-learn, when installed, only for its scikit-learn
    wrappers, which rnnlab does not use.  For the processes rnnlab owns (the
    command line, its child Pythons) the import is skipped: a `sys.modules`
    entry of None makes `import sklearn` fail, and Keras handles that (it
    guards the import).  Nothing changes if scikit-learn or Keras is already
    imported, and scikit-learn imports normally after the block
    (tests/test_engine.py).
    """
    hide = "sklearn" not in sys.modules and "keras" not in sys.modules
    if hide:
        sys.modules["sklearn"] = None
    try:
        yield
    finally:
        if hide and sys.modules.get("sklearn", 0) is None:
            del sys.modules["sklearn"]
