"""Fault injection, start-up: stop signals at any moment, the environment a command meets.

A stop signal (Ctrl-C, SIGTERM) at any moment of a command's start-up ends it with
130 and one line, never a crash, an "Exception ignored in ..." or a prediction
printed as if nothing happened (the KeyboardInterrupt once raised inside JAX's gc
callback, where Python swallows it).  Another Keras backend, a terminal that cannot
show Korean and a GPU that is not there are one-line errors or plain output.
Rows of CASES run through tests/faults.py, as in test_faults_cli.py.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faults import Case, Ctx, Expect, Invocation, child_env, leftovers, run_case
from helpers import aclimdb_files, tiny_config, write_tarball

# Python's own start-up, before rnnlab's first line runs, takes about 40 ms here: a
# signal then ends the interpreter as Python's defaults do (nothing of rnnlab has run).
DELAYS_S = (0.15, 0.3, 0.45, 0.6, 0.8, 1.0, 1.3, 1.7, 2.2, 3.0)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A finished tiny run (trained once, in this process) and a JAX cache for children."""
    from rnnlab.train import train

    folder = tmp_path_factory.mktemp("faults-startup")
    tiny = write_tarball(folder / "tiny.tar.gz", aclimdb_files())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_HOME", str(folder / "home"))
        run = train(tiny_config(tiny, epochs=1), folder / "finished", verbose=0).path
    return {"run": run, "tiny": tiny, "jax": folder / "jax-cache"}


