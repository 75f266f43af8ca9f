"""Shared fixtures: a private cache per test, and the real data when it is there.

The real data (the shared aclImdb tarball) is found through $RNNLAB_DATA, read
once here before each test runs with a clean environment; tests that need it
are skipped when it is not set.  Helpers that make tiny data sets live in
helpers.py.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")  # before anything imports Keras
# The fused engine's compiled kernels: one cache for every test (and run), not one per
# test's private RNNLAB_HOME, which would compile them again each time.
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "rnnlab-tests-numba"))

import pytest  # noqa: E402
from helpers import aclimdb_files, write_tarball  # noqa: E402

pytest_plugins = ["postgres"]  # a throwaway PostgreSQL cluster, for the sweep tests

REAL_DATA = os.environ.get("RNNLAB_DATA", "").strip() or None


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """Each test gets its own cache folder, no $RNNLAB_DATA and no $RNNLAB_LANG."""
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path / "rnnlab-home"))
    monkeypatch.delenv("RNNLAB_DATA", raising=False)
    monkeypatch.delenv("RNNLAB_LANG", raising=False)


@pytest.fixture(scope="session")
def real_data():
    if REAL_DATA is None or not Path(REAL_DATA).exists():
        pytest.skip("set RNNLAB_DATA to the aclImdb tarball to run tests on the real data")
    return REAL_DATA


@pytest.fixture(scope="session")
def real_home(tmp_path_factory):
    """One cache for every test that reads the real data (tokenized once a session)."""
    return tmp_path_factory.mktemp("real-home")


@pytest.fixture
def tiny_tarball(tmp_path) -> Path:
    return write_tarball(tmp_path / "tiny_aclImdb.tar.gz", aclimdb_files())
