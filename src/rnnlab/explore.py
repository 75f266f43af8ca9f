"""The tutorial's data exploration (steps 1-3), as numbers and as text.

Used by `rnnlab data` and by the reports of `rnnlab reproduce`.
"""

import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import tutorial
from .data import RawDataset, length_stats, memory_table, open_dataset
from .data.imdb import decode_review
from .i18n import gettext_for


@dataclass
class Exploration:
    source: str
    tokenizer: str
    from_cache: bool
    load_seconds: float
    num_words: int
    maxlen: int
    n_train: int
    n_test: int
    first_lengths: list[int]
    first_review_ids: list[int]
    first_review_words: str | None
    first_targets: list[int]
    n_train_split: int
    n_val_split: int
    stats: dict
    padded_example_index: int
    padded_example: np.ndarray
    memory: list[dict]
    lengths: list[int]  # of the training split's reviews
    empty: dict[str, int]  # per split: reviews without a token (kept: they read as [START])
    histogram: Path | None  # where the length histogram was drawn


def explore(data=None, num_words=500, maxlen=100, out_dir=None, **data_options) -> Exploration:
    """Load the data, split, pad, and draw the length histogram into `out_dir` (if given).

    `data` is a data spec (see `open_dataset`, which takes `data_options`: the
    tokenizer, the columns) or an already opened `RawDataset`.
    """
    from .report import plot_length_histogram

    started = time.perf_counter()
    raw = data if isinstance(data, RawDataset) else open_dataset(data, **data_options)
    load_seconds = time.perf_counter() - started
    split = tutorial.load_and_split(raw, num_words=num_words, maxlen=maxlen)
    x_train, y_train = split.loaded_input, split.loaded_target
    words = decode_review(x_train[0], raw.word_index()) if raw.words is not None else None
    sequences = split.train_input
    lengths = [len(s) for s in sequences]
    histogram = None if out_dir is None else Path(out_dir) / "lengths.png"
    if histogram is not None:
        plot_length_histogram(lengths, maxlen, histogram)
    example = min(5, len(split.train_x) - 1)  # the tutorial prints train_seq[5]
    return Exploration(
        source=raw.source,
        tokenizer=raw.tokenizer.name,
        from_cache=raw.from_cache,
        load_seconds=load_seconds,
        num_words=num_words,
        maxlen=maxlen,
        n_train=len(x_train),
        n_test=len(raw.y_test),
        first_lengths=[len(x) for x in x_train[:2]],
        first_review_ids=list(x_train[0]),
        first_review_words=words,
        first_targets=y_train[:20].tolist(),
        n_train_split=len(split.train_x),
        n_val_split=len(split.val_x),
        stats=length_stats(sequences, maxlen=maxlen),
        padded_example_index=example,
        padded_example=split.train_x[example],
        memory=memory_table(
            {"train": len(split.train_x), "val": len(split.val_x)}, maxlen, num_words
        ),
        lengths=lengths,
        empty={
            "train": int((raw.x_train.lengths == 0).sum()),
            "test": int((raw.x_test.lengths == 0).sum()),
        },  # fmt: skip
        histogram=histogram,
    )


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f} MB"


def _pad(text: str, width: int, right=True) -> str:
    """`text` padded to `width` columns; wide characters (Hangul) take two."""
    wide = sum(unicodedata.east_asian_width(c) in "WF" for c in text)
    space = " " * max(0, width - len(text) - wide)
    return space + text if right else text + space


def memory_lines(memory: list[dict], lang="en") -> list[str]:
    _ = gettext_for(lang)
    splits = {"train": _("train"), "val": _("val")}
    columns = [_("split"), _("reviews"), _("padded int32")]
    columns += [_("one-hot float32"), _("one-hot float64")]

    def line(cells) -> str:  # the first column left-aligned, the others right
        first, *others = zip(cells, (6, 8, 14, 16, 16), strict=True)
        return "  " + " ".join([_pad(*first, right=False), *(_pad(*o) for o in others)])

    lines = [line(columns)]
    for row in memory:
        kinds = ("padded_int32", "onehot_float32", "onehot_float64")
        sizes = [_mb(row[f"{kind}_bytes"]) for kind in kinds]
        lines.append(line([splits.get(row["split"], row["split"]), f"{row['reviews']:,}", *sizes]))
    return lines


def format_exploration(ex: Exploration) -> str:
    how = "read from the cache" if ex.from_cache else "tokenized and cached"
    s = ex.stats
    lines = [
        f"data: {ex.source}, {how} in {ex.load_seconds:.2f} s",
        f"tokenizer: {ex.tokenizer} (lengths count its tokens); reviews without a token (kept, "
        "read as [START] alone): "
        f"train {ex.empty['train']:,}, test {ex.empty['test']:,}",
        "",
        f"1. load_imdb(num_words={ex.num_words})",
        f"   train: {ex.n_train:,} reviews   test: {ex.n_test:,} reviews",
        f"   lengths of the first two training reviews: {ex.first_lengths[0]}, "
        f"{ex.first_lengths[1]}",
        f"   first review as ids: {ex.first_review_ids}",
        "   first review as words: " + (ex.first_review_words or "(no word index for this source)"),
        f"   first 20 targets (1 = positive): {ex.first_targets}",
        "",
        "2. train/validation split (80/20, random_state=42)",
        f"   train: {ex.n_train_split:,}   validation: {ex.n_val_split:,}",
        f"   training-split lengths: mean {s['mean']:.5f}, median {s['median']:.1f} "
        f"(min {s['min']}, p90 {s['p90']:.0f}, p95 {s['p95']:.0f}, p99 {s['p99']:.0f}, "
        f"max {s['max']})",
        f"   histogram: {ex.histogram or 'drawn in the report'}",
        "",
        f"3. pad_sequences(maxlen={ex.maxlen})  (padding and truncating 'pre', as in Keras)",
        f"   {s['longer_than_maxlen']:,} of {s['count']:,} training reviews are longer and get "
        "cut at the start",
        f"   train_seq[{ex.padded_example_index}] =",
        "   " + np.array2string(ex.padded_example, max_line_width=80).replace("\n", "\n   "),
        "",
        "4. memory: what the model input costs",
        *memory_lines(ex.memory),
        "   rnnlab feeds the padded int32 ids to every model, model A (one-hot) included:",
        "   it selects a kernel row per id instead of building the one-hot tensor.",
    ]
    return "\n".join(lines)
