"""Where a sweep's trials live, and the locks that make them safe to share.

Two storages, one interface (a "backend"; this module has the journal's, and
postgres.py PostgreSQL's, imported only when used: it needs SQLAlchemy):

* embedded (default): Optuna's journal file in the sweep folder, for the
  workers of one machine.  Locks are OS locks on files in the folder
  (rnnlab/locks.py), released when their process dies, however it dies.
* PostgreSQL (`postgresql://user@host:port/database`), for workers on several
  machines.  The sweep lock is an advisory lock held by a database connection
  (released when the connection ends); a trial's worker proves it is alive
  with Optuna's heartbeat.

Each backend gives the sweep three things:

* `lock()`: the sweep lock.  Enqueueing, claiming a trial and re-queueing the
  trials of dead workers all happen under it, so each happens once.
* `hold(trial_id, number)`: what a worker keeps while it runs a trial: the
  trial's lock file, or a heartbeat thread.
* `requeue_dead(study)`: marks FAIL the RUNNING trials whose worker is gone
  and queues a copy of each (`RetryHeartbeatStaleTrialCallback`: the copy keeps
  the trial's user attrs, so its configuration).  Call it under `lock()`.

and `errors()`, a context that turns the storage's failures into one-line
RnnlabErrors, and `description`, how messages and sweep.json name it.
"""

import warnings
from contextlib import contextmanager
from pathlib import Path

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from rnnlab.errors import RnnlabError
from rnnlab.locks import Lock, try_acquire

from .journal import JournalFile

JOURNAL = "journal"  # how sweep.json names the embedded storage


def retry_callback() -> RetryHeartbeatStaleTrialCallback:
    """Queues a copy (same user attrs, so same configuration) of a trial whose worker died.

    No limit on retries: a configuration that kills its worker takes one worker
    with it each time, so the workers run out before the retries do.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return RetryHeartbeatStaleTrialCallback()


class JournalBackend:
    """Optuna's journal file in the sweep folder, lock files beside it.

    The journal's append lock is one of them too: JournalFileBackend calls
    `acquire()` and `release()` on its `lock_obj`.  Optuna's own lock files
    outlive a killed worker and stall the others for a 30 s grace period; an
    OS lock dies with its holder.
    """

    def __init__(self, folder: Path):
        self.description = JOURNAL
        self._locks = folder / "locks"
        self._locks.mkdir(exist_ok=True)
        journal = JournalFile(folder / "journal.log", Lock(self._locks / "journal.lock"))
        self.optuna_storage = optuna.storages.journal.JournalStorage(journal)

    @contextmanager
    def errors(self):
        try:
            yield
        except OSError as error:
            raise storage_error(self.description, error) from None

    def close(self) -> None:
        """Nothing to close: the journal file is opened for each read and write."""

    def lock(self):
        return Lock(self._locks / "sweep.lock")  # a file of its own: thread-safe

    def hold(self, trial_id: int, number: int) -> Lock:
        """The trial's lock file, held for as long as this worker runs the trial."""
        lock = Lock(self._trial_lock_path(number))
        lock.acquire()
        return lock

    def requeue_dead(self, study: optuna.Study) -> None:
        """A RUNNING trial whose lock file nobody holds lost its worker."""
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            lock = Lock(self._trial_lock_path(trial.number))
            if not try_acquire(lock):
                continue  # its worker is alive
            try:
                study.tell(trial.number, state=TrialState.FAIL)
                retry_callback()(study, trial)
            finally:
                lock.release()

    def _trial_lock_path(self, number: int) -> Path:
        return self._locks / f"trial-{number}.lock"


def open_journal(folder: Path) -> JournalBackend:
    try:
        return JournalBackend(folder)
    except OSError as error:
        raise storage_error(f"{JOURNAL} in {folder}", error) from None


def storage_error(description: str, cause: BaseException) -> RnnlabError:
    """A failure of a sweep's storage, as one line."""
    first_line = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return RnnlabError(f"cannot use the sweep storage {description}: {first_line}")
