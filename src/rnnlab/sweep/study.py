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

A search (search.py) has no grid: its study holds the search instead, and a
worker that finds nothing WAITING samples the next configuration with `ask`,
under the sweep lock, until the search has sampled its number of trials.  Each
sampled configuration has its index among them (a re-queued copy keeps it), so
the same settings sampled twice are two trials, in two run folders.
"""

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

from .identity import config_key, trial_label
from .search import Search
from .storage import JournalBackend, retry_callback

if TYPE_CHECKING:  # postgres.py imports SQLAlchemy: only when a sweep uses PostgreSQL
    from rnnlab.locks import Lock

    from .postgres import Heartbeat, PostgresBackend

TRIALS = "trials"  # the run folders, one per trial, inside the sweep folder
# Study user attrs; GRID_HASH: the grid's hash, or the search's
GRID, SEARCH, GRID_HASH = "grid", "search", "grid_hash"
# Trial user attrs
CONFIG, CONFIG_KEY, RAN_ON, RESULTS, ERROR = "config", "config_key", "ran_on", "results", "error"
SEARCH_INDEX = "search_index"  # a search's trials: which sampled configuration
# The states of a trial that ran to its end and has results, as outcomes name them
WITH_RESULTS = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned"}
MAX_REFUSED = 50  # samples in a row whose settings do not go together: the search gives up
# A FAIL trial without an ERROR attr was not failed by its trial function:
STOPPED = "its worker stopped (killed, interrupted or lost) before it finished"


@dataclass
class Claim:
    """A trial that this worker runs: hold it until complete(), fail() or give_back()."""

    trial: optuna.Trial
    config: dict
    key: str
    trial_dir: Path
    hold: "Lock | Heartbeat"  # the journal's trial lock file, or PostgreSQL's heartbeat


@dataclass(frozen=True)
class Outcome:
    """Where one configuration of the grid stands."""

    config: dict
    key: str
    state: str  # "complete", "pruned", "failed", "running", "waiting" or "not queued"
    results: dict | None  # what the trial function returned (complete or pruned)
    error: str | None  # the last failure's message (failed only)
    attempts: int  # trials of it that started, this one included
    ran_on: dict | None  # host, pid and dir (the run folder, relative to the sweep folder)


class Sweep:
    """An open sweep: its folder, grid or search, Optuna study and storage backend."""

    def __init__(self, folder: Path, name: str, grid: list[dict] | None, study, backend,
                 search: Search | None = None):  # fmt: skip
        self.folder = folder
        self.name = name
        self.grid = grid  # None for a search
        self.search = search
        self.study: optuna.Study = study
        self.backend: JournalBackend | PostgresBackend = backend

    @property
    def total(self) -> int:
        """The configurations it trains: the grid's, or as many as the search samples."""
        return len(self.grid if self.search is None else self.search)

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
        (never queued, or failed last time); returns how many were queued.  A search
        queues only its trials that failed last time: its workers sample the others."""
        with self.storage_errors(), self.backend.lock():
            self.backend.requeue_dead(self.study)
            if self.search is not None:
                return self._requeue_failed_samples()
            live = (TrialState.WAITING, TrialState.RUNNING, TrialState.COMPLETE)
            covered = {t.user_attrs.get(CONFIG_KEY) for t in self._trials(live)}
            missing = [config for config in self.grid if config_key(config) not in covered]
            for config in missing:
                attrs = {CONFIG: config, CONFIG_KEY: config_key(config)}
                trial = optuna.trial.create_trial(state=TrialState.WAITING, user_attrs=attrs)
                self.study.add_trial(trial)
        return len(missing)

    def _requeue_failed_samples(self) -> int:
        by_index = _by_search_index(self._trials(None))
        failed = [ts[-1] for ts in by_index.values() if all(t.state == TrialState.FAIL for t in ts)]
        for trial in failed:
            again = optuna.trial.create_trial(
                state=TrialState.WAITING,
                params=trial.params,
                distributions=trial.distributions,
                user_attrs={k: trial.user_attrs[k] for k in (SEARCH_INDEX, CONFIG, CONFIG_KEY)},
            )
            self.study.add_trial(again)
        return len(failed)

    def claim(self) -> Claim | None:
        """Take the first WAITING trial, or sample a search's next one; None when there
        is nothing to take."""
        with self.storage_errors(), self.backend.lock():
            self.backend.requeue_dead(self.study)
            waiting = self._trials((TrialState.WAITING,))
            if not waiting:
                return self._sample()
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
                config, index = first.user_attrs.get(CONFIG), first.user_attrs.get(SEARCH_INDEX)
                if config is None:  # a copy of a search trial whose worker died as it sampled
                    index = self._sampled() if index is None else index
                    config, _ = self._sampled_config(trial, index)
            except BaseException:
                hold.release()
                raise
            if config is None:  # refused or sampled before: finished
                hold.release()
                return self._sample()
            return self._start(trial, config, index, hold)

    def _sample(self) -> Claim | None:
        """A search's next configuration, RUNNING and held (under the sweep lock), or
        None when it has sampled them all (or this is a grid)."""
        if self.search is None:
            return None
        refused = 0
        while (index := self._sampled()) < self.search.trials:
            self.study.sampler = self.search.sampler(len(self._trials(None)))
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Heartbeat of storage")
                trial = self.study.ask(self.search.distributions())
            hold = self.backend.hold(trial._trial_id, trial.number)
            try:
                config, error = self._sampled_config(trial, index)
                if config is not None:
                    return self._start(trial, config, index, hold)
            except BaseException:
                hold.release()
                raise
            hold.release()
            refused += error is not None
            if refused == MAX_REFUSED:
                raise RnnlabError(
                    f"the searched settings rarely go together: {refused} samples in a row "
                    f"were refused, the last one: {error}; narrow the ranges or the choices"
                )
        return None

    def _sampled_config(self, trial: optuna.Trial, index: int) -> tuple[dict | None, str | None]:
        """(the configuration to train, None) of a trial just sampled, or else the trial is
        finished here: (None, why) when its settings do not go together (FAIL, and not one
        of the search's trials), (None, None) when it was sampled before (the same training
        gives the same result: it takes the earlier trial's)."""
        try:
            config = self.search.configuration(trial.params)
        except RnnlabError as error:
            trial.set_user_attr(ERROR, str(error))
            self.study.tell(trial, state=TrialState.FAIL)
            return None, str(error)
        self._label_sample(trial, config, index)
        finished = self._trials(tuple(WITH_RESULTS))
        earlier = [t for t in finished if t.user_attrs.get(CONFIG_KEY) == config_key(config)]
        if not earlier:
            return config, None
        for attr in (RESULTS, RAN_ON):
            trial.set_user_attr(attr, earlier[-1].user_attrs[attr])
        if earlier[-1].state == TrialState.PRUNED:
            self.study.tell(trial, state=TrialState.PRUNED)
        else:
            self.study.tell(trial, earlier[-1].value)
        return None, None

    def _sampled(self) -> int:
        """How many configurations the search has sampled."""
        return len(_by_search_index(self._trials(None)))

    @staticmethod
    def _label_sample(trial: optuna.Trial, config: dict, index: int) -> None:
        trial.set_user_attr(SEARCH_INDEX, index)  # first: a copy made of it keeps its place
        trial.set_user_attr(CONFIG, config)
        trial.set_user_attr(CONFIG_KEY, config_key(config))

    def _start(self, trial: optuna.Trial, config: dict, index: int | None, hold) -> Claim:
        """The claim of a trial now RUNNING and held: its run folder, recorded and made
        (trials/<label>; a search's trials/<index>-<label>, as it may sample one twice)."""
        label = trial_label(config)
        trial_dir = Path(TRIALS) / (label if index is None else f"{index:03d}-{label}")
        try:
            ran_on = {"host": socket.gethostname(), "pid": os.getpid(), "dir": str(trial_dir)}
            trial.set_user_attr(RAN_ON, ran_on)
            (self.folder / trial_dir).mkdir(parents=True, exist_ok=True)
        except BaseException:
            hold.release()
            raise
        return Claim(trial, config, config_key(config), self.folder / trial_dir, hold)

    def report(self, claim: Claim, epoch: int, val_loss: float) -> bool:
        """A search's pruning: record an epoch's validation loss; True when Optuna's
        pruner says to stop the trial there."""
        with self.storage_errors():
            claim.trial.report(-val_loss, epoch)  # the study maximizes: minus the loss
            return claim.trial.should_prune()

    def complete(self, claim: Claim, results: dict, objective: float, pruned=False) -> bool:
        """Store a finished (or pruned) trial's results; False when the trial was no
        longer this worker's (declared dead, and re-queued: the copy will complete)."""
        try:
            with self.storage_errors():
                claim.trial.set_user_attr(RESULTS, results)
                if pruned:
                    finished = self.study.tell(
                        claim.trial, state=TrialState.PRUNED, skip_if_finished=True
                    )
                else:
                    finished = self.study.tell(claim.trial, objective, skip_if_finished=True)
            return finished.state in WITH_RESULTS
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

    def unsettled(self) -> int:
        """Trials WAITING or RUNNING, and those a search has still to sample."""
        with self.storage_errors():
            count = len(self._trials((TrialState.WAITING, TrialState.RUNNING)))
            if self.search is not None:
                count += max(0, self.search.trials - self._sampled())
            return count

    def is_settled(self) -> bool:
        """Nothing to run: every worker may leave."""
        return self.unsettled() == 0

    def trials(self, states: tuple[TrialState, ...] | None = None) -> list[FrozenTrial]:
        with self.storage_errors():
            return self._trials(states)

    def outcomes(self, trials: list[FrozenTrial] | None = None) -> list[Outcome]:
        """One Outcome per configuration, in grid order (a search's: in the order
        sampled, so far), from any machine (from `trials`, all of the study's, when given)."""
        trials = self.trials() if trials is None else trials
        if self.search is not None:
            by_index = _by_search_index(t for t in trials if CONFIG in t.user_attrs)
            return [
                _outcome(by_index[i][-1].user_attrs[CONFIG], by_index[i]) for i in sorted(by_index)
            ]
        by_key: dict[str, list[FrozenTrial]] = {}
        for trial in trials:
            by_key.setdefault(trial.user_attrs.get(CONFIG_KEY), []).append(trial)
        return [_outcome(config, by_key.get(config_key(config), [])) for config in self.grid]

    def _trials(self, states) -> list[FrozenTrial]:
        return self.study.get_trials(deepcopy=False, states=states)


def _by_search_index(trials) -> dict[int, list[FrozenTrial]]:
    """A search's trials by the sampled configuration they ran (a re-queued copy with its
    original); samples whose settings were refused have no index and are left out."""
    found: dict[int, list[FrozenTrial]] = {}
    for trial in trials:
        if SEARCH_INDEX in trial.user_attrs:
            found.setdefault(trial.user_attrs[SEARCH_INDEX], []).append(trial)
    return found


def _outcome(config: dict, trials: list[FrozenTrial]) -> Outcome:
    started = [t for t in trials if t.state != TrialState.WAITING]
    by_state = {t.state: t for t in trials}  # the last trial in each state
    for state, name in [
        *WITH_RESULTS.items(),
        (TrialState.RUNNING, "running"),
        (TrialState.WAITING, "waiting"),
        (TrialState.FAIL, "failed"),
    ]:
        if state in by_state:
            trial = by_state[state]
            return Outcome(
                config=config,
                key=config_key(config),
                state=name,
                results=trial.user_attrs.get(RESULTS) if state in WITH_RESULTS else None,
                error=trial.user_attrs.get(ERROR, STOPPED) if state == TrialState.FAIL else None,
                attempts=len(started),
                ran_on=trial.user_attrs.get(RAN_ON),
            )
    return Outcome(config, config_key(config), "not queued", None, None, 0, None)
