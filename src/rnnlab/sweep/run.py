"""`run_sweep`: runs a sweep with worker processes on this machine, and reports progress.

It opens or creates the sweep, queues what is missing, starts `jobs` workers
as fresh Pythons (never forks: the caller may have imported JAX; see
workers.py for what each does), turns each finished trial into an event, and
returns when its workers have left.  On Ctrl-C it stops them (SIGTERM, then
SIGKILL: all gone within 10 s) and raises KeyboardInterrupt; their unfinished
trials go back to the queue, and running the same command again continues.
Workers run in sessions of their own, so Ctrl-C reaches only the parent,
which stops them; their output goes to log files in the sweep folder
(logs/), never to the terminal.
"""

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from optuna.trial import FrozenTrial

from rnnlab.child import start_python
from rnnlab.errors import RnnlabError

from .opening import open_sweep
from .study import CONFIG, ERROR, RAN_ON, RESULTS, WITH_RESULTS, Outcome, Sweep
from .workers import EXIT_STOPPED, WORKER_CODE, split_function_name

STOP_GRACE_SECONDS = 6  # after SIGTERM; then SIGKILL, so that all are gone within 10 s
LOGS = "logs"  # the workers' output, in the sweep folder


@dataclass(frozen=True)
class Progress:
    """The sweep as a whole, for a progress bar."""

    done: int  # configurations with a COMPLETE (or PRUNED) trial
    failed: int  # configurations whose trial function failed (not retried in this run)
    total: int  # configurations in the grid, or a search's trials
    elapsed: float  # seconds since this run started
    settled_before: int  # done + failed when this run started

    @property
    def seconds_left(self) -> float | None:
        """From this run's pace; None until a trial has finished in it."""
        finished = self.done + self.failed - self.settled_before
        if finished <= 0:
            return None
        return self.elapsed / finished * (self.total - self.done - self.failed)


@dataclass(frozen=True)
class TrialFinished:
    """A trial finished, on any machine."""

    number: int  # Optuna's trial number
    config: dict
    # "complete", "pruned"; "failed" (its function raised); "requeued" (its worker stopped)
    state: str
    results: dict | None
    error: str | None
    ran_on: dict | None  # host, pid and dir (the run folder, relative to the sweep folder)
    progress: Progress


@dataclass(frozen=True)
class SweepResult:
    outcomes: list[Outcome]  # one per configuration, in grid order
    progress: Progress
    worker_problems: list[str]  # workers that died or failed, though the sweep got done


def run_sweep(
    folder: Path | str,
    grid: list[dict],
    trial_function: str,
    *,
    jobs: int = 1,
    name: str | None = None,
    storage: str | None = None,
    heartbeat_interval: int = 10,
    grace_period: int = 60,
    on_event: Callable[[TrialFinished], None] | None = None,
    poll_interval: float = 0.5,
    worker_environment: dict[str, str] | None = None,
    data_hash: str | None = None,
) -> SweepResult:
    """Run (or continue) a sweep with `jobs` worker processes on this machine.

    Returns when this machine's workers have left: every configuration is then
    complete or failed, unless workers died (see SweepResult.worker_problems).
    Raises RnnlabError for a bad folder, storage, grid or trial function name,
    or when every worker stopped before the sweep was settled (the message
    says why; rerunning continues); KeyboardInterrupt after stopping the workers.
    `data_hash`: the content hash of the data the trials train on (a sweep begun on
    other data is refused, see open_sweep).
    """
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    split_function_name(trial_function)  # a malformed name fails here, not in each worker
    sweep = open_sweep(
        folder,
        grid,
        name=name,
        storage=storage,
        heartbeat_interval=heartbeat_interval,
        grace_period=grace_period,
        data_hash=data_hash,
    )
    spec = {  # for the workers: how to join this sweep
        "folder": str(sweep.folder),
        "name": sweep.name,
        "storage": storage,
        "heartbeat_interval": heartbeat_interval,
        "grace_period": grace_period,
        "trial_function": trial_function,
        "parent_pid": os.getpid(),
        "poll_interval": poll_interval,
        "environment": worker_environment or {},  # e.g. RNNLAB_DATA: this machine's copy
    }
    with sweep:
        sweep.enqueue_missing()
        progress, workers = _run_workers(sweep, spec, jobs, on_event, poll_interval)
        outcomes = sweep.outcomes()
    problems = [worker.problem() for worker in workers if worker.process.returncode != 0]
    unsettled = [o for o in outcomes if o.state not in ("complete", "pruned", "failed")]
    if problems and unsettled:
        raise RnnlabError(
            f"the sweep stopped with {len(unsettled)} of {len(outcomes)} configurations left: "
            f"{problems[-1]}; rerun the command to continue it"
        )
    return SweepResult(outcomes, progress, problems)


