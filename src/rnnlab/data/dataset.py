"""Opening a data set: any source (sources.py), tokenized once into the cache.

`open_dataset` is the one way in: a download name or local files -> their kind
-> a `RawDataset`, from the cache when this content was read with this
tokenizer before.  IMDB's sources and NSMC's and your own labelled files are
all instances of the same thing: texts and labels in a training and a test
split, tokenized, the tokens ranked by frequency in the training split.
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from ..errors import RnnlabError
from . import cache, readers, tokenizers
from .download import fetch
from .raw import RawDataset, build_from_texts
from .sources import (
    DIR_KIND,
    DOWNLOADS,
    KERAS_KIND,
    NSMC_FILES,
    NSMC_KIND,
    PAIR_KIND,
    SPLIT_KIND,
    TAR_KIND,
    WORD_INDEX_FILENAME,
    classify_spec,
    data_spec,
    local_paths,
)
from .tables import Table

TEST_SHARE, SPLIT_SEED = 0.2, 42  # sources.SPLIT_RULE, for one file of yours


def open_dataset(path=None, tokenizer="word", subword_vocab=tokenizers.DEFAULT_SUBWORD_VOCABULARY,
                 text_column=None, label_column=None) -> RawDataset:  # fmt: skip
    """The data set named by `path` (or $RNNLAB_DATA, or the default download), as raw
    ranks of `tokenizer`'s tokens (word, char or subword), from the cache when this
    content was read with this tokenizer before.  `text_column`, `label_column`: the
    columns of a table (default: found by name)."""
    spec = data_spec(path)
    if spec in DOWNLOADS:
        for remote in DOWNLOADS[spec]:
            fetch(remote, cache.downloads_dir())
        paths = [cache.downloads_dir() / DOWNLOADS[spec][0].filename.split("/")[0]]
    else:
        paths = local_paths(spec)
    kind, paths = classify_spec(paths)
    if tokenizer not in tokenizers.NAMES:
        raise RnnlabError(f"unknown tokenizer {tokenizer!r}; choose one of: word, char, subword")
    if kind == KERAS_KIND and tokenizer != "word":
        raise RnnlabError(
            f"{paths[0]} is Keras' npz of word ids: its tokens are Keras' words; use "
            "--tokenizer word, or IMDB's texts (an aclImdb .tar.gz or folder) for another"
        )
    columns = (text_column, label_column)
    content_hash = _content_hash(kind, paths, columns)
    description = f"{','.join(map(str, paths))} ({kind})"
    entry = cache.entry_path(kind, content_hash, tokenizers.cache_key(tokenizer, subword_vocab))
    raw = cache.load(entry, description, content_hash)
    if raw is None:
        with cache.building(entry):
            raw = cache.load(entry, description, content_hash)  # another process built it
            if raw is None:
                raw = _read(kind, paths, tokenizer, subword_vocab, columns)
                raw.source, raw.content_hash = description, content_hash
                cache.save(raw, entry)
    raw.path, raw.kind = ",".join(map(str, paths)), kind
    if kind == KERAS_KIND:
        raw.words = _keras_words(paths[0].parent / WORD_INDEX_FILENAME)
    return raw


def _content_hash(kind: str, paths: list[Path], columns) -> str:
    digest = hashlib.sha256()
    if kind == DIR_KIND:
        # Reading 50,000 files to hash them would cost seconds on every load: a
        # folder is identified by its review files' names, sizes and times.
        for file in readers.review_files(paths[0]):
            stat = file.stat()
            digest.update(
                f"{file.relative_to(paths[0])}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
            )
        return digest.hexdigest()
    files = [paths[0] / name for name in NSMC_FILES] if kind == NSMC_KIND else paths
    for file in files:
        with open(file, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    if kind in (NSMC_KIND, PAIR_KIND, SPLIT_KIND):  # how the tables are read is content too
        rule = (TEST_SHARE, SPLIT_SEED) if kind == SPLIT_KIND else None
        digest.update(json.dumps([list(columns), rule]).encode())
    return digest.hexdigest()


def _read(kind: str, paths: list[Path], tokenizer: str, subword_vocab: int, columns):
    if kind == KERAS_KIND:
        x_train, y_train, x_test, y_test = readers.read_keras_npz(paths[0])
        return RawDataset(x_train, y_train, x_test, y_test, words=None)
    if kind == TAR_KIND:
        texts = readers.read_aclimdb_tar(paths[0])
    elif kind == DIR_KIND:
        texts = readers.read_aclimdb_dir(paths[0])
    else:
        texts = _read_tables(kind, paths, columns)
    readers.check_sizes(len(texts[0]), len(texts[2]), ",".join(map(str, paths)))
    return build_from_texts(*texts, tokenizer=tokenizers.new(tokenizer, texts[0], subword_vocab))


def _read_tables(kind: str, paths: list[Path], columns):
    """(train texts, labels, test texts, labels) of NSMC's files or yours."""
    if kind == NSMC_KIND:
        paths = [paths[0] / name for name in NSMC_FILES]
    train_table, train = _read_table(paths[0], columns)
    if kind == SPLIT_KIND:
        texts, labels = train
        test = _split_off_test(labels)
        keep = np.ones(len(labels), dtype=bool)
        keep[test] = False
        return (
            [t for t, k in zip(texts, keep, strict=True) if k],
            labels[keep],
            [texts[i] for i in test],
            labels[test],
        )
    test_table, test = _read_table(paths[1], columns)
    if test_table.columns != train_table.columns:
        raise RnnlabError(
            f"{paths[1]} has the columns {', '.join(test_table.columns or [])}, {paths[0]} "
            f"{', '.join(train_table.columns or [])}: give both files the same columns"
        )
    return (*train, *test)


def _read_table(path: Path, columns):
    """(the table read, (texts, labels)); lines that were not UTF-8 are said in one line."""
    table = Table(str(path), None, *columns, labelled=True, errors="replace", unique_ids=True)
    texts, labels = [], []
    for _, text, label in table:
        texts.append(text)
        labels.append(label)
    if table.replaced_lines:
        print(
            f"rnnlab: {path}: {table.replaced_lines:,} lines were not UTF-8; their bad bytes "
            "read as U+FFFD",
            file=sys.stderr,
        )
    return table, (texts, np.asarray(labels, dtype=np.int64))


def _split_off_test(labels: np.ndarray) -> np.ndarray:
    """The rows of the test split (sources.SPLIT_RULE), in file order."""
    rng = np.random.RandomState(SPLIT_SEED)
    test = []
    for label in (0, 1):
        rows = np.flatnonzero(labels == label)
        test.append(rng.permutation(rows)[: round(TEST_SHARE * len(rows))])
    return np.sort(np.concatenate(test))


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
