"""Fault injection, command side: races, signals, closed pipes, full disks, damaged runs.

Each case is a row of CASES (id, kind, the command, how the hostile input is
made, the expected outcome); tests/faults.py runs a row and checks the exit-code
contract: 0 success; 2 one line `rnnlab <command>: error: ...`; 130 on Ctrl-C,
one line; 141 and silence when the reader of our output goes away; 1 and one
line naming RNNLAB_DEBUG=1 for a bug; never a traceback, within seconds, under
1 GB, nothing lost and nothing half-written.  The numeric options are checked
with hypothesis at the end.  No case reads the real data set.
"""

import contextlib
import csv
import io
import json
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from faults import (
    MEMORY_LIMIT_MB,
    Case,
    Child,
    Ctx,
    Expect,
    Invocation,
    Outcome,
    can_mount_tmpfs,
    check,
    child_env,
    descendants,
    kill_group,
    kill_processes,
    leftovers,
    log,
    mount_full_tmpfs,
    run_case,
    run_in_process,
    snapshot,
    still_alive,
    unmount,
    wait_exit,
)
from helpers import aclimdb_files, tiny_config, write_tarball
from hypothesis import given, settings
from hypothesis import strategies as st

TINY = ["--num-words", "40", "--maxlen", "30", "--units", "4", "--embedding-dim", "4"]
TINY += ["--batch-size", "8"]
LONG = ["--epochs", "100000", "--patience", "100000"]  # trains until stopped
NEEDS_MEMORY = r"\d[\d,.]*\s*(?:[kKMGTPE]i?B|bytes)\b"  # "would need 400 TB"


# --- fixtures: a finished run, an interrupted one, a JAX cache shared by the children ----


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """Module-wide: the tiny tarball, a medium one, a JAX compilation cache for children."""
    folder = tmp_path_factory.mktemp("faults-cli")
    tiny = write_tarball(folder / "tiny.tar.gz", aclimdb_files())
    medium = write_tarball(folder / "medium.tar.gz", aclimdb_files(n_per_label=300))
    return {"folder": folder, "tiny": tiny, "medium": medium, "jax": folder / "jax-cache"}


@pytest.fixture(scope="module")
def finished_run(shared):
    """A finished tiny run (trained once, in this process; cases copy it)."""
    from rnnlab.train import train

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_HOME", str(shared["folder"] / "home"))
        config = tiny_config(shared["tiny"], epochs=2)
        return train(config, shared["folder"] / "finished", verbose=0).path


@pytest.fixture(scope="module")
def killed_run(shared):
    """A run whose training was killed with SIGKILL after its first complete epoch."""
    out = shared["folder"] / "killed"
    env = {"RNNLAB_HOME": str(shared["folder"] / "home-killed"), **jax_env(shared)}
    argv = ["train", "--data", str(shared["tiny"]), *TINY, *LONG, "--out", str(out)]
    with Child(argv, shared["folder"], env) as child:
        started = first_epoch_done(child, out, 60)  # epoch 1 ended, its files written
        assert started, f"training never completed an epoch: {child.describe()}"
        os.kill(child.proc.pid, signal.SIGKILL)
        child.proc.wait(timeout=10)
    return out


def jax_env(shared) -> dict[str, str]:
    return {
        "JAX_COMPILATION_CACHE_DIR": str(shared["jax"]),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    }


