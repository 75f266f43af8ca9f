"""Bag-of-words baselines: logistic regression on which words (and word pairs) a review holds.

They read the same padded ids as the RNNs (the same split, vocabulary and
truncation) but not the order of the words.  `bow-logreg` asks only which of
the vocabulary's words occur; `tfidf-logreg` weighs words and word pairs by
TF-IDF over the whole training vocabulary.  An RNN must beat them to be worth
its order-reading, and on the book's settings it does not.

A fitted baseline is plain arrays (its n-grams as text, their idf, the
weights), saved as .npz without pickle; the features are scikit-learn's
(CountVectorizer and TfidfTransformer on the ids written as words), and
scikit-learn is imported only when a baseline is fitted or applied.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BOW_LOGREG, TFIDF_LOGREG, CHAR_TFIDF_LOGREG = "bow-logreg", "tfidf-logreg", "char-tfidf-logreg"
FIRST_WORD = 2  # ids 0 and 1 are padding and the start mark: not words


@dataclass
class BaselineResult:
    name: str
    val_accuracy: float
    test_accuracy: float
    seconds: float


class NgramLogReg:
    """Logistic regression on the n-grams of padded id sequences.

    `ngrams` n: runs of 1 to n neighbouring ids (1: words, 2: and word pairs; scikit-learn's
    ngram_range (1, n)); `tfidf`: sublinear TF x smoothed IDF, rows scaled to length 1 (as
    TfidfVectorizer(sublinear_tf=True)); else 0/1 presence.  N-grams seen in
    fewer than `min_df` training reviews are left out.
    """

    def __init__(self, name: str, ngrams=1, tfidf=False, min_df=1, regularization=1.0):
        self.name, self.ngrams, self.tfidf = name, ngrams, tfidf
        self.min_df, self.regularization = min_df, regularization
        self.vocabulary = self.idf = self.weights = None  # n-grams as "id id ..." strings
        self.bias = 0.0
        self._columns = None  # vocabulary -> column, made when first needed

    # --- features ---------------------------------------------------------------

    def _counter(self, vocabulary=None):
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(
            token_pattern=r"\S+",
            lowercase=False,
            ngram_range=(1, self.ngrams),
            min_df=self.min_df,
            vocabulary=vocabulary,
            binary=not self.tfidf,
            dtype=np.float64,
        )

    def features(self, ids: np.ndarray):
        """The sparse (reviews, n-grams) matrix the weights apply to."""
        from sklearn.feature_extraction.text import TfidfTransformer

        if self._columns is None:
            self._columns = {term: column for column, term in enumerate(self.vocabulary)}
        counts = self._counter(self._columns).transform(_documents(ids))
        if not self.tfidf:
            return counts
        weighting = TfidfTransformer(sublinear_tf=True)
        weighting.idf_ = self.idf
        return weighting.transform(counts)

    # --- fit, predict, save -------------------------------------------------------

    def fit(self, ids: np.ndarray, labels: np.ndarray) -> "NgramLogReg":
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.linear_model import LogisticRegression

        counter = self._counter()
        counts = counter.fit_transform(_documents(ids))
        self.vocabulary = counter.get_feature_names_out().astype(str)
        self.idf, self._columns = TfidfTransformer().fit(counts).idf_, None
        model = LogisticRegression(C=self.regularization, max_iter=2000)
        model.fit(self.features(ids), labels)
        self.weights, self.bias = model.coef_[0].astype(np.float64), float(model.intercept_[0])
        return self

    def predict(self, ids: np.ndarray, batch_size=None, verbose=0) -> np.ndarray:
        """P(positive), shape (n, 1), as a Keras model's predict gives it."""
        logits = self.features(np.asarray(ids)) @ self.weights + self.bias
        return (1.0 / (1.0 + np.exp(-logits)))[:, None].astype(np.float32)

    def count_params(self) -> int:
        return len(self.weights) + 1

    def save(self, path: Path) -> None:
        from .files import atomic_write

        arrays = {"vocabulary": self.vocabulary, "idf": self.idf, "weights": self.weights}
        arrays["settings"] = np.array([self.ngrams, int(self.tfidf), self.min_df])
        arrays["bias"] = np.array(self.bias)
        atomic_write(path, lambda f: np.savez_compressed(f, **arrays))

    @classmethod
    def load(cls, path: Path, name: str) -> "NgramLogReg":
        with np.load(path, allow_pickle=False) as f:
            ngrams, tfidf, min_df = (int(v) for v in f["settings"])
            if "codes" in f.files:  # rnnlab 0.1: n-gram codes, a pair (a, b) as a * 2**31 + b
                vocabulary = np.array([_code_as_text(c) for c in f["codes"].tolist()])
            else:
                vocabulary = f["vocabulary"]
            model = cls(name, ngrams, bool(tfidf), min_df)
            model.vocabulary, model.idf, model.weights = vocabulary, f["idf"], f["weights"]
            model.bias = float(f["bias"])
        if not (len(model.vocabulary) == len(model.idf) == len(model.weights)):
            raise ValueError("arrays of different lengths")
        return model

    def summary(self) -> str:
        kinds = {1: "which words occur", 2: "TF-IDF of words and word pairs"}
        other = f"{'TF-IDF' if self.tfidf else 'presence'} of token 1-{self.ngrams}-grams"
        kind = kinds.get(self.ngrams, other)
        return (
            f"{self.name}: logistic regression on {kind}\n"
            f"  features (n-grams): {len(self.vocabulary):,}\n"
            f"  parameters: {self.count_params():,} (one weight per feature, and a bias)"
        )


def new(name: str) -> NgramLogReg:
    """A baseline by its registry name, with its settings."""
    if name == BOW_LOGREG:
        return NgramLogReg(name)
    if name == CHAR_TFIDF_LOGREG:
        return NgramLogReg(name, ngrams=3, tfidf=True, min_df=2, regularization=4.0)
    return NgramLogReg(name, ngrams=2, tfidf=True, min_df=2, regularization=4.0)


def bow_logreg(split) -> BaselineResult:
    """bow-logreg fitted on split.train_x: its validation and test accuracy."""
    started = time.perf_counter()
    model = new(BOW_LOGREG).fit(split.train_x, split.train_y)
    val = accuracy(model, split.val_x, split.val_y)
    test = accuracy(model, split.test_x, split.test_y)
    return BaselineResult(BOW_LOGREG, val, test, time.perf_counter() - started)


def accuracy(model, ids, labels) -> float:
    return loss_and_accuracy(model, ids, labels)[1]


def loss_and_accuracy(model, ids, labels) -> tuple[float, float]:
    """Binary cross-entropy (clipped as Keras clips it) and accuracy, as Keras reports them."""
    p = np.clip(model.predict(ids)[:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
    loss = -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    return float(loss), float(((p >= 0.5) == labels).mean())


def _documents(ids: np.ndarray) -> list[str]:
    """Each review's word ids (padding and the start mark left out) as one text."""
    return [" ".join(map(str, row[row >= FIRST_WORD].tolist())) for row in np.asarray(ids)]


def _code_as_text(code: int) -> str:
    return f"{code >> 31} {code & (2**31 - 1)}" if code >= 2**31 else str(code)
