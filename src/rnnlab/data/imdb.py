"""The public loading API: `load_imdb`, `get_word_index`, `decode_review`."""

import hashlib
import json
import os
from pathlib import Path

from ..errors import RnnlabError
from . import cache, readers
from .download import fetch
from .encoder import TOKEN_NAMES
from .raw import RawImdb, build_from_texts
from .sources import (
    DIR_KIND,
    DOWNLOADS,
    KERAS_KIND,
    TAR_KIND,
    WORD_INDEX_FILENAME,
    classify,
    data_spec,
)


def open_imdb(path=None) -> RawImdb:
    """The IMDB source named by `path` (or $RNNLAB_DATA, or the default download),
    as raw ranks, from the cache when this content was read before."""
    spec = data_spec(path)
    if spec in DOWNLOADS:
        local, *_ = [fetch(remote, cache.downloads_dir()) for remote in DOWNLOADS[spec]]
    else:
        local = Path(os.path.abspath(Path(spec).expanduser()))
    kind, local = classify(local)
    content_hash = _content_hash(kind, local)
    description = f"{local} ({kind})"
    entry = cache.entry_path(kind, content_hash)
    raw = cache.load(entry, description, content_hash)
    if raw is None:
        with cache.building(entry):
            raw = cache.load(entry, description, content_hash)  # another process built it
            if raw is None:
                raw = _read(kind, local)
                raw.source, raw.content_hash = description, content_hash
                cache.save(raw, entry)
    raw.path = str(local)
    if kind == KERAS_KIND:
        raw.words = _keras_words(local.parent / WORD_INDEX_FILENAME)
    return raw


def load_imdb(
    path=None,
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    """IMDB as `keras.datasets.imdb.load_data` returns it, from any source.

    `path`: a Keras `imdb.npz`, an aclImdb `.tar.gz` or folder, or the name of a
    download (`keras`, `aclimdb`); default $RNNLAB_DATA, else `keras`.  The other
    arguments mean exactly what they mean in Keras.
    """
    return open_imdb(path).load_data(
        num_words=num_words,
        skip_top=skip_top,
        maxlen=maxlen,
        seed=seed,
        start_char=start_char,
        oov_char=oov_char,
        index_from=index_from,
    )


def get_word_index(path=None) -> dict[str, int]:
    """Word -> frequency rank (1 = most frequent) for the source named by `path`."""
    raw = open_imdb(path)
    if raw.words is None:
        raise RnnlabError(
            f"{raw.source} has no word index: put Keras' {WORD_INDEX_FILENAME} beside the npz"
        )
    return raw.word_index()


def decode_review(ids, word_index, index_from=3) -> str:
    """The words of a sequence of ids; padding, start and OOV ids shown as [PAD],
    [START], [OOV] (with Keras' defaults 0, 1, 2) and unknown ids as [?]."""
    words = {rank + index_from: word for word, rank in word_index.items()}
    specials = {i: token for i, token in TOKEN_NAMES.items() if i < index_from}
    return " ".join(words.get(i, specials.get(i, "[?]")) for i in map(int, ids))


def _content_hash(kind: str, path: Path) -> str:
    digest = hashlib.sha256()
    if kind == DIR_KIND:
        # Reading 50,000 files to hash them would cost seconds on every load: a
        # folder is identified by its review files' names, sizes and times.
        for file in readers.review_files(path):
            stat = file.stat()
            digest.update(
                f"{file.relative_to(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
            )
    else:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _read(kind: str, path: Path) -> RawImdb:
    if kind == KERAS_KIND:
        x_train, y_train, x_test, y_test = readers.read_keras_npz(path)
        return RawImdb(x_train, y_train, x_test, y_test, words=None)
    texts = readers.read_aclimdb_tar(path) if kind == TAR_KIND else readers.read_aclimdb_dir(path)
    return build_from_texts(*texts)


def _keras_words(path: Path) -> list[str] | None:
    """Keras' word index as a rank-ordered word list, if the file is there."""
    if not path.exists():
        return None
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
        ranks = sorted(index.values())
        # Keras' word index ranks its words 1..N: anything else would make no word list
        # (and {"the": 300000000} would ask for gigabytes).
        if ranks != list(range(1, len(ranks) + 1)):
            raise ValueError("its ranks are not 1, 2, ... one per word")
        words = [""] * len(ranks)
        for word, rank in index.items():
            words[rank - 1] = word
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError) as error:
        raise RnnlabError(f"{path}: not a valid Keras word index ({error})") from None
    return words
