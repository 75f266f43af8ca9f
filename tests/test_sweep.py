"""`rnnlab sweep` as a user runs it: a grid, its summary, continuing, bad input, many machines.

(The machinery underneath, exactly-once trials and dead workers, is tested in
test_sweep_study.py with a trivial trial function; here the trials train.)
"""

import csv
import json
import os
import subprocess
import sys
import time

import pytest
from helpers import markdown_tables

from rnnlab import runs
from rnnlab.cli import main
from rnnlab.cli.parser import build_parser

TINY = ["--num-words", "40", "--maxlen", "30", "--units", "4", "--embedding-dim", "4"]
TINY += ["--batch-size", "8", "--epochs", "2"]


def sweep(data, out, *args):
    return main(["sweep", "--data", str(data), *TINY, "--out", str(out), "--quiet", *args])


def test_a_grid_trains_once_and_is_summarized(tiny_tarball, tmp_path, capsys):
    out = tmp_path / "sweep"
    grid = ["--models", "simplernn-embedding,gru", "--seeds", "2", "--jobs", "2"]
    assert sweep(tiny_tarball, out, *grid) == 0
    assert "4 of 4 trials complete" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert sorted((r["model"], r["seed"], r["state"]) for r in rows) == [
        ("gru", "42", "complete"), ("gru", "43", "complete"),
        ("simplernn-embedding", "42", "complete"), ("simplernn-embedding", "43", "complete"),
    ]  # fmt: skip
    for row in rows:
        assert runs.is_finished(out / row["run folder"])
        assert row["train it again"].startswith(f"rnnlab train --model {row['model']} ")
    tables = markdown_tables((out / "summary.md").read_text())
    models = {row[0]: row for row in tables[0][1:]}
    assert set(models) == {"simplernn-embedding", "gru", "bow-logreg (baseline)"}
    assert models["gru"][1] == "2" and "±" in models["gru"][2]
    assert tables[1][1][:3] == ["simplernn-embedding", "gru", "2"]  # paired, over 2 seeds
    html = (out / "summary.html").read_text()
    assert html.count("data:image/png;base64,") == 2

    trained = {p: (p / runs.HISTORY).stat().st_mtime_ns for p in out.glob("trials/*")}
    assert sweep(tiny_tarball, out, *grid) == 0  # the same command continues: nothing to do
    assert {p: (p / runs.HISTORY).stat().st_mtime_ns for p in trained} == trained


def test_a_later_trial_of_a_worker_equals_rnnlab_train(tiny_tarball, tmp_path):
    """A worker keeps Keras, the data and compiled code between trials; its third
    trial still gives rnnlab train's history, byte for byte."""
    out = tmp_path / "sweep"
    assert sweep(tiny_tarball, out, "--models", "lstm-dropout", "--seeds", "3", "--jobs", "1") == 0
    (third,) = out.glob("trials/lstm-dropout-seed44-*")
    settings = json.loads((third / runs.CONFIG).read_text())["settings"]
    again = [f"--{k.replace('_', '-')}={v}" for k, v in settings.items() if k != "data"]
    assert main(["train", *again, "--data", str(tiny_tarball), "--out", str(tmp_path / "again"),
                 "--quiet"]) == 0  # fmt: skip
    assert len(list((out / "logs").glob("*.log"))) == 1  # one worker ran all three
    assert (third / runs.HISTORY).read_bytes() == (tmp_path / "again" / runs.HISTORY).read_bytes()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--models", "lstm-xl"], "--models/--model: choose one of: simplernn-onehot"),
        (["--units", "8,zero"], "--units: expected a whole number, got 'zero'"),
        (["--grid", "[{units: 16}]"], "--grid: not JSON"),
        (["--grid", '{"units": 16}'], "--grid: give a JSON list of objects"),
        (["--grid", '[{"colour": "blue"}]'], "unknown settings: colour"),
        (["--grid", '[{"units": -1}]'], "units: must be at least 1"),
        (["--grid", '[{"data": "x"}]'], "the data is not a setting of the grid"),
        (["--grid", "[]"], "the grid is empty"),
        (["--seeds", "0"], "--seeds: a count of seeds must be at least 1"),
        (["--jobs", "0"], "--jobs: must be at least 1"),
        (["--units", "8..64"], "--units 8..64 is a range, which only a search samples from"),
        (["--units", "64..8"], "--units: a range LOW..HIGH needs LOW < HIGH"),
        (["--optimizer", "adam..rmsprop"], "a range LOW..HIGH needs a numeric setting"),
        (["--prune"], "--prune stops trials early"),
        (["--search", "0", "--units", "4,8"], "--search: must be at least 1"),
        (["--search", "3"], "nothing to search"),
        (["--search", "3", "--units", "2..8", "--seeds", "3"], "one seed, and --seeds gives 3"),
        (["--search", "3", "--units", "2..8", "--grid", "[{}]"], "--grid lists configurations"),
        (["--search", "3", "--units", "2..4,8"], "give one range LOW..HIGH or a comma list"),
        (
            ["--search", "3", "--models", "gru,simplernn-onehot", "--mask-zero", "true"],
            "mask_zero and dropout are settings of rnnlab's own models",
        ),
        (["--storage", "mysql://127.0.0.1/x"], "mysql"),
        (["--storage", "postgresql://rnnlab@127.0.0.1:9/none"], "127.0.0.1"),
    ],
)
def test_bad_input_is_one_line(tiny_tarball, tmp_path, capsys, args, message):
    started = time.monotonic()
    try:
        code = sweep(tiny_tarball, tmp_path / "sweep", *args)
    except SystemExit as exit_info:  # argparse's own errors
        code = exit_info.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert time.monotonic() - started < 10
    assert not list((tmp_path / "sweep").glob("trials/*"))  # nothing trained


