"""Fault injection, sweeps: damaged journals, reruns on other data, options read from files,
settings given twice, names that are paths.

The journal is the sweep's record: a torn last record (a crash in the middle of an
append) is survived, any other damage is a one-line error naming the line and how to
recover, and recovering (the journal moved aside) trains nothing again.  A finished
trial counts only for the data it was trained on.  Rows of CASES run through
tests/faults.py, as in test_faults_cli.py.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from faults import Case, Ctx, Expect, Invocation, run_case, run_in_process
from helpers import aclimdb_files, write_tarball

TINY = ["--num-words", "40", "--maxlen", "30", "--units", "4", "--embedding-dim", "4"]
TINY += ["--batch-size", "8", "--epochs", "1", "--seeds", "2", "--jobs", "1", "--quiet"]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A finished sweep of two tiny trials (run once, in this process), and its data."""
    from rnnlab.cli import main

    folder = tmp_path_factory.mktemp("faults-sweep")
    data = write_tarball(folder / "tiny.tar.gz", aclimdb_files())
    other = write_tarball(folder / "other.tar.gz", aclimdb_files(seed=5))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_HOME", str(folder / "home"))
        mp.setenv("JAX_COMPILATION_CACHE_DIR", str(folder / "jax-cache"))
        assert main(["sweep", "--data", str(data), *TINY, "--out", str(folder / "sweep")]) == 0
    return {"sweep": folder / "sweep", "data": data, "other": other, "jax": folder / "jax-cache"}