def _run_workers(sweep: Sweep, spec: dict, jobs: int, on_event, poll_interval: float):
    """Start workers, report until all have left; stop them on any exception (Ctrl-C)."""
    watch = _Watch(sweep)
    workers: list[_Worker] = []
    try:
        for index in range(min(jobs, sweep.unsettled())):
            workers.append(_Worker.start(sweep.folder, spec, index))
        while any(worker.process.poll() is None for worker in workers):
            watch.report(on_event)
            time.sleep(poll_interval)
        return watch.report(on_event), workers
    except BaseException:
        _stop(workers)
        raise


class _Watch:
    """Turns the study's finished trials into TrialFinished events, each once."""

    def __init__(self, sweep: Sweep):
        self.sweep = sweep
        self.started = time.monotonic()
        trials = sweep.trials()
        self.seen = {trial.number for trial in trials if trial.state.is_finished()}
        self.settled_before = sum(self._done_and_failed(trials))

    def report(self, on_event) -> Progress:
        trials = self.sweep.trials()
        done, failed = self._done_and_failed(trials)
        elapsed = time.monotonic() - self.started
        progress = Progress(done, failed, self.sweep.total, elapsed, self.settled_before)
        for trial in trials:
            new = trial.state.is_finished() and trial.number not in self.seen
            # a search's samples whose settings did not go together have no CONFIG: no event
            if new and CONFIG in trial.user_attrs:
                self.seen.add(trial.number)
                if on_event is not None:
                    on_event(_event(trial, progress))
        return progress

    def _done_and_failed(self, trials: list[FrozenTrial]) -> tuple[int, int]:
        states = [outcome.state for outcome in self.sweep.outcomes(trials)]
        return states.count("complete") + states.count("pruned"), states.count("failed")


def _event(trial: FrozenTrial, progress: Progress) -> TrialFinished:
    if trial.state in WITH_RESULTS:
        state = WITH_RESULTS[trial.state]
    else:
        state = "failed" if ERROR in trial.user_attrs else "requeued"
    return TrialFinished(
        number=trial.number,
        config=trial.user_attrs[CONFIG],
        state=state,
        results=trial.user_attrs.get(RESULTS) if trial.state in WITH_RESULTS else None,
        error=trial.user_attrs.get(ERROR) if state == "failed" else None,
        ran_on=trial.user_attrs.get(RAN_ON),
        progress=progress,
    )


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, folder: Path, spec: dict, index: int) -> "_Worker":
        log = folder / LOGS / f"worker-{socket.gethostname()}-{os.getpid()}-{index}.log"
        log.parent.mkdir(exist_ok=True)
        with open(log, "ab") as output:
            process = start_python(
                WORKER_CODE,
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the parent only, which stops them
            )
        # On stdin, not the command line, where `ps` would show a storage URL's password.
        with process.stdin:
            process.stdin.write(json.dumps(spec).encode())
        return cls(index, process, log)

    def problem(self) -> str:
        code = self.process.returncode
        if code < 0:
            return f"worker {self.index} was killed by {signal.Signals(-code).name}"
        if code == EXIT_STOPPED:
            return f"worker {self.index} was stopped by a signal"
        lines = self.log.read_text(errors="replace").strip().splitlines()
        return f"worker {self.index} failed: {lines[-1] if lines else f'exit code {code}'}"


def _stop(workers: list[_Worker]) -> None:
    """SIGTERM each worker, SIGKILL those still there after STOP_GRACE_SECONDS."""
    with _interrupts_ignored():
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for worker in workers:
            try:
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()


@contextmanager
def _interrupts_ignored():
    """A second Ctrl-C must not cut the stopping of the workers short."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
