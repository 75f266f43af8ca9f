"""A labelled text data set in Keras' raw layout, and `keras.datasets.imdb.load_data` on it.

Every source (Keras' `imdb.npz`, IMDB's Stanford archive or folder, NSMC's
files, your own TSV/CSV/JSONL) ends up as a `RawDataset`: each review a
sequence of frequency ranks (1 = the most frequent token of the training
split), no start character, no offset, exactly what Keras' IMDB npz holds, and
the tokenizer that made the tokens.  `RawDataset.load_data` then applies
Keras' semantics once, for every source.  The sequences are kept flat (all ids
of a split in one int32 array plus one length per review) so that caching and
loading take milliseconds.
"""

import gc
import pickle
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import chain, count

import numpy as np

from ..child import cores, start_python
from .tokenizers import WordTokenizer, from_spec


@dataclass(eq=False)
class Ragged:
    """Variable-length integer sequences stored as one flat array plus lengths."""

    values: np.ndarray  # int32, all sequences concatenated
    lengths: np.ndarray  # int64, one per sequence

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def starts(self) -> np.ndarray:
        return np.cumsum(self.lengths) - self.lengths

    def take(self, indices) -> "Ragged":
        """The sequences at `indices`, in that order."""
        lengths = self.lengths[indices]
        new_starts = np.cumsum(lengths) - lengths
        positions = np.repeat(self.starts[indices] - new_starts, lengths) + np.arange(lengths.sum())
        return Ragged(self.values[positions], lengths)

    def prepend(self, value: int) -> "Ragged":
        """Every sequence with `value` put in front."""
        lengths = self.lengths + 1
        out = np.empty(int(lengths.sum()), dtype=self.values.dtype)
        heads = np.cumsum(lengths) - lengths
        is_head = np.zeros(len(out), dtype=bool)
        is_head[heads] = True
        out[is_head] = value
        out[~is_head] = self.values
        return Ragged(out, lengths)

    def keep_values(self, mask: np.ndarray) -> "Ragged":
        """Drop the values where `mask` is False, keeping one (maybe shorter) sequence each."""
        owner = np.repeat(np.arange(len(self)), self.lengths)
        return Ragged(self.values[mask], np.bincount(owner[mask], minlength=len(self)))

    def to_lists(self) -> list[list[int]]:
        flat = self.values.tolist()
        ends = np.cumsum(self.lengths).tolist()
        # Tens of thousands of new lists would trigger the cyclic garbage
        # collector over and over (half the time); lists of ints hold no cycles.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return [flat[end - n : end] for end, n in zip(ends, self.lengths.tolist(), strict=True)]
        finally:
            if collecting:
                gc.enable()


@dataclass(eq=False)
class RawDataset:
    """The reviews of one source as raw frequency ranks, as in Keras' IMDB npz.

    `words[r - 1]` is the token of rank `r`, or `words` is None when the source
    has no word list of its own (a Keras npz without `imdb_word_index.json`).
    `tokenizer` made those tokens from the texts (tokenizers.py).
    """

    x_train: Ragged
    y_train: np.ndarray
    x_test: Ragged
    y_test: np.ndarray
    words: list[str] | None
    source: str = ""  # a human description of where the data came from
    path: str = ""  # the local file or folder it was read from
    kind: str = ""  # sources.py's kind of source (IMDB's: sources.IMDB_KINDS)
    content_hash: str = ""  # identifies the source's content (the cache key)
    from_cache: bool = False
    tokenizer: object = field(default_factory=WordTokenizer)

    def word_index(self) -> dict[str, int]:
        """Word -> frequency rank, like `keras.datasets.imdb.get_word_index()`."""
        if self.words is None:
            raise LookupError("this source has no word index")
        return {word: rank for rank, word in enumerate(self.words, start=1)}

    def load_data(
        self,
        num_words=None,
        skip_top=0,
        maxlen=None,
        seed=113,
        start_char=1,
        oov_char=2,
        index_from=3,
    ):
        """`keras.datasets.imdb.load_data` on this data: same arguments, same arrays."""
        rng = np.random.RandomState(seed)
        order = np.arange(len(self.x_train))
        rng.shuffle(order)
        x_train, y_train = self.x_train.take(order), self.y_train[order]
        order = np.arange(len(self.x_test))
        rng.shuffle(order)
        x_test, y_test = self.x_test.take(order), self.y_test[order]

        n_train = len(x_train)
        xs = Ragged(
            np.concatenate([x_train.values, x_test.values]) + np.int32(index_from),
            np.concatenate([x_train.lengths, x_test.lengths]),
        )
        labels = np.concatenate([y_train, y_test])
        if start_char is not None:
            xs = xs.prepend(start_char)

        if maxlen:
            short = xs.lengths < maxlen
            if not short[:n_train].any() or not short[n_train:].any():
                raise ValueError(
                    f"After filtering for sequences shorter than maxlen={maxlen}, "
                    "no sequence was kept. Increase maxlen."
                )
            xs, labels = xs.take(np.flatnonzero(short)), labels[short]
            n_train = int(short[:n_train].sum())

        if not num_words:
            num_words = int(xs.values.max())
        kept = (skip_top <= xs.values) & (xs.values < num_words)
        if oov_char is not None:
            xs = Ragged(np.where(kept, xs.values, oov_char), xs.lengths)
        else:
            xs = xs.keep_values(kept)

        lists = xs.to_lists()
        x_train = np.array(lists[:n_train], dtype="object")
        x_test = np.array(lists[n_train:], dtype="object")
        return (x_train, labels[:n_train]), (x_test, labels[n_train:])


