"""Korean reviews (NSMC's format) and your own labelled files as data sets: sources,
tokenizers, the cache, and every bad input a one-line error (exit 2) naming the line."""

import os
import tracemalloc

import numpy as np
import pytest
from helpers import mixed_sentences, nsmc_rows, nsmc_text, write_nsmc

from rnnlab.cli import main
from rnnlab.data import open_dataset, tokenizers
from rnnlab.data.tables import Table
from rnnlab.errors import RnnlabError

REAL_NSMC = os.environ.get("RNNLAB_NSMC", "").strip() or None


def write_csv(path, rows, header="text,label"):
    lines = [header] + [f'"{text}",{label}' for text, label in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def texts_of(raw, split="train"):
    """The token strings of each review of a split, through the vocabulary."""
    x = raw.x_train if split == "train" else raw.x_test
    return [[raw.words[r - 1] for r in review] for review in x.to_lists()]


# --- sources -------------------------------------------------------------------------


def test_nsmc_folder_is_a_data_set_like_imdb(tmp_path):
    folder = write_nsmc(tmp_path / "nsmc")
    raw = open_dataset(folder)
    assert (len(raw.x_train), len(raw.x_test)) == (60, 30)
    assert raw.y_train.sum() == 30 and raw.y_test.sum() == 15
    assert "영화" in raw.words and raw.source.endswith("(nsmc-dir)")
    (x_train, y_train), _ = raw.load_data(num_words=20)
    assert all(review[0] == 1 and max(review) < 20 for review in x_train)
    again = open_dataset(folder)
    assert again.from_cache and again.words == raw.words


def test_two_files_equal_the_nsmc_folder(tmp_path):
    folder = write_nsmc(tmp_path / "nsmc")
    train, test = folder / "ratings_train.txt", folder / "ratings_test.txt"
    tsv = tmp_path / "train.tsv"
    tsv.write_text(train.read_text(encoding="utf-8"), encoding="utf-8")
    pair = open_dataset(f"{tsv},{test}")
    whole = open_dataset(folder)
    assert pair.words == whole.words
    assert (pair.x_train.values == whole.x_train.values).all()
    assert (pair.y_test == whole.y_test).all()


def test_one_file_is_split_by_label_with_seed_42(tmp_path):
    rows = mixed_sentences(200)
    rows += [("an extra positive sentence", 1)] * 10  # 110 positive, 100 negative
    path = write_csv(tmp_path / "mine.csv", rows)
    raw = open_dataset(path)
    assert len(raw.x_test) == 42 and raw.y_test.sum() == 22  # 20% of each label
    assert len(raw.x_train) + len(raw.x_test) == len(rows)
    assert raw.y_train.sum() == 110 - 22
    other = open_dataset(path, tokenizer="char")  # another cache entry, the same split
    assert (other.y_test == raw.y_test).all() and not other.from_cache


def test_columns_by_name_or_given_and_labels_in_words(tmp_path):
    jsonl = tmp_path / "mine.jsonl"
    lines = [f'{{"review": "{t}", "sentiment": "{"pos" if y else "NEGATIVE"}"}}' for t, y in
             mixed_sentences(40)]  # fmt: skip
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = open_dataset(jsonl, label_column="sentiment")
    assert len(raw.y_train) + len(raw.y_test) == 40 and raw.y_train.sum() == 16
    csv = tmp_path / "body.csv"
    write_csv(csv, mixed_sentences(20), header="body,label")
    assert len(open_dataset(csv, text_column="body").y_train) == 16


def test_bom_crlf_and_quoted_tabs_read_as_the_clean_file(tmp_path):
    rows = [(f"좋은\t영화 {i}", 1) if i % 2 else (f'별로 "따옴표" {i}', 0) for i in range(30)]
    body = "text\tlabel\n" + "".join(
        '"' + text.replace('"', '""') + f'"\t{label}\n' for text, label in rows
    )
    clean = tmp_path / "clean.tsv"
    clean.write_text(body, encoding="utf-8")
    excel = tmp_path / "excel.tsv"
    excel.write_bytes(b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode("utf-8"))
    assert [t for _, t, _ in Table(str(excel), labelled=True)] == [t for t, _ in rows]
    a, b = open_dataset(clean), open_dataset(excel)
    assert a.words == b.words and (a.x_train.values == b.x_train.values).all()


def test_empty_documents_are_kept_and_counted(tmp_path, capsys):
    folder = write_nsmc(tmp_path / "nsmc")
    train = folder / "ratings_train.txt"
    train.write_text(train.read_text(encoding="utf-8") + "77\t\t1\n88\t...\t0\n", "utf-8")
    raw = open_dataset(folder)
    assert len(raw.x_train) == 62 and int((raw.x_train.lengths == 0).sum()) == 2
    assert main(["data", "--data", str(folder), "--out", str(tmp_path / "d")]) == 0
    assert "reviews without a token (kept, read as [START] alone): train 2, test 0" in (
        capsys.readouterr().out.replace("\n", "").replace("  ", " ")
    )


def test_not_utf8_bytes_read_as_replacement(tmp_path, capsys):
    path = tmp_path / "latin1.tsv"
    rows = "".join(f"caf\xe9 {i}\t{i % 2}\n" for i in range(20))
    path.write_bytes(("text\tlabel\n" + rows).encode("latin-1"))
    raw = open_dataset(path, tokenizer="char")
    assert "\ufffd" in raw.words and "caf" in open_dataset(path).words  # a word ends there
    assert "20 lines were not UTF-8" in capsys.readouterr().err


# --- tokenizers ------------------------------------------------------------------------


def test_char_tokenizer_rules():
    char = tokenizers.CharTokenizer()
    assert char.tokenize("정말  재밌어요!! ㅋㅋ") == list("정말▁재밌어요!!▁ㅋㅋ")
    decomposed = "\u1112\u1161\u11ab"  # 한, as three jamo
    assert char.tokenize(f" A{decomposed}<br />B😍\n") == ["a", "한", "▁", "b", "😍"]
    assert char.tokenize("") == [] and char.tokenize(" \t ") == []


def test_each_tokenizer_has_its_own_cache_entry(tmp_path):
    folder = write_nsmc(tmp_path / "nsmc")
    word, char = open_dataset(folder), open_dataset(folder, tokenizer="char")
    subword = open_dataset(folder, tokenizer="subword", subword_vocab=60)
    assert "영화" in word.words and "영" in char.words and "▁" in char.words
    assert subword.tokenizer.name == "subword" and subword.tokenizer.model
    home = tmp_path / "rnnlab-home" / "imdb"
    assert len(list(home.glob("*.npz"))) == 3
    again = open_dataset(folder, tokenizer="subword", subword_vocab=60)
    assert again.from_cache and again.tokenizer.model == subword.tokenizer.model
    assert texts_of(again) == texts_of(subword)


def test_subwords_are_learned_from_the_training_split_only(tmp_path):
    folder = write_nsmc(tmp_path / "nsmc")
    test = folder / "ratings_test.txt"
    test.write_text(test.read_text(encoding="utf-8") + "5\t뷁뷁 똠양꿍\t1\n", "utf-8")
    raw = open_dataset(folder, tokenizer="subword", subword_vocab=60)
    pieces = raw.tokenizer.pieces
    assert not any("뷁" in piece or "똠" in piece for piece in pieces)
    assert raw.tokenizer.tokenize_corpus(["뷁"])[0][-1] == "<unk>"


def test_keras_npz_keeps_its_words(tmp_path):
    from helpers import write_keras_npz

    npz = write_keras_npz(tmp_path / "imdb.npz")
    with pytest.raises(RnnlabError, match="Keras' npz of word ids"):
        open_dataset(npz, tokenizer="char")


# --- bad input: one line, exit 2 ---------------------------------------------------------


def expect_data_error(argv, capsys, *says):
    assert main(["data", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    for text in says:
        assert text in err, err


def test_bad_files_are_one_line_errors(tmp_path, capsys):
    rows = nsmc_rows(10, 0)
    duplicate = tmp_path / "dup.tsv"
    duplicate.write_text(nsmc_text(rows + [rows[3]]), encoding="utf-8")
    expect_data_error(["--data", str(duplicate)], capsys, "line 22", "also on line 5", "unique")

    two = tmp_path / "two.csv"
    write_csv(two, [("fine", 1), ("bad", 0), ("meh", 2)])
    expect_data_error(["--data", str(two)], capsys, "two.csv line 4", "label '2'")

    no_label = tmp_path / "nolabel.csv"
    write_csv(no_label, [("fine", 1)], header="text,stars")
    expect_data_error(["--data", str(no_label)], capsys, "no column 'label'", "--label-column")
    no_text = tmp_path / "notext.csv"
    write_csv(no_text, [("fine", 1)], header="body,label")
    expect_data_error(["--data", str(no_text)], capsys, "no column 'text'", "--text-column")

    train = write_csv(tmp_path / "train.csv", mixed_sentences(20))
    other = write_csv(tmp_path / "test.csv", mixed_sentences(10), header="review,label")
    expect_data_error(["--data", f"{train},{other}"], capsys, "same columns")

    fields = tmp_path / "fields.txt"
    fields.write_text("id\tdocument\tlabel\n1\tgood\t1\n2\tbad\t0\textra\n", encoding="utf-8")
    expect_data_error(["--data", str(fields)], capsys, "line 3 has 4 tab-separated fields")

    quoted = tmp_path / "quoted.csv"
    quoted.write_text('text,label\n"never closed,1\n', encoding="utf-8")
    expect_data_error(["--data", str(quoted)], capsys, "quoted.csv")

    expect_data_error(["--data", f"{train},{tmp_path / 'nope.csv'}"], capsys, "nope.csv")
    with pytest.raises(SystemExit) as stopped:  # argparse's own check of a choice
        main(["data", "--data", str(train), "--tokenizer", "bpe"])
    assert stopped.value.code == 2 and "--tokenizer" in capsys.readouterr().err


def test_a_million_lines_stream_in_bounded_memory(tmp_path):
    path = tmp_path / "million.tsv"
    with open(path, "w", encoding="utf-8") as f:
        f.write("id\ttext\tlabel\n")
        for i in range(1_000_000):
            f.write(f"{i}\t리뷰 {i % 97} 좋아요\t{i % 2}\n")
    tracemalloc.start()
    labels = np.zeros(2, dtype=np.int64)
    for _, _, label in Table(str(path), labelled=True):
        labels[label] += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert labels.tolist() == [500_000, 500_000]
    assert peak < 20 << 20  # the file is 27 MB; the reader holds a line or two


# --- the real data -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_nsmc():
    if REAL_NSMC is None or not os.path.isdir(REAL_NSMC):
        pytest.skip("set RNNLAB_NSMC to the NSMC folder to run tests on the real data")
    return REAL_NSMC


def test_real_nsmc_with_every_tokenizer_but_subword(real_nsmc):
    raw = open_dataset(real_nsmc, tokenizer="char")
    assert (len(raw.x_train), len(raw.x_test)) == (150_000, 50_000)
    assert raw.y_train.sum() == 75_000 or abs(raw.y_train.mean() - 0.5) < 0.01
    assert 2_000 < len(raw.words) < 5_000  # characters: a small vocabulary
    words = open_dataset(real_nsmc)
    assert len(words.words) > 100_000  # eojeol: a huge one


def test_real_nsmc_encoder_reads_reviews_as_the_data_layer(real_nsmc):
    """Raw text through a run's encoder gives the ids the data layer gave training."""
    from rnnlab.data import pad_sequences
    from rnnlab.data.encoder import TextEncoder

    raw = open_dataset(real_nsmc, tokenizer="char")
    with open(os.path.join(real_nsmc, "ratings_test.txt"), encoding="utf-8") as f:
        texts = [line.rstrip("\n").split("\t")[1] for line in list(f)[1:]]
    rng = np.random.RandomState(113)  # load_data's shuffles: the training split's, then the test's
    rng.shuffle(np.arange(len(raw.x_train)))
    order = np.arange(len(texts))
    rng.shuffle(order)
    _, (x_test, _) = raw.load_data(num_words=2000)
    encoder = TextEncoder(raw.words, 2000, 140, tokenizer=raw.tokenizer)
    encoded = encoder.encode([texts[i] for i in order[:3000]])
    assert (encoded.ids == pad_sequences(x_test[:3000], maxlen=140)).all()
