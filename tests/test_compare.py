"""`rnnlab compare` on tiny runs: table, plots, and runs that are not comparable."""

import csv

import pytest
from helpers import aclimdb_files, markdown_tables, tiny_config, write_tarball

from rnnlab.cli import main
from rnnlab.train import train


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    data = write_tarball(folder / "tiny.tar.gz", aclimdb_files())
    first = train(tiny_config(data, epochs=2), folder / "a", verbose=0).path
    second = train(tiny_config(data, model="gru", epochs=3), folder / "b", verbose=0).path
    other_maxlen = train(tiny_config(data, epochs=2, maxlen=20), folder / "c", verbose=0).path
    return first, second, other_maxlen


def test_compare_writes_table_and_overlays(two_runs, tmp_path, capsys):
    first, second, _ = two_runs
    out = tmp_path / "cmp"
    assert main(["compare", str(first), str(second), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "simplernn-embedding" in captured.out and "gru" in captured.out
    assert "warning" not in captured.err
    rows = list(csv.DictReader((out / "comparison.csv").open()))
    assert [r["model"] for r in rows] == ["simplernn-embedding", "gru"]
    assert rows[1]["epochs run"] == "3"
    assert int(rows[0]["parameters"]) == 40 * 4 + (4 * 4 + 4 * 4 + 4) + 4 + 1
    (table,) = markdown_tables((out / "comparison.md").read_text())
    assert table[0][:4] == ["run", "model", "engine", "parameters"]
    assert [row[1] for row in table[1:]] == ["simplernn-embedding", "gru"]
    assert (out / "comparison.html").read_text().count("data:image/png;base64,") == 2
    for png in ("val_loss.png", "val_accuracy.png"):
        assert (out / png).read_bytes().startswith(b"\x89PNG")


def test_compare_flags_runs_on_other_settings(two_runs, tmp_path, capsys):
    first, _, other_maxlen = two_runs
    assert main(["compare", str(first), str(other_maxlen), "--out", str(tmp_path / "c")]) == 0
    err = capsys.readouterr().err
    assert "different maxlen" in err
    rows = list(csv.DictReader((tmp_path / "c" / "comparison.csv").open()))
    assert rows[0]["note"] == "" and "different maxlen" in rows[1]["note"]


def test_compare_refuses_a_folder_that_is_not_a_run(two_runs, tmp_path, capsys):
    assert main(["compare", str(two_runs[0]), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not a run folder of rnnlab train" in err and len(err.strip().splitlines()) == 1
