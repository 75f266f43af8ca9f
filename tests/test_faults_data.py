"""Fault injection, data side: hostile data sources, a damaged cache, stalled downloads.

Each case is a row of CASES (id, kind, the command, how the hostile input is
made, the expected outcome); tests/faults.py runs a row and checks the exit-code
contract: 0 success; 2 one line `rnnlab <command>: error: ...`; never a
traceback; within seconds; under 1 GB.  The tokenizer's properties are checked
with hypothesis at the end.  No case reads the real data set.
"""

import os
import signal
import socket
import threading
import time

import numpy as np
import pytest
from faults import (
    MEMORY_LIMIT_MB,
    Case,
    Child,
    Ctx,
    Expect,
    Invocation,
    can_mount_tmpfs,
    check,
    descendants,
    gzip_bomb,
    kill_processes,
    leftovers,
    log,
    mount_full_tmpfs,
    npz_bomb,
    ragged,
    rewrite_npz,
    run_case,
    run_in_process,
    stderr_lines,
    still_alive,
    unmount,
    wait_exit,
)
from helpers import aclimdb_files, write_keras_npz, write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab.data.tokenizer import tokenize, tokenize_corpus

TINY_DATA = ["--num-words", "40", "--maxlen", "30"]
TINY_TRAIN = [*TINY_DATA, "--units", "4", "--embedding-dim", "4", "--batch-size", "8"]
TINY_TRAIN += ["--epochs", "2", "--quiet"]


def data_cmd(ctx, source, *extra, **inv):
    return Invocation(
        ["data", "--data", str(source), *TINY_DATA, "--out", str(ctx.tmp / "out"), *extra], **inv
    )


def train_cmd(ctx, source, **inv):
    return Invocation(
        ["train", "--data", str(source), *TINY_TRAIN, "--out", str(ctx.tmp / "run")], **inv
    )


def watched(**inv):
    """Run as a child: a hang is killed after 30 s, and memory over 1 GB is a failure."""
    return {"subprocess": True, "timeout_s": 30, "memory_limit_mb": MEMORY_LIMIT_MB, **inv}


# --- hostile inputs ---------------------------------------------------------------------


def npz(ctx, **changes):
    """A Keras-format npz (30 train, 20 test reviews, ids 1..59) with some arrays replaced."""
    path = write_keras_npz(ctx.tmp / "imdb.npz")
    return rewrite_npz(path, **changes) if changes else path


def npz_labels(value):
    return lambda ctx: npz(ctx, y_train=np.array([value] + [0, 1] * 14 + [1], dtype=np.int64))


def npz_sized(n_train, n_test):
    def make(ctx):
        reviews = lambda n: ragged([[5, 6, 7, 8, 9][: 3 + i % 3] for i in range(n)])  # noqa: E731
        return npz(
            ctx,
            x_train=reviews(n_train),
            y_train=np.arange(n_train, dtype=np.int64) % 2,
            x_test=reviews(n_test),
            y_test=np.arange(n_test, dtype=np.int64) % 2,
        )

    return make


def fifo(ctx):
    os.mkfifo(ctx.tmp / "reviews.fifo")
    return ctx.tmp / "reviews.fifo"


def aclimdb_dir(ctx, odd_member):
    """An aclImdb folder whose member `odd_member(path)` is made odd."""
    root = write_tree(ctx.tmp / "src", aclimdb_files())
    odd_member(root / "aclImdb")
    return root


def review_named_folder(aclimdb):
    (aclimdb / "train" / "pos" / "55_9.txt").mkdir()


def dangling_review(aclimdb):
    (aclimdb / "train" / "neg" / "56_2.txt").symlink_to(aclimdb / "nowhere.txt")


def fifo_review(aclimdb):
    os.mkfifo(aclimdb / "train" / "pos" / "57_9.txt")


def bomb_tarball(ctx, size=1536 * 2**20):
    name = "aclImdb/train/pos/999_9.txt"
    return gzip_bomb(ctx.tmp / "bomb.tar.gz", aclimdb_files(), name, size)