RawImdb = RawDataset  # its name from when IMDB was the only data set


def build_from_texts(
    train_texts, y_train, test_texts, y_test, source="", tokenizer=None
) -> RawDataset:
    """Tokenize raw reviews (default: the word tokenizer) and rank the tokens by
    frequency in the training split.

    Ties are broken alphabetically, so the ranking is deterministic.  Words
    that occur only in the test split get no rank and are skipped, as in
    Keras' npz ("words not seen in the training set ... have simply been
    skipped").
    """
    tokenizer = tokenizer or WordTokenizer()
    (words, train), (test_words, test) = _tokenize_splits(train_texts, test_texts, tokenizer)
    # Provisional ids: the training words in order of first appearance, then
    # the test-only words; counting and ranking then happen in numpy.
    provisional = {word: i for i, word in enumerate(words)}
    test_ids = np.fromiter(
        (provisional.setdefault(word, len(provisional)) for word in test_words),
        dtype=np.int64,
        count=len(test_words),
    )
    test = Ragged(test_ids[test.values], test.lengths)

    counts = np.bincount(train.values, minlength=len(words))
    by_rank = sorted(range(len(words)), key=lambda i: (-counts[i], words[i]))
    rank = np.zeros(len(provisional), dtype=np.int32)  # 0: never seen in training
    rank[by_rank] = np.arange(1, len(words) + 1, dtype=np.int32)

    x_test = Ragged(rank[test.values], test.lengths)
    return RawDataset(
        Ragged(rank[train.values], train.lengths),
        np.asarray(y_train, dtype=np.int64),
        x_test.keep_values(x_test.values > 0),
        np.asarray(y_test, dtype=np.int64),
        [words[i] for i in by_rank],
        source=source,
        tokenizer=tokenizer,
    )


def tokenize_to_ids(texts: list[str], tokenizer=None) -> tuple[list[str], Ragged]:
    """(the tokens in order of first appearance, each review as indices into them)."""
    ids = defaultdict(count().__next__)  # one dict lookup per token, in C
    reviews = (tokenizer or WordTokenizer()).tokenize_corpus(texts)
    lengths = np.fromiter(map(len, reviews), dtype=np.int64, count=len(reviews))
    flat = map(ids.__getitem__, chain.from_iterable(reviews))
    values = np.fromiter(flat, dtype=np.int64, count=int(lengths.sum()))
    return list(ids), Ragged(values, lengths)


def _tokenize_splits(train_texts, test_texts, tokenizer):
    """`tokenize_to_ids` of both splits, the test split in a second process.

    Tokenizing is pure Python (one core); on two cores the first read of the
    data takes about two thirds of the time.  If the helper cannot run, the
    parent tokenizes both splits itself.
    """
    helper = _start_helper(test_texts, tokenizer) if cores() > 1 else None
    train = tokenize_to_ids(train_texts, tokenizer)
    return train, _helper_result(helper) or tokenize_to_ids(test_texts, tokenizer)


_HELPER = (
    "import pickle, sys; from rnnlab.data.raw import tokenize_with_spec; "
    "pickle.dump(tokenize_with_spec(*pickle.load(sys.stdin.buffer)), sys.stdout.buffer, "
    "protocol=5)"
)


def tokenize_with_spec(texts, spec, model):
    """The helper's work: `tokenize_to_ids` with the tokenizer that `spec` and `model` name."""
    return tokenize_to_ids(texts, from_spec(spec, model))


def _start_helper(texts: list[str], tokenizer=None) -> subprocess.Popen | None:
    """A child Python computing `tokenize_to_ids(texts, tokenizer)`, already sent its input."""
    tokenizer = tokenizer or WordTokenizer()
    try:
        child = start_python(
            _HELPER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError:  # no interpreter to start
        return None
    try:
        # One write, before the parent starts its own half: writing from a
        # thread would wait for the GIL at every pipe-sized chunk.
        with child.stdin:
            message = (texts, tokenizer.spec(), tokenizer.model)
            child.stdin.write(pickle.dumps(message, protocol=5))
    except OSError:  # it died reading its input: reap it
        child.kill()
        child.wait()
        return None
    return child


def _helper_result(child: subprocess.Popen | None):
    """What the helper computed (our own child's output: trusted), or None."""
    if child is None:
        return None
    with child:
        try:
            result = pickle.load(child.stdout)
        except (pickle.UnpicklingError, EOFError):
            result = None
    return result if child.returncode == 0 else None
