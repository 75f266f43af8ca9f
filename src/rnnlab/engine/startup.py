"""Start-up savings for every engine: JAX's compilation cache, and Keras without scikit-learn.

Neither changes a result; bench/engine_paths.py measures what each saves.
"""

import os
import sys
from contextlib import contextmanager


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
