"""Every command on your own labelled texts and on NSMC's format, end to end through the
CLI: each tokenizer recorded in the run folder, so predicting reads a review as training did."""

import io
import json
import sys

import numpy as np
import pytest
from helpers import TINY, mixed_sentences, nsmc_rows, nsmc_text, write_nsmc

import rnnlab
from rnnlab import tutorial
from rnnlab.cli import main
from rnnlab.data import open_dataset

OPTIONS = [f"--{k.replace('_', '-')}={v}" for k, v in {**TINY, "epochs": 2}.items()]


@pytest.fixture
def own_csv(tmp_path):
    """200 labelled sentences in English, Korean, both, and with emoji."""
    path = tmp_path / "mine.csv"
    lines = ["text,label"] + [f'"{t}",{"positive" if y else "negative"}' for t, y in
                              mixed_sentences(200)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("tokenizer", ["word", "char", "subword"])
def test_own_csv_trains_evaluates_and_predicts(own_csv, tmp_path, capsys, tokenizer):
    run = tmp_path / "run"
    argv = ["train", "--data", str(own_csv), "--tokenizer", tokenizer, "--subword-vocab", "80"]
    assert main([*argv, *OPTIONS, "--out", str(run), "--quiet"]) == 0
    preprocessing = json.loads((run / "preprocessing.json").read_text(encoding="utf-8"))
    assert preprocessing["tokenizer"] == tokenizer and preprocessing["format"] == 2
    assert (run / "tokenizer.model").is_file() == (tokenizer == "subword")
    capsys.readouterr()

    # predict reads a review exactly as training did: its ids equal the data layer's
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))["settings"]
    raw = open_dataset(own_csv, tokenizer=tokenizer, subword_vocab=80)
    split = tutorial.load_and_split(raw, config["num_words"], config["maxlen"])
    texts = [t for t, _ in mixed_sentences(200)]
    test_ids = np.array(split.test_x)
    encoded = rnnlab.load(run).encoder.encode([texts[i] for i in split_test_rows(own_csv)])
    assert (encoded.ids == test_ids).all()

    assert main(["evaluate", str(run)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    assert main(["evaluate", str(run), "--file", str(own_csv), "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["reviews"] == 200 and 0 <= record["accuracy"] <= 1
    assert main(["predict", str(run), "정말 재미있고 감동적인 영화였어요", "great 😍"]) == 0
    assert "정말 재미있고" in capsys.readouterr().out


def test_tokenizer_survives_a_copied_run_folder(own_csv, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    argv = ["train", "--data", str(own_csv), "--tokenizer", "subword", "--subword-vocab", "80"]
    assert main([*argv, *OPTIONS, "--out", str(run), "--quiet"]) == 0
    before = rnnlab.load(run).predict(["최고 명작 감동"])
    copy = tmp_path / "elsewhere" / "run"
    shutil.copytree(run, copy)
    own_csv.unlink()  # neither the data nor the cache is needed
    shutil.rmtree(tmp_path / "rnnlab-home")
    assert rnnlab.load(copy).predict(["최고 명작 감동"]) == pytest.approx(before)
    (copy / "tokenizer.model").unlink()
    capsys.readouterr()
    assert main(["predict", str(copy), "최고"]) == 2
    assert "no tokenizer.model" in capsys.readouterr().err


def test_char_tfidf_baseline_picks_the_char_tokenizer(own_csv, tmp_path, capsys):
    run = tmp_path / "baseline"
    assert main(["train", "--data", str(own_csv), "--model", "char-tfidf-logreg",
                 "--out", str(run)]) == 0  # fmt: skip
    spec = json.loads((run / "preprocessing.json").read_text(encoding="utf-8"))
    assert spec["tokenizer"] == "char"
    assert "TF-IDF of token 1-3-grams" in (run / "summary.txt").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["predict", str(run), "최악 노잼 ㅠㅠ", "최고 명작 ㅋㅋ", "--format", "csv"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert [row.split(",")[1] for row in rows] == ["negative", "positive"]


def test_nsmc_files_as_they_are(tmp_path, capsys, monkeypatch):
    folder = write_nsmc(tmp_path / "nsmc", n_per_label=40)
    run = tmp_path / "run"
    argv = ["train", "--data", str(folder), "--tokenizer", "char", *OPTIONS]
    assert main([*argv, "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    test = folder / "ratings_test.txt"
    assert main(["evaluate", str(run), "--file", str(test), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["reviews"] == 40
    assert main(["predict", str(run), "--file", str(test), "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 40 and "document" not in lines[0]

    # standard input is read once, as a pipe gives it
    body = nsmc_text(nsmc_rows(5, 3)).encode("utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body)))
    assert main(["evaluate", str(run), "--file", "-", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["reviews"] == 10

    assert main(["page", str(run)]) == 0 and (run / "page.html").is_file()  # char, in JS

    bad = tmp_path / "bad.txt"
    bad.write_text("id\tdocument\tlabel\n1\t좋다\t1\n2\t싫다\t2\n", encoding="utf-8")
    assert main(["evaluate", str(run), "--file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.txt line 3: label '2'" in err and len(err.strip().splitlines()) == 1


def test_excel_csv_and_long_lines_for_predict(tmp_path, capsys):
    from rnnlab.data.tables import Table

    excel = tmp_path / "excel.csv"
    excel.write_bytes(b'\xef\xbb\xbfreview,label\r\n"good, really",pos\r\nbad,neg\r\n')
    assert [(t, y) for _, t, y in Table(str(excel), labelled=True)] == [
        ("good, really", 1),
        ("bad", 0),
    ]
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.write(b"fine\n")
        f.write(b"x" * (65 << 20))
    with pytest.raises(rnnlab.errors.RnnlabError, match="line 2 is over 64 MB"):
        list(Table(str(huge)))


def test_sweep_passes_the_data_options_through(own_csv, tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = ["sweep", "--data", str(own_csv), "--tokenizer", "char", "--models", "gru",
            "--jobs", "1", "--out", str(out), "--quiet", *OPTIONS]  # fmt: skip
    assert main(argv) == 0
    (trial,) = (out / "trials").iterdir()
    spec = json.loads((trial / "preprocessing.json").read_text(encoding="utf-8"))
    assert spec["tokenizer"] == "char"


def test_reproduce_runs_on_own_data(own_csv, tmp_path, capsys):
    out = tmp_path / "reproduce"
    argv = ["reproduce", "--data", str(own_csv), "--tokenizer", "char", "--epochs", "1",
            "--jobs", "1", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    assert (out / "report.html").is_file()
    # The book's results are IMDB's: none stand beside these, in the report or the terminal.
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "on other reviews" in markdown and "IMDB" not in markdown.splitlines()[0]
    assert "5. Results\n" in markdown and "book:" not in markdown
    assert "book:" not in capsys.readouterr().out


def test_download_of_nsmc_checks_git_blob_ids(tmp_path, monkeypatch):
    import http.server
    import threading

    from rnnlab.data import sources
    from rnnlab.data.download import git_blob_id
    from rnnlab.errors import RnnlabError

    www = write_nsmc(tmp_path / "www")
    handler = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {
        "log_message": lambda *a: None,
        "__init__": lambda self, *a, **k: http.server.SimpleHTTPRequestHandler.__init__(
            self, *a, directory=str(www), **k),
    })  # fmt: skip
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        remotes = [
            sources.Remote(f"nsmc/{name}", f"{url}/{name}", f"gitblob:{git_blob_id(www / name)}")
            for name in sources.NSMC_FILES
        ]
        monkeypatch.setitem(sources.DOWNLOADS, "nsmc", tuple(remotes))
        raw = open_dataset("nsmc", tokenizer="char")
        assert len(raw.x_train) == 60 and raw.path.endswith("downloads/nsmc")
        downloads = tmp_path / "rnnlab-home" / "downloads" / "nsmc"
        assert sorted(p.name for p in downloads.iterdir()) == sorted(sources.NSMC_FILES)

        for path in downloads.iterdir():
            path.unlink()
        wrong = [sources.Remote(remotes[0].filename, remotes[0].url, "gitblob:" + "0" * 40)]
        monkeypatch.setitem(sources.DOWNLOADS, "nsmc", (*wrong, remotes[1]))
        with pytest.raises(RnnlabError, match="checksum mismatch"):
            open_dataset("nsmc")
        assert not list(downloads.iterdir())  # nothing unchecked is kept
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_git_blob_id_is_gits(tmp_path):
    import hashlib

    from rnnlab.data.download import git_blob_id

    path = tmp_path / "f"
    path.write_bytes(b"hello\n")  # `git hash-object f`
    assert git_blob_id(path) == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert git_blob_id(path) != hashlib.sha1(b"hello\n").hexdigest()


def split_test_rows(path):
    """The rows of `path` in its test split, in load_data's order (seed 113 shuffle)."""
    from rnnlab.data.dataset import _split_off_test

    labels = np.array([y for _, y in mixed_sentences(200)])
    rows = _split_off_test(labels)
    order = np.arange(len(rows))
    rng = np.random.RandomState(113)
    rng.shuffle(np.arange(len(labels) - len(rows)))  # load_data shuffles train first
    rng.shuffle(order)
    return rows[order]


def test_evaluate_reads_a_fifo_once(own_csv, tmp_path, capsys):
    import os
    import threading

    run = tmp_path / "run"
    assert main(["train", "--data", str(own_csv), *OPTIONS, "--out", str(run), "--quiet"]) == 0
    fifo = tmp_path / "reviews.csv"
    os.mkfifo(fifo)
    body = own_csv.read_bytes()
    writer = threading.Thread(target=lambda: fifo.write_bytes(body))
    writer.start()
    capsys.readouterr()
    assert main(["evaluate", str(run), "--file", str(fifo), "--format", "json"]) == 0
    writer.join(timeout=10)
    assert json.loads(capsys.readouterr().out)["reviews"] == 200
