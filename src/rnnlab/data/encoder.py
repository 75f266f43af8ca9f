"""Raw review text -> the padded ids a model was trained on, without the data set.

`TextEncoder` holds what a run folder's preprocessing.json holds: the tokenizer
(tokenizers.py), the training vocabulary in rank order and the settings of
`load_data` and `pad_sequences`.
It applies them exactly as the data layer does for the data set
(tests/test_predict.py checks it review by review), so predicting needs
neither the data set nor the network.
"""

from dataclasses import dataclass

import numpy as np

from .preprocess import pad_sequences
from .tokenizers import WordTokenizer

PAD, START, OOV = 0, 1, 2  # Keras' load_data defaults, used by every rnnlab model
INDEX_FROM = 3
TOKEN_NAMES = {PAD: "[PAD]", START: "[START]", OOV: "[OOV]"}


@dataclass
class Encoded:
    ids: np.ndarray  # (n, maxlen) int32, what the model reads
    oov_counts: list[int]  # per review: words the model cannot see (rare or never seen)
    unseen_counts: list[int]  # per review: of those, words training never saw (skipped)
    word_counts: list[int]  # per review: words in the text


class TextEncoder:
    """Raw review text -> the padded ids a model was trained on."""

    def __init__(self, vocabulary, num_words, maxlen, padding="pre", truncating="pre",
                 tokenizer=None):  # fmt: skip
        self.tokenizer = tokenizer or WordTokenizer()
        self.vocabulary = list(vocabulary)  # training tokens, most frequent first
        self.rank = {word: r for r, word in enumerate(self.vocabulary, start=1)}
        self.num_words, self.maxlen = num_words, maxlen
        self.padding, self.truncating = padding, truncating

    def word_id(self, word: str) -> int | None:
        """The id of `word`, OOV if it is rare, None if training never saw it
        (such words are skipped, as in Keras' IMDB data)."""
        rank = self.rank.get(word)
        if rank is None:
            return None
        return rank + INDEX_FROM if rank + INDEX_FROM < self.num_words else OOV

    def sequence(self, words: list[str]) -> list[int]:
        """load_data's sequence for one review: the start id, then the word ids."""
        ids = (self.word_id(w) for w in words)
        return [START, *(i for i in ids if i is not None)]

    def encode(self, texts: list[str]) -> Encoded:
        sequences, oov_counts, unseen_counts, word_counts = [], [], [], []
        for words in self.tokenizer.tokenize_corpus(texts):
            sequence = self.sequence(words)
            sequences.append(sequence)
            oov_counts.append(len(words) - sum(1 for i in sequence[1:] if i != OOV))
            unseen_counts.append(len(words) - (len(sequence) - 1))
            word_counts.append(len(words))
        ids = pad_sequences(
            sequences, maxlen=self.maxlen, padding=self.padding, truncating=self.truncating
        )
        return Encoded(ids, oov_counts, unseen_counts, word_counts)

    def token_name(self, token_id: int) -> str:
        if token_id in TOKEN_NAMES:
            return TOKEN_NAMES[token_id]
        return self.vocabulary[token_id - INDEX_FROM - 1]
