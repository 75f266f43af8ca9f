"""`rnnlab reproduce` on a tiny data set: every step runs and the report is complete."""

import re

import pytest
from helpers import markdown_tables

from rnnlab.cli import main


def results_table(markdown: str) -> list[dict]:
    """The rows of the report's results table, by column name."""
    (table,) = [t for t in markdown_tables(markdown) if t[0][:2] == ["model", "parameters"]]
    return [dict(zip(table[0], row, strict=True)) for row in table[1:]]


def test_reproduce_writes_a_complete_report(tiny_tarball, tmp_path, capsys):
    out = tmp_path / "repro"
    argv = ["reproduce", "--data", str(tiny_tarball), "--epochs", "2", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    printed = [line.split(" | ") for line in capsys.readouterr().out.splitlines()]
    parameters = {row[0]: row[1] for row in printed if len(row) > 2}
    assert parameters["simplernn-onehot"] == "4,081"
    assert parameters["simplernn-embedding"] == "8,209"

    markdown = (out / "report.md").read_text()
    for section in [
        "1. The data",
        "2. The models",
        "3. Memory",
        "4. Training",
        "5. Results",
        "6. Time",
    ]:
        assert section in markdown
    assert "500×8 + 8×8 + 8 = 4,072" in markdown and "16×8 + 8×8 + 8 = 200" in markdown
    results = results_table(markdown)
    assert [row["epochs run"] for row in results] == ["2", "2"]
    assert results[0]["book: best val_accuracy"] == "0.78–0.79"  # the book's, side by side
    assert "up to 2 epochs" in markdown and "engine auto" in markdown  # the run's own settings
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert len(images) == 4 and all((out / image).is_file() for image in images)

    assert "](page.html)" in markdown and (out / "page.html").is_file()  # the best model, live
    html = (out / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 4  # self-contained
    assert "<table>" in html and "4,072" in html


def test_reproduce_refuses_a_used_folder(tiny_tarball, tmp_path, capsys):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    argv = ["reproduce", "--data", str(tiny_tarball), "--out", str(tmp_path / "used")]
    assert main(argv) == 2
    assert "is not a sweep folder" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 2  # --overwrite removes only what reproduce wrote
    assert (tmp_path / "used" / "notes.txt").read_text() == "mine"


def test_more_seeds_reuse_the_story_and_add_statistics(tiny_tarball, tmp_path, capsys):
    out = tmp_path / "repro"
    argv = ["reproduce", "--data", str(tiny_tarball), "--epochs", "2", "--out", str(out)]
    assert main(argv) == 0
    story = sorted(out.glob("trials/*"))
    before = {p: (p / "history.csv").stat().st_mtime_ns for p in story}
    capsys.readouterr()
    assert main([*argv, "--seeds", "2"]) == 0
    assert "finished runs with the same settings are reused" in capsys.readouterr().out
    assert {p: (p / "history.csv").stat().st_mtime_ns for p in story} == before  # not retrained
    assert len(list(out.glob("trials/*/finished"))) == 4
    markdown = (out / "report.md").read_text()
    assert "7. Over 2 seeds" in markdown
    (models,) = [t for t in markdown_tables(markdown) if t[0][:2] == ["model", "n"]]
    assert [row[:2] for row in models[1:]] == [
        ["simplernn-onehot", "2"], ["simplernn-embedding", "2"], ["bow-logreg (baseline)", "1"],
    ]  # fmt: skip


@pytest.mark.slow
def test_tutorial_quality_bar_on_the_real_data(real_data, real_home, tmp_path, monkeypatch):
    """Both models with the tutorial's defaults: best val_accuracy >= 0.77, test >= 0.76."""
    from rnnlab.reproduce import reproduce

    monkeypatch.setenv("RNNLAB_HOME", str(real_home))
    result = reproduce(real_data, tmp_path / "repro", quiet=True, log=lambda *_: None)
    for name, run in result.runs.items():
        assert run.metrics["best_val_accuracy"] >= 0.77, name
        assert run.metrics["test_accuracy"] >= 0.76, name


def test_reproduce_chapter_9_3(tiny_tarball, tmp_path):
    out = tmp_path / "repro"
    argv = ["reproduce", "--chapter", "9-3", "--data", str(tiny_tarball), "--epochs", "1"]
    assert main([*argv, "--quiet", "--out", str(out)]) == 0
    markdown = (out / "report.md").read_text()
    assert "chapter 9-3" in markdown
    results = results_table(markdown)
    assert [row["model"] for row in results] == ["lstm", "lstm-dropout", "lstm-stacked", "gru"]
    for row in results:
        assert (out / "trials" / f"{row['model']}-seed42-epochs1" / "best.keras").is_file()
    assert results[2]["book: test accuracy"] == "0.7975–0.8019"
    assert "4 × (16×8 + 8×8 + 8) = 800" in markdown