def bomb_npz(ctx, n_items=300_000_000):
    others = {
        "y_train": np.zeros(4, dtype=np.int64),
        "x_test": ragged([[1, 2]] * 4),
        "y_test": np.zeros(4, dtype=np.int64),
    }
    return npz_bomb(ctx.tmp / "imdb.npz", "x_train", n_items, others)


def word_index_beside(text):
    def make(ctx):
        path = npz(ctx)
        (ctx.tmp / "imdb_word_index.json").write_text(text)
        return path

    return make


def home_is_a_file(ctx):
    (ctx.tmp / "home-file").write_text("not a folder")
    return data_cmd(ctx, ctx.tarball, env={"RNNLAB_HOME": str(ctx.tmp / "home-file")})


def out_is_a_file(ctx):
    (ctx.tmp / "out-file").write_text("mine")
    inv = data_cmd(ctx, ctx.tarball)
    inv.argv[inv.argv.index("--out") + 1] = str(ctx.tmp / "out-file")
    return inv


def out_on_full_disk(ctx):
    disk = mount_full_tmpfs(ctx.tmp / "disk", free_bytes=0)
    ctx.request.addfinalizer(lambda: unmount(disk))
    inv = data_cmd(ctx, ctx.tarball)
    inv.argv[inv.argv.index("--out") + 1] = str(disk / "out")
    inv.data["disk"] = disk
    return inv


def nothing_half_written(ctx, inv, outcome):
    left = leftovers(inv.data["disk"])
    assert not left, f"half-written files left behind: {left}"


def empty_file(ctx):
    (ctx.tmp / "empty.tar.gz").write_bytes(b"")
    return ctx.tmp / "empty.tar.gz"


