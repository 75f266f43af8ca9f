"""Support for the fault-injection tests (test_faults_data.py, test_faults_cli.py).

A fault case is one row of a table: an id, the kind of fault, the command as a
user would type it, how the hostile input is made, and the expected outcome.
This module holds the row type, the two ways of running a command (in this
process, or as a child Python watched for time and memory) and the checks of
the exit-code contract:

| outcome                        | exit code | stderr                                            |
|--------------------------------|-----------|---------------------------------------------------|
| success                        | 0         | no traceback                                      |
| bad input, option, environment | 2         | one line `rnnlab <command>: error: ...`           |
| Ctrl-C                         | 130       | one line, no traceback                            |
| closed output pipe             | 141       | nothing                                           |
| a bug                          | 1         | one line naming RNNLAB_DEBUG=1 (traceback with it) |
"""

import contextlib
import io
import os
import re
import signal
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

SUBPROCESS_TIMEOUT_S = 60  # the most any child may run: a hang fails, never blocks CI
MEMORY_LIMIT_MB = 1024  # the bound on a command's peak resident memory
PAGE = os.sysconf("SC_PAGE_SIZE")
EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Interrupt|Exit)\b")

# Leftovers of an interrupted write: rnnlab's atomic writes use `.NAME.*.tmp` (and
# used `.best.partial.keras`); any such name left behind is a half-written file.
TEMP_NAME = re.compile(r"\.tmp$|\.partial")


@dataclass(frozen=True)
class Expect:
    """The expected end of a command.

    code: the exit code, or a tuple of acceptable ones (each still held to its
    contract: a 2 is one line, a 0 has no traceback).  says: words the error
    line must contain (case-insensitive); says_any: at least one of these.
    matches: a regular expression the error line must match.  within_s: the
    most wall-clock seconds.  max_rss_mb: the most peak resident memory.
    """

    code: int | tuple[int, ...]
    says: tuple[str, ...] = ()
    says_any: tuple[str, ...] = ()
    matches: str | None = None
    within_s: float | None = None
    max_rss_mb: float | None = None


@dataclass(frozen=True)
class Case:
    """One row of a fault table.

    id: a name.  kind: which sort of fault.  command: what a user would type,
    for the reader.  hostile: how the hostile input is made.  make: a function
    (ctx) -> Invocation that makes it and says how to run the command.  expect:
    the outcome.  then: extra checks after the run (nothing lost, nothing
    half-written), a function (ctx, invocation, outcome).  run: for cases that
    are not one command (races, signals, pipes), a function (case, ctx) that
    does everything itself.
    """

    id: str
    kind: str
    command: str
    hostile: str
    expect: Expect
    make: Callable | None = None
    then: Callable | None = None
    run: Callable | None = None
    needs: tuple[str, ...] = ()  # skip reasons checked before running: "root", "tmpfs"


@dataclass
class Invocation:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)  # set for the command ("" unsets)
    subprocess: bool = False  # run as a child Python (for hangs, memory, signals)
    prefix: tuple[str, ...] = ()  # e.g. setpriv ... --, before the Python
    code: str | None = None  # `python -c code argv...` instead of `-m rnnlab.cli`
    stdout: object = None  # a file for the child's stdout (default: captured)
    timeout_s: float = SUBPROCESS_TIMEOUT_S
    memory_limit_mb: float | None = None  # kill the child beyond this (and fail)
    data: dict = field(default_factory=dict)  # what `then` needs to know


