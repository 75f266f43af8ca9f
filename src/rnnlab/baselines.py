"""Bag-of-words baselines: logistic regression on which words (and word pairs) a review holds.

They read the same padded ids as the RNNs (the same split, vocabulary and
truncation) but not the order of the words.  `bow-logreg` asks only which of
the vocabulary's words occur; `tfidf-logreg` weighs words and word pairs by
TF-IDF over the whole training vocabulary.  An RNN must beat them to be worth
its order-reading, and on the book's settings it does not.

A fitted baseline is plain arrays (the n-gram codes, their idf, the weights),
saved as .npz without pickle and applied here with numpy: the features equal
scikit-learn's TfidfVectorizer's (tests/test_baselines.py), and
scikit-learn is imported only to fit.
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

    `ngrams` 1 (words), 2 (words and pairs of neighbouring words) or 3 (and triples);
    `tfidf`:
    sublinear TF x smoothed IDF, rows scaled to length 1 (as scikit-learn's
    TfidfVectorizer(sublinear_tf=True)); else 0/1 presence.  N-grams seen in
    fewer than `min_df` training reviews are left out.
    """

    def __init__(self, name: str, ngrams=1, tfidf=False, min_df=1, regularization=1.0):
        self.name, self.ngrams, self.tfidf = name, ngrams, tfidf
        self.min_df, self.regularization = min_df, regularization
        self.codes = self.idf = self.weights = None
        self.bias = 0.0

    # --- features ---------------------------------------------------------------

    def _grams(self, ids: np.ndarray):
        """(row, code) of every n-gram; a pair (a, b) is coded a * 2**31 + b."""
        ids = ids.astype(np.int64)
        rows = np.broadcast_to(np.arange(len(ids))[:, None], ids.shape)
        keep = ids >= FIRST_WORD
        found = [(rows[keep], ids[keep])]
        if self.ngrams >= 2:
            pair = keep[:, :-1] & keep[:, 1:]
            codes = ids[:, :-1] * 2**31 + ids[:, 1:]
            found.append((rows[:, :-1][pair], codes[pair]))
        if self.ngrams == 3:  # of ids below 2**20 (characters): negative codes, unlike the rest
            small = keep & (ids < 2**20)
            triple = small[:, :-2] & small[:, 1:-1] & small[:, 2:]
            codes = -((ids[:, :-2] * 2**20 + ids[:, 1:-1]) * 2**20 + ids[:, 2:]) - 1
            found.append((rows[:, :-2][triple], codes[triple]))
        return np.concatenate([r for r, _ in found]), np.concatenate([c for _, c in found])

    def features(self, ids: np.ndarray):
        """The sparse (reviews, n-grams) matrix the weights apply to."""
        from scipy.sparse import csr_matrix

        rows, codes = self._grams(ids)
        column = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        known = self.codes[column] == codes  # n-grams training never saw are left out
        matrix = csr_matrix(
            (np.ones(int(known.sum()), np.float64), (rows[known], column[known])),
            shape=(len(ids), len(self.codes)),
        )
        matrix.sum_duplicates()
        if not self.tfidf:
            matrix.data[:] = 1.0
            return matrix
        matrix.data = 1.0 + np.log(matrix.data)  # sublinear term frequency
        matrix = matrix.multiply(self.idf).tocsr()
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
        norms[norms == 0] = 1.0
        return csr_matrix(matrix.multiply(1.0 / norms[:, None]))

    # --- fit, predict, save -------------------------------------------------------

    def fit(self, ids: np.ndarray, labels: np.ndarray) -> "NgramLogReg":
        from scipy.sparse import csr_matrix
        from sklearn.linear_model import LogisticRegression

        rows, codes = self._grams(ids)
        vocabulary, column = np.unique(codes, return_inverse=True)
        counts = csr_matrix((np.ones(len(codes)), (rows, column)), (len(ids), len(vocabulary)))
        counts.sum_duplicates()
        reviews_with = np.bincount(counts.indices, minlength=len(vocabulary))
        kept = reviews_with >= self.min_df
        self.codes = vocabulary[kept]
        self.idf = np.log((1 + len(ids)) / (1 + reviews_with[kept])) + 1.0  # smoothed
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

        arrays = {"codes": self.codes, "idf": self.idf, "weights": self.weights}
        arrays["settings"] = np.array([self.ngrams, int(self.tfidf), self.min_df])
        arrays["bias"] = np.array(self.bias)
        atomic_write(path, lambda f: np.savez(f, **arrays))

    @classmethod
    def load(cls, path: Path, name: str) -> "NgramLogReg":
        with np.load(path, allow_pickle=False) as f:
            ngrams, tfidf, min_df = (int(v) for v in f["settings"])
            model = cls(name, ngrams, bool(tfidf), min_df)
            model.codes, model.idf, model.weights = f["codes"], f["idf"], f["weights"]
            model.bias = float(f["bias"])
        if not (len(model.codes) == len(model.idf) == len(model.weights)):
            raise ValueError("arrays of different lengths")
        return model

    def summary(self) -> str:
        kinds = {2: "TF-IDF of words and word pairs", 3: "TF-IDF of token 1-3-grams"}
        kind = kinds.get(self.ngrams, "which words occur")
        return (
            f"{self.name}: logistic regression on {kind}\n"
            f"  features (n-grams): {len(self.codes):,}\n"
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
