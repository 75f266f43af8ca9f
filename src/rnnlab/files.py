"""Writing files so that a crash never leaves a half-written one behind."""

import json
import os
import tempfile
from pathlib import Path

from .errors import RnnlabError


def atomic_write(path, write) -> Path:
    """Call `write(binary_file)` on a temporary file beside `path`, then rename it
    over `path` (an atomic step on one file system)."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise RnnlabError(
            f"{path} is not a regular file (a folder, a device or a pipe): give a file path"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; use the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path, text: str) -> Path:
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def write_json(path, data) -> Path:
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