@dataclass
class Outcome:
    code: int | str  # the exit code, or "timeout", "killed over N MB", "raised X"
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float | None = None

    def describe(self) -> str:
        """Exit code and the first stderr line, or the exception a traceback ends with."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        if "Traceback (most recent call last)" in self.stderr:
            last = next((ln for ln in reversed(lines) if EXCEPTION_LINE.match(ln)), lines[-1])
            first = f"traceback ending {last.strip()[:160]!r}"
        else:
            first = repr(lines[0][:200]) if lines else "empty stderr"
        memory = f", peak {self.peak_rss_mb:.0f} MB" if self.peak_rss_mb else ""
        return f"exit {self.code} after {self.seconds:.1f} s{memory}: {first}"


# --- running a command ------------------------------------------------------------------


def child_env(extra=None) -> dict[str, str]:
    """This process's environment (with the test's RNNLAB_HOME) for a child rnnlab."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONUNBUFFERED": "1"}
    env.pop("RNNLAB_DEBUG", None)
    env.pop("RNNLAB_DATA", None)
    for key, value in (extra or {}).items():
        if value == "":
            env.pop(key, None)
        else:
            env[key] = value
    return env


# The CLI, with its own peak memory written at exit to $FAULTS_PEAK_FILE: the kernel's
# ru_maxrss for a child counts the memory of the process it was started from (a fork
# keeps the parent's high-water mark across exec), VmHWM counts the program's own.
_CLI_WITH_PEAK = """
import atexit, os, sys
def _peak():
    with open("/proc/self/status") as status, open(os.environ["FAULTS_PEAK_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM")).split()[1])
atexit.register(_peak)
from rnnlab.cli import main
sys.exit(main(sys.argv[1:]))
"""


def python_command(inv: Invocation) -> list[str]:
    if inv.code is not None:
        return [*inv.prefix, sys.executable, "-c", inv.code, *inv.argv]
    return [*inv.prefix, sys.executable, "-c", _CLI_WITH_PEAK, *inv.argv]


def group_rss_mb(pgid: int) -> float:
    """The resident memory of every live process in a process group."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields_ = stat[stat.rindex(")") + 2 :].split()
            if int(fields_[2]) != pgid:
                continue
            total += int(Path(f"/proc/{entry}/statm").read_text().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total / 2**20


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, parent pid, process group, start time) of a process, or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields_ = stat[stat.rindex(")") + 2 :].split()
    return fields_[0], int(fields_[1]), int(fields_[2]), int(fields_[19])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return "?"


def descendants(pid: int) -> dict[int, tuple[int, str]]:
    """{pid: (start time, command line)} of the live descendants of `pid`, whatever
    their process group or session (rnnlab's workers start sessions of their own)."""
    children: dict[int, list[int]] = {}
    starts = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _stat(int(entry))) and info[0] not in "ZX":
            children.setdefault(info[1], []).append(int(entry))
            starts[int(entry)] = info[3]
    found, todo = {}, list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found[child] = (starts[child], _cmdline(child))
        todo += children.get(child, [])
    return found


def still_alive(processes: dict[int, tuple[int, str]]) -> list[tuple[int, str]]:
    """Those of `processes` (from `descendants`) that still run (not zombies)."""
    alive = []
    for pid, (start, cmdline) in processes.items():
        info = _stat(pid)
        if info and info[3] == start and info[0] not in "ZX":
            alive.append((pid, cmdline))
    return alive


