"""The cache folder: downloads, and sources already turned into ranks.

Everything lives under `$RNNLAB_HOME` (default: the platform's user cache
folder).  A tokenized source is one `.npz` of plain integer arrays (loaded with
`allow_pickle=False`), named by the source's content hash and the format
version, so editing the tokenizer or the data never reuses a stale entry.
"""

import os
from pathlib import Path

import numpy as np

from ..files import atomic_write
from .raw import Ragged, RawImdb
from .tokenizer import TOKENIZER_VERSION

# Bump when the cached arrays change meaning; the tokenizer version is part of it.
CACHE_FORMAT = f"1.tok{TOKENIZER_VERSION}"


def home() -> Path:
    """The rnnlab cache folder: $RNNLAB_HOME, else the user cache dir."""
    configured = os.environ.get("RNNLAB_HOME", "").strip()
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("rnnlab"))


def downloads_dir() -> Path:
    return home() / "downloads"


def entry_path(kind: str, content_hash: str) -> Path:
    return home() / "imdb" / f"{kind}-{content_hash[:24]}-v{CACHE_FORMAT}.npz"


def save(raw: RawImdb, path: Path) -> None:
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
    }
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load(path: Path, source: str, content_hash: str) -> RawImdb | None:
    """The cached entry, or None when it is missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as f:
            words = (
                f["words_utf8"].tobytes().decode("utf-8").split("\n") if f["has_words"] else None
            )
            return RawImdb(
                Ragged(f["x_train_values"], f["x_train_lengths"]),
                f["y_train"],
                Ragged(f["x_test_values"], f["x_test_lengths"]),
                f["y_test"],
                words,
                source=source,
                content_hash=content_hash,
                from_cache=True,
            )
    except (OSError, ValueError, KeyError):
        return None
