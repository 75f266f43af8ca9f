"""Safe readers for the three kinds of IMDB source.

- `read_keras_npz`: Keras' `imdb.npz`.  Its ragged arrays are pickled; only the
  three globals numpy needs to rebuild an array are allowed, and every element
  must be a list of ints.  Nothing else is ever unpickled.
- `read_aclimdb_tar`: the Stanford archive (or any `.tar.gz` in its layout),
  read member by member in memory: nothing is extracted, and a member with an
  absolute path, a `..`, a link or a device is refused.
- `read_aclimdb_dir`: an extracted `aclImdb` folder.

Each returns texts or ranks for `raw.RawImdb`; problems raise `RnnlabError`.
"""

import io
import lzma
import pickle
import re
import tarfile
import zipfile
import zlib
from itertools import chain
from pathlib import Path

import numpy as np

from ..errors import RnnlabError
from .inflate import Inflated
from .raw import Ragged

# --- Keras npz -----------------------------------------------------------------

MAX_RANK = 2**31 - 2**16  # room for any index_from before int32 ends
MAX_NPY = 256 << 20  # the bytes of one array of the npz
MIN_TRAIN_REVIEWS = 2  # the 80/20 split needs one review on each side

_NUMPY_ARRAY_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _NUMPY_ARRAY_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")


def _read_npy(stream, member: str, path: Path) -> np.ndarray:
    data = stream.read(MAX_NPY + 1)  # never more than this, whatever the archive claims
    if len(data) > MAX_NPY:
        raise RnnlabError(
            f"{path}: {member} inflates to more than {MAX_NPY >> 20} MB, far more than IMDB's "
            "(about 30 MB): it is not Keras' IMDB npz"
        )
    buffer = io.BytesIO(data)
    try:
        return np.lib.format.read_array(buffer, allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" not in str(error):
            raise
    buffer.seek(0)
    major, _ = np.lib.format.read_magic(buffer)
    if major == 1:
        np.lib.format.read_array_header_1_0(buffer)
    else:  # versions 2 and 3 share the header layout
        np.lib.format.read_array_header_2_0(buffer)
    try:
        return _ArrayOnlyUnpickler(buffer).load()
    except pickle.UnpicklingError as error:
        raise RnnlabError(
            f"{path}: member {member} holds objects other than int lists ({error}); "
            "this is not a Keras IMDB npz, refusing to load it"
        ) from None


def _as_ragged(array, member: str, path: Path) -> Ragged:
    bad = RnnlabError(
        f"{path}: {member} must be a 1-D array of lists of ints (Keras' IMDB format); "
        "it holds something else, refusing to load it"
    )
    if not isinstance(array, np.ndarray) or array.ndim != 1:
        raise bad
    if array.dtype != object or not all(type(review) is list for review in array):
        raise bad
    flat = np.array(list(chain.from_iterable(array)))
    if flat.size and (flat.dtype.kind != "i" or flat.min() < 1):
        raise bad
    if flat.size and flat.max() > MAX_RANK:
        raise RnnlabError(
            f"{path}: {member} has word ids up to {flat.max():,}; ids must stay below "
            f"{MAX_RANK:,} (they are int32 once shifted by index_from): not Keras' IMDB data"
        )
    return Ragged(flat.astype(np.int32), np.array([len(r) for r in array], dtype=np.int64))


def _as_labels(array, member: str, path: Path, n: int) -> np.ndarray:
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "iub" or array.shape != (n,):
        raise RnnlabError(f"{path}: {member} must hold {n} integer labels, one per review")
    found = set(np.unique(array).tolist())
    if not found <= {0, 1}:
        raise RnnlabError(
            f"{path}: {member} holds labels {sorted(found)[:5]}; IMDB's are 0 (negative) and "
            "1 (positive)"
        )
    return array


def read_keras_npz(path: Path):
    """(x_train, y_train, x_test, y_test) from a Keras-format `imdb.npz`."""
    wanted = ("x_train", "y_train", "x_test", "y_test")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [m for m in wanted if f"{m}.npy" not in names]
            if missing:
                raise RnnlabError(
                    f"{path}: npz has no {', '.join(missing)}; expected Keras' IMDB npz "
                    "with x_train, y_train, x_test, y_test"
                )
            arrays = {}
            for member in wanted:
                with archive.open(f"{member}.npy") as stream:
                    arrays[member] = _read_npy(stream, member, path)
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError) as error:
        raise RnnlabError(f"{path}: not a readable npz file ({error}); re-download it") from None
    x_train = _as_ragged(arrays["x_train"], "x_train", path)
    x_test = _as_ragged(arrays["x_test"], "x_test", path)
    y_train = _as_labels(arrays["y_train"], "y_train", path, len(x_train))
    y_test = _as_labels(arrays["y_test"], "y_test", path, len(x_test))
    check_sizes(len(x_train), len(x_test), path)
    return x_train, y_train, x_test, y_test


