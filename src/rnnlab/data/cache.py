"""The cache folder: downloads, and sources already turned into ranks.

Everything lives under `$RNNLAB_HOME` (default: the platform's user cache
folder).  A tokenized source is one `.npz` of plain integer arrays (loaded with
`allow_pickle=False`), named by the source's content hash, the tokenizer (its
name, version and, for subwords, vocabulary size) and the format version, so
editing the tokenizer or the data never reuses a stale entry.  A subword
tokenizer's sentencepiece model is stored in the entry as its bytes.
"""

import json
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

from ..errors import RnnlabError
from ..files import atomic_write
from ..locks import Lock
from .raw import Ragged, RawDataset
from .tokenizer import TOKENIZER_VERSION
from .tokenizers import WordTokenizer, from_spec

# Bump when the cached arrays change meaning; the tokenizer version is part of it.
CACHE_FORMAT = f"1.tok{TOKENIZER_VERSION}"


def home() -> Path:
    """The rnnlab cache folder: $RNNLAB_HOME, else the user cache dir."""
    configured = os.environ.get("RNNLAB_HOME", "").strip()
    if configured:
        folder = Path(configured).expanduser()
        if folder.exists() and not folder.is_dir():
            raise RnnlabError(f"RNNLAB_HOME={configured} is a file; point it at a folder")
        return folder
    import platformdirs

    return Path(platformdirs.user_cache_dir("rnnlab"))


def downloads_dir() -> Path:
    return home() / "downloads"


def entry_path(kind: str, content_hash: str, tokenizer: str = "word") -> Path:
    """`tokenizer`: tokenizers.cache_key's "word" (the name entries had before there were
    others), "char1", "subword1-8000"..."""
    suffix = "" if tokenizer == "word" else f"-{tokenizer}"
    return home() / "imdb" / f"{kind}-{content_hash[:24]}-v{CACHE_FORMAT}{suffix}.npz"


def building(path: Path) -> Lock:
    """An OS lock to hold while one process builds the entry `path`: processes that start
    at the same moment (sweep workers, several commands) tokenize the data once; the
    others wait, then read the cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return Lock(path.with_suffix(".lock"))


def save(raw: RawDataset, path: Path) -> None:
    words = "\n".join(raw.words).encode("utf-8") if raw.words is not None else b""
    arrays = {
        "x_train_values": raw.x_train.values,
        "x_train_lengths": raw.x_train.lengths,
        "y_train": raw.y_train,
        "x_test_values": raw.x_test.values,
        "x_test_lengths": raw.x_test.lengths,
        "y_test": raw.y_test,
        "words_utf8": np.frombuffer(words, dtype=np.uint8),
        "has_words": np.array(raw.words is not None),
        "tokenizer_json": np.frombuffer(json.dumps(raw.tokenizer.spec()).encode(), np.uint8),
        "tokenizer_model": np.frombuffer(raw.tokenizer.model or b"", dtype=np.uint8),
    }
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load(path: Path, source: str, content_hash: str) -> RawDataset | None:
    """The cached entry, or None when it is missing.  A damaged entry (truncated,
    or arrays that do not fit together) is deleted, with a line saying so."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            words = (
                f["words_utf8"].tobytes().decode("utf-8").split("\n") if f["has_words"] else None
            )
            tokenizer = WordTokenizer()  # entries from before the other tokenizers
            if "tokenizer_json" in f:
                spec = json.loads(f["tokenizer_json"].tobytes())
                tokenizer = from_spec(spec, f["tokenizer_model"].tobytes() or None)
            raw = RawDataset(
                Ragged(f["x_train_values"], f["x_train_lengths"]),
                f["y_train"],
                Ragged(f["x_test_values"], f["x_test_lengths"]),
                f["y_test"],
                words,
                source=source,
                content_hash=content_hash,
                from_cache=True,
                tokenizer=tokenizer,
            )
        check(raw)
        return raw
    except (
        OSError,
        ValueError,
        KeyError,
        EOFError,
        zipfile.BadZipFile,
        UnicodeDecodeError,
    ) as error:
        print(
            f"rnnlab: the cache entry {path} is damaged ({error}); rebuilding it", file=sys.stderr
        )
        path.unlink(missing_ok=True)
        return None


def check(raw: RawDataset) -> None:
    """ValueError unless the arrays fit together: lengths and values, labels, ranks."""
    for x, y in ((raw.x_train, raw.y_train), (raw.x_test, raw.y_test)):
        if x.values.dtype.kind != "i" or x.lengths.dtype.kind != "i" or (x.lengths < 0).any():
            raise ValueError("sequences of the wrong type")
        if int(x.lengths.sum()) != len(x.values) or len(y) != len(x):
            raise ValueError("lengths that do not fit the ids or the labels")
        if not set(np.unique(y).tolist()) <= {0, 1}:
            raise ValueError("labels other than 0 and 1")
        highest = len(raw.words) if raw.words is not None else np.iinfo(np.int32).max
        if len(x.values) and (x.values.min() < 1 or x.values.max() > highest):
            raise ValueError("word ranks outside the vocabulary")
