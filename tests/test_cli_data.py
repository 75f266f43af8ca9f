"""`rnnlab data` as a user runs it: output, files, and one-line errors."""

import pytest

from rnnlab.cli import main


def test_data_prints_the_exploration_and_reuses_the_cache(tiny_tarball, tmp_path, capsys):
    out_dir = tmp_path / "out"
    args = ["data", "--data", str(tiny_tarball), "--num-words", "20", "--maxlen", "30"]
    assert main(args + ["--out", str(out_dir)]) == 0
    first = capsys.readouterr().out
    for expected in [
        "tokenized and cached",
        "train: 40 reviews   test: 40 reviews",
        "lengths of the first two training reviews",
        "first review as ids: [1, ",
        "first review as words: [START] ",
        "first 20 targets",
        "train: 32   validation: 8",
        "training-split lengths: mean",
        "train_seq[5] =",
        "one-hot float32",
        str(out_dir / "lengths.png"),
    ]:
        assert expected in first
    png = (out_dir / "lengths.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert main(args + ["--out", str(out_dir)]) == 0
    assert "read from the cache" in capsys.readouterr().out


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--num-words", "0", "must be at least 4"),
        ("--num-words", "-3", "must be at least 4"),
        ("--num-words", "many", "expected a whole number"),
        ("--maxlen", "0", "must be at least 1"),
    ],
)
def test_bad_numbers_are_one_line_errors(tiny_tarball, capsys, option, value, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "--data", str(tiny_tarball), option, value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err


def test_missing_data_path_is_a_one_line_error(tmp_path, capsys):
    assert main(["data", "--data", str(tmp_path / "missing.tar.gz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
