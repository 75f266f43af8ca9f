"""Fresh Python processes that run rnnlab code: a second core's worth of work.

A child started this way imports only what its code names, never the caller's
main script (`multiprocessing`'s spawn re-runs a script that lacks an
`if __name__ == "__main__"` guard), and finds this rnnlab whatever the
caller's `sys.path` looked like.
"""

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path


def start_python(code: str, *args: str, **popen_options) -> subprocess.Popen:
    """`python -c code args...` with this rnnlab importable and its output
    unbuffered (so that progress lines arrive as they are printed); options go
    to Popen."""
    package_parent = str(Path(__file__).resolve().parents[1])  # where `import rnnlab` works
    path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env={**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"},
        **popen_options,
    )


def cores() -> int:
    return os.cpu_count() or 1


@contextmanager
def keras_without_sklearn():
    """Within this block, Keras imports without scikit-learn.

    Keras imports scikit-learn, when installed, only for its scikit-learn
    wrappers, which rnnlab does not use; that costs 1.5-2 s of every command
    that trains or predicts.  For the processes rnnlab owns (the command line,
    its child Pythons) the import is skipped; a `sys.modules` entry of None
    makes `import sklearn` fail, and Keras handles that.  Nothing changes if
    scikit-learn or Keras is already imported.
    """
    hide = "sklearn" not in sys.modules and "keras" not in sys.modules
    if hide:
        sys.modules["sklearn"] = None
    try:
        yield
    finally:
        if hide and sys.modules.get("sklearn", 0) is None:
            del sys.modules["sklearn"]
