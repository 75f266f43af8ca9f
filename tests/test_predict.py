"""Predicting on raw text: same preprocessing as training, every input format, bad input."""

import io
import json
import sys

import numpy as np
import pytest
from helpers import aclimdb_files, tiny_config, write_tarball

import rnnlab
from rnnlab.cli import main
from rnnlab.config import TrainConfig
from rnnlab.data import open_imdb, pad_sequences
from rnnlab.data.readers import read_aclimdb_tar
from rnnlab.predict import predict_stream
from rnnlab.train import train


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict")
    data = write_tarball(folder / "tiny.tar.gz", aclimdb_files())
    home = folder / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_HOME", str(home))
        run = train(tiny_config(data, epochs=3), folder / "run", verbose=0).path
    return run, data


def data_layer_order(n_train, n_test, seed=113):
    """Which raw test review load_data puts at each position (its two shuffles)."""
    rng = np.random.RandomState(seed)
    rng.shuffle(np.arange(n_train))
    order = np.arange(n_test)
    rng.shuffle(order)
    return order


def assert_predict_matches_data_layer(run, data, sample=None):
    predictor = rnnlab.load(run)
    raw = open_imdb(data)
    (_, _), (x_test, _) = raw.load_data(num_words=predictor.encoder.num_words)
    order = data_layer_order(len(raw.x_train), len(raw.x_test))
    _, _, test_texts, _ = read_aclimdb_tar(data)
    positions = np.arange(len(x_test)) if sample is None else sample
    texts = [test_texts[order[i]] for i in positions]
    ids = pad_sequences(list(x_test[positions]), maxlen=predictor.encoder.maxlen)
    np.testing.assert_array_equal(predictor.encoder.encode(texts).ids, ids)
    from_text = predictor.predict(texts)
    from_ids = predictor.model.predict(ids, batch_size=predictor.batch_size, verbose=0)[:, 0]
    np.testing.assert_array_equal(from_text, from_ids)


def test_predict_from_text_equals_model_on_data_layer_ids(tiny_run):
    assert_predict_matches_data_layer(*tiny_run)


