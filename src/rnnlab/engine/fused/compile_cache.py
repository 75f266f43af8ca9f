"""Where numba keeps the compiled kernels, and one compilation at a time.

The kernels are compiled once and kept on disk (`cache=True`) under
NUMBA_CACHE_DIR, which rnnlab sets to `$RNNLAB_HOME/numba-cache` unless the
user set it.  Two hazards are handled here:

- numba checks a cached function against its own source file only, not against
  the files of the functions it calls: a kernel whose helpers changed would
  load stale machine code (and corrupt memory).  The kernels are therefore
  cached in a folder named by a hash of this package's sources; a new one
  replaces the folders of other versions.
- numba writes each cache file atomically, but a cache's index is read, updated
  and written back: two processes compiling at once can drop each other's
  entries.  Kernel modules are imported under an exclusive lock on a file in
  that folder: the first process compiles and saves, the others wait, then load.
"""

import contextlib
import hashlib
import importlib
import os
import shutil
import sys
import time
from pathlib import Path

from ...locks import Lock

LOCK_FILE = ".compile.lock"


def numba_cache_dir() -> Path:
    """NUMBA_CACHE_DIR if the user set it, else `$RNNLAB_HOME/numba-cache`."""
    configured = os.environ.get("NUMBA_CACHE_DIR", "").strip()
    if configured:
        return Path(configured)
    from ...data import cache

    return cache.home() / "numba-cache"


def configure_numba_cache() -> Path:
    """Point NUMBA_CACHE_DIR at `numba_cache_dir()`, once, before numba compiles."""
    folder = numba_cache_dir()
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    return folder


def kernels_cache_dir() -> Path:
    """The folder of these kernels' cache: one per version of their sources."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return configure_numba_cache() / f"rnnlab-fused-{digest.hexdigest()[:16]}"


def compile_lock(folder: Path) -> Lock:
    """Exclusive across processes while held."""
    folder.mkdir(parents=True, exist_ok=True)
    return Lock(folder / LOCK_FILE)


@contextlib.contextmanager
def _numba_caching_in(folder: Path):
    """numba caches functions decorated meanwhile in `folder`.

    numba reads NUMBA_CACHE_DIR when a function is decorated, through
    `numba.core.config.reload_config` (numba internals).
    """
    from numba.core import config

    before = os.environ["NUMBA_CACHE_DIR"]
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    config.reload_config()
    try:
        yield
    finally:
        os.environ["NUMBA_CACHE_DIR"] = before
        config.reload_config()


def import_kernels(module: str):
    """Import `rnnlab.engine.fused.<module>`, compiling or loading its kernels."""
    folder = kernels_cache_dir()
    if not folder.exists():
        for other in folder.parent.glob("rnnlab-fused-*"):
            shutil.rmtree(other, ignore_errors=True)
    with compile_lock(folder), _numba_caching_in(folder):
        if f"{__package__}.{module}" in sys.modules or any(folder.rglob(f"{module}.*.nbi")):
            return importlib.import_module(f"{__package__}.{module}")
        with _compile_progress(module, folder):
            return importlib.import_module(f"{__package__}.{module}")


@contextlib.contextmanager
def _compile_progress(module: str, folder: Path):
    """One line on stderr while numba compiles `module`: each function as it is done."""
    from numba.core import event

    what = module.removesuffix("_kernels").replace("ffi_frame", "FFI probe")
    print(f"rnnlab: compiling the fused {what} kernels, once (cached in {folder}):",
          end="", file=sys.stderr, flush=True)  # fmt: skip

    class Progress(event.Listener):
        depth = 0

        def on_start(self, ev):
            self.depth += 1

        def on_end(self, ev):
            self.depth -= 1
            dispatcher = ev.data.get("dispatcher") if isinstance(ev.data, dict) else None
            name = getattr(getattr(dispatcher, "py_func", None), "__name__", "")
            if self.depth == 0 and name:
                print(f" {name}", end="", file=sys.stderr, flush=True)

    started = time.perf_counter()
    with event.install_listener("numba:compile", Progress()):
        yield
    print(f"; done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
