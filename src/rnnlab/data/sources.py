"""Where the data comes from: the official downloads, and how a `--data` value is read.

A data spec is the name of an official download (`keras`, `aclimdb`, `nsmc`)
or local files: a Keras-format `imdb.npz`, a `.tar.gz` in the aclImdb layout,
an extracted `aclImdb` folder, a folder holding NSMC's `ratings_train.txt` and
`ratings_test.txt`, your own labelled file (`.tsv`, `.csv`, `.jsonl`, or a
`.txt` in NSMC's format), split into training and test (`SPLIT_RULE`), or two
such files, `TRAIN,TEST`.  With no spec, `$RNNLAB_DATA` is used, and with
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

# NSMC v1.0 as published (github.com/e9t/nsmc, CC0), checked by their git blob ids at the
# repository's commit cc0670e8 (sha1 of "blob <size>\0" + the content).
_NSMC_RAW = "https://raw.githubusercontent.com/e9t/nsmc/master"
NSMC_TRAIN = Remote(
    "nsmc/ratings_train.txt",
    f"{_NSMC_RAW}/ratings_train.txt",
    "gitblob:ac0dba272895dc1d0b3dd5f11afbeaeb7abe7876",
)
NSMC_TEST = Remote(
    "nsmc/ratings_test.txt",
    f"{_NSMC_RAW}/ratings_test.txt",
    "gitblob:b6cfcd8cd1557bcd9bf06617b0e429ed73e9a367",
)

DEFAULT_SOURCE = "keras"
# name -> the files to download; the data is the first one, or the folder its name
# starts with.  Keras' npz comes with a separate word index, which is looked for beside it.
DOWNLOADS = {
    "keras": (KERAS_NPZ, KERAS_WORD_INDEX),
    "aclimdb": (ACLIMDB,),
    "nsmc": (NSMC_TRAIN, NSMC_TEST),
}
WORD_INDEX_FILENAME = KERAS_WORD_INDEX.filename
NSMC_FILES = ("ratings_train.txt", "ratings_test.txt")
TABLE_SUFFIXES = (".tsv", ".csv", ".jsonl", ".txt")
SPLIT_RULE = (
    "one file is split by label: 20% of each label's rows, drawn with seed 42, are the test "
    "split, the rest the training split (of which 20% is then validation, as for IMDB)"
)

# Source kinds
KERAS_KIND = "keras-npz"
TAR_KIND = "aclimdb-tar"
DIR_KIND = "aclimdb-dir"
NSMC_KIND = "nsmc-dir"  # a folder of NSMC's two files
PAIR_KIND = "table-pair"  # your training file and your test file
SPLIT_KIND = "table-split"  # one file of yours, split by SPLIT_RULE
IMDB_KINDS = (KERAS_KIND, TAR_KIND, DIR_KIND)  # the book's data: its results compare
TEXT_KINDS = (TAR_KIND, DIR_KIND, NSMC_KIND, PAIR_KIND, SPLIT_KIND)  # tokenized here


def data_spec(path=None) -> str:
    """The spec in force: the argument, else $RNNLAB_DATA, else the default download."""
    if path is not None and str(path).strip():
        return str(path)
    return os.environ.get("RNNLAB_DATA", "").strip() or DEFAULT_SOURCE


def local_paths(spec: str) -> list[Path]:
    """The absolute local path(s) of a spec: one, or two for `TRAIN,TEST`."""
    parts = [spec] if Path(spec).expanduser().exists() else spec.split(",")
    if len(parts) > 2:
        raise RnnlabError(
            f"--data {spec}: give one path, or two files TRAIN,TEST separated by a comma"
        )
    return [Path(os.path.abspath(Path(part.strip()).expanduser())) for part in parts]


def classify_spec(paths: list[Path]) -> tuple[str, list[Path]]:
    """(kind, paths) of local files: `classify` for one path, a pair of tables for two."""
    if len(paths) == 1:
        kind, path = classify(paths[0])
        return kind, [path]
    for path in paths:
        _check_table(path)
    return PAIR_KIND, paths


def _check_table(path: Path) -> None:
    if not path.is_file() or path.suffix.lower() not in TABLE_SUFFIXES:
        raise RnnlabError(
            f"{path} is not a file of labelled texts: TRAIN,TEST takes two existing .tsv, "
            ".csv, .jsonl or NSMC-format .txt files"
        )


def classify(path: Path) -> tuple[str, Path]:
    """(kind, path) of a local source, or a one-line error saying what is wrong."""
    if not path.exists():
        raise RnnlabError(
            f"data path {path} does not exist; pass an imdb.npz, an aclImdb .tar.gz or "
            "folder, an NSMC folder, a labelled .tsv/.csv/.jsonl (or TRAIN,TEST) with --data "
            f"PATH (or RNNLAB_DATA), or one of: {', '.join(DOWNLOADS)}"
        )
    if path.is_dir():
        if all((path / name).is_file() for name in NSMC_FILES):
            return NSMC_KIND, path
        root = find_aclimdb_root(path)
        if root is None:
            raise RnnlabError(
                f"{path} is a folder without aclImdb/train or aclImdb/test (the layout "
                "aclImdb/{train,test}/{pos,neg}/*.txt) and without NSMC's ratings_train.txt "
                "and ratings_test.txt"
            )
        return DIR_KIND, root
    if not stat.S_ISREG(path.stat().st_mode):
        raise RnnlabError(
            f"{path} is not a regular file (a device, a pipe or a socket): give an imdb.npz, "
            "an aclImdb .tar.gz or an aclImdb folder"
        )
    if path.suffix.lower() in TABLE_SUFFIXES and (path.suffix != ".txt" or _is_nsmc_txt(path)):
        return SPLIT_KIND, path
    if zipfile.is_zipfile(path):
        return KERAS_KIND, path
    if _looks_like_tar(path):
        return TAR_KIND, path
    raise RnnlabError(
        f"{path} is neither a Keras imdb.npz, an aclImdb .tar.gz nor a .tsv/.csv/.jsonl file "
        "of labelled texts or a .txt in NSMC's format (first line id<TAB>document<TAB>label); "
        "or the file is truncated: check the path or download again"
    )


def _is_nsmc_txt(path: Path) -> bool:
    with open(path, "rb") as f:
        first = f.readline(256).decode("utf-8", errors="replace").lstrip("\ufeff")
    return first.rstrip("\r\n").split("\t") == ["id", "document", "label"]


def _looks_like_tar(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(262)
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
        return True  # compressed; tarfile reports corruption later with a clear error
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False