def kill_processes(processes: dict[int, tuple[int, str]]) -> None:
    """End the processes this test started (by pid, checked against their start time)."""
    for pid, _ in still_alive(processes):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def group_members(pgid: int) -> list[tuple[int, str, str]]:
    """(pid, state, command line) of the live (not zombie) processes of a group."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _stat(int(entry))):
            state, _, pgrp, _ = info
            if pgrp == pgid and state not in "ZX":
                members.append((int(entry), state, _cmdline(int(entry))))
    return members


def kill_group(pgid: int) -> None:
    """End the process group that this test started (by its id), if anything is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_child(inv: Invocation, cwd: Path, stdin=subprocess.DEVNULL) -> Outcome:
    """The command in a child Python, in its own process group, watched: killed after
    `timeout_s`, or once its group's resident memory passes `memory_limit_mb`.  Its
    peak memory is the program's own high-water mark (VmHWM, written at exit), or the
    most this watcher saw."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        peak_file = Path(tempfile.mkdtemp()) / "peak"
        proc = subprocess.Popen(
            python_command(inv),
            stdin=stdin,
            stdout=inv.stdout if inv.stdout is not None else out,
            stderr=err,
            cwd=cwd,
            env={**child_env(inv.env), "FAULTS_PEAK_FILE": str(peak_file)},
            start_new_session=True,
        )
        code, watched_peak, family, rounds = None, 0.0, {}, 0
        try:
            while True:
                rounds += 1
                if rounds % 10 == 1:  # children in sessions of their own, to end them too
                    family.update(descendants(proc.pid))
                pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    code = proc.returncode if code is None else code
                    reported = int(peak_file.read_text()) / 1024 if peak_file.exists() else 0
                    peak = max(reported, watched_peak)
                    break
                if time.monotonic() - started > inv.timeout_s:
                    code = f"timeout (killed after {inv.timeout_s:.0f} s)"
                    kill_group(proc.pid)
                    continue
                if inv.memory_limit_mb and code is None:
                    rss = group_rss_mb(proc.pid)
                    watched_peak = max(watched_peak, rss)
                    if rss > inv.memory_limit_mb:
                        code = f"killed at {rss:.0f} MB"
                        kill_group(proc.pid)
                        continue
                time.sleep(0.05)
        finally:
            kill_group(proc.pid)  # grandchildren left behind
            kill_processes(family)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Outcome(
            code,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            peak,
        )


def run_in_process(inv: Invocation, ctx) -> Outcome:
    """`rnnlab.cli.main(argv)` in this process; an escaping exception is an outcome."""
    from rnnlab.cli import main

    for key, value in inv.env.items():
        if value == "":
            ctx.monkeypatch.delenv(key, raising=False)
        else:
            ctx.monkeypatch.setenv(key, value)
    ctx.capsys.readouterr()
    started = time.monotonic()
    try:
        code = main(inv.argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException as error:  # noqa: BLE001 - an escaping exception is the finding
        code = f"raised {type(error).__name__}"
        sys.stderr.write(traceback.format_exc())
    seconds = time.monotonic() - started
    out, err = ctx.capsys.readouterr()
    return Outcome(code, out, err, seconds)


def run_invocation(inv: Invocation, ctx) -> Outcome:
    return run_child(inv, ctx.tmp) if inv.subprocess else run_in_process(inv, ctx)


# --- children watched line by line (signals, races) -------------------------------------------


class Lines:
    """A child's stdout, read by a thread, searchable while the child runs."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.closed = False
        self._cv = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            with self._cv:
                self.lines.append(line)
                self._cv.notify_all()
        with self._cv:
            self.closed = True
            self._cv.notify_all()

    def wait_for(self, pattern: str, timeout: float) -> str | None:
        deadline, seen = time.monotonic() + timeout, 0
        with self._cv:
            while True:
                for line in self.lines[seen:]:
                    if re.search(pattern, line):
                        return line
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    return None
                self._cv.wait(left)

    @property
    def text(self) -> str:
        with self._cv:
            return "".join(self.lines)