def test_a_search_samples_its_trials_and_names_the_best(tiny_tarball, tmp_path, capsys):
    out = tmp_path / "search"
    space = ["--search", "5", "--models", "gru,simplernn-embedding", "--units", "2..8",
             "--learning-rate", "1e-3..1e-1", "--epochs", "3", "--prune"]  # fmt: skip
    space += ["--jobs", "2"]
    assert sweep(tiny_tarball, out, *space) == 0
    printed = capsys.readouterr().out
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert len(rows) == 5 and {r["state"] for r in rows} <= {"complete", "pruned"}
    scores = [float(r["best val_accuracy"]) for r in rows]
    assert scores == sorted(scores, reverse=True)  # best first
    for row in rows:
        settings = json.loads((out / row["run folder"] / runs.CONFIG).read_text())["settings"]
        assert settings["model"] in ("gru", "simplernn-embedding") and settings["seed"] == 42
        assert 2 <= settings["units"] <= 8 and 1e-3 <= settings["learning_rate"] <= 1e-1
        assert float(f"{settings['learning_rate']:.3g}") == settings["learning_rate"]
    assert len(set(r["run folder"] for r in rows)) == 5
    best = next(line for line in printed.splitlines() if line.startswith("Best: "))
    assert rows[0]["model"] in best and f"val_accuracy {rows[0]['best val_accuracy']}" in best
    command = best.split("`")[1].split()
    assert command[:5] == ["rnnlab", "sweep", "--seeds", "5", "--models"]
    parsed = build_parser().parse_args(command[1:])  # the printed command runs as it is
    assert parsed.model == [rows[0]["model"]] and parsed.seeds == [42, 43, 44, 45, 46]
    assert 2 <= parsed.units[0] <= 8 and "--units" in command  # searched: said even at default
    assert "Searched: " in (out / "summary.md").read_text()

    trained = {p: (p / runs.HISTORY).stat().st_mtime_ns for p in out.glob("trials/*")}
    assert sweep(tiny_tarball, out, *space) == 0  # the same command continues: nothing to do
    assert {p: (p / runs.HISTORY).stat().st_mtime_ns for p in trained} == trained
    assert sweep(tiny_tarball, out, *space[:-2], "--search", "6") == 2
    assert "holds the sweep 'search-" in capsys.readouterr().err  # the folder's search


def test_a_sweep_folder_belongs_to_its_sweep(tiny_tarball, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert sweep(tiny_tarball, out, "--name", "mine") == 0
    assert sweep(tiny_tarball, out, "--name", "mine", "--units", "5") == 2
    assert "was started with another grid" in capsys.readouterr().err
    other = tmp_path / "notes"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert sweep(tiny_tarball, other) == 2
    assert "is not a sweep folder" in capsys.readouterr().err


def test_two_machines_share_one_sweep_through_postgresql(tiny_tarball, tmp_path, postgres_url):
    """The same command on two "machines" (two folders, at the same moment): every
    configuration trains once, and each machine's summary holds all of them."""
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    command = [sys.executable, "-m", "rnnlab.cli", "sweep", "--data", str(tiny_tarball), *TINY]
    command += ["--models", "simplernn-embedding,gru", "--seeds", "2", "--jobs", "1"]
    command += ["--storage", postgres_url, "--name", "shared", "--quiet"]
    machines = [
        subprocess.Popen([*command, "--out", str(tmp_path / name)], env=env) for name in ("a", "b")
    ]
    assert [machine.wait(timeout=300) for machine in machines] == [0, 0]
    trained = [
        p.parent.name for name in ("a", "b") for p in (tmp_path / name).glob("trials/*/finished")
    ]
    assert len(trained) == 4 and len(set(trained)) == 4  # each configuration on one machine
    for name in ("a", "b"):
        rows = list(csv.DictReader((tmp_path / name / "summary.csv").open()))
        assert [row["state"] for row in rows] == ["complete"] * 4
