"""The data layer against its oracles: Keras' load_data and pad_sequences,
scikit-learn's split, and the sources read the same way whatever their form."""

import json
import subprocess
import sys
import tarfile

import numpy as np
import pytest
from helpers import aclimdb_files, write_keras_npz, write_tarball, write_tree
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlab
from rnnlab.data import open_imdb, tokenize
from rnnlab.data.tokenizer import tokenize_corpus
from rnnlab.errors import RnnlabError


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


def keras_load_data(keras, monkeypatch, path, **kwargs):
    """Keras' own load_data, reading `path` instead of downloading.

    The one Keras internal a test touches: load_data has no public way to read
    a local file whose checksum is not the published one, so its download
    function is replaced (pyproject.toml bounds Keras to versions where it is
    `keras.src.datasets.imdb.get_file`; a move fails this test loudly)."""
    from keras.src.datasets import imdb as keras_imdb

    monkeypatch.setattr(keras_imdb, "get_file", lambda *args, **kw: str(path))
    return keras.datasets.imdb.load_data(**kwargs)


LOAD_DATA_CASES = [
    {},
    {"num_words": 20},
    {"num_words": 20, "skip_top": 5},
    {"maxlen": 15},
    {"seed": 7, "num_words": 30, "maxlen": 20},
    {"start_char": None},
    {"start_char": None, "index_from": 0},
    {"oov_char": None, "num_words": 25, "skip_top": 3},
    {"index_from": 5, "start_char": 4, "oov_char": 3, "num_words": 40},
]


@pytest.mark.parametrize("kwargs", LOAD_DATA_CASES, ids=lambda kw: str(kw) or "defaults")
def test_load_imdb_equals_keras_on_npz(tmp_path, monkeypatch, keras, kwargs):
    npz = write_keras_npz(tmp_path / "imdb.npz")
    expected = keras_load_data(keras, monkeypatch, npz, **kwargs)
    got = rnnlab.load_imdb(npz, **kwargs)
    for (x_got, y_got), (x_exp, y_exp) in zip(got, expected, strict=True):
        assert x_got.dtype == x_exp.dtype == object and x_got.shape == x_exp.shape
        assert [list(x) for x in x_got] == [list(x) for x in x_exp]
        assert all(type(x) is list for x in x_got)
        assert y_got.dtype == y_exp.dtype and np.array_equal(y_got, y_exp)


def test_maxlen_that_keeps_nothing_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="Increase maxlen"):
        rnnlab.load_imdb(write_keras_npz(tmp_path / "imdb.npz"), maxlen=2)


def test_word_index_beside_keras_npz(tmp_path):
    npz = write_keras_npz(tmp_path / "imdb.npz")
    (tmp_path / "imdb_word_index.json").write_text(json.dumps({"the": 1, "and": 2, "a": 3}))
    assert rnnlab.get_word_index(npz) == {"the": 1, "and": 2, "a": 3}
    assert rnnlab.decode_review([1, 4, 5, 2, 0, 99], rnnlab.get_word_index(npz)) == (
        "[START] the and [OOV] [PAD] [?]"
    )


def test_keras_npz_without_word_index_says_what_to_add(tmp_path):
    with pytest.raises(RnnlabError, match="imdb_word_index.json beside the npz"):
        rnnlab.get_word_index(write_keras_npz(tmp_path / "imdb.npz"))