def _take_sigint():
    """Children take Ctrl-C as from a terminal, even when the tests themselves run in the
    background, where the shell ignores SIGINT and every child inherits that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Child:
    """`python -m rnnlab.cli argv` with its stdout read line by line; on exit, whatever
    is left of its process group (when it has its own) is killed."""

    def __init__(self, argv, cwd, env=None, new_session=True):
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        self.new_session = new_session
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rnnlab.cli", *argv],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=child_env(env),
            text=True,
            start_new_session=new_session,
            preexec_fn=_take_sigint,
        )
        self.lines = Lines(self.proc.stdout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        family = descendants(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.kill()
        if self.new_session:
            kill_group(self.proc.pid)
        kill_processes(family)
        self.proc.wait(timeout=10)
        self.stderr.close()

    def err(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def outcome(self, seconds: float) -> Outcome:
        code = self.proc.poll()
        code = "still running" if code is None else code
        return Outcome(code, self.lines.text, self.err(), seconds)

    def describe(self) -> str:
        return self.outcome(0).describe() + f"; stdout ends {self.lines.text[-300:]!r}"


def wait_exit(proc, seconds: float):
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


# --- checking the contract ----------------------------------------------------------------


def stderr_lines(outcome: Outcome) -> list[str]:
    return [line for line in outcome.stderr.splitlines() if line.strip()]


def check(outcome: Outcome, expect: Expect, command: str) -> None:
    """Assert that `outcome` is what `expect` and the exit-code contract say."""
    seen = outcome.describe()
    codes = expect.code if isinstance(expect.code, tuple) else (expect.code,)
    assert outcome.code in codes, f"expected exit {expect.code}; observed {seen}"
    assert "Traceback" not in outcome.stderr, f"a traceback; observed {seen}"
    if "Traceback" in outcome.stdout:
        at = outcome.stdout.index("Traceback")
        raise AssertionError(f"a traceback on stdout: {outcome.stdout[at : at + 600]!r}; {seen}")
    lines = stderr_lines(outcome)
    if outcome.code in (1, 2, 130):
        assert len(lines) == 1, f"expected one stderr line, got {len(lines)}: {lines[:5]}"
    if outcome.code == 2:
        prefix = f"rnnlab {command}: error: "
        assert lines[0].startswith(prefix), f"expected {prefix!r}...; observed {seen}"
    if outcome.code == 1:
        assert "RNNLAB_DEBUG=1" in lines[0], f"the bug line must name RNNLAB_DEBUG=1: {seen}"
    if outcome.code == 141:
        assert outcome.stderr == "", f"a closed pipe must be silent; observed {seen}"
    if expect.code != 0 and outcome.code != 0:
        line = lines[0].lower() if lines else ""
        for word in expect.says:
            assert word.lower() in line, f"the error line should say {word!r}; observed {seen}"
        if expect.says_any:
            assert any(w.lower() in line for w in expect.says_any), (
                f"the error line should say one of {expect.says_any}; observed {seen}"
            )
        if expect.matches:
            assert re.search(expect.matches, lines[0] if lines else ""), (
                f"the error line should match {expect.matches!r}; observed {seen}"
            )
    if expect.within_s is not None:
        assert outcome.seconds <= expect.within_s, f"over {expect.within_s} s; observed {seen}"
    if expect.max_rss_mb is not None:
        assert outcome.peak_rss_mb is not None and outcome.peak_rss_mb < expect.max_rss_mb, (
            f"peak memory over {expect.max_rss_mb} MB; observed {seen}"
        )


def command_of(argv: list[str]) -> str:
    return next((a for a in argv if not a.startswith("-")), "?")


def run_case(case: Case, ctx) -> Outcome | None:
    """Make the hostile input, run the command, check the outcome and the after-checks."""
    if case.run is not None:
        return case.run(case, ctx)
    inv = case.make(ctx)
    outcome = run_invocation(inv, ctx)
    log(case, outcome)
    check(outcome, case.expect, inv.data.get("command") or command_of(inv.argv))
    if case.then is not None:
        case.then(ctx, inv, outcome)
    return outcome


def log(case: Case, outcome: Outcome) -> None:
    """With FAULTS_LOG=PATH, one line per case: what it observed (for a report)."""
    if path := os.environ.get("FAULTS_LOG"):
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{case.kind}\t{case.id}\t{outcome.describe()}\n")


def leftovers(folder: Path) -> list[str]:
    """Half-written files under `folder` (temporary names of atomic writes)."""
    return sorted(
        str(p.relative_to(folder)) for p in Path(folder).rglob("*") if TEMP_NAME.search(p.name)
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """{relative path: content} of every file under `folder` (to show nothing was lost)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file() and p.name != ".rnnlab.lock"
    }


# --- hostile inputs -------------------------------------------------------------------------


