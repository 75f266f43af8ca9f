"""The tutorial's preprocessing: split, length statistics, padding, memory arithmetic."""

import math

import numpy as np


def train_val_split(x, y, val_size=0.2, seed=42):
    """The split of `sklearn.model_selection.train_test_split(x, y,
    test_size=val_size, random_state=seed)`, returned as
    ((x_train, y_train), (x_val, y_val)).

    The same three lines as scikit-learn's ShuffleSplit (tested equal to it):
    importing scikit-learn costs about 2 s, more than the rest of `rnnlab data`.
    """
    x, y = np.asarray(x, dtype=object) if isinstance(x, list) else x, np.asarray(y)
    n_val = math.ceil(val_size * len(x))
    permutation = np.random.RandomState(seed).permutation(len(x))
    val, train = permutation[:n_val], permutation[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0):
    """Pad or truncate sequences of ints to one length, like `keras.utils.pad_sequences`.

    'pre' pads or cuts at the start (the default, as in the tutorial), 'post' at
    the end.  Without `maxlen`, the longest sequence sets the length.
    """
    for name, side in (("padding", padding), ("truncating", truncating)):
        if side not in ("pre", "post"):
            raise ValueError(f"{name} must be 'pre' or 'post', got {side!r}")
    lengths = [len(s) for s in sequences]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    out = np.full((len(lengths), maxlen), value, dtype=dtype)
    if maxlen == 0:
        return out
    for row, sequence in enumerate(sequences):
        if not len(sequence):
            continue
        kept = sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]
        if padding == "pre":
            out[row, maxlen - len(kept) :] = kept
        else:
            out[row, : len(kept)] = kept
    return out


def length_stats(sequences, maxlen=None) -> dict:
    """Count, mean, median and percentiles of the sequence lengths (and how many
    are longer than `maxlen`, i.e. get truncated)."""
    lengths = np.array([len(s) for s in sequences])
    stats = {
        "count": int(lengths.size),
        "mean": float(np.mean(lengths)),
        "median": float(np.median(lengths)),
        "min": int(lengths.min()),
        "max": int(lengths.max()),
    }
    for q in (25, 75, 90, 95, 99):
        stats[f"p{q}"] = float(np.percentile(lengths, q))
    if maxlen is not None:
        stats["longer_than_maxlen"] = int((lengths > maxlen).sum())
    return stats


def memory_table(counts: dict, maxlen: int, num_words: int) -> list[dict]:
    """Bytes of the padded int32 ids vs the tutorial's one-hot tensors, per split.

    `keras.utils.to_categorical` returns float64 in Keras 3 (the tutorial, on
    TensorFlow 2, got float32): both are shown.
    """
    rows = []
    for split, n in counts.items():
        ids = n * maxlen * 4
        rows.append(
            {
                "split": split,
                "reviews": n,
                "padded_int32_bytes": ids,
                "onehot_float32_bytes": ids * num_words,
                "onehot_float64_bytes": ids * num_words * 2,
            }
        )
    return rows


def tutorial_split(raw, num_words=500, maxlen=100, padding="pre", truncating="pre"):
    """The tutorial's steps 1-3 on `raw`: load with `num_words`, split 80/20 with
    random_state=42, pad to `maxlen`.  Returns a dict of arrays:
    train_x, train_y, val_x, val_y, test_x, test_y (padded int32 ids), the
    unpadded `train_sequences` (for the length statistics), and `loaded_x`,
    `loaded_y`: the training set as loaded, before the split."""
    (loaded_x, loaded_y), (x_test, y_test) = raw.load_data(num_words=num_words)
    (x_train, y_train), (x_val, y_val) = train_val_split(loaded_x, loaded_y)
    pad = dict(maxlen=maxlen, padding=padding, truncating=truncating)
    return {
        "loaded_x": loaded_x,
        "loaded_y": loaded_y,
        "train_sequences": x_train,
        "train_x": pad_sequences(x_train, **pad),
        "train_y": y_train,
        "val_x": pad_sequences(x_val, **pad),
        "val_y": y_val,
        "test_x": pad_sequences(x_test, **pad),
        "test_y": y_test,
    }
