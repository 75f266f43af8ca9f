"""Writing files so that a crash never leaves a half-written one behind, and reading the
small files that options name (--grid @FILE) without waiting on a pipe or reading a
device without end."""

import json
import os
import stat
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


def read_small_text(path, limit: int, what: str) -> str:
    """The UTF-8 text of the regular file `path`, at most `limit` bytes; anything else (a
    FIFO, which could wait for ever, a device, a folder, a bigger file) is a one-line
    error naming `what`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens without a writer
    except OSError as error:
        raise RnnlabError(f"cannot read {what} {path}: {error.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RnnlabError(
            f"{what} {path} is not a regular file (a FIFO, a device or a folder): give a file"
        )
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise RnnlabError(f"{what} {path} is over {limit:,} bytes: give a smaller file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RnnlabError(
            f"{what} {path} is not UTF-8 text (byte {error.start + 1}): convert it"
        ) from None