def gzip_bomb(path: Path, files: dict[str, bytes], name: str, size: int) -> Path:
    """A .tar.gz of `files` plus a member `name` of `size` zero bytes: one ordinary gzip
    member (any gzip or tar reader takes it), small on disk, `size` inflated.  Built
    without holding `size` bytes: after a full flush, deflate compresses each equal
    chunk of zeros to the same bytes, so one compressed chunk is written many times."""
    chunk = 16 * 2**20
    assert size % chunk == 0 and chunk % 512 == 0
    head = io.BytesIO()
    for member, data in files.items():
        info = tarfile.TarInfo(member)
        info.size = len(data)
        head.write(info.tobuf(tarfile.USTAR_FORMAT))
        head.write(data + b"\0" * (-len(data) % 512))
    info = tarfile.TarInfo(name)
    info.size = size
    head.write(info.tobuf(tarfile.USTAR_FORMAT))
    head, tail, zeros = head.getvalue(), b"\0" * 1024, b"\0" * chunk  # tail: end of archive
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    crc = zlib.crc32(head)
    for _ in range(size // chunk):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(tail, crc)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")  # gzip header, no name
        f.write(deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH))
        block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
        for _ in range(size // chunk):
            f.write(block)
        f.write(deflate.compress(tail) + deflate.flush(zlib.Z_FINISH))
        total = len(head) + size + len(tail)
        f.write(struct.pack("<II", crc & 0xFFFFFFFF, total & 0xFFFFFFFF))
    return path


def npz_bomb(path: Path, member: str, n_items: int, others: dict[str, np.ndarray]) -> Path:
    """An .npz whose `member` declares an int32 array of `n_items` zeros, compressed
    (a few MB on disk); written in chunks, never held in memory."""
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<i4", "fortran_order": False, "shape": (n_items,)}
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(f"{member}.npy", "w", force_zip64=True) as f:
            f.write(header.getvalue())
            chunk = b"\0" * (16 * 2**20)
            left = n_items * 4
            while left:
                f.write(chunk[: min(left, len(chunk))])
                left -= min(left, len(chunk))
        for name, array in others.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=True)
            archive.writestr(f"{name}.npy", buffer.getvalue())
    return path


def rewrite_npz(path: Path, **changes) -> Path:
    """Rewrite a Keras-format npz with some arrays replaced."""
    with np.load(path, allow_pickle=True) as f:
        arrays = {name: f[name] for name in f.files}
    arrays.update(changes)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def ragged(lists) -> np.ndarray:
    """A 1-D object array of int lists, as in Keras' npz."""
    array = np.empty(len(lists), dtype=object)
    for i, item in enumerate(lists):
        array[i] = list(item)
    return array


# --- the context a case runs in --------------------------------------------------------------


@dataclass
class Ctx:
    """What a case's functions get: its folder, its cache folder, and pytest's tools."""

    tmp: Path
    monkeypatch: object
    capsys: object
    request: object

    @property
    def home(self) -> Path:
        return Path(os.environ["RNNLAB_HOME"])

    @property
    def tarball(self) -> Path:
        return self.request.getfixturevalue("tiny_tarball")

    def fixture(self, name: str):
        return self.request.getfixturevalue(name)


def can_mount_tmpfs() -> str | None:
    """None if this process may mount a tmpfs (root), else why not."""
    if os.geteuid() != 0:
        return "mounting a small tmpfs (a full disk) needs root"
    if not Path("/proc/mounts").exists():
        return "no /proc/mounts"
    return None


def mount_full_tmpfs(folder: Path, free_bytes: int, files=None) -> Path:
    """A 1 MiB tmpfs at `folder` holding `files` ({name: bytes}), then filled until about
    `free_bytes` are left."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
        timeout=30,
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    for name, data in (files or {}).items():
        (folder / name).write_bytes(data)
    spare = folder / "spare"
    spare.write_bytes(b"x" * free_bytes)
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while os.write(fd, b"x" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    spare.unlink()
    return folder


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], timeout=30, capture_output=True)
