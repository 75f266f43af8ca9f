"""A sweep: a grid of configurations as one Optuna study, each configuration completed once.

The study's user attrs hold the grid and its hash, so a worker that joins the
sweep knows the grid, and a command that names the sweep with another grid is
told so.  Each configuration becomes a WAITING trial whose user attrs hold the
configuration and its key (a hash of its canonical JSON).  Workers take
trials with `Study.ask`, whose WAITING->RUNNING change is atomic in both
storages (journal: the first RUNNING record in the log wins; PostgreSQL: a
`SELECT ... FOR UPDATE` of the trial's row), and they enqueue, take and
re-queue trials only under the sweep lock (see storage.py), so that:

* a configuration is enqueued only when no trial of it is WAITING, RUNNING or
  COMPLETE, so once, however many workers start at the same moment;
* a trial whose worker died is marked FAIL and re-queued as a copy with the
  same configuration, once, before anything is enqueued;
* a worker holds its trial (lock file or heartbeat) from before the trial is
  RUNNING, so a live worker's trial never looks dead;
* a trial that was taken from a worker declared dead cannot be completed by
  it: Optuna refuses to change a finished trial.
"""

import fcntl
import json
import os
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial, TrialState

from rnnlab.errors import RnnlabError
from rnnlab.files import write_json

from .identity import check_grid, config_key, default_name, grid_hash, trial_label
from .storage import JOURNAL, FileLock, JournalBackend, open_journal, retry_callback

if TYPE_CHECKING:  # postgres.py imports SQLAlchemy: only when a sweep uses PostgreSQL
    from .postgres import Heartbeat, PostgresBackend

MARKER = "sweep.json"  # what makes a folder a sweep folder
TRIALS = "trials"  # the run folders, one per trial, inside the sweep folder
# Study user attrs
GRID, GRID_HASH = "grid", "grid_hash"
# Trial user attrs
CONFIG, CONFIG_KEY, RAN_ON, RESULTS, ERROR = "config", "config_key", "ran_on", "results", "error"
# A FAIL trial without an ERROR attr was not failed by its trial function:
STOPPED = "its worker stopped (killed, interrupted or lost) before it finished"


@dataclass
class Claim:
    """A trial that this worker runs: hold it until complete(), fail() or give_back()."""

    trial: optuna.Trial
    config: dict
    key: str
    trial_dir: Path
    hold: "FileLock | Heartbeat"  # the journal's trial lock file, or PostgreSQL's heartbeat


@dataclass(frozen=True)
class Outcome:
    """Where one configuration of the grid stands."""

    config: dict
    key: str
    state: str  # "complete", "failed", "running", "waiting" or "not queued"
    results: dict | None  # what the trial function returned (complete only)
    error: str | None  # the last failure's message (failed only)
    attempts: int  # trials of it that started, this one included
    ran_on: dict | None  # host, pid and dir (the run folder, relative to the sweep folder)


