"""The tutorial's preprocessing: split, length statistics, padding, memory arithmetic."""

import math

import numpy as np


def train_val_split(x, y, val_size=0.2, seed=42):
    """The split of `sklearn.model_selection.train_test_split(x, y,
    test_size=val_size, random_state=seed)`, returned as
    ((x_train, y_train), (x_val, y_val)).

    The same three lines as scikit-learn's ShuffleSplit (tested equal to it):
    importing scikit-learn takes longer than the rest of `rnnlab data`.
    """
    x, y = np.asarray(x, dtype=object) if isinstance(x, list) else x, np.asarray(y)
    n_val = math.ceil(val_size * len(x))
    permutation = np.random.RandomState(seed).permutation(len(x))
    val, train = permutation[:n_val], permutation[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def pad_sequences(
    sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0
):
    """Pad or cut sequences to one length: `keras.utils.pad_sequences` without Keras.

    The same contract: sequences of numbers or of equal-shaped vectors (the
    shape of the first non-empty one), strings with `dtype=object`, 'pre' or
    'post' padding and truncating, and the same errors; tests/test_data.py
    checks it against Keras on Keras' own test cases and on generated ones.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    lengths, sample_shape = [], None
    for sequence in sequences:
        try:
            lengths.append(len(sequence))
        except TypeError as error:
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable: {sequence}"
            ) from error
        if sample_shape is None and len(sequence):
            sample_shape = np.asarray(sequence).shape[1:]
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = np.max(lengths)

    is_text_dtype = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text_dtype:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )
    out = np.full((len(sequences), maxlen, *sample_shape), value, dtype=dtype)
    for position, sequence in enumerate(sequences):
        if not len(sequence):
            continue
        if truncating == "pre":
            kept = sequence[-maxlen:]
        elif truncating == "post":
            kept = sequence[:maxlen]
        else:
            raise ValueError(f'Truncating type "{truncating}" not understood')
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {kept.shape[1:]} of sequence at position {position} "
                f"is different from expected shape {sample_shape}"
            )
        if padding == "post":
            out[position, : len(kept)] = kept
        elif padding == "pre":
            out[position, -len(kept) :] = kept
        else:
            raise ValueError(f'Padding type "{padding}" not understood')
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