@pytest.fixture
def ctx(tmp_path, monkeypatch, capsys, request, shared):
    monkeypatch.delenv("RNNLAB_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(shared["jax"]))
    return Ctx(tmp_path, monkeypatch, capsys, request)


def copy_sweep(ctx) -> Path:
    target = ctx.tmp / "sweep"
    shutil.copytree(ctx.fixture("shared")["sweep"], target, ignore=shutil.ignore_patterns("*.lock"))
    return target


def rerun(ctx, folder, data="data", *extra) -> Invocation:
    source = ctx.fixture("shared")[data]
    return Invocation(["sweep", "--data", str(source), *TINY, *extra, "--out", str(folder)])


def journal_lines(folder: Path) -> list[bytes]:
    return (folder / "journal.log").read_bytes().splitlines(keepends=True)


def damaged_journal(damage):
    """A copy of the sweep whose journal's lines went through `damage(lines)`."""

    def make(ctx):
        folder = copy_sweep(ctx)
        (folder / "journal.log").write_bytes(b"".join(damage(journal_lines(folder))))
        return rerun(ctx, folder)

    return make


def garble(lines):
    lines[2] = lines[2][:8] + b"#" + lines[2][9:]
    return lines


def journal_intact(ctx, inv, outcome):
    """Every line of the journal is JSON again: no record was glued onto the torn one."""
    for number, line in enumerate(journal_lines(ctx.tmp / "sweep"), start=1):
        assert line.endswith(b"\n"), f"line {number} has no newline"
        json.loads(line)


def trained_nothing_again(ctx, inv, outcome):
    """The rerun adopted the finished run folders: their models were not written again."""
    before = ctx.fixture("shared")["sweep"] / "trials"
    for model in before.glob("*/best.keras"):
        copy = ctx.tmp / "sweep" / "trials" / model.parent.name / "best.keras"
        assert copy.read_bytes() == model.read_bytes(), f"{model.parent.name} was trained again"


def journal_moved_aside(ctx) -> Invocation:
    folder = copy_sweep(ctx)
    (folder / "journal.log").rename(folder / "journal.log.damaged")
    return rerun(ctx, folder)


def trained_on_other_data(ctx) -> Invocation:
    return rerun(ctx, copy_sweep(ctx), "other")


def other_data_after_the_journal_moved(ctx) -> Invocation:
    folder = copy_sweep(ctx)
    (folder / "journal.log").rename(folder / "journal.log.old")
    return rerun(ctx, folder, "other")


def all_trained_on_the_other_data(ctx, inv, outcome):
    from rnnlab.data import open_imdb

    expected = open_imdb(str(ctx.fixture("shared")["other"])).content_hash
    configs = list((ctx.tmp / "sweep" / "trials").glob("*/config.json"))
    assert configs
    for config in configs:
        assert json.loads(config.read_text())["data"]["content_hash"] == expected, config


def grid_option(value, **inv):
    return lambda ctx: Invocation(
        ["sweep", "--data", "x.tar.gz", "--grid", value(ctx) if callable(value) else value], **inv
    )


def fifo(ctx) -> str:
    os.mkfifo(ctx.tmp / "grid.fifo")
    return "@grid.fifo"


def big_grid_file(ctx) -> str:
    (ctx.tmp / "grid.json").write_text("[" + ", ".join(["{}"] * 400_000) + "]")
    return "@grid.json"


def nothing_outside(ctx, inv, outcome):
    assert not (ctx.tmp.parent / "x").exists() and not (ctx.tmp / "runs").exists()


JOURNAL = ("journal", "line", "mv ")

CASES = [
    # The journal.
    Case("journal-torn-last-record", "journal", "rnnlab sweep ... (again)",
         "the journal's last record cut in the middle (a crash during an append)",
         Expect(0), make=damaged_journal(lambda lines: [*lines[:-1], lines[-1][:25]]),
         then=journal_intact),
    Case("journal-garbled-line", "journal", "rnnlab sweep ... (again)",
         "one byte of line 3 changed, so it is no longer JSON",
         Expect(2, says=(*JOURNAL, "line 3")), make=damaged_journal(garble)),
    Case("journal-junk-appended", "journal", "rnnlab sweep ... (again)",
         "binary junk and a newline appended", Expect(2, says=JOURNAL),
         make=damaged_journal(lambda lines: [*lines, b"\x00\xff junk \x07\n"])),
    Case("journal-unknown-op-code", "journal", "rnnlab sweep ... (again)",
         'a record {"op_code": 99} appended', Expect(2, says=(*JOURNAL, "op code 99")),
         make=damaged_journal(lambda lines: [*lines, b'{"op_code":99,"worker_id":"w"}\n'])),
    Case("journal-record-missing-a-field", "journal", "rnnlab sweep ... (again)",
         "a trial-state record without its trial", Expect(2, says=JOURNAL),
         make=damaged_journal(lambda lines: [*lines, b'{"op_code":6,"worker_id":"w"}\n'])),
    Case("journal-a-list", "journal", "rnnlab sweep ... (again)",
         "a line holding a JSON list", Expect(2, says=JOURNAL),
         make=damaged_journal(lambda lines: [*lines[:4], b"[1, 2]\n", *lines[4:]])),
    Case("journal-moved-aside", "journal", "mv journal.log journal.log.damaged; rnnlab sweep",
         "the recovery the damaged-journal error advises", Expect(0),
         make=journal_moved_aside, then=trained_nothing_again),
    # Data sets.
    Case("rerun-on-other-data", "data sets", "rnnlab sweep --data OTHER ... (same grid)",
         "the same sweep, another data set", Expect(2, says=("other data", "--data")),
         make=trained_on_other_data),
    Case("rerun-on-other-data-new-journal", "data sets",
         "mv journal.log old; rnnlab sweep --data OTHER ...",
         "finished run folders of the first data, a new journal, another data set",
         Expect(0), make=other_data_after_the_journal_moved, then=all_trained_on_the_other_data),
    # Options read from files.
    Case("grid-fifo", "options", "rnnlab sweep --grid @FIFO", "a FIFO nobody writes",
         Expect(2, says=("regular file",), within_s=30),
         make=grid_option(fifo, subprocess=True, timeout_s=30)),
    Case("grid-dev-zero", "options", "rnnlab sweep --grid @/dev/zero", "an endless device",
         Expect(2, says=("regular file",), within_s=30),
         make=grid_option("@/dev/zero", subprocess=True, timeout_s=30, memory_limit_mb=1024)),
    Case("grid-folder", "options", "rnnlab sweep --grid @.", "a folder",
         Expect(2, says=("regular file",)), make=grid_option("@.")),
    Case("grid-file-too-big", "options", "rnnlab sweep --grid @grid.json",
         "a 1.6 MB file of empty objects", Expect(2, says=("bytes",)),
         make=grid_option(big_grid_file)),
    Case("grid-nested-deeply", "options", "rnnlab sweep --grid '[[[[...'",
         "100,000 nested lists", Expect(2, says=("nested",)),
         make=grid_option("[" * 100_000)),
    Case("grid-not-utf8", "options", "rnnlab sweep --grid @latin1.json",
         "a Latin-1 file", Expect(2, says=("UTF-8",)),
         make=grid_option(lambda ctx: (ctx.tmp / "l.json").write_bytes(b'[{"n": "\xe9"}]')
                          and "@l.json")),
    # Settings given twice, names that are paths.
    Case("grid-seed-against-seeds", "settings", """rnnlab sweep --seeds 3 --grid '[{"seed": 7}]'""",
         "a seed in an entry and a list of seeds", Expect(2, says=("seed", "--seeds")),
         make=lambda ctx: Invocation(["sweep", "--data", "x", "--seeds", "3",
                                      "--grid", '[{"seed": 7}]'])),
    Case("grid-units-against-a-list", "settings",
         """rnnlab sweep --units 4,8 --grid '[{"units": 16}]'""",
         "a setting in an entry and a list of it", Expect(2, says=("units", "--units")),
         make=lambda ctx: Invocation(["sweep", "--data", "x", "--units", "4,8",
                                      "--grid", '[{"units": 16}]'])),
    Case("name-a-path", "settings", "rnnlab sweep --name ../../x", "a name that climbs out",
         Expect(2, says=("--name", "--out")), then=nothing_outside,
         make=lambda ctx: Invocation(["sweep", "--data", "x", "--name", "../../x"])),
    Case("name-absolute", "settings", "rnnlab sweep --name /tmp/x", "an absolute path",
         Expect(2, says=("--name",)),
         make=lambda ctx: Invocation(["sweep", "--data", "x", "--name", "/tmp/x"])),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fault(case, ctx):
    run_case(case, ctx)


def test_a_torn_record_is_cut_at_the_last_newline(tmp_path):
    from rnnlab.sweep.journal import cut_torn_record

    for before, after in [(b"", b""), (b"a\n", b"a\n"), (b"a\nb", b"a\n"), (b"abc", b""),
                          (b"a\n" + b"x" * 200_000, b"a\n")]:  # fmt: skip
        path = tmp_path / "journal.log"
        path.write_bytes(before)
        with open(path, "r+b") as f:
            cut_torn_record(f)
        assert path.read_bytes() == after, before[:20]


def test_a_grid_entry_seed_is_used():
    """Not ignored for the default seed (the one --seeds would give)."""
    from rnnlab.sweep.grid import build

    assert [c["seed"] for c in build({}, [{"seed": 7}, {}], [42])] == [7, 42]
    units = [c.get("units") for c in build({"units": [32]}, [{}, {"units": 16}], [42])]
    assert units == [32, 16]  # an entry replaces an option's single value: an ablation's base


def test_a_worker_killed_mid_append_leaves_a_journal_the_sweep_continues(ctx, shared):
    """An append cut by SIGKILL (a record without its newline, as a crash leaves it),
    then a real append by Optuna: the journal still reads, record by record."""
    from rnnlab.sweep.journal import check_records

    folder = copy_sweep(ctx)
    code = f"""
import os, signal, sys
from rnnlab.sweep.storage import open_journal
backend = open_journal(__import__("pathlib").Path({str(folder)!r}))
with open({str(folder / "journal.log")!r}, "ab") as f:
    f.write(b'{{"op_code":4,"worker_id":"x","study_id":0,"datetime_st')
    f.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""
    subprocess.run([sys.executable, "-c", code], timeout=60)
    assert not journal_lines(folder)[-1].endswith(b"\n")
    from rnnlab.sweep.storage import open_journal

    backend = open_journal(folder)
    backend.optuna_storage.set_study_user_attr(0, "after the crash", True)
    check_records(folder / "journal.log")
    assert all(line.endswith(b"\n") for line in journal_lines(folder))


def test_a_grid_from_a_file_still_works(ctx):
    (ctx.tmp / "grid.json").write_text('[{"units": 16}]')
    outcome = run_in_process(
        Invocation(["sweep", "--data", "missing", "--grid", "@grid.json"]), ctx
    )
    assert outcome.code == 2 and "missing" in outcome.stderr, outcome.stderr  # on the data, later
