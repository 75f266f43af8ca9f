"""The worker processes that run a sweep's trials (started by run.py's `run_sweep`).

Each worker imports the trial function once (its module's import is the
worker's setup: reading data, compiling), then takes trial after trial until
nothing is WAITING or RUNNING anywhere in the sweep: while other workers'
trials run, it waits, to take over any whose worker dies.

The trial function, named "module:function" so that a worker can import it:

    def run_trial(config: dict, trial_dir: Path, prune=None) -> dict

returns JSON values with a finite number under "objective" (what the sweep
maximizes, e.g. the best validation accuracy), stored with the trial.  In a
search with pruning (search.py) it is also given `prune(epoch, val_loss)`, to
call after each epoch: True means stop, and return results with "pruned": true.  A trial
function that raises fails its trial, with the error's first line stored; the
configuration is not retried in this run, and the next run of the command
tries it again.  Trials whose worker died or was stopped are always re-queued.
"""

import importlib
import json
import math
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from rnnlab.errors import RnnlabError

from .identity import canonical_json
from .opening import open_sweep
from .study import Sweep

EXIT_SETTLED, EXIT_ERROR, EXIT_STOPPED = 0, 1, 3
WORKER_CODE = "from rnnlab.sweep.workers import worker_main; worker_main()"


class StopRequest:
    """The worker's SIGINT and SIGTERM handler.

    It interrupts the trial function (KeyboardInterrupt) when one is running,
    else only asks the loop to stop at its next step: a signal never cuts a
    write to the storage in half.
    """

    def __init__(self):
        self.requested = False
        self.trial_running = False

    def __call__(self, signum, frame):
        self.requested = True
        if self.trial_running:
            self.trial_running = False
            raise KeyboardInterrupt


def worker_main() -> None:
    """The entry point of a worker process: `python -c WORKER_CODE`, its spec on stdin."""
    stop = StopRequest()
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    spec = json.loads(sys.stdin.read())
    os.environ.update(spec["environment"])  # before the trial function's module is imported
    try:
        run_trial = load_trial_function(spec["trial_function"])
        with open_sweep(
            spec["folder"],
            name=spec["name"],
            storage=spec["storage"],
            heartbeat_interval=spec["heartbeat_interval"],
            grace_period=spec["grace_period"],
        ) as sweep:
            code = work(sweep, run_trial, stop, spec["poll_interval"], spec["parent_pid"])
    except Exception as error:
        traceback.print_exc()
        print(_one_line(error), flush=True)  # the log's last line, for the parent
        code = EXIT_ERROR
    sys.exit(code)


def work(sweep: Sweep, run_trial, stop: StopRequest, poll_interval: float, parent_pid: int) -> int:
    """Run trials until the sweep is settled (EXIT_SETTLED), or until asked to
    stop or orphaned (EXIT_STOPPED)."""
    while not stop.requested and os.getppid() == parent_pid:
        claim = sweep.claim()
        if claim is None:
            if sweep.is_settled():
                return EXIT_SETTLED
            time.sleep(poll_interval)  # others' trials run: take over any whose worker dies
            continue
        if stop.requested:
            sweep.give_back(claim)
            break
        prune = _pruning(sweep, claim)
        outcome, value = _call_trial(run_trial, claim.config, claim.trial_dir, stop, prune)
        if outcome == "interrupted":
            sweep.give_back(claim)
            break
        if outcome == "raised":
            traceback.print_exception(value)
            sweep.fail(claim, _one_line(value))
        elif problem := _results_problem(value):
            sweep.fail(claim, problem)
        elif not sweep.complete(claim, value, float(value["objective"]), value.get("pruned")):
            print(f"trial {claim.trial.number} was declared dead meanwhile: its copy will run")
    return EXIT_STOPPED


def _pruning(sweep: Sweep, claim):
    """The trial's `prune(epoch, val_loss)` in a search with pruning, else None."""
    if sweep.search is None or not sweep.search.prune:
        return None
    return lambda epoch, val_loss: sweep.report(claim, epoch, val_loss)


def _call_trial(run_trial, config: dict, trial_dir: Path, stop: StopRequest, prune=None):
    """("returned", results), ("raised", exception) or ("interrupted", None)."""
    options = {"prune": prune} if prune else {}
    try:
        stop.trial_running = True
        try:
            return "returned", run_trial(dict(config), trial_dir, **options)
        finally:
            stop.trial_running = False
    except KeyboardInterrupt:
        return "interrupted", None
    except Exception as error:
        return "raised", error


def _results_problem(results) -> str | None:
    """What is wrong with a trial function's return value, if anything."""
    if not isinstance(results, dict):
        return f"the trial function returned {type(results).__name__}, not a dict"
    objective = results.get("objective")
    if not isinstance(objective, int | float) or isinstance(objective, bool):
        return "the trial function's results have no number under 'objective'"
    if not math.isfinite(objective):
        return f"the trial function's objective is {objective}"
    try:
        canonical_json(results)
    except (TypeError, ValueError) as error:
        return f"the trial function's results are not JSON: {error}"
    return None


def load_trial_function(name: str):
    """The function that "module:function" names; RnnlabError if there is none."""
    module_name, function_name = split_function_name(name)
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise RnnlabError(f"cannot load the trial function {name!r}: {error}") from None
    if not callable(function):
        raise RnnlabError(f"the trial function {name!r} is not a function")
    return function


def split_function_name(name: str) -> tuple[str, str]:
    module_name, _, function_name = name.partition(":")
    if not module_name or not function_name.isidentifier():
        raise RnnlabError(f"trial function {name!r}: expected 'module:function'")
    return module_name, function_name


def _one_line(error: BaseException) -> str:
    """An error's first line, with its type unless it is a user's mistake (RnnlabError)."""
    first = (str(error).strip().splitlines() or [""])[0]
    if isinstance(error, RnnlabError):
        return first
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
