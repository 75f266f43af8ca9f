"""Starting fresh Python processes that run rnnlab code (the tokenizer's helper, the
sweep workers).

A child started this way imports only what its code names, never the caller's
main script (`multiprocessing`'s spawn re-runs a script that lacks an
`if __name__ == "__main__"` guard), and finds this rnnlab whatever the
caller's `sys.path` looked like.
"""

import os
import subprocess
import sys
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