def check_sizes(n_train: int, n_test: int, where) -> None:
    if n_train < MIN_TRAIN_REVIEWS or n_test < 1:
        raise RnnlabError(
            f"{where} has {n_train} training and {n_test} test reviews: too few to split "
            f"(at least {MIN_TRAIN_REVIEWS} training reviews and 1 test review are needed)"
        )


# --- aclImdb: tarball and folder -------------------------------------------------

# aclImdb/train/pos/123_9.txt -> split, label, review id
_REVIEW = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_\d+\.txt$")
_SPLITS = ("train", "test")
_LABELS = {"neg": 0, "pos": 1}


def _decode(data: bytes) -> str:
    # Documented policy (see tokenizer): invalid UTF-8 bytes become U+FFFD.
    return data.decode("utf-8", errors="replace")


def _check_member(member: tarfile.TarInfo, path: Path, count: int) -> None:
    if count >= MAX_MEMBERS or member.offset_data + member.size > MAX_INFLATED:
        raise RnnlabError(
            f"{path}: the archive holds more than {MAX_MEMBERS:,} files or "
            f"{MAX_INFLATED >> 30} GB, far more than IMDB; it is not an IMDB archive"
        )
    if member.size > MAX_REVIEW and _REVIEW.search(member.name):
        raise RnnlabError(
            f"{path}: {member.name} is {member.size:,} bytes, not a review (IMDB's longest is "
            "14 KB); it is not an IMDB archive"
        )
    if member.name.startswith("/") or ".." in member.name.split("/"):
        raise RnnlabError(
            f"{path}: archive member {member.name!r} points outside the archive; "
            "refusing to read a tampered archive"
        )
    if not (member.isfile() or member.isdir()):
        raise RnnlabError(
            f"{path}: archive member {member.name!r} is a link or device, which an IMDB "
            "archive never holds; refusing to read it"
        )


def _collect(reviews: dict, where: str):
    """texts and labels per split, in a fixed order: neg then pos, by review id."""
    out = {}
    for split in _SPLITS:
        for label in _LABELS:
            if not reviews.get((split, label)):
                raise RnnlabError(
                    f"{where}: no reviews in aclImdb/{split}/{label}; expected the layout "
                    "aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt"
                )
        items = sorted(
            (_LABELS[label], review_id, text)
            for (s, label), entries in reviews.items()
            if s == split
            for review_id, text in entries
        )
        out[split] = ([text for _, _, text in items], [label for label, _, _ in items])
    return out["train"][0], out["train"][1], out["test"][0], out["test"][1]


# Bounds that the official archive (about 490 MB inflated, 100,000 files, the longest
# review 14 KB) stays far below, and that keep memory and time bounded for any file.
MAX_INFLATED = 4 << 30
MAX_MEMBERS = 1_000_000
MAX_REVIEW = 1 << 20


def read_aclimdb_tar(path: Path):
    """(train_texts, train_labels, test_texts, test_labels) from an aclImdb tarball,
    streamed: nothing is extracted, memory holds the review texts only."""
    reviews: dict = {}
    try:
        with open(path, "rb") as compressed:
            gzipped = compressed.read(2) == b"\x1f\x8b"
            compressed.seek(0)
            stream = Inflated(compressed, MAX_INFLATED, str(path)) if gzipped else compressed
            with tarfile.open(fileobj=stream, mode="r:" if gzipped else "r|*") as archive:
                for count, member in enumerate(archive):
                    _check_member(member, path, count)
                    match = _REVIEW.search(member.name)
                    if match and member.isfile():
                        split, label, review_id = match.groups()
                        text = _decode(archive.extractfile(member).read())
                        reviews.setdefault((split, label), []).append((int(review_id), text))
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError) as error:
        raise RnnlabError(
            f"{path}: archive is truncated or corrupt ({error}); download it again"
        ) from None
    return _collect(reviews, str(path))


def find_aclimdb_root(path: Path) -> Path | None:
    """The `aclImdb` folder at or directly under `path`, if there is one."""
    for candidate in (path, path / "aclImdb"):
        if (candidate / "train").is_dir() or (candidate / "test").is_dir():
            return candidate
    return None


def review_files(root: Path) -> list[Path]:
    return sorted(
        file
        for split in _SPLITS
        for label in _LABELS
        for file in (root / split / label).glob("*_*.txt")
    )


def read_aclimdb_dir(root: Path):
    """(train_texts, train_labels, test_texts, test_labels) from an aclImdb folder."""
    reviews: dict = {}
    for file in review_files(root):
        if not file.is_file() or file.stat().st_size > MAX_REVIEW:
            raise RnnlabError(
                f"{file} is not a review file (a folder, a broken link, or over 1 MB); an "
                "aclImdb folder holds only reviews there: move it away"
            )
        match = _REVIEW.search("aclImdb/" + file.relative_to(root).as_posix())
        if match:
            split, label, review_id = match.groups()
            reviews.setdefault((split, label), []).append(
                (int(review_id), _decode(file.read_bytes()))
            )
    return _collect(reviews, str(root))
