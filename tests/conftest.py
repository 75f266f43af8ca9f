"""Shared fixtures: a private cache per test, and tiny IMDB sources made on the fly.

The real data (the shared aclImdb tarball) is found through $RNNLAB_DATA, read
once here before each test runs with a clean environment; tests that need it
are skipped when it is not set.
"""

import io
import os
import tarfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")  # before anything imports Keras

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REAL_DATA = os.environ.get("RNNLAB_DATA", "").strip() or None

POSITIVE = ["great", "wonderful", "loved", "excellent", "beautiful", "best", "fun"]
NEGATIVE = ["awful", "boring", "worst", "bad", "waste", "terrible", "dull"]
NEUTRAL = ["the", "movie", "a", "film", "and", "it", "was", "of", "plot", "actors", "i"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """Each test gets its own cache folder and no $RNNLAB_DATA."""
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path / "rnnlab-home"))
    monkeypatch.delenv("RNNLAB_DATA", raising=False)


@pytest.fixture(scope="session")
def real_data():
    if REAL_DATA is None or not Path(REAL_DATA).exists():
        pytest.skip("set RNNLAB_DATA to the aclImdb tarball to run tests on the real data")
    return REAL_DATA


@pytest.fixture(scope="session")
def real_home(tmp_path_factory):
    """One cache for every test that reads the real data (tokenized once a session)."""
    return tmp_path_factory.mktemp("real-home")


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


@pytest.fixture
def tiny_tarball(tmp_path) -> Path:
    return write_tarball(tmp_path / "tiny_aclImdb.tar.gz", aclimdb_files())


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