# The cases of Keras' own tests (keras/src/utils/sequence_utils_test.py), each run through
# both implementations: ints, floats, strings and vectors, every side, value and dtype.
_INTS = [[1], [1, 2], [1, 2, 3]]
_FLOATS = [[1.2], [1.2, 2.3], [1.2, 2.3, 3.4]]
_STRINGS = [["1"], ["1", "2"], ["1", "2", "3"]]
_VECTORS = [[[1, 1]], [[2, 1], [2, 2]], [[3, 1], [3, 2], [3, 3]]]
KERAS_CASES = [
    (_INTS, {"maxlen": 3, "padding": "pre"}),
    (_INTS, {"maxlen": 3, "padding": "post"}),
    (_INTS, {"maxlen": 2, "truncating": "pre"}),
    (_INTS, {"maxlen": 2, "truncating": "post"}),
    (_INTS, {"maxlen": 3, "value": 1}),
    (_FLOATS, {"maxlen": 3, "padding": "pre", "dtype": "float32"}),
    (_FLOATS, {"maxlen": 3, "padding": "post", "dtype": "float32"}),
    (_FLOATS, {"maxlen": 2, "truncating": "pre", "dtype": "float32"}),
    (_FLOATS, {"maxlen": 2, "truncating": "post", "dtype": "float32"}),
    (_FLOATS, {"maxlen": 3, "value": 1, "dtype": "float32"}),
    (_STRINGS, {"maxlen": 3, "padding": "pre", "value": "pad", "dtype": object}),
    (_STRINGS, {"maxlen": 3, "padding": "post", "value": "pad", "dtype": "<U3"}),
    (_STRINGS, {"maxlen": 2, "truncating": "pre", "value": "pad", "dtype": object}),
    (_STRINGS, {"maxlen": 2, "truncating": "post", "value": "pad", "dtype": "<U3"}),
    (_STRINGS, {"maxlen": 2, "truncating": "post", "value": "pad"}),  # a dtype error
    (_VECTORS, {"maxlen": 3, "padding": "pre"}),
    (_VECTORS, {"maxlen": 3, "padding": "post"}),
    (_VECTORS, {"maxlen": 2, "truncating": "pre"}),
    (_VECTORS, {"maxlen": 2, "truncating": "post"}),
    (_VECTORS, {"maxlen": 3, "value": 1}),
    # and the edges around them
    ([[1, 2, 3, 4, 5, 6], [7], [], [8, 9, 10, 11], [12, 13]], {}),
    ([[1, 2, 3, 4, 5, 6], [7], [], [8, 9, 10, 11]], {"maxlen": 4, "padding": "post", "value": 7}),
    ([[1, 2, 3], [4]], {"maxlen": 10, "dtype": "int64"}),
    ([[1, 2, 3], [4]], {"maxlen": 0}),
    ([[], []], {"maxlen": 0}),
    ([[1, 2], [[3, 4]]], {}),  # a vector where numbers were expected
    ([[1, 2], 5], {}),  # not a sequence
    ([[1, 2]], {"padding": "middle"}),
    ([[1, 2]], {"truncating": "middle"}),
    ([[], []], {"padding": "middle"}),  # Keras checks the side only for non-empty sequences
    ([], {"maxlen": 3}),
    (np.array([[1, 2], [3, 4]]), {"maxlen": 3}),
    ((range(3), range(5)), {"maxlen": 4}),
]


def pad_both(keras, sequences, kwargs):
    """(ours, Keras') results of the same call: arrays, or (error type, message)."""
    results = []
    for pad in (rnnlab.pad_sequences, keras.utils.pad_sequences):
        try:
            results.append(pad(sequences, **kwargs))
        except Exception as error:  # the oracle decides which errors are right
            results.append((type(error), str(error)))
    return results


def assert_same_padding(ours, expected):
    if isinstance(expected, tuple):
        assert ours == expected
    else:
        assert isinstance(ours, np.ndarray) and ours.dtype == expected.dtype
        assert ours.shape == expected.shape
        np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("sequences, kwargs", KERAS_CASES, ids=lambda value: str(value)[:40])
def test_pad_sequences_equals_keras(keras, sequences, kwargs):
    assert_same_padding(*pad_both(keras, sequences, kwargs))


@settings(max_examples=150, deadline=None)
@given(
    sequences=st.lists(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=12), max_size=6),
    maxlen=st.one_of(st.none(), st.integers(0, 15)),
    padding=st.sampled_from(["pre", "post"]),
    truncating=st.sampled_from(["pre", "post"]),
    value=st.integers(-5, 5),
    dtype=st.sampled_from(["int32", "int64", "float32"]),
)
def test_pad_sequences_equals_keras_on_generated_cases(
    keras, sequences, maxlen, padding, truncating, value, dtype
):
    kwargs = dict(maxlen=maxlen, padding=padding, truncating=truncating, value=value, dtype=dtype)
    assert_same_padding(*pad_both(keras, sequences, kwargs))


@settings(max_examples=60, deadline=None)
@given(
    sequences=st.lists(
        st.lists(st.tuples(st.floats(-9, 9, width=32), st.floats(-9, 9, width=32)), max_size=5),
        max_size=4,
    ),
    maxlen=st.one_of(st.none(), st.integers(1, 6)),
    padding=st.sampled_from(["pre", "post"]),
)
def test_pad_sequences_of_vectors_equals_keras(keras, sequences, maxlen, padding):
    kwargs = dict(maxlen=maxlen, padding=padding, dtype="float32")
    assert_same_padding(*pad_both(keras, sequences, kwargs))


def test_train_val_split_equals_scikit_learn():
    from sklearn.model_selection import train_test_split

    x = np.array([list(range(i % 9)) for i in range(1003)], dtype=object)
    y = np.arange(1003) % 2
    (x_train, y_train), (x_val, y_val) = rnnlab.train_val_split(x, y)
    sk_train, sk_val, sk_y_train, sk_y_val = train_test_split(x, y, test_size=0.2, random_state=42)
    assert len(x_val) == len(sk_val) == 201
    assert [list(a) for a in x_train] == [list(a) for a in sk_train]
    assert [list(a) for a in x_val] == [list(a) for a in sk_val]
    assert np.array_equal(y_train, sk_y_train) and np.array_equal(y_val, sk_y_val)


