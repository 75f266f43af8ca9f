"""One lock for the whole package: an exclusive OS lock on a file, from `filelock`.

filelock takes `flock` on Linux and macOS and `msvcrt.locking` on Windows; either
way the operating system releases the lock when its process ends, however it ends
(kill -9 included), so a dead holder blocks nobody and no stale lock needs cleaning.
The lock file is created if missing and may stay after release.  Held by: a run
folder's writer (runs.py), a cache entry's builder (data/cache.py), the fused
kernels' compiler (engine/fused/compile_cache.py), and a sweep's folder, queue,
journal and trials (sweep/).
"""

import filelock

# Lock(path): `with Lock(path):` waits for the lock; or .acquire() and .release(),
# which is the interface Optuna's journal asks of its lock object.
Lock = filelock.FileLock


def try_acquire(lock: Lock) -> bool:
    """Take `lock` if nobody holds it; False, at once, if someone else does."""
    try:
        lock.acquire(blocking=False)
    except filelock.Timeout:
        return False
    return True
