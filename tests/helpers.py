"""Test helpers: tiny IMDB sources made on the fly, and a tiny training config.

Tests import what they need from here (`from helpers import ...`); fixtures
live in conftest.py.
"""

import io
import tarfile
from pathlib import Path

import numpy as np

POSITIVE = ["great", "wonderful", "loved", "excellent", "beautiful", "best", "fun"]
NEGATIVE = ["awful", "boring", "worst", "bad", "waste", "terrible", "dull"]
NEUTRAL = ["the", "movie", "a", "film", "and", "it", "was", "of", "plot", "actors", "i"]

# A model small enough to train in a second on the tiny data sets below.
TINY = {"num_words": 40, "maxlen": 30, "units": 4, "embedding_dim": 4, "batch_size": 8}


def tiny_config(data, **changes):
    """A TrainConfig for the tiny data sets: TINY's settings, then `changes`."""
    from rnnlab.config import TrainConfig

    return TrainConfig(data=str(data), **{**TINY, **changes})


def synthetic_reviews(n_per_label: int, seed: int, length=(12, 40)):
    """Reviews whose sentiment shows in their words, so a model can learn them."""
    rng = np.random.RandomState(seed)
    reviews = []
    for label, cue in ((0, NEGATIVE), (1, POSITIVE)):
        for i in range(n_per_label):
            n = rng.randint(*length)
            words = rng.choice(NEUTRAL + cue + cue, size=n)
            text = " ".join(words).capitalize() + ". <br /><br />" + rng.choice(cue) + "!"
            reviews.append((label, i, text))
    return reviews


def aclimdb_files(n_per_label=20, seed=0) -> dict[str, bytes]:
    """{member name: bytes} of a tiny aclImdb tree."""
    files = {}
    for split, split_seed in (("train", seed), ("test", seed + 1)):
        for label, review_id, text in synthetic_reviews(n_per_label, split_seed):
            rating = 9 if label else 2
            name = f"aclImdb/{split}/{'pos' if label else 'neg'}/{review_id}_{rating}.txt"
            files[name] = text.encode("utf-8")
    return files


def write_tarball(path: Path, files: dict[str, bytes], extra=()) -> Path:
    """A .tar.gz of `files`; `extra` are ready TarInfo members (links, devices...)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_keras_npz(path: Path, seed=0, n_train=30, n_test=20, vocab=60) -> Path:
    """An npz in Keras' IMDB format: raw ranks from 1, no start char, object arrays."""
    rng = np.random.RandomState(seed)

    def reviews(n):
        return np.array(
            [list(map(int, rng.randint(1, vocab, size=rng.randint(3, 25)))) for _ in range(n)],
            dtype=object,
        )

    np.savez(
        path,
        x_train=reviews(n_train),
        y_train=rng.randint(0, 2, size=n_train).astype(np.int64),
        x_test=reviews(n_test),
        y_test=rng.randint(0, 2, size=n_test).astype(np.int64),
    )
    return path


def markdown_tables(text: str) -> list[list[list[str]]]:
    """The tables of a Markdown text, each a list of rows of stripped cells (header first)."""
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= {"-", ":"} for cell in cells):  # the |---| rule
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def loss_and_gradients(model, ids, labels, training):
    """[loss, then every trainable weight's gradient] of `model` on one batch, as arrays:
    what the oracle tests compare between a layer and Keras' own."""
    import jax
    import keras

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def loss(trainable):
        probs, _ = model.stateless_call(trainable, non_trainable, ids, training=training)
        return keras.losses.binary_crossentropy(labels, probs).mean()

    value, grads = jax.jit(jax.value_and_grad(loss))(trainable)
    return [np.asarray(value)] + [np.asarray(g) for g in grads]


# --- Korean reviews and your own labelled texts ----------------------------------------

KOREAN_POSITIVE = ["재밌다", "최고", "감동", "좋아요", "명작", "추천", "ㅋㅋ"]
KOREAN_NEGATIVE = ["별로", "최악", "지루", "실망", "아깝다", "노잼", "ㅠㅠ"]
KOREAN_NEUTRAL = ["영화", "배우", "스토리", "연기", "정말", "이", "그냥", "보고"]


def nsmc_rows(n_per_label: int, seed: int, first_id=1000):
    """(id, document, label) rows whose sentiment shows in their words, NSMC-like."""
    rng = np.random.RandomState(seed)
    rows = []
    for label, cue in ((0, KOREAN_NEGATIVE), (1, KOREAN_POSITIVE)):
        for _ in range(n_per_label):
            words = rng.choice(KOREAN_NEUTRAL + cue + cue, size=rng.randint(2, 9))
            rows.append(
                (first_id + len(rows), " ".join(words) + rng.choice([".", "!", "..."]), label)
            )
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def nsmc_text(rows) -> str:
    return "id\tdocument\tlabel\n" + "".join(f"{i}\t{d}\t{y}\n" for i, d, y in rows)


def write_nsmc(folder: Path, n_per_label=30, seed=0) -> Path:
    """A tiny folder in NSMC's format: ratings_train.txt and ratings_test.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ratings_train.txt").write_text(nsmc_text(nsmc_rows(n_per_label, seed)), "utf-8")
    test = nsmc_rows(n_per_label // 2, seed + 1, first_id=9000)
    (folder / "ratings_test.txt").write_text(nsmc_text(test), "utf-8")
    return folder


def mixed_sentences(n=200, seed=0) -> list[tuple[str, int]]:
    """n labelled sentences in English, Korean, both mixed, and with emoji."""
    rng = np.random.RandomState(seed)
    cues = {0: (NEGATIVE, KOREAN_NEGATIVE, "😡"), 1: (POSITIVE, KOREAN_POSITIVE, "😍")}
    sentences = []
    for i in range(n):
        label = i % 2
        english, korean, emoji = cues[label]
        kind = i // 2 % 4
        words = {
            0: list(rng.choice(NEUTRAL + english, 6)),
            1: list(rng.choice(KOREAN_NEUTRAL + korean, 5)),
            2: list(rng.choice(english, 2)) + list(rng.choice(KOREAN_NEUTRAL + korean, 3)),
            3: list(rng.choice(NEUTRAL + english, 4)) + [emoji],
        }[kind]
        sentences.append((" ".join(words), label))
    return sentences