def test_length_stats_and_memory_table():
    stats = rnnlab.length_stats([[1] * 3, [1] * 5, [1] * 10], maxlen=4)
    assert stats["count"] == 3 and stats["median"] == 5 and stats["longer_than_maxlen"] == 2
    assert stats["mean"] == pytest.approx(6.0)
    (row,) = rnnlab.data.memory_table({"train": 20000}, maxlen=100, num_words=500)
    assert row["padded_int32_bytes"] == 8_000_000
    assert row["onehot_float32_bytes"] == 4_000_000_000


# --- tokenizer ---------------------------------------------------------------------


def test_tokenizer_rules():
    text = (
        "I didn't LIKE it.<br /><br />The <i>plot</i>: 'awful'—really_bad… 10/10 café ’90s 😀 a<b"
    )
    assert tokenize(text) == [
        "i", "didn't", "like", "it", "the", "plot", "awful", "really", "bad",
        "10", "10", "café", "90s", "a", "b",
    ]  # fmt: skip
    assert tokenize("") == [] and tokenize("   \n") == []


def test_corpus_tokenizer_equals_one_by_one():
    texts = ["A <b>bold", "claim\x1eseparated", "x > y < z", "", "<br/>Ok"] + [
        text.decode() for text in aclimdb_files(5).values()
    ]
    assert tokenize_corpus(texts) == [tokenize(t) for t in texts]


