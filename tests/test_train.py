"""Training into a run folder: files, restore-best, determinism, evaluate, bad input."""

import json

import keras
import numpy as np
import pytest
from helpers import tiny_config

from rnnlab import runs
from rnnlab.cli import main
from rnnlab.evaluate import evaluate
from rnnlab.train import train


@pytest.mark.parametrize("model", ["simplernn-onehot", "simplernn-embedding"])
def test_two_epochs_write_every_file_of_the_run_folder(tiny_tarball, tmp_path, model):
    result = train(tiny_config(tiny_tarball, model=model, epochs=2), tmp_path / "run", verbose=0)
    files = sorted(p.name for p in result.path.iterdir())
    assert files == sorted([*runs.RUN_FILES, runs.LOCK])  # the resume state is gone
    metrics = json.loads((result.path / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and metrics["model"] == model
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["peak_memory_mb"] > 0
    config = json.loads((result.path / "config.json").read_text())
    assert config["settings"]["model"] == model and len(config["data"]["content_hash"]) == 64
    assert config["versions"]["keras_backend"] == "jax"
    assert (result.path / "history.csv").read_text().startswith("epoch,accuracy,loss,val_")
    assert (result.path / "curves.png").read_bytes().startswith(b"\x89PNG")
    assert "Parameters, layer by layer" in (result.path / "summary.txt").read_text()


@pytest.mark.parametrize(
    "model", ["lstm", "lstm-dropout", "lstm-stacked", "gru", "bilstm", "bigru"]
)
def test_every_other_model_trains(tiny_tarball, tmp_path, model):
    result = train(tiny_config(tiny_tarball, model=model, epochs=2), tmp_path / "run", verbose=0)
    assert result.metrics["epochs_run"] == 2
    assert np.isfinite(result.history["loss"]).all()


def test_best_weights_are_restored_when_the_epoch_limit_ends_training(tiny_tarball, tmp_path):
    # A large learning rate makes val_loss go up and down, so the best epoch is not the last.
    config = tiny_config(tiny_tarball, epochs=8, patience=100, learning_rate=1.0, batch_size=32)
    result = train(config, tmp_path / "run", verbose=0)
    assert not result.metrics["stopped_early"]
    assert result.metrics["best_epoch"] < result.metrics["epochs_run"], "pick a noisier setup"
    best = keras.saving.load_model(result.path / "best.keras")
    for restored, saved in zip(result.model.get_weights(), best.get_weights(), strict=True):
        np.testing.assert_array_equal(restored, saved)
    assert result.metrics["best_val_loss"] == min(result.history["val_loss"])


def test_same_seed_same_history(tiny_tarball, tmp_path):
    config = tiny_config(tiny_tarball, epochs=3)
    first = train(config, tmp_path / "a", verbose=0)
    second = train(config, tmp_path / "b", verbose=0)
    assert (first.path / "history.csv").read_bytes() == (second.path / "history.csv").read_bytes()
    other_seed = train(tiny_config(tiny_tarball, epochs=3, seed=7), tmp_path / "c", verbose=0)
    assert other_seed.history != first.history


def test_evaluate_a_saved_run(tiny_tarball, tmp_path, capsys):
    result = train(tiny_config(tiny_tarball, epochs=2), tmp_path / "run", verbose=0)
    again = evaluate(result.path)
    assert again.same_data_as_training
    assert again.test_accuracy == pytest.approx(result.metrics["test_accuracy"], abs=1e-6)
    assert main(["evaluate", str(result.path)]) == 0
    assert "test accuracy" in capsys.readouterr().out


def test_cli_train_prints_summary_and_results(tiny_tarball, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--model", "simplernn-onehot", "--data", str(tiny_tarball)]
    args += ["--num-words", "40", "--maxlen", "30", "--epochs", "2", "--quiet", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "40×8 + 8×8 + 8 = 392" in printed and "test accuracy" in printed
    assert main(args) == 2  # the folder is not empty now
    assert "--overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "lstm-xl"], "--model: choose one of: simplernn-onehot"),
        (["--model", "simplernn-onehot", "--units", "0"], "--units: must be at least 1"),
        (["--model", "simplernn-onehot", "--maxlen", "0"], "--maxlen: must be at least 1"),
        (["--model", "simplernn-onehot", "--epochs", "0"], "--epochs: must be at least 1"),
        (["--model", "simplernn-onehot", "--learning-rate", "-1"], "finite number above 0"),
        (["--model", "simplernn-onehot", "--num-words", "3"], "--num-words: must be at least 4"),
        (["--learning-rate", "inf"], "--learning-rate: must be a finite number above 0"),
        (["--seed", "-1"], "--seed: must be at least 0"),
        (["--engine", "turbo"], "--engine: choose one of: keras, xla"),
    ],
)
def test_impossible_options_are_one_line_errors(tiny_tarball, tmp_path, capsys, args, message):
    argv = ["train", "--data", str(tiny_tarball), "--out", str(tmp_path / "r"), *args]
    try:
        code = main(argv)
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_evaluate_refuses_folders_that_are_not_runs(tiny_tarball, tmp_path, capsys):
    result = train(tiny_config(tiny_tarball, epochs=1), tmp_path / "run", verbose=0)
    (result.path / "best.keras").write_bytes(b"not a zip")
    assert main(["evaluate", str(result.path)]) == 2
    assert "best.keras is damaged" in capsys.readouterr().err
    (result.path / "best.keras").unlink()
    assert main(["evaluate", str(result.path)]) == 2
    assert "no best.keras" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err
