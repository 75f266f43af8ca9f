"""Training into a run folder: files, restore-best, determinism, evaluate, bad input."""

import json

import keras
import numpy as np
import pytest
from helpers import tiny_config

from rnnlab.cli import main
from rnnlab.run_folder import RUN_FILES
from rnnlab.train import evaluate, train


@pytest.mark.parametrize("model", ["simplernn-onehot", "simplernn-embedding"])
def test_two_epochs_write_every_file_of_the_run_folder(tiny_tarball, tmp_path, model):
    result = train(tiny_config(tiny_tarball, model=model, epochs=2), tmp_path / "run", verbose=0)
    assert sorted(p.name for p in result.out.iterdir()) == sorted(RUN_FILES)
    metrics = json.loads((result.out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and metrics["model"] == model
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["peak_memory_mb"] > 0
    config = json.loads((result.out / "config.json").read_text())
    assert config["settings"]["model"] == model and len(config["data"]["content_hash"]) == 64
    assert config["versions"]["keras_backend"] == "jax"
    assert (result.out / "history.csv").read_text().startswith("epoch,accuracy,loss,val_")
    assert (result.out / "curves.png").read_bytes().startswith(b"\x89PNG")
    assert "Parameters, layer by layer" in (result.out / "summary.txt").read_text()


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
    best = keras.saving.load_model(result.out / "best.keras")
    for restored, saved in zip(result.model.get_weights(), best.get_weights(), strict=True):
        np.testing.assert_array_equal(restored, saved)
    assert result.metrics["best_val_loss"] == min(result.history["val_loss"])


def test_same_seed_same_history(tiny_tarball, tmp_path):
    config = tiny_config(tiny_tarball, epochs=3)
    first = train(config, tmp_path / "a", verbose=0)
    second = train(config, tmp_path / "b", verbose=0)
    assert (first.out / "history.csv").read_bytes() == (second.out / "history.csv").read_bytes()
    other_seed = train(tiny_config(tiny_tarball, epochs=3, seed=7), tmp_path / "c", verbose=0)
    assert other_seed.history != first.history


def test_evaluate_a_saved_run(tiny_tarball, tmp_path, capsys):
    result = train(tiny_config(tiny_tarball, epochs=2), tmp_path / "run", verbose=0)
    again = evaluate(result.out)
    assert again["same_data_as_training"]
    assert again["test_accuracy"] == pytest.approx(result.metrics["test_accuracy"], abs=1e-6)
    assert main(["evaluate", str(result.out)]) == 0
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
        (["--model", "lstm-xl"], "unknown model 'lstm-xl'"),
        (["--model", "simplernn-onehot", "--units", "0"], "--units: must be at least 1"),
        (["--model", "simplernn-onehot", "--maxlen", "0"], "--maxlen: must be at least 1"),
        (["--model", "simplernn-onehot", "--epochs", "0"], "--epochs: must be at least 1"),
        (["--model", "simplernn-onehot", "--learning-rate", "-1"], "must be above 0"),
        (["--model", "simplernn-onehot", "--num-words", "3"], "num_words must be at least 4"),
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
    (result.out / "best.keras").write_bytes(b"not a zip")
    assert main(["evaluate", str(result.out)]) == 2
    assert "best.keras is damaged" in capsys.readouterr().err
    (result.out / "best.keras").unlink()
    assert main(["evaluate", str(result.out)]) == 2
    assert "has no best.keras" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["simplernn-onehot", "simplernn-embedding", "lstm-dropout"])
def test_fused_steps_give_the_same_history_as_keras_fit(tiny_tarball, model):
    """Several batches per compiled call change nothing: same losses, digit for digit.
    Batch 5 leaves a smaller last batch, which runs on its own."""
    from rnnlab.data import open_imdb, tutorial_split
    from rnnlab.models import build_model
    from rnnlab.train import compile_model, fuse_train_steps

    config = tiny_config(tiny_tarball, model=model)
    arrays = tutorial_split(open_imdb(tiny_tarball), config.num_words, config.maxlen)
    histories = []
    for fuse in (False, True):
        keras.utils.set_random_seed(42)
        net = compile_model(build_model(model, config.shape), learning_rate=0.01)
        if fuse:
            fuse_train_steps(net)
            ours = net.train_function
        fit = net.fit(
            arrays["train_x"],
            arrays["train_y"],
            batch_size=5,
            epochs=3,
            validation_data=(arrays["val_x"], arrays["val_y"]),
            verbose=0,
        )
        histories.append(fit.history)
    assert net.train_function is ours  # fit ran the fused steps
    assert histories[0] == histories[1]


def test_models_with_rnn_dropout_validate_in_training_size_batches():
    """Keras draws an RNN's dropout mask at every call, validation included: the
    number of validation batches moves the next epoch's masks, so it stays 64."""
    from rnnlab.models import MODELS, build_model
    from rnnlab.train import EVAL_BATCH_SIZE, validation_batch_size

    sizes = {name: validation_batch_size(build_model(name), 64) for name in MODELS}
    assert sizes["lstm-dropout"] == sizes["lstm-stacked"] == 64
    for name in ("simplernn-onehot", "simplernn-embedding", "lstm", "gru", "bilstm", "bigru"):
        assert sizes[name] == EVAL_BATCH_SIZE, name
