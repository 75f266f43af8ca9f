"""The fast engines run only with the Keras, JAX and numba versions they were tested with;
with others (faked here) rnnlab trains on the keras engine and says why in one line."""

import pytest
from helpers import tiny_config

from rnnlab.engine import ENGINES, compat, get_engine
from rnnlab.train import train


@pytest.fixture
def fake_versions(monkeypatch):
    """Pretend that the tested versions are installed, but some in others (None: missing)."""

    def fake(**versions):
        installed = {package: f"{series}.1" for package, series in compat.TESTED.items()}
        installed.update(versions)
        monkeypatch.setattr(compat, "installed_version", installed.get)

    return fake


def test_the_installed_versions_are_the_tested_ones():
    """If this fails, a newer Keras, JAX or numba is installed: run the engine tests with
    it and move TESTED, or install the tested series."""
    assert compat.untested("xla") is None
    assert compat.untested("fused") is None


def test_another_minor_version_is_untested_and_the_message_names_it(fake_versions):
    fake_versions(keras="3.16.0", numba="0.69.0rc1")
    assert compat.untested("xla") == (
        "the xla engine was tested with keras 3.15, jax 0.10, jaxlib 0.10, not keras 3.16.0"
    )
    assert compat.untested("fused").endswith("not keras 3.16.0, numba 0.69.0rc1")
    assert compat.untested("keras") is None


def test_patch_releases_and_missing_packages_pass(fake_versions):
    fake_versions(keras="3.15.9", jax="0.10.7", numba=None)
    assert compat.untested("xla") is None
    assert compat.untested("fused") is None  # numba missing: the fused probe's business


def test_numba_matters_to_the_fused_engine_only(fake_versions):
    fake_versions(numba="0.70.1")
    assert compat.untested("xla") is None
    assert "numba 0.70.1" in compat.untested("fused")


@pytest.mark.parametrize("name", ["xla", "fused", "auto"])
def test_untested_versions_fall_back_to_keras_in_one_line(fake_versions, capsys, name):
    fake_versions(jax="0.11.0")
    assert get_engine(name) is ENGINES["keras"]
    err = capsys.readouterr().err
    engine = "fused" if name == "auto" else name
    assert err == f"rnnlab: the {engine} engine was tested with " + err.split("tested with ")[1]
    assert err.endswith("not jax 0.11.0; using the keras engine\n")
    assert get_engine("keras") is ENGINES["keras"] and capsys.readouterr().err == ""


def test_a_training_asked_for_xla_runs_keras_with_untested_versions(
    fake_versions, tiny_tarball, tmp_path, capsys
):
    fake_versions(keras="3.99.0")
    result = train(tiny_config(tiny_tarball, epochs=1, engine="xla"), tmp_path / "run", verbose=0)
    assert result.config.engine == "keras" == result.metrics["engine"]
    assert "not keras 3.99.0; using the keras engine" in capsys.readouterr().err