class Sweep:
    """An open sweep: its folder, grid, Optuna study and storage backend."""

    def __init__(self, folder: Path, name: str, grid: list[dict], study, backend):
        self.folder = folder
        self.name = name
        self.grid = grid
        self.study: optuna.Study = study
        self.backend: JournalBackend | PostgresBackend = backend

    def __enter__(self) -> "Sweep":
        return self

    def __exit__(self, *exception) -> None:
        self.close()

    def close(self) -> None:
        """Close the storage's connections (PostgreSQL; a journal keeps none open)."""
        self.backend.close()

    def storage_errors(self):
        return self.backend.errors()

    def enqueue_missing(self) -> int:
        """Queue each configuration that has no WAITING, RUNNING or COMPLETE trial
        (never queued, or failed last time); returns how many were queued."""
        with self.storage_errors(), self.backend.lock():
            self.backend.requeue_dead(self.study)
            live = (TrialState.WAITING, TrialState.RUNNING, TrialState.COMPLETE)
            covered = {t.user_attrs.get(CONFIG_KEY) for t in self._trials(live)}
            missing = [config for config in self.grid if config_key(config) not in covered]
            for config in missing:
                attrs = {CONFIG: config, CONFIG_KEY: config_key(config)}
                trial = optuna.trial.create_trial(state=TrialState.WAITING, user_attrs=attrs)
                self.study.add_trial(trial)
        return len(missing)

    def claim(self) -> Claim | None:
        """Take the first WAITING trial, or None when there is none."""
        with self.storage_errors(), self.backend.lock():
            self.backend.requeue_dead(self.study)
            waiting = self._trials((TrialState.WAITING,))
            if not waiting:
                return None
            first = waiting[0]
            # Held before the trial is RUNNING (FrozenTrial._trial_id: Optuna has no public id).
            hold = self.backend.hold(first._trial_id, first.number)
            try:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="Heartbeat of storage")
                    trial = self.study.ask()  # pops the first WAITING trial: `first`
                if trial.number != first.number:
                    raise RnnlabError(
                        f"another program takes trials from the sweep {self.name!r} "
                        "without its lock: run only rnnlab's workers on it"
                    )
                key = first.user_attrs[CONFIG_KEY]
                trial_dir = Path(TRIALS) / trial_label(first.user_attrs[CONFIG])
                ran_on = {"host": socket.gethostname(), "pid": os.getpid(), "dir": str(trial_dir)}
                trial.set_user_attr(RAN_ON, ran_on)
            except BaseException:
                hold.release()
                raise
        (self.folder / trial_dir).mkdir(parents=True, exist_ok=True)
        return Claim(trial, first.user_attrs[CONFIG], key, self.folder / trial_dir, hold)

    def complete(self, claim: Claim, results: dict, objective: float) -> bool:
        """Store a finished trial's results; False when the trial was no longer
        this worker's (declared dead, and re-queued: the copy will complete)."""
        try:
            with self.storage_errors():
                claim.trial.set_user_attr(RESULTS, results)
                finished = self.study.tell(claim.trial, objective, skip_if_finished=True)
            return finished.state == TrialState.COMPLETE
        except UpdateFinishedTrialError:
            return False
        finally:
            claim.hold.release()

    def fail(self, claim: Claim, error: str) -> None:
        """The trial function failed: FAIL, with its one-line error; not re-queued."""
        try:
            with self.storage_errors():
                claim.trial.set_user_attr(ERROR, error)
                self.study.tell(claim.trial, state=TrialState.FAIL, skip_if_finished=True)
        except UpdateFinishedTrialError:
            pass  # declared dead meanwhile: its copy is queued
        finally:
            claim.hold.release()

    def give_back(self, claim: Claim) -> None:
        """The worker was stopped: FAIL, and a copy goes back to the queue."""
        try:
            with self.storage_errors(), self.backend.lock():
                running = {t.number for t in self._trials((TrialState.RUNNING,))}
                if claim.trial.number in running:  # else declared dead: already re-queued
                    failed = self.study.tell(claim.trial, state=TrialState.FAIL)
                    retry_callback()(self.study, failed)
        finally:
            claim.hold.release()

    def is_settled(self) -> bool:
        """Nothing WAITING and nothing RUNNING: every worker may leave."""
        with self.storage_errors():
            return not self._trials((TrialState.WAITING, TrialState.RUNNING))

    def trials(self, states: tuple[TrialState, ...] | None = None) -> list[FrozenTrial]:
        with self.storage_errors():
            return self._trials(states)

    def outcomes(self, trials: list[FrozenTrial] | None = None) -> list[Outcome]:
        """One Outcome per configuration, in grid order, from any machine
        (from `trials`, all of the study's, when given)."""
        by_key: dict[str, list[FrozenTrial]] = {}
        for trial in self.trials() if trials is None else trials:
            by_key.setdefault(trial.user_attrs.get(CONFIG_KEY), []).append(trial)
        return [_outcome(config, by_key.get(config_key(config), [])) for config in self.grid]

    def _trials(self, states) -> list[FrozenTrial]:
        return self.study.get_trials(deepcopy=False, states=states)


def _outcome(config: dict, trials: list[FrozenTrial]) -> Outcome:
    started = [t for t in trials if t.state != TrialState.WAITING]
    by_state = {t.state: t for t in trials}  # the last trial in each state
    for state, name in [
        (TrialState.COMPLETE, "complete"),
        (TrialState.RUNNING, "running"),
        (TrialState.WAITING, "waiting"),
        (TrialState.FAIL, "failed"),
    ]:
        if state in by_state:
            trial = by_state[state]
            complete = state == TrialState.COMPLETE
            return Outcome(
                config=config,
                key=config_key(config),
                state=name,
                results=trial.user_attrs.get(RESULTS) if complete else None,
                error=trial.user_attrs.get(ERROR, STOPPED) if state == TrialState.FAIL else None,
                attempts=len(started),
                ran_on=trial.user_attrs.get(RAN_ON),
            )
    return Outcome(config, config_key(config), "not queued", None, None, 0, None)