def truncated_tarball(ctx):
    data = ctx.tarball.read_bytes()
    (ctx.tmp / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    return ctx.tmp / "cut.tar.gz"


# --- a download server that accepts and never answers --------------------------------------

DOWNLOAD_CODE = """
import sys
from rnnlab.data import sources
url = sys.argv[1]
sources.DOWNLOADS["keras"] = (sources.Remote("imdb.npz", url + "/imdb.npz", "sha256:" + "0" * 64),)
from rnnlab.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture
def stalled_url():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # and never answer
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


def stalled_download(ctx):
    url = ctx.fixture("stalled_url")
    inv = Invocation([url, "data", "--out", str(ctx.tmp / "out")], code=DOWNLOAD_CODE)
    inv.subprocess, inv.timeout_s = True, 40
    inv.data["command"] = "data"
    return inv


# --- the damaged cache: rebuilt, said in one line, same result -------------------------------


def damage_bytes(how):
    def damage(entry):
        data = entry.read_bytes()
        entry.write_bytes({"half": data[: len(data) // 2], "empty": b"", "text": b"x\n"}[how])

    return damage


def damage_arrays(edit):
    def damage(entry):
        with np.load(entry, allow_pickle=False) as f:
            arrays = {name: f[name].copy() for name in f.files}
        edit(arrays)
        with open(entry, "wb") as f:
            np.savez(f, **arrays)

    return damage


def _lengths_off(a):
    a["x_train_lengths"][0] += 5


def _ids_beyond(a):
    a["x_train_values"][0] = len(bytes(a["words_utf8"]).split(b"\n")) + 100


def _negative_length(a):
    lengths = a["x_test_lengths"]
    lengths[1] += lengths[0] + 1  # the same sum, one length negative
    lengths[0] = -1


def _labels_7(a):
    a["y_train"][0] = 7


def _no_words(a):
    del a["words_utf8"]


def run_cache_damage(case, ctx):
    """`rnnlab data` once (the entry is written), damage the entry, run again: exit 0, one
    stderr line saying the entry was rebuilt, the same arrays; a third run is silent."""
    from rnnlab import load_imdb

    argv = data_cmd(ctx, ctx.tarball).argv
    check(run_in_process(Invocation(argv), ctx), Expect(0), "data")
    before = load_imdb(ctx.tarball)
    (entry,) = (ctx.home / "imdb").glob("*.npz")
    case.make(entry)
    second = run_in_process(Invocation(argv), ctx)
    log(case, second)
    check(second, case.expect, "data")
    lines = stderr_lines(second)
    assert len(lines) == 1 and "rebuil" in lines[0].lower(), (
        f"expected one stderr line saying the cache entry was rebuilt; observed "
        f"{second.describe()} ({len(lines)} lines)"
    )
    after = load_imdb(ctx.tarball)
    for (x_a, y_a), (x_b, y_b) in zip(before, after, strict=True):
        assert [list(x) for x in x_a] == [list(x) for x in x_b]
        np.testing.assert_array_equal(y_a, y_b)
    third = run_in_process(Invocation(argv), ctx)
    assert third.code == 0 and not stderr_lines(third), f"third run: {third.describe()}"


def cache_case(id_, hostile, damage):
    return Case(
        id_,
        "damaged cache",
        "rnnlab data --data tiny.tar.gz (second run)",
        hostile,
        Expect(0),
        make=damage,
        run=run_cache_damage,
    )


# --- the table ------------------------------------------------------------------------------

ONE_LINE = Expect(2)
QUICK = {"within_s": 10, "max_rss_mb": MEMORY_LIMIT_MB}

CASES = [
    # The cache entry under $RNNLAB_HOME/imdb/ is damaged after a first `rnnlab data`.
    cache_case("cache-truncated", "the entry cut to half its bytes", damage_bytes("half")),
    cache_case("cache-empty", "the entry emptied to 0 bytes", damage_bytes("empty")),
    cache_case("cache-not-npz", "the entry overwritten with a line of text", damage_bytes("text")),
    cache_case(
        "cache-lengths-do-not-sum",
        "x_train_lengths[0] += 5: lengths no longer sum to the values' size",
        damage_arrays(_lengths_off),
    ),
    cache_case(
        "cache-ids-beyond-vocabulary",
        "x_train_values[0] set 100 past the word list",
        damage_arrays(_ids_beyond),
    ),
    cache_case(
        "cache-negative-length",
        "x_test_lengths[0] = -1 (the sum kept by lengthening the next)",
        damage_arrays(_negative_length),
    ),
    cache_case("cache-labels-not-binary", "y_train[0] = 7", damage_arrays(_labels_7)),
    cache_case("cache-member-missing", "words_utf8 removed", damage_arrays(_no_words)),
    # Keras-format npz files whose numbers would be read into silently wrong data.
    Case(
        "npz-label-2-data",
        "silently wrong",
        "rnnlab data --data imdb.npz",
        "y_train[0] = 2 in a Keras npz",
        Expect(2, says=("label",)),
        make=lambda ctx: data_cmd(ctx, npz_labels(2)(ctx)),
    ),
    Case(
        "npz-label-minus-1-train",
        "silently wrong",
        "rnnlab train --data imdb.npz",
        "y_train[0] = -1 in a Keras npz",
        Expect(2, says=("label",)),
        make=lambda ctx: train_cmd(ctx, npz_labels(-1)(ctx)),
    ),
    Case(
        "npz-labels-float",
        "silently wrong",
        "rnnlab data --data imdb.npz",
        "y_train as floats 0.5",
        Expect(2, says=("label",)),
        make=lambda ctx: data_cmd(ctx, npz(ctx, y_train=np.full(30, 0.5))),
    ),
    Case(
        "npz-id-over-2**31",
        "silently wrong",
        "rnnlab data --data imdb.npz",
        "x_train[0] holds the id 2**31 + 5 (wraps to negative in int32)",
        ONE_LINE,
        make=lambda ctx: data_cmd(
            ctx, npz(ctx, x_train=ragged([[2**31 + 5, 3]] + [[4, 5, 6]] * 29))
        ),
    ),
    Case(
        "npz-id-zero",
        "silently wrong",
        "rnnlab data --data imdb.npz",
        "x_train[0] holds the id 0 (ranks start at 1)",
        ONE_LINE,
        make=lambda ctx: data_cmd(ctx, npz(ctx, x_train=ragged([[0, 3]] + [[4, 5, 6]] * 29))),
    ),
    # Sources that never end, or inflate without bound.
    Case(
        "data-dev-zero",
        "hang / unbounded",
        "rnnlab data --data /dev/zero",
        "an endless stream of zero bytes",
        Expect(2, **QUICK),
        make=lambda ctx: data_cmd(ctx, "/dev/zero", **watched()),
    ),
    Case(
        "data-dev-urandom",
        "hang / unbounded",
        "rnnlab data --data /dev/urandom",
        "an endless stream of random bytes",
        Expect(2, **QUICK),
        make=lambda ctx: data_cmd(ctx, "/dev/urandom", **watched()),
    ),
    Case(
        "data-fifo",
        "hang / unbounded",
        "rnnlab data --data reviews.fifo",
        "os.mkfifo, no writer ever opens it",
        Expect(2, **QUICK),
        make=lambda ctx: data_cmd(ctx, fifo(ctx), **watched()),
    ),
    Case(
        "data-fifo-review-in-folder",
        "hang / unbounded",
        "rnnlab data --data aclImdb-folder",
        "aclImdb/train/pos/57_9.txt is a FIFO nobody writes",
        Expect(2, says=("57_9.txt",), **QUICK),
        make=lambda ctx: data_cmd(ctx, aclimdb_dir(ctx, fifo_review), **watched()),
    ),
    Case(
        "data-gzip-bomb",
        "hang / unbounded",
        "rnnlab data --data bomb.tar.gz",
        "a valid tiny aclImdb tarball plus a review of 1.5 GiB of zeros (1.5 MB gzipped)",
        Expect(2, within_s=20, max_rss_mb=MEMORY_LIMIT_MB),
        make=lambda ctx: data_cmd(ctx, bomb_tarball(ctx), **watched()),
    ),
    Case(
        "data-npz-bomb",
        "hang / unbounded",
        "rnnlab data --data imdb.npz",
        "x_train.npy declares 300M int32 (1.2 GB) of deflated zeros",
        Expect(2, within_s=20, max_rss_mb=MEMORY_LIMIT_MB),
        make=lambda ctx: data_cmd(ctx, bomb_npz(ctx), **watched()),
    ),
    Case(
        "word-index-huge-rank",
        "hang / unbounded",
        "rnnlab data --data imdb.npz",
        'imdb_word_index.json beside it is {"the": 300000000}',
        Expect(2, says=("imdb_word_index.json",), **QUICK),
        make=lambda ctx: data_cmd(ctx, word_index_beside('{"the": 300000000}')(ctx), **watched()),
    ),
    Case(
        "download-stalled-server",
        "hang / unbounded",
        "rnnlab data (downloading keras from a server that never answers)",
        "a socket on 127.0.0.1 that accepts connections and never replies",
        Expect(2, within_s=20),
        make=stalled_download,
    ),
    # Odd data that used to end in a traceback.
    Case(
        "dir-review-named-folder",
        "traceback",
        "rnnlab data --data aclImdb-folder",
        "aclImdb/train/pos/55_9.txt is a folder",
        Expect(2, says=("55_9.txt",)),
        make=lambda ctx: data_cmd(ctx, aclimdb_dir(ctx, review_named_folder)),
    ),
    Case(
        "dir-dangling-symlink-review",
        "traceback",
        "rnnlab data --data aclImdb-folder",
        "aclImdb/train/neg/56_2.txt is a symlink to a missing file",
        Expect(2, says=("56_2.txt",)),
        make=lambda ctx: data_cmd(ctx, aclimdb_dir(ctx, dangling_review)),
    ),
    Case(
        "npz-no-reviews-data",
        "traceback",
        "rnnlab data --data imdb.npz",
        "a Keras npz with 0 training and 0 test reviews",
        ONE_LINE,
        make=lambda ctx: data_cmd(ctx, npz_sized(0, 0)(ctx)),
    ),
    Case(
        "npz-no-reviews-train",
        "traceback",
        "rnnlab train --data imdb.npz",
        "a Keras npz with 0 training and 0 test reviews",
        ONE_LINE,
        make=lambda ctx: train_cmd(ctx, npz_sized(0, 0)(ctx)),
    ),
    Case(
        "npz-one-review-data",
        "traceback",
        "rnnlab data --data imdb.npz",
        "a Keras npz with 1 training and 1 test review",
        ONE_LINE,
        make=lambda ctx: data_cmd(ctx, npz_sized(1, 1)(ctx)),
    ),
    Case(
        "npz-one-review-train",
        "traceback",
        "rnnlab train --data imdb.npz",
        "a Keras npz with 1 training and 1 test review",
        ONE_LINE,
        make=lambda ctx: train_cmd(ctx, npz_sized(1, 1)(ctx)),
    ),
    Case(
        "npz-no-test-reviews-train",
        "traceback",
        "rnnlab train --data imdb.npz",
        "a Keras npz with 30 training and 0 test reviews",
        ONE_LINE,
        make=lambda ctx: train_cmd(ctx, npz_sized(30, 0)(ctx)),
    ),
    Case(
        "word-index-not-an-object",
        "traceback",
        "rnnlab data --data imdb.npz",
        "imdb_word_index.json beside it is [1, 2]",
        Expect(2, says=("imdb_word_index.json",)),
        make=lambda ctx: data_cmd(ctx, word_index_beside("[1, 2]")(ctx)),
    ),
    Case(
        "word-index-truncated",
        "traceback",
        "rnnlab data --data imdb.npz",
        'imdb_word_index.json beside it is {"the": 1, "a',
        Expect(2, says=("imdb_word_index.json",)),
        make=lambda ctx: data_cmd(ctx, word_index_beside('{"the": 1, "a')(ctx)),
    ),
    Case(
        "rnnlab-home-is-a-file",
        "traceback",
        "RNNLAB_HOME=home-file rnnlab data --data tiny.tar.gz",
        "RNNLAB_HOME names a regular file",
        Expect(2, says=("RNNLAB_HOME",)),
        make=home_is_a_file,
    ),
    Case(
        "data-out-is-a-file",
        "traceback",
        "rnnlab data --data tiny.tar.gz --out out-file",
        "--out names a regular file",
        Expect(2, says=("out-file",)),
        make=out_is_a_file,
    ),
    Case(
        "data-out-on-full-disk",
        "traceback",
        "rnnlab data --data tiny.tar.gz --out disk/out",
        "--out on a 1 MiB tmpfs filled to the last byte",
        Expect(2, says_any=("space",)),
        make=out_on_full_disk,
        then=nothing_half_written,
        needs=("tmpfs",),
    ),
    Case(
        "data-truncated-tarball",
        "traceback",
        "rnnlab data --data cut.tar.gz",
        "the tiny tarball cut to half its bytes",
        ONE_LINE,
        make=lambda ctx: data_cmd(ctx, truncated_tarball(ctx)),
    ),
    Case(
        "data-empty-file",
        "traceback",
        "rnnlab data --data empty.tar.gz",
        "a 0-byte file",
        ONE_LINE,
        make=lambda ctx: data_cmd(ctx, empty_file(ctx)),
    ),
]


@pytest.fixture
def ctx(tmp_path, monkeypatch, capsys, request):
    monkeypatch.delenv("RNNLAB_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    return Ctx(tmp_path, monkeypatch, capsys, request)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fault(case, ctx):
    if "tmpfs" in case.needs and (reason := can_mount_tmpfs()):
        pytest.skip(reason)
    run_case(case, ctx)


def test_the_table_is_well_formed():
    assert len({case.id for case in CASES}) == len(CASES)
    assert all(case.make is not None for case in CASES)


def test_the_bombs_are_well_formed(tmp_path):
    """The bomb builders make valid archives (so that an error about a bomb is not about
    a corrupt file), checked on small bombs: the same code builds the big ones."""
    import tarfile
    import zipfile

    bare = Ctx(tmp_path, None, None, None)
    size = 2 * 16 * 2**20
    path = bomb_tarball(bare, size)
    assert path.stat().st_size < size / 500
    for mode in ("r|gz", "r:gz"):  # streamed, and through gzip.GzipFile
        with tarfile.open(path, mode) as tar:
            sizes = {member.name: member.size for member in tar}
        assert len(sizes) == len(aclimdb_files()) + 1
        assert sizes["aclImdb/train/pos/999_9.txt"] == size
    with tarfile.open(path, "r:gz") as tar:
        assert (
            tar.extractfile("aclImdb/test/neg/3_2.txt").read()
            == (aclimdb_files()["aclImdb/test/neg/3_2.txt"])
        )

    path = bomb_npz(bare, n_items=1000)
    with np.load(path, allow_pickle=False) as f:
        np.testing.assert_array_equal(f["x_train"], np.zeros(1000, dtype=np.int32))
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None


# --- the tokenizer: properties ------------------------------------------------------------------

TEXT = st.lists(
    st.one_of(
        st.characters(),
        st.sampled_from(list("'’<>/ \n\t\x1e_-.,!abcXYZ09éßİǅ\u0307")),
        st.sampled_from(["<br />", "<i>", "</a>", "don't", "'quoted'", "''", "o'neil"]),
    ),
    max_size=40,
).map("".join)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(TEXT)
def test_tokenize_is_tokenize_corpus_of_one(text):
    assert tokenize(text) == tokenize_corpus([text])[0]


@PROPERTY
@given(st.lists(TEXT, min_size=1, max_size=6))
def test_tokenize_corpus_is_consistent_with_concatenation(texts):
    """Tokenizing reviews together gives each review's own words (nothing leaks across)."""
    assert tokenize_corpus(texts) == [tokenize(text) for text in texts]


def test_tokenize_corpus_of_no_reviews_is_no_reviews():
    """The same property at its edge: no reviews in, no word lists out (not one empty list)."""
    assert tokenize_corpus([]) == []


@PROPERTY
@given(TEXT)
def test_words_are_never_empty_and_never_edged_with_apostrophes(text):
    for word in tokenize(text):
        assert word
        assert not word.startswith("'") and not word.endswith("'")
        assert not any(c.isspace() for c in word)


@PROPERTY
@given(TEXT)
def test_tokenize_is_idempotent_on_its_own_output(text):
    words = tokenize(text)
    assert tokenize(" ".join(words)) == words


# --- the one case on the real data (optional: RNNLAB_DATA, marked slow) -----------------------


@pytest.mark.slow
def test_sigint_while_tokenizing_the_real_data(real_data, tmp_path):
    """Ctrl-C during the first read of the 50,000 real reviews (the tokenizer's helper
    process running): 130 within 10 s, one line, no process left, no half-written cache."""
    home = tmp_path / "home"
    argv = ["data", "--data", str(real_data), "--out", str(tmp_path / "out")]
    with Child(argv, tmp_path, {"RNNLAB_HOME": str(home)}) as child:
        deadline = time.monotonic() + 60
        while not (family := descendants(child.proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)  # until the tokenizer's helper runs
        assert family, f"no helper process: {child.describe()}"
        sent = time.monotonic()
        os.killpg(child.proc.pid, signal.SIGINT)
        wait_exit(child.proc, 10)
        outcome = child.outcome(time.monotonic() - sent)
        while (left := still_alive(family)) and time.monotonic() - sent < 10:
            time.sleep(0.1)
        kill_processes(family)
    assert not left, f"processes left 10 s after SIGINT: {left}; {outcome.describe()}"
    check(outcome, Expect(130, within_s=10), "data")
    assert not leftovers(home), leftovers(home)