@pytest.fixture
def ctx(tmp_path, monkeypatch, capsys, request, shared):
    monkeypatch.delenv("RNNLAB_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(shared["jax"]))
    return Ctx(tmp_path, monkeypatch, capsys, request)


def started(argv, cwd, env=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rnnlab.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env=child_env(env),
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )


@pytest.mark.parametrize("delay", DELAYS_S)
def test_a_stop_signal_at_any_moment_of_start_up_ends_with_130(delay, ctx, shared):
    """`rnnlab predict RUN good` takes a few seconds, most of them starting Keras and JAX
    and loading the model; SIGINT or SIGTERM at each of these moments: 130 and one line
    (or the prediction, when it came after the command ended), nothing left behind."""
    signum = signal.SIGINT if DELAYS_S.index(delay) % 2 else signal.SIGTERM
    proc = started(["predict", str(shared["run"]), "good"], ctx.tmp)
    try:
        time.sleep(delay)
        try:
            os.kill(proc.pid, signum)
            sent = True
        except ProcessLookupError:
            sent = False
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    err = err.decode("utf-8", "replace")
    seen = f"{signal.Signals(signum).name} after {delay} s: exit {proc.returncode}, stderr {err!r}"
    assert "Exception ignored" not in err and "Traceback" not in err, seen
    if sent and proc.returncode != 0:
        assert proc.returncode == 130, seen
        assert err.splitlines() == ["rnnlab predict: error: interrupted; what finished is kept"]
    else:  # it had printed its prediction and ended before the signal came
        assert proc.returncode == 0 and (b"positive" in out or b"negative" in out), seen
    assert not leftovers(shared["run"]), leftovers(shared["run"])


def child_python(code: str, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
        env=child_env(),
    )  # fmt: skip


def test_a_signal_inside_a_gc_callback_is_raised_where_it_can_be():
    """The root of the start-up failures, without JAX: a signal that comes while a gc
    callback runs (where Python swallows exceptions) still stops the program, silently."""
    code = """
import gc, os, signal, time
from rnnlab.cli import stopping
stopping.raise_pending()  # the import's deferral ends, as in main()
stopping.install()
def callback(phase, info):
    if phase == "start":
        os.kill(os.getpid(), signal.SIGTERM)
        sum(range(1000))  # the handler runs here, inside the callback
gc.callbacks.append(callback)
try:
    gc.collect()
    gc.callbacks.remove(callback)
    time.sleep(5)  # the signal comes again (within 10 ms) and raises here
    print("went on")
except KeyboardInterrupt:
    print("stopped", stopping.received == signal.SIGTERM)
"""
    done = child_python(code)
    assert done.stdout.split() == ["stopped", "True"], (done.stdout, done.stderr)
    assert "Exception ignored" not in done.stderr, done.stderr


def test_a_signal_inside_a_destructor_is_raised_after_it():
    """Anywhere else Python swallows it (a `__del__`, a weakref callback), the same:
    the swallowed KeyboardInterrupt is delivered again, and nothing is printed."""
    code = """
import os, signal, time
from rnnlab.cli import stopping
stopping.raise_pending()
stopping.install()
class Resource:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        sum(range(1000))  # the handler runs here: its exception is swallowed
try:
    Resource()  # dropped at once, so __del__ runs here
    time.sleep(5)
    print("went on")
except KeyboardInterrupt:
    print("stopped")
"""
    done = child_python(code)
    assert done.stdout.strip() == "stopped", (done.stdout, done.stderr)
    assert done.stderr == "", done.stderr


def test_a_signal_while_importing_is_raised_when_the_import_ends():
    """Inside `deferred()` (Keras and JAX importing) a signal waits for the block's end."""
    code = """
import os, signal
from rnnlab.cli import stopping
stopping.raise_pending()
stopping.install()
steps = []
try:
    with stopping.deferred():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):
            sum(range(100))
        steps.append("import done")
    steps.append("went on")
except KeyboardInterrupt:
    steps.append("stopped")
print(",".join(steps))
"""
    done = child_python(code)
    assert done.stdout.strip() == "import done,stopped", (done.stdout, done.stderr)


# --- the environment ---------------------------------------------------------------------


def predict(ctx, *argv, **inv) -> Invocation:
    return Invocation(["predict", str(ctx.fixture("shared")["run"]), *argv], **inv)


def backend(name):
    return lambda ctx: Invocation(["data", "--data", "x.tar.gz"], env={"KERAS_BACKEND": name})


def ascii_terminal(ctx) -> Invocation:
    return predict(
        ctx, "좋은 영화 정말 재미있다", subprocess=True, env={"PYTHONIOENCODING": "ascii"}
    )


def escaped_korean(ctx, inv, outcome) -> None:
    assert "\\uc88b\\uc740" in outcome.stdout, outcome.stdout  # 좋은, escaped


def no_gpu(ctx) -> Invocation:
    if Path("/dev/nvidia0").exists() or Path("/dev/nvidiactl").exists():
        pytest.skip("this machine has a GPU")
    return predict(ctx, "good", "--device", "gpu", subprocess=True)


CASES = [
    Case("keras-backend-torch", "environment", "KERAS_BACKEND=torch rnnlab data",
         "Keras told to run on PyTorch", Expect(2, says=("KERAS_BACKEND", "jax")),
         make=backend("torch")),
    Case("keras-backend-tensorflow", "environment", "KERAS_BACKEND=tensorflow rnnlab data",
         "Keras told to run on TensorFlow", Expect(2, says=("KERAS_BACKEND", "jax")),
         make=backend("tensorflow")),
    Case("keras-backend-bogus", "environment", "KERAS_BACKEND=bogus rnnlab data",
         "a backend that does not exist", Expect(2, says=("KERAS_BACKEND", "jax")),
         make=backend("bogus")),
    Case("ascii-terminal-korean-review", "environment",
         "PYTHONIOENCODING=ascii rnnlab predict RUN '좋은 영화 ...'",
         "a terminal that can show ASCII only, a Korean review", Expect(0),
         make=ascii_terminal, then=escaped_korean),
    Case("device-gpu-without-gpu", "environment", "rnnlab predict RUN good --device gpu",
         "a machine without a GPU", Expect(2, says=("GPU", "--device cpu")), make=no_gpu),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fault(case, ctx):
    run_case(case, ctx)