def open_sweep(
    folder: Path | str,
    grid: list[dict] | None = None,
    *,
    name: str | None = None,
    storage: str | None = None,
    heartbeat_interval: int = 10,
    grace_period: int = 60,
) -> Sweep:
    """Start or continue the sweep `name` (default: from the grid's hash) in `folder`.

    With a grid, the sweep is created if it is new, and must have been started
    with the same grid if it is not.  Without one (a worker joining), the sweep
    must exist and its grid is read from the study.  `storage`: None for the
    journal file in the folder, or a postgresql:// URL (with heartbeats every
    `heartbeat_interval` s; a trial without one for `grace_period` s is
    re-queued).  Raises RnnlabError for anything the user can fix: a folder
    that is not a sweep folder or holds another sweep, a malformed or
    unreachable storage (within 10 s), another grid under the same name.
    """
    folder = Path(folder)
    if grid is not None:
        grid = check_grid(grid)
        name = name or default_name(grid)
    elif name is None:
        raise ValueError("joining a sweep needs its name")
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no INFO line per trial
    postgres = None
    if storage is not None:  # connect before the folder is marked with this storage
        from .postgres import open_postgres

        joining = grid is None  # the sweep, so the tables, exist
        postgres = open_postgres(storage, name, heartbeat_interval, grace_period, not joining)
    try:
        _claim_folder(folder, name, postgres.description if postgres else JOURNAL)
        backend = postgres or open_journal(folder)
        study, grid = _load_or_create(backend, name, grid)
    except BaseException:
        if postgres:
            postgres.close()
        raise
    return Sweep(folder, name, grid, study, backend)


def _load_or_create(backend, name: str, grid: list[dict] | None):
    """The study, and its grid."""
    with backend.errors(), backend.lock():
        if grid is None:
            try:
                study = optuna.load_study(study_name=name, storage=backend.optuna_storage)
            except KeyError:
                raise RnnlabError(f"no sweep named {name!r} in {backend.description}") from None
        else:
            study = optuna.create_study(
                study_name=name,
                storage=backend.optuna_storage,
                direction="maximize",  # each trial reports its best validation accuracy
                load_if_exists=True,
            )
            _check_or_store_grid(study, grid)
        return study, study.user_attrs[GRID]


def _check_or_store_grid(study: optuna.Study, grid: list[dict]) -> None:
    recorded = study.user_attrs.get(GRID_HASH)
    if recorded is None:
        study.set_user_attr(GRID, grid)
        study.set_user_attr(GRID_HASH, grid_hash(grid))
    elif recorded != grid_hash(grid):
        count = len(study.user_attrs.get(GRID, []))
        raise RnnlabError(
            f"the sweep {study.study_name!r} was started with another grid ({count} "
            f"configurations; these options give {len(grid)}): rerun with the options "
            "that started it to continue it, or pass another --name to start a new sweep"
        )


def read_marker(folder: Path) -> dict:
    """The sweep and storage a sweep folder's sweep.json names."""
    try:
        recorded = json.loads((Path(folder) / MARKER).read_text())
        return {"sweep": recorded["sweep"], "storage": recorded["storage"]}
    except (OSError, ValueError, KeyError, TypeError):
        raise RnnlabError(f"{folder} is not a sweep folder: {MARKER} is unreadable") from None


def _claim_folder(folder: Path, name: str, storage: str) -> None:
    """Make `folder` this sweep's folder, or check that it is (sweep.json names the
    sweep and its storage); under a lock on the folder, as several workers may
    start at once."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError as error:
        raise RnnlabError(f"cannot use {folder} as a sweep folder: {error.strerror}") from None
    marker = folder / MARKER
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        if not marker.exists():
            # Only run folders left by an earlier sweep may be there: their finished
            # trainings are adopted by the trials of the same configurations.
            if any(path.name != TRIALS for path in folder.iterdir()):
                raise RnnlabError(
                    f"{folder} is not a sweep folder (it has files but no {MARKER}): "
                    "choose a new or empty folder"
                )
            write_json(marker, {"sweep": name, "storage": storage})
        recorded = read_marker(folder)
        recorded_name, recorded_storage = recorded["sweep"], recorded["storage"]
    finally:
        os.close(descriptor)
    if recorded_name != name:
        raise RnnlabError(
            f"{folder} holds the sweep {recorded_name!r}, not {name!r}: rerun with the "
            "options that started it to continue it, or choose another folder"
        )
    if recorded_storage != storage:
        raise RnnlabError(
            f"the sweep in {folder} keeps its trials in {recorded_storage}, not {storage}: "
            "pass that storage to continue it, or choose another folder"
        )