@pytest.fixture
def ctx(tmp_path, monkeypatch, capsys, request, shared):
    monkeypatch.delenv("RNNLAB_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    for key, value in jax_env(shared).items():  # children compile once for the module
        monkeypatch.setenv(key, value)
    return Ctx(tmp_path, monkeypatch, capsys, request)


def copy_run(ctx, fixture="finished_run", name="run") -> Path:
    target = ctx.tmp / name
    shutil.copytree(ctx.fixture(fixture), target, ignore=shutil.ignore_patterns(".rnnlab.lock"))
    return target


# --- the cases that are not one command -----------------------------------------------------


def run_two_trains(case, ctx):
    """Two `rnnlab train` (other models, other seeds) into one --out at the same moment:
    one wins, one says why not, and the folder holds the winner's run, file by file."""
    out, data = ctx.tmp / "run", ctx.fixture("shared")["tiny"]
    contenders = [("simplernn-embedding", 1), ("simplernn-onehot", 2)]
    argv = ["train", "--data", str(data), *TINY, "--epochs", "2", "--quiet", "--out", str(out)]
    with contextlib.ExitStack() as stack:
        children = [
            stack.enter_context(Child([*argv, "--model", model, "--seed", str(seed)], ctx.tmp))
            for model, seed in contenders
        ]
        for child in children:
            wait_exit(child.proc, 60)
        outcomes = [child.outcome(0) for child in children]
    codes = sorted(str(o.code) for o in outcomes)
    assert codes == ["0", "2"], f"expected one 0 and one 2: {[o.describe() for o in outcomes]}"
    won = [o.code for o in outcomes].index(0)
    log(case, outcomes[1 - won])
    check(outcomes[1 - won], case.expect, "train")
    model, seed = contenders[won]
    config = json.loads((out / "config.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    assert (config["settings"]["model"], config["settings"]["seed"]) == (model, seed)
    assert metrics["model"] == model, "metrics.json is the other training's"
    with open(out / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == metrics["epochs_run"], "history.csv is the other training's"
    assert min(float(r["val_loss"]) for r in rows) == metrics["best_val_loss"]
    assert not leftovers(out), leftovers(out)


def run_overwrite_while_training(case, ctx):
    """`train --overwrite` (here, in this process) into a folder that a running training
    holds: refused, the running training goes on, its files are all still there."""
    out, data = ctx.tmp / "run", ctx.fixture("shared")["tiny"]
    argv = ["train", "--data", str(data), *TINY, *LONG, "--out", str(out)]
    with Child(argv, ctx.tmp) as first:
        assert first_epoch_done(first, out, 60), f"no epoch done: {first.describe()}"
        before = {p.name for p in out.iterdir()}
        second = train_cmd(ctx, "--overwrite", out=out)
        outcome = run_in_process(second, ctx)
        still_running = first.proc.poll() is None
        after = {p.name for p in out.iterdir()}
    log(case, outcome)
    check(outcome, case.expect, "train")
    assert still_running, "the first training was disturbed"
    assert before <= after, f"files of the running training vanished: {before - after}"


def run_sigint_train(case, ctx):
    """Ctrl-C (SIGINT to the pid) during training: 130, one line, the run folder kept with
    the completed epochs' history, no finished marker (it reads as unfinished)."""
    out, data = ctx.tmp / "run", ctx.fixture("shared")["tiny"]
    argv = ["train", "--data", str(data), *TINY, *LONG, "--out", str(out)]
    with Child(argv, ctx.tmp, new_session=False) as child:
        assert first_epoch_done(child, out, 60), f"no epoch done: {child.describe()}"
        sent = time.monotonic()
        os.kill(child.proc.pid, signal.SIGINT)
        wait_exit(child.proc, 15)
        outcome = child.outcome(time.monotonic() - sent)
    log(case, outcome)
    check(outcome, case.expect, "train")
    with open(out / "history.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) >= 1, "the completed epochs' history was lost"
    assert not leftovers(out), leftovers(out)
    unfinished = run_in_process(Invocation(["predict", str(out), "good film"]), ctx)
    check(unfinished, Expect(2, says=("--resume",)), "predict")


def run_sigint_reproduce(case, ctx):
    """SIGINT to `rnnlab reproduce` (its whole process group, or the parent alone) while
    its children train: 130 within 10 s, one line, no child left, no child's traceback."""
    out, data = ctx.tmp / "repro", ctx.fixture("shared")["medium"]
    argv = ["reproduce", "--data", str(data), "--epochs", "100000", "--out", str(out)]
    with Child(argv, ctx.tmp) as child:
        assert first_epoch_done(child, out, 90), f"no child finished an epoch: {child.describe()}"
        family = descendants(child.proc.pid)
        assert family, "expected training children"
        sent = time.monotonic()
        if case.id.endswith("group"):
            os.killpg(child.proc.pid, signal.SIGINT)
        else:
            os.kill(child.proc.pid, signal.SIGINT)
        wait_exit(child.proc, 10)
        outcome = child.outcome(time.monotonic() - sent)
        family.update(descendants(child.proc.pid))
        while (left := still_alive(family)) and time.monotonic() - sent < 10:
            time.sleep(0.1)
        kill_processes(family)
    log(case, outcome)
    assert not left, f"children left 10 s after SIGINT: {left}; {outcome.describe()}"
    check(outcome, case.expect, "reproduce")


def first_epoch_done(child, out: Path, timeout: float) -> bool:
    """Whether a training (or one of `reproduce`'s) completed an epoch within `timeout`
    seconds: Keras printed the next epoch's header, or a history.csv under `out` has a row."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.proc.poll() is None:
        if child.lines.wait_for(r"^(\[[\w-]+\] )?Epoch 2/", 0.5):
            return True
        for history in out.rglob("history.csv"):
            with contextlib.suppress(OSError):
                if len(history.read_text().splitlines()) >= 2:
                    return True
    return False


def run_closed_pipe(case, ctx):
    """`rnnlab predict RUN --file 5000-lines.txt | head -1`: exit 141 (or death by
    SIGPIPE, which a shell also reports as 141), nothing on stderr."""
    run = copy_run(ctx)
    reviews = ctx.tmp / "reviews.txt"
    reviews.write_text("".join(f"review {i}: a great film, loved it\n" for i in range(5000)))
    argv = [sys.executable, "-m", "rnnlab.cli", "predict", str(run), "--file", str(reviews)]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            cwd=ctx.tmp,
            env=child_env(),
            start_new_session=True,
        )
        try:
            first, deadline = b"", time.monotonic() + 60
            while b"\n" not in first and time.monotonic() < deadline:  # head reads a line
                if select.select([proc.stdout], [], [], 1)[0]:
                    chunk = os.read(proc.stdout.fileno(), 256)
                    first += chunk
                    if not chunk:
                        break
            proc.stdout.close()  # and exits
            started = time.monotonic()
            code = wait_exit(proc, 60)
        finally:
            kill_group(proc.pid)
            proc.wait(timeout=10)
        err.seek(0)
        outcome = Outcome(
            "still running" if code is None else code,
            first.decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            time.monotonic() - started,
        )
    assert b"\n" in first, f"no first line within 60 s: {outcome.describe()}"
    if outcome.code == -signal.SIGPIPE:
        outcome.code = 141
    log(case, outcome)
    check(outcome, case.expect, "predict")


def run_bug_with_debug(case, ctx):
    """An injected bug with RNNLAB_DEBUG=1: exit 1 and the traceback shown."""
    make_bug(ctx)
    ctx.monkeypatch.setenv("RNNLAB_DEBUG", "1")
    outcome = run_in_process(data_cmd(ctx), ctx)
    log(case, outcome)
    assert outcome.code == 1, outcome.describe()
    assert "Traceback" in outcome.stderr and "ZeroDivisionError" in outcome.stderr, (
        outcome.describe()
    )


# --- hostile inputs for the one-command cases ------------------------------------------------


def data_cmd(ctx):
    tiny = ctx.fixture("shared")["tiny"]
    return Invocation(["data", "--data", str(tiny), "--out", str(ctx.tmp / "out")])


def train_cmd(ctx, *extra, out=None, **inv):
    tiny = ctx.fixture("shared")["tiny"]
    out = out or ctx.tmp / "run"
    argv = ["train", "--data", str(tiny), *TINY, "--epochs", "2", "--quiet", "--out", str(out)]
    return Invocation([*argv, *extra], **inv)


def make_bug(ctx):
    def explode(*args, **kwargs):
        raise ZeroDivisionError("injected bug")

    ctx.monkeypatch.setattr("rnnlab.explore.explore", explode)
    return data_cmd(ctx)


def option(name, value, **inv):
    return lambda ctx: train_cmd(ctx, name, value, **inv)


def huge(name, value):
    inv = {"subprocess": True, "timeout_s": 45, "memory_limit_mb": MEMORY_LIMIT_MB}
    return option(name, str(value), **inv)


def predict_cmd(run, *argv, **inv):
    return Invocation(["predict", str(run), *argv], **inv)


def edit_json(path: Path, edit) -> None:
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))


def damaged(name, damage):
    """A copy of the finished run with `name` damaged by `damage(path)`."""

    def make(ctx):
        run = copy_run(ctx)
        damage(run / name)
        return run

    return make


def cut_half(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def drop_column(column):
    def damage(path):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, [k for k in rows[0] if k != column])
            writer.writeheader()
            writer.writerows([{k: v for k, v in row.items() if k != column} for row in rows])

    return damage


def write(text):
    return lambda path: path.write_text(text)


def compare_with(damage_name, damage):
    def make(ctx):
        return Invocation(
            ["compare", str(copy_run(ctx, name="ok")), str(damaged(damage_name, damage)(ctx))]
            + ["--out", str(ctx.tmp / "cmp")]
        )

    return make


def evaluate_with(damage_name, damage):
    return lambda ctx: Invocation(["evaluate", str(damaged(damage_name, damage)(ctx))])


def predict_with(damage_name, damage):
    return lambda ctx: predict_cmd(damaged(damage_name, damage)(ctx), "a great film")


def wider_vocabulary(ctx):
    """preprocessing.json says num_words 400 (the model has 40) and knows 100 more words."""
    run = copy_run(ctx)
    more = [f"w{i}" for i in range(100)]
    edit_json(
        run / "preprocessing.json",
        lambda p: {**p, "num_words": 400, "vocabulary": p["vocabulary"] + more},
    )
    return predict_cmd(run, "w1 w50 w99 great awful")


def unfinished(command, *extra):
    def make(ctx):
        run = copy_run(ctx, "killed_run")
        if command == "compare":
            return Invocation(["compare", str(run), *extra, "--out", str(ctx.tmp / "cmp")])
        texts = ["a great film"] if command == "predict" else []
        return Invocation([command, str(run), *texts, *extra])

    return make


def full_disk_train(ctx):
    disk = mount_full_tmpfs(ctx.tmp / "disk", free_bytes=8192)
    ctx.request.addfinalizer(lambda: unmount(disk))
    inv = train_cmd(ctx, out=disk / "run")
    inv.data["disk"] = disk
    return inv


def full_disk_output(ctx):
    run = copy_run(ctx)
    earlier = {"old.csv": b"earlier results\n"}
    disk = mount_full_tmpfs(ctx.tmp / "disk", free_bytes=0, files=earlier)
    ctx.request.addfinalizer(lambda: unmount(disk))
    many = ctx.tmp / "many.txt"
    many.write_text("a great film, loved it\n" * 2000)
    output = ["--format", "csv", "--output", str(disk / "old.csv")]
    inv = predict_cmd(run, "--file", str(many), *output)
    inv.data.update(disk=disk, before=snapshot(disk))
    return inv


def nothing_half_written(ctx, inv, outcome):
    left = leftovers(inv.data["disk"])
    assert not left, f"half-written files left behind: {left}"
    if "before" in inv.data:
        assert snapshot(inv.data["disk"]) == inv.data["before"], "an earlier file changed"


def stdout_to_dev_full(ctx):
    run = copy_run(ctx)
    inv = predict_cmd(run, "a great film", "an awful film", subprocess=True)
    inv.stdout = open("/dev/full", "w")  # noqa: SIM115 - closed by the finalizer
    ctx.request.addfinalizer(inv.stdout.close)
    return inv


SETPRIV = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")


def read_only_folder(ctx) -> Path:
    folder = ctx.tmp / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    ctx.request.addfinalizer(lambda: folder.chmod(0o700))
    return folder


def permission_train(ctx):
    inv = train_cmd(ctx, out=read_only_folder(ctx) / "run", subprocess=True, prefix=SETPRIV)
    return inv


def permission_output(ctx):
    run = copy_run(ctx)
    out = read_only_folder(ctx) / "out.csv"
    return predict_cmd(run, "great", "--output", str(out), subprocess=True, prefix=SETPRIV)


def out_is_a_file(ctx):
    (ctx.tmp / "out-file").write_text("mine")
    return train_cmd(ctx, out=ctx.tmp / "out-file")


def output_is_a_folder(ctx):
    run = copy_run(ctx)
    (ctx.tmp / "out-folder").mkdir()
    (ctx.tmp / "out-folder" / "keep.txt").write_text("mine")
    inv = predict_cmd(run, "great", "--output", str(ctx.tmp / "out-folder"))
    inv.data.update(disk=ctx.tmp / "out-folder", before=snapshot(ctx.tmp / "out-folder"))
    return inv


def output_device_node(ctx):
    run = copy_run(ctx)
    node = ctx.tmp / "null-device"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
    inv = predict_cmd(run, "great", "--output", str(node))
    inv.data["node"] = node
    return inv


def still_a_device(ctx, inv, outcome):
    mode = inv.data["node"].stat().st_mode
    assert stat.S_ISCHR(mode), "the device node was replaced by a regular file"


def compare_out_is_a_file(ctx):
    (ctx.tmp / "out-file").write_text("mine")
    return Invocation(["compare", str(copy_run(ctx)), "--out", str(ctx.tmp / "out-file")])


def dev_zero_reviews(ctx):
    inv = predict_cmd(copy_run(ctx), "--file", "/dev/zero", "--input-format", "txt")
    inv.subprocess, inv.timeout_s, inv.memory_limit_mb = True, 30, MEMORY_LIMIT_MB
    return inv


def big_csv_field(ctx):
    review = "a great film " * 80_000  # 1 MB in one field
    (ctx.tmp / "x.csv").write_text('id,text\n1,"' + review + '"\n')
    return predict_cmd(copy_run(ctx), "--file", str(ctx.tmp / "x.csv"), "--format", "jsonl")


def one_prediction(ctx, inv, outcome):
    records = [json.loads(line) for line in outcome.stdout.splitlines() if line.strip()]
    assert len(records) == 1 and 0 <= records[0]["probability"] <= 1, outcome.stdout[:300]


def used_folder(ctx, overwrite):
    out = ctx.tmp / "used"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    inv = train_cmd(ctx, *(["--overwrite"] if overwrite else []), out=out)
    inv.data["notes"] = out / "notes.txt"
    return inv


def notes_kept(ctx, inv, outcome):
    assert inv.data["notes"].read_text() == "mine", "a file of the user's was lost"


def resume(ctx, target):
    if target == "finished":
        folder = copy_run(ctx)
    elif target == "not-a-run":
        folder = ctx.tmp / "mine"
        folder.mkdir()
        (folder / "notes.txt").write_text("mine")
    else:
        folder = ctx.tmp / "missing"
    inv = Invocation(["train", "--resume", str(folder)])
    inv.data["notes"] = folder / "notes.txt"
    return inv


def not_unrecognized(ctx, inv, outcome):
    assert "unrecognized" not in outcome.stderr, f"--resume is not an option: {outcome.describe()}"
    if inv.data["notes"].exists():
        notes_kept(ctx, inv, outcome)


# --- the table ------------------------------------------------------------------------------

ONE_LINE = Expect(2)
CLEAN = Expect((0, 2))  # either works or is a one-line error; never a traceback

CASES = [
    # Concurrency: a run folder belongs to one process at a time.
    Case("two-trains-same-out", "concurrency",
         "rnnlab train --model {simplernn-embedding,simplernn-onehot} --out run (two at once)",
         "two child Pythons (other models and seeds) started back to back, one empty --out",
         Expect(2, says_any=("in use", "not empty")), run=run_two_trains),
    Case("overwrite-while-training", "concurrency",
         "rnnlab train --out run --overwrite (while another trains into run)",
         "a training of 100,000 epochs started first; the second waits for its epoch 2",
         Expect(2, says=("in use",)), run=run_overwrite_while_training),
    # Silently wrong results that must be errors.
    Case("predict-num-words-beyond-model", "silently wrong", "rnnlab predict RUN 'w1 w50 ...'",
         "preprocessing.json edited to num_words 400 (model: 40) and 100 more words",
         Expect(2, says=("num_words",)), make=wider_vocabulary),
    Case("learning-rate-inf", "silently wrong", "rnnlab train --learning-rate inf",
         "the text 'inf'", Expect(2, says=("--learning-rate",)),
         make=option("--learning-rate", "inf")),
    Case("learning-rate-nan", "silently wrong", "rnnlab train --learning-rate nan",
         "the text 'nan'", Expect(2, says=("--learning-rate",)),
         make=option("--learning-rate", "nan")),
    Case("learning-rate-1e400", "silently wrong", "rnnlab train --learning-rate 1e400",
         "a number that overflows to inf", Expect(2, says=("--learning-rate",)),
         make=option("--learning-rate", "1e400")),
    Case("learning-rate-minus-inf", "silently wrong", "rnnlab train --learning-rate=-inf",
         "the text '-inf'", Expect(2, says=("--learning-rate",)),
         make=lambda ctx: train_cmd(ctx, "--learning-rate=-inf")),
    Case("unfinished-evaluate", "silently wrong", "rnnlab evaluate KILLED_RUN",
         "a training killed with SIGKILL after its first epoch",
         Expect(2, says=("--resume",)), make=unfinished("evaluate")),
    Case("unfinished-predict", "silently wrong", "rnnlab predict KILLED_RUN 'a great film'",
         "a training killed with SIGKILL after its first epoch",
         Expect(2, says=("--resume",)), make=unfinished("predict")),
    Case("unfinished-compare", "silently wrong", "rnnlab compare KILLED_RUN",
         "a training killed with SIGKILL after its first epoch",
         Expect(2, says=("--resume",)), make=unfinished("compare")),
    Case("unfinished-predict-allowed", "silently wrong",
         "rnnlab predict KILLED_RUN 'a great film' --allow-unfinished",
         "a training killed with SIGKILL after its first epoch",
         Expect(0), make=unfinished("predict", "--allow-unfinished")),
    Case("unfinished-evaluate-allowed", "silently wrong",
         "rnnlab evaluate KILLED_RUN --allow-unfinished",
         "a training killed with SIGKILL after its first epoch",
         Expect(0), make=unfinished("evaluate", "--allow-unfinished")),
    Case("unfinished-compare-allowed", "silently wrong",
         "rnnlab compare KILLED_RUN --allow-unfinished",
         "a training killed with SIGKILL after its first epoch",
         Expect(0), make=unfinished("compare", "--allow-unfinished")),
    # Inputs without end.
    Case("predict-file-dev-zero", "hang / unbounded",
         "rnnlab predict RUN --file /dev/zero --input-format txt",
         "an endless 'line' of zero bytes",
         Expect(2, within_s=20, max_rss_mb=MEMORY_LIMIT_MB), make=dev_zero_reviews),
    # Environments and options that used to end in a traceback.
    Case("train-full-disk", "traceback", "rnnlab train --out disk/run",
         "--out on a 1 MiB tmpfs filled up to 8 KiB (best.keras does not fit)",
         Expect(2, says_any=("space",)), make=full_disk_train, then=nothing_half_written,
         needs=("tmpfs",)),
    Case("predict-output-full-disk", "traceback",
         "rnnlab predict RUN --file many.txt --output disk/old.csv",
         "--output replaces a file on a 1 MiB tmpfs filled to the last byte",
         Expect(2, says_any=("space",)), make=full_disk_output, then=nothing_half_written,
         needs=("tmpfs",)),
    Case("predict-stdout-dev-full", "traceback", "rnnlab predict RUN 'a great film' >/dev/full",
         "standard output is /dev/full (every write: ENOSPC)",
         Expect(2, says_any=("space",)), make=stdout_to_dev_full),
    Case("train-permission-denied", "traceback", "rnnlab train --out read-only/run",
         "a 0o500 folder; the child runs without CAP_DAC_OVERRIDE (setpriv)",
         Expect(2, says_any=("permission",)), make=permission_train, needs=("root", "setpriv")),
    Case("predict-output-permission-denied", "traceback",
         "rnnlab predict RUN great --output read-only/out.csv",
         "a 0o500 folder; the child runs without CAP_DAC_OVERRIDE (setpriv)",
         Expect(2, says_any=("permission",)), make=permission_output, needs=("root", "setpriv")),
    Case("train-out-is-a-file", "traceback", "rnnlab train --out out-file",
         "--out names a regular file", Expect(2, says=("out-file",)), make=out_is_a_file),
    Case("predict-output-is-a-folder", "traceback", "rnnlab predict RUN great --output folder",
         "--output names a folder holding keep.txt", Expect(2, says=("out-folder",)),
         make=output_is_a_folder, then=nothing_half_written),
    Case("predict-output-device-node", "nothing lost",
         "rnnlab predict RUN great --output null-device",
         "--output names a character device (mknod 1,3: a /dev/null)",
         CLEAN, make=output_device_node, then=still_a_device, needs=("root",)),
    Case("compare-out-is-a-file", "traceback", "rnnlab compare RUN --out out-file",
         "--out names a regular file", Expect(2, says=("out-file",)),
         make=compare_out_is_a_file),
    Case("seed-negative", "traceback", "rnnlab train --seed -1", "the text '-1'",
         Expect(2, says=("--seed",)), make=option("--seed", "-1")),
    Case("seed-2**32", "traceback", "rnnlab train --seed 4294967296", "one past uint32",
         Expect(2, says=("--seed",)), make=option("--seed", "4294967296")),
    Case("units-10**7", "traceback", "rnnlab train --units 10000000",
         "a recurrent kernel of 10^14 weights", Expect(2, matches=NEEDS_MEMORY, within_s=30),
         make=huge("--units", 10**7)),
    Case("num-words-10**9", "traceback", "rnnlab train --num-words 1000000000",
         "an embedding of 4 x 10^9 weights", Expect(2, matches=NEEDS_MEMORY, within_s=30),
         make=huge("--num-words", 10**9)),
    Case("maxlen-10**9", "traceback", "rnnlab train --maxlen 1000000000",
         "padded input of 40 x 10^9 ids", Expect(2, matches=NEEDS_MEMORY, within_s=30),
         make=huge("--maxlen", 10**9)),
    Case("num-words-81000-accepted", "traceback",
         "rnnlab train --model simplernn-onehot --num-words 81000",
         "a large but real vocabulary (IMDB has about 88,000 words)",
         Expect(0), make=lambda ctx: train_cmd(
             ctx, "--model", "simplernn-onehot", "--num-words", "81000")),
    Case("csv-field-1mb", "traceback", "rnnlab predict RUN --file x.csv --format jsonl",
         "one CSV row whose text field is 1 MB (csv's default limit: 128 KB)",
         Expect(0), make=big_csv_field, then=one_prediction),
    Case("compare-metrics-truncated", "traceback", "rnnlab compare RUN RUN'",
         "metrics.json cut in half", ONE_LINE, make=compare_with("metrics.json", cut_half)),
    Case("compare-metrics-wrong-types", "traceback", "rnnlab compare RUN RUN'",
         'metrics.json values are strings ("best_val_loss": "low")', ONE_LINE,
         make=compare_with("metrics.json", lambda p: edit_json(
             p, lambda m: {k: "low" for k in m}))),
    Case("compare-metrics-a-list", "traceback", "rnnlab compare RUN RUN'",
         "metrics.json is []", ONE_LINE, make=compare_with("metrics.json", write("[]"))),
    Case("compare-history-missing-column", "traceback", "rnnlab compare RUN RUN'",
         "history.csv without its val_loss column", ONE_LINE,
         make=compare_with("history.csv", drop_column("val_loss"))),
    Case("compare-history-not-a-number", "traceback", "rnnlab compare RUN RUN'",
         "history.csv with 'abc' for a loss", ONE_LINE,
         make=compare_with("history.csv", lambda p: p.write_text(
             re.sub(r"\n1,[^,\n]+", "\n1,abc", p.read_text(), count=1)))),
    Case("compare-history-header-only", "traceback", "rnnlab compare RUN RUN'",
         "history.csv with its header and no epoch", ONE_LINE,
         make=compare_with("history.csv", lambda p: p.write_text(
             p.read_text().splitlines()[0] + "\n"))),
    Case("compare-config-truncated", "traceback", "rnnlab compare RUN RUN'",
         "config.json cut in half", ONE_LINE, make=compare_with("config.json", cut_half)),
    Case("compare-config-empty", "traceback", "rnnlab compare RUN RUN'",
         "config.json empty", ONE_LINE, make=compare_with("config.json", write(""))),
    Case("evaluate-config-truncated", "traceback", "rnnlab evaluate RUN'",
         "config.json cut in half", ONE_LINE, make=evaluate_with("config.json", cut_half)),
    Case("evaluate-config-wrong-types", "traceback", "rnnlab evaluate RUN'",
         'config.json settings.units = "four", settings.maxlen = null', ONE_LINE,
         make=evaluate_with("config.json", lambda p: edit_json(p, lambda c: {
             **c, "settings": {**c["settings"], "units": "four", "maxlen": None}}))),
    Case("evaluate-config-settings-a-list", "traceback", "rnnlab evaluate RUN'",
         "config.json settings = [1, 2]", ONE_LINE,
         make=evaluate_with("config.json", lambda p: edit_json(
             p, lambda c: {**c, "settings": [1, 2]}))),
    Case("evaluate-history-missing-column", "traceback", "rnnlab evaluate RUN'",
         "history.csv without its val_loss column (evaluate may not need it)", CLEAN,
         make=evaluate_with("history.csv", drop_column("val_loss"))),
    Case("evaluate-metrics-truncated", "traceback", "rnnlab evaluate RUN'",
         "metrics.json cut in half (evaluate may not need it)", CLEAN,
         make=evaluate_with("metrics.json", cut_half)),
    Case("predict-preprocessing-truncated", "traceback", "rnnlab predict RUN' 'a great film'",
         "preprocessing.json cut in half", ONE_LINE,
         make=predict_with("preprocessing.json", cut_half)),
    Case("predict-preprocessing-vocabulary-a-number", "traceback",
         "rnnlab predict RUN' 'a great film'", "preprocessing.json vocabulary = 5", ONE_LINE,
         make=predict_with("preprocessing.json", lambda p: edit_json(
             p, lambda s: {**s, "vocabulary": 5}))),
    Case("predict-model-truncated", "traceback", "rnnlab predict RUN' 'a great film'",
         "best.keras cut in half", ONE_LINE, make=predict_with("best.keras", cut_half)),
    # Interrupts and closed pipes.
    Case("sigint-train", "interrupt", "rnnlab train ... (Ctrl-C during epoch 2)",
         "SIGINT to the child's pid once its first epoch is done",
         Expect(130, within_s=10), run=run_sigint_train),
    Case("sigint-reproduce-group", "interrupt", "rnnlab reproduce ... (Ctrl-C in a terminal)",
         "SIGINT to the whole process group once a child finished an epoch",
         Expect(130, within_s=10), run=run_sigint_reproduce),
    Case("sigint-reproduce-parent", "interrupt", "kill -INT <pid of rnnlab reproduce>",
         "SIGINT to the parent alone once a child finished an epoch",
         Expect(130, within_s=10), run=run_sigint_reproduce),
    Case("predict-closed-pipe", "interrupt", "rnnlab predict RUN --file 5000.txt | head -1",
         "the reader closes the pipe after the first line", Expect(141),
         run=run_closed_pipe),
    # Resume: one-line errors for folders that cannot be resumed.
    Case("resume-finished-run", "resume", "rnnlab train --resume FINISHED_RUN",
         "a copy of a finished run", Expect(2, says=("finished",)),
         make=lambda ctx: resume(ctx, "finished"), then=not_unrecognized),
    Case("resume-not-a-run", "resume", "rnnlab train --resume mine",
         "a folder holding only notes.txt", ONE_LINE,
         make=lambda ctx: resume(ctx, "not-a-run"), then=not_unrecognized),
    Case("resume-missing-folder", "resume", "rnnlab train --resume missing",
         "a path that does not exist", ONE_LINE,
         make=lambda ctx: resume(ctx, "missing"), then=not_unrecognized),
    # Nothing lost.
    Case("train-used-folder-refused", "nothing lost", "rnnlab train --out used",
         "a folder holding the user's notes.txt", Expect(2, says=("not empty",)),
         make=lambda ctx: used_folder(ctx, overwrite=False), then=notes_kept),
    Case("train-overwrite-keeps-other-files", "nothing lost",
         "rnnlab train --out used --overwrite", "a folder holding the user's notes.txt",
         Expect(0), make=lambda ctx: used_folder(ctx, overwrite=True), then=notes_kept),
    # A bug: one line, the traceback on request.
    Case("bug-one-line", "bug", "rnnlab data (explore raises ZeroDivisionError)",
         "rnnlab.explore.explore monkeypatched to divide by zero",
         Expect(1), make=make_bug),
    Case("bug-traceback-with-debug", "bug", "RNNLAB_DEBUG=1 rnnlab data (same bug)",
         "rnnlab.explore.explore monkeypatched to divide by zero",
         Expect(1), run=run_bug_with_debug),
]  # fmt: skip


# Children that train run last, when the shared JAX cache holds the tiny models.
ORDER = sorted(CASES, key=lambda case: case.kind in ("concurrency", "interrupt"))


@pytest.mark.parametrize("case", ORDER, ids=[case.id for case in ORDER])
def test_fault(case, ctx):
    if "tmpfs" in case.needs and (reason := can_mount_tmpfs()):
        pytest.skip(reason)
    if "root" in case.needs and os.geteuid() != 0:
        pytest.skip("needs root (mknod, or setpriv to drop CAP_DAC_OVERRIDE)")
    if "setpriv" in case.needs and not shutil.which("setpriv"):
        pytest.skip("needs setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
    run_case(case, ctx)


def test_the_table_is_well_formed():
    assert len({case.id for case in CASES}) == len(CASES)
    assert all((case.make is None) != (case.run is None) for case in CASES)


# --- property: any text for a numeric option parses or is a one-line error ------------------

NUMERIC = [
    "--units",
    "--num-words",
    "--maxlen",
    "--embedding-dim",
    "--batch-size",
    "--epochs",
    "--patience",
    "--seed",
    "--learning-rate",
]
NUMBER_TEXT = st.one_of(
    st.integers().map(str),
    st.integers(min_value=4290, max_value=4310).map(lambda n: "7" * n),  # int()'s digit limit
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats().map(lambda x: f"{x:.3e}"),
    st.text(alphabet="0123456789eE+-._ ,infaNIx٣\u00a0", max_size=14),
    st.text(max_size=10),
)


@settings(max_examples=200, deadline=None)
@given(option=st.sampled_from(NUMERIC), text=NUMBER_TEXT, joined=st.booleans())
def test_numeric_options_parse_or_fail_in_one_line(option, text, joined):
    from rnnlab.cli import build_parser
    from rnnlab.config import TrainConfig

    argv = ["train", f"{option}={text}"] if joined else ["train", option, text]
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exit_:
            code = exit_.code
        else:
            code = 0
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    if code != 0:
        assert code == 2, f"{argv}: exit {code}"
        assert len(lines) == 1 and lines[0].startswith("rnnlab train: error: "), (argv, lines)
        return
    name = option[2:].replace("-", "_")
    value = getattr(args, name)
    if option == "--learning-rate":
        assert isinstance(value, float) and 0 < value < float("inf"), (argv, value)
    else:
        assert isinstance(value, int) and value >= 0, (argv, value)
    TrainConfig(**{name: value})  # what parses is a valid setting
