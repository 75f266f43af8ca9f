"""Where IMDB comes from: the official downloads, and how a `--data` value is read.

A data spec is either the name of an official download (`keras`, `aclimdb`) or
a local path: a Keras-format `imdb.npz`, a `.tar.gz` in the aclImdb layout, or
an extracted `aclImdb` folder.  With no spec, `$RNNLAB_DATA` is used, and with
neither, the Keras npz is downloaded into the cache.
"""

import os
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import RnnlabError
from .readers import find_aclimdb_root


@dataclass(frozen=True)
class Remote:
    """A file to download, with the checksum its publisher gives."""

    filename: str
    url: str
    known_hash: str  # "sha256:<hex>" or "md5:<hex>"


KERAS_NPZ = Remote(
    "imdb.npz",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz",
    "sha256:69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
)
KERAS_WORD_INDEX = Remote(
    "imdb_word_index.json",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json",
    "md5:bfafd718b763782e994055a2d397834f",
)
ACLIMDB = Remote(
    "aclImdb_v1.tar.gz",
    "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    "md5:7c2ac02c03563afcf9b574c7e56c153a",
)

DEFAULT_SOURCE = "keras"
# name -> the files to download; the first one is the data.  Keras' npz comes
# with a separate word index, which is looked for beside it.
DOWNLOADS = {"keras": (KERAS_NPZ, KERAS_WORD_INDEX), "aclimdb": (ACLIMDB,)}
WORD_INDEX_FILENAME = KERAS_WORD_INDEX.filename

# Source kinds
KERAS_KIND = "keras-npz"
TAR_KIND = "aclimdb-tar"
DIR_KIND = "aclimdb-dir"


def data_spec(path=None) -> str:
    """The spec in force: the argument, else $RNNLAB_DATA, else the default download."""
    if path is not None and str(path).strip():
        return str(path)
    return os.environ.get("RNNLAB_DATA", "").strip() or DEFAULT_SOURCE


def classify(path: Path) -> tuple[str, Path]:
    """(kind, path) of a local source, or a one-line error saying what is wrong."""
    if not path.exists():
        raise RnnlabError(
            f"data path {path} does not exist; pass an imdb.npz, an aclImdb .tar.gz or an "
            f"aclImdb folder with --data PATH (or RNNLAB_DATA), or one of: {', '.join(DOWNLOADS)}"
        )
    if path.is_dir():
        root = find_aclimdb_root(path)
        if root is None:
            raise RnnlabError(
                f"{path} is a folder without aclImdb/train or aclImdb/test; expected the "
                "layout aclImdb/{train,test}/{pos,neg}/*.txt"
            )
        return DIR_KIND, root
    if not stat.S_ISREG(path.stat().st_mode):
        raise RnnlabError(
            f"{path} is not a regular file (a device, a pipe or a socket): give an imdb.npz, "
            "an aclImdb .tar.gz or an aclImdb folder"
        )
    if zipfile.is_zipfile(path):
        return KERAS_KIND, path
    if _looks_like_tar(path):
        return TAR_KIND, path
    raise RnnlabError(
        f"{path} is neither a Keras imdb.npz, an aclImdb .tar.gz nor an aclImdb folder "
        "(or the file is truncated); check the path or download the data again"
    )


def _looks_like_tar(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(262)
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
        return True  # compressed; tarfile reports corruption later with a clear error
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False
