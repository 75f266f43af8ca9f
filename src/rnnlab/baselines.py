"""A bag of words with logistic regression: the baseline every RNN here is measured against.

It reads the same padded ids as the models (the same split, vocabulary and
truncation) and only asks which words occur, not in what order.  On the
book's settings it is about as good as the book's RNNs, which a learner
should see.  scikit-learn is imported here only, so that Keras' start-up
stays free of it.
"""

from dataclasses import dataclass

import numpy as np

BOW_LOGREG = "bow-logreg"


@dataclass
class BaselineResult:
    name: str
    val_accuracy: float
    test_accuracy: float
    seconds: float


def bag_of_words(ids: np.ndarray, num_words: int):
    """(n, num_words) sparse 0/1: which ids each padded review holds (not padding, not start)."""
    from scipy.sparse import csr_matrix

    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    columns = ids.ravel()
    keep = columns > 1
    matrix = csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], columns[keep])),
        shape=(len(ids), num_words),
    )
    matrix.data[:] = 1.0  # presence, not counts
    return matrix


def bow_logreg(split, num_words: int) -> BaselineResult:
    """Train on split.train_x, report validation and test accuracy."""
    import time

    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    model = LogisticRegression(max_iter=1000)
    model.fit(bag_of_words(split.train_x, num_words), split.train_y)

    def accuracy(x, y):
        return float((model.predict(bag_of_words(x, num_words)) == y).mean())

    return BaselineResult(
        BOW_LOGREG,
        accuracy(split.val_x, split.val_y),
        accuracy(split.test_x, split.test_y),
        time.perf_counter() - started,
    )