@pytest.mark.slow
def test_same_preprocessing_on_the_real_test_split(real_data, real_home, tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_HOME", str(real_home))
    config = TrainConfig(data=real_data, epochs=1)
    run = train(config, tmp_path / "run", verbose=0).path
    sample = np.random.RandomState(0).choice(24_999, size=2_000, replace=False)
    assert_predict_matches_data_layer(run, real_data, sample)


def test_api(tiny_run):
    predictor = rnnlab.load(tiny_run[0])
    p = predictor.predict(["a wonderful great film", "awful boring waste", "", "   "])
    assert p.shape == (4,) and ((p >= 0) & (p <= 1)).all()
    assert p[2] == p[3]  # whitespace only reads as an empty review: defined, not a crash
    with pytest.raises(TypeError, match="list of texts"):
        predictor.predict("one text")
    explanation = predictor.explain("a wonderful great film")
    assert explanation.tokens[-5:] == ["[START]", "a", "wonderful", "great", "film"]
    assert explanation.probability == pytest.approx(float(p[0]), abs=1e-6)
    assert len(explanation.probabilities) == 30


def test_odd_reviews_have_documented_results(tiny_run):
    predictor = rnnlab.load(tiny_run[0])
    odd = ["<br /><br />great<i>film</i>", "😀😀 映画 фильм great", "great " * 200_000]
    p = predictor.predict(odd)
    assert np.isfinite(p).all()
    encoded = predictor.encoder.encode(odd)
    assert encoded.oov_counts[1] == 2  # 映画 and фильм are words the model never saw
    assert (encoded.ids[2] == predictor.encoder.word_id("great")).all()  # 1 MB: last 30 words


def test_cli_arguments_and_explain(tiny_run, capsys):
    run = str(tiny_run[0])
    assert main(["predict", run, "wonderful great film", "awful boring"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:2] == ["P(positive)", "label"] and len(lines) == 3
    assert main(["predict", run, "--explain", "a wonderful film"]) == 0
    out = capsys.readouterr().out
    assert "[START]" in out and "wonderful" in out and "[PAD] x" in out
    assert main(["predict", run, "--threshold", "0", "awful"]) == 0
    assert "positive" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name, content, extra",
    [
        ("reviews.txt", "wonderful film\n\nawful boring\nfine\n", []),
        ("reviews.csv", 'id,text\n1,wonderful film\n2,"awful, boring"\n3,fine\n', []),
        ("reviews.jsonl", '{"text": "wonderful film"}\n{"text": "awful"}\n\n{"text": "ok"}\n', []),
        ("reviews.csv", "id,body\n1,wonderful film\n2,awful\n3,fine\n", ["--text-field", "body"]),
        ("reviews.data", "wonderful\nawful\nfine\n", ["--input-format", "txt"]),
    ],
)
def test_file_formats(tiny_run, tmp_path, capsys, name, content, extra):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    argv = ["predict", str(tiny_run[0]), "--file", str(path), "--format", "jsonl"]
    assert main([*argv, "--output", str(out), *extra]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 3 and {"probability", "label", "oov_words", "text"} <= set(records[0])
    assert "3 predictions written" in capsys.readouterr().err


def test_standard_input_and_csv_output(tiny_run, monkeypatch, capsys):
    stdin = io.TextIOWrapper(io.BytesIO(b"wonderful film\nawful boring\n"))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["predict", str(tiny_run[0]), "--file", "-", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "probability,label,oov_words,text" and len(lines) == 3


def test_batches_are_streamed(tiny_run):
    """The reader is pulled one batch ahead, not to the end: memory stays flat."""
    pulled = 0

    def reviews():
        nonlocal pulled
        for _ in range(100_000):
            pulled += 1
            yield "a great film"

    rows = predict_stream(rnnlab.load(tiny_run[0]), reviews(), batch_size=500)
    next(rows)
    assert pulled == 500


def expect_error(argv, capsys, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_bad_files(tiny_run, tmp_path, capsys):
    run = str(tiny_run[0])
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("good\ncaf\xe9 bad\n".encode("latin-1"))
    expect_error(["predict", run, "--file", str(latin1)], capsys, "is not UTF-8 text (line 2")
    no_column = tmp_path / "reviews.csv"
    no_column.write_text("id,body\n1,great\n")
    expect_error(["predict", run, "--file", str(no_column)], capsys, "has no column 'text'")
    bad_json = tmp_path / "reviews.jsonl"
    bad_json.write_text('{"text": "fine"}\nnot json\n')
    expect_error(["predict", run, "--file", str(bad_json)], capsys, "line 2 is not JSON")
    unknown = tmp_path / "reviews.xlsx"
    unknown.write_text("x")
    expect_error(["predict", run, "--file", str(unknown)], capsys, "cannot tell the format")
    expect_error(["predict", run], capsys, "give reviews as arguments or with --file")
    expect_error(["predict", run, "--explain", "a", "b"], capsys, "exactly one review")
    out = tmp_path / "partial.csv"
    expect_error(["predict", run, "--file", str(latin1), "--output", str(out)], capsys, "UTF-8")
    assert not out.exists() and not list(tmp_path.glob(".partial.csv*"))  # nothing half-written


def test_bad_run_folders(tiny_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_run[0], run)
    spec = json.loads((run / "preprocessing.json").read_text())
    (run / "preprocessing.json").write_text(json.dumps({**spec, "tokenizer_version": 99}))
    expect_error(["predict", str(run), "great"], capsys, "tokenizer v99")
    (run / "preprocessing.json").unlink()
    expect_error(["predict", str(run), "great"], capsys, "has no preprocessing.json")
    expect_error(["predict", str(tmp_path / "none"), "great"], capsys, "not a folder")


@pytest.mark.parametrize("model", ["simplernn-onehot", "lstm-stacked", "bigru"])
def test_explain_reads_the_last_recurrent_layer_of_any_model(tiny_run, tmp_path, model):
    run = train(tiny_config(tiny_run[1], model=model, epochs=1), tmp_path / "run", verbose=0).path
    predictor = rnnlab.load(run)
    if model == "bigru":
        with pytest.raises(rnnlab.errors.RnnlabError, match="both ways"):
            predictor.explain("a wonderful film")
        return
    explanation = predictor.explain("a wonderful film")
    assert explanation.tokens[-3:] == ["a", "wonderful", "film"]
    assert explanation.probability == pytest.approx(
        float(predictor.predict(["a wonderful film"])[0])
    )