def test_ranking_is_the_same_with_or_without_the_helper_process(monkeypatch):
    """The test split is tokenized in a child Python; its result, and the
    ranking built from it, equal those of tokenizing everything here."""
    from rnnlab.data import raw

    texts = [t.decode() for t in aclimdb_files(8).values()]
    train, test = texts[: len(texts) // 2], texts[len(texts) // 2 :] + ["only-in-test words"]
    words, ids = raw._helper_result(raw._start_helper(test))  # None: the child failed
    expected_words, expected_ids = raw.tokenize_to_ids(test)
    assert words == expected_words and (ids.values == expected_ids.values).all()

    labels = [0, 1] * (len(texts) // 2)
    two_processes = raw.build_from_texts(train, labels[: len(train)], test, labels[: len(test)])
    monkeypatch.setattr(raw, "cores", lambda: 1)
    one_process = raw.build_from_texts(train, labels[: len(train)], test, labels[: len(test)])
    assert_same_raw(two_processes, one_process)


# --- sources ---------------------------------------------------------------------


def assert_same_raw(a, b):
    assert a.words == b.words
    for x_a, x_b in ((a.x_train, b.x_train), (a.x_test, b.x_test)):
        assert np.array_equal(x_a.values, x_b.values)
        assert np.array_equal(x_a.lengths, x_b.lengths)
    assert np.array_equal(a.y_train, b.y_train) and np.array_equal(a.y_test, b.y_test)


def test_tarball_and_folder_give_the_same_ranks(tmp_path):
    files = aclimdb_files()
    from_tar = open_imdb(write_tarball(tmp_path / "a.tar.gz", files))
    from_dir = open_imdb(write_tree(tmp_path / "tree", files))
    from_inner_dir = open_imdb(tmp_path / "tree" / "aclImdb")
    assert_same_raw(from_dir, from_tar)
    assert_same_raw(from_inner_dir, from_tar)
    assert from_tar.y_train.tolist() == [0] * 20 + [1] * 20  # neg then pos, by review id


def test_vocabulary_is_ranked_on_training_split_only(tmp_path):
    files = {
        "aclImdb/train/pos/0_9.txt": b"good good good fine",
        "aclImdb/train/neg/0_1.txt": b"bad bad fine zebra apple",
        "aclImdb/test/pos/0_8.txt": b"good unseen",
        "aclImdb/test/neg/0_2.txt": b"bad",
    }
    raw = open_imdb(write_tarball(tmp_path / "v.tar.gz", files))
    # counts: good 3, bad 2, fine 2, apple 1, zebra 1 -> ties broken alphabetically
    assert raw.words == ["good", "bad", "fine", "apple", "zebra"]
    assert raw.x_train.to_lists() == [[2, 2, 3, 5, 4], [1, 1, 1, 3]]
    assert raw.x_test.to_lists() == [[2], [1]]  # 'unseen' is skipped, as in Keras' npz


def test_second_open_reads_the_cache(tiny_tarball):
    first = open_imdb(tiny_tarball)
    second = open_imdb(tiny_tarball)
    assert not first.from_cache and second.from_cache
    assert_same_raw(second, first)


def test_environment_variable_chooses_the_source(tiny_tarball, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATA", str(tiny_tarball))
    assert open_imdb().source.startswith(str(tiny_tarball))


def test_non_utf8_bytes_are_replaced_not_fatal(tmp_path):
    files = aclimdb_files(2)
    files["aclImdb/train/pos/99_9.txt"] = b"caf\xe9 good\xff\xfemovie"
    raw = open_imdb(write_tarball(tmp_path / "latin1.tar.gz", files))
    assert {"caf", "good", "movie"} <= set(raw.words)


def test_importing_the_data_layer_does_not_import_keras_or_jax():
    code = "import rnnlab, rnnlab.data, sys; print('keras' in sys.modules, 'jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --- bad input -----------------------------------------------------------------------


def test_missing_path(tmp_path):
    with pytest.raises(RnnlabError, match="does not exist"):
        open_imdb(tmp_path / "nope.tar.gz")


def test_file_of_unknown_kind(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(RnnlabError, match="neither a Keras imdb.npz"):
        open_imdb(tmp_path / "notes.txt")


def test_truncated_archive(tmp_path, tiny_tarball):
    data = tiny_tarball.read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(RnnlabError, match="truncated or corrupt"):
        open_imdb(tmp_path / "cut.tar.gz")
    assert not list((tmp_path / "rnnlab-home").rglob("*.npz"))


def _member(name, kind=tarfile.REGTYPE, size=0, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size, linkname
    return info


@pytest.mark.parametrize(
    "member, message",
    [
        (_member("../evil.txt", size=3), "outside the archive"),
        (_member("/etc/evil.txt", size=3), "outside the archive"),
        (_member("aclImdb/train/pos/1_9.txt/../../../../x", size=3), "outside the archive"),
        (_member("aclImdb/link", tarfile.SYMTYPE, linkname="/etc/passwd"), "link or device"),
        (_member("aclImdb/hard", tarfile.LNKTYPE, linkname="aclImdb/x"), "link or device"),
        (_member("aclImdb/dev", tarfile.CHRTYPE), "link or device"),
    ],
)
def test_tar_member_escaping_is_refused(tmp_path, member, message):
    archive = write_tarball(tmp_path / "evil.tar.gz", aclimdb_files(2), extra=[member])
    with pytest.raises(RnnlabError, match=message):
        open_imdb(archive)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_npz_with_other_objects_is_refused(tmp_path):
    path = tmp_path / "strings.npz"
    lists = np.array([["a", "b"], ["c"]], dtype=object)
    np.savez(path, x_train=lists, y_train=np.array([0, 1]), x_test=lists, y_test=np.array([0, 1]))
    with pytest.raises(RnnlabError, match="lists of ints"):
        open_imdb(path)


class _Exploit:
    def __reduce__(self):
        return (print, ("exploit ran",))


def test_npz_with_pickled_code_is_refused(tmp_path, capsys):
    path = tmp_path / "exploit.npz"
    evil = np.array([_Exploit(), [1, 2]], dtype=object)
    np.savez(path, x_train=evil, y_train=np.array([0, 1]), x_test=evil, y_test=np.array([0, 1]))
    with pytest.raises(RnnlabError, match="objects other than int lists"):
        open_imdb(path)
    assert "exploit ran" not in capsys.readouterr().out


def test_folder_missing_pos_or_neg(tmp_path):
    files = {k: v for k, v in aclimdb_files(2).items() if "/test/neg/" not in k}
    with pytest.raises(RnnlabError, match="no reviews in aclImdb/test/neg"):
        open_imdb(write_tree(tmp_path / "tree", files))


def test_folder_that_is_not_aclimdb(tmp_path):
    with pytest.raises(RnnlabError, match="without aclImdb/train"):
        open_imdb(tmp_path)


# --- the real data --------------------------------------------------------------------


def test_real_data_sizes_and_labels(real_data, real_home, monkeypatch):
    monkeypatch.setenv("RNNLAB_HOME", str(real_home))
    (x_train, y_train), (x_test, y_test) = rnnlab.load_imdb(real_data, num_words=500)
    assert len(x_train) == 25_000 and len(x_test) == 24_999
    assert y_train.sum() == 12_500 and y_test.sum() == 12_499
    assert all(x[0] == 1 for x in x_train[:100])
    assert max(max(x) for x in x_train) == 499
    word_index = rnnlab.get_word_index(real_data)
    assert word_index["the"] == 1 and len(word_index) > 50_000
