"""Shared fixtures: a private cache per test, and the real data when it is there; and the
test tiers.

Tiers are assigned here, in one place, by what a test needs (pyproject.toml names them;
its addopts leave them out of a plain `python -m pytest`, the quick tier):

- faults: the hostile inputs and faults of tests/test_faults_*.py (child processes
  killed, disks filled, servers that hang);
- postgres: a throwaway PostgreSQL cluster (the postgres_url fixture or storage param);
- browser: headless Chromium (a test that calls open_in_chromium);
- notebook: a Jupyter kernel running the notebooks (the notebook_env fixture);
- slow: trainings on the real data set, marked where they are, and the tests named in
  SLOW below (each over about 10 s on 2 cores, covered in the quick tier by a lighter one).

`.ci/run` runs every tier.

The real data (the shared aclImdb tarball) is found through $RNNLAB_DATA, read
once here before each test runs with a clean environment; tests that need it
are skipped when it is not set.  Helpers that make tiny data sets live in
helpers.py.
"""

import inspect
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


# Over about 10 s each on a 2-core CPU (pytest --durations, 2026-12-06), each beside a lighter
# test of the same module that stays in the quick tier.  "module.py::test" takes every
# parameter of the test, "module.py::test[param]" one.
SLOW = {
    "test_engine.py::test_every_engine_trains_as_keras_does[simplernn-onehot]",
    "test_engine.py::test_every_engine_trains_as_keras_does[gru]",
    "test_engine.py::test_every_engine_trains_as_keras_does[lstm-dropout]",
    "test_engine.py::test_fused_steps_give_the_same_history_as_keras_fit[lstm-dropout]",
    "test_engine.py::test_fused_steps_give_the_same_history_as_keras_fit[simplernn-embedding]",
    "test_engine.py::test_layer_equals_keras_bit_for_bit[dropout]",
    "test_engine.py::test_layer_equals_keras_bit_for_bit[sequences]",
    "test_engine.py::test_layer_equals_keras_bit_for_bit[bidirectional]",
    "test_engine.py::test_layer_equals_keras_bit_for_bit[backwards]",
    "test_engine.py::test_a_fused_model_loads_and_predicts_without_numba",
    "test_engine.py::test_run_folders_load_without_the_engine",
    "test_engine.py::test_run_folders_of_earlier_versions_load",
    "test_engine.py::test_auto_is_fused_where_the_kernels_run_else_keras",
    "test_engine.py::test_keras_imports_without_sklearn_and_sklearn_still_imports_after",
    "test_fused.py::test_layers_equal_keras[dropout]",
    "test_fused.py::test_layers_equal_keras[masked]",
    "test_data.py::test_real_data_sizes_and_labels",  # tokenizes the real data: 50,000 reviews
    "test_i18n.py::test_rnnlab_lang_switches_and_the_system_locale_does_not",  # these five
    "test_i18n.py::test_korean_reproduce_report_has_korean_headings",  # reproduce twice
    "test_i18n.py::test_korean_and_english_reports_hold_the_same_numbers",
    "test_i18n.py::test_korean_compare_report_holds_the_same_numbers",
    "test_i18n.py::test_compare_notes_in_korean",
    "test_fused.py::test_layers_equal_keras[wide_long]",
    "test_sweep.py::test_a_search_samples_its_trials_and_names_the_best",
    "test_sweep.py::test_a_later_trial_of_a_worker_equals_rnnlab_train",
    "test_sweep.py::test_a_sweep_folder_belongs_to_its_sweep",
    "test_reproduce.py::test_more_seeds_reuse_the_story_and_add_statistics",
    "test_reproduce.py::test_reproduce_chapter_9_3",
    "test_resume.py::test_a_killed_run_resumes_to_the_same_bytes",
    "test_tutorial.py::test_the_recipe_imports_no_speed_module",
    "test_train.py::test_every_other_model_trains[bilstm]",
    "test_train.py::test_every_other_model_trains[bigru]",
    "test_train.py::test_every_other_model_trains[gru]",
    "test_train.py::test_every_other_model_trains[lstm-stacked]",
    "test_train.py::test_every_other_model_trains[lstm-dropout]",
    "test_predict.py::test_explain_reads_the_last_recurrent_layer_of_any_model[lstm-stacked]",
    "test_predict.py::test_explain_reads_the_last_recurrent_layer_of_any_model[bigru]",
}


def tier_of(item) -> str | None:
    """The tier a collected test belongs to, None for the quick tier."""
    module = item.path.name
    if module.startswith("test_faults_"):
        return "faults"
    fixtures = set(getattr(item, "fixturenames", ()))
    params = getattr(getattr(item, "callspec", None), "params", {})
    if fixtures & {"postgres_url", "postgres_server"} or params.get("storage") == "postgresql":
        return "postgres"
    if "notebook_env" in fixtures:
        return "notebook"
    function = getattr(item, "function", None)
    if function is not None and "open_in_chromium(" in inspect.getsource(function):
        return "browser"
    if {f"{module}::{item.originalname}", f"{module}::{item.name}"} & SLOW:
        return "slow"
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = tier_of(item)
        if tier is not None:
            item.add_marker(tier)
