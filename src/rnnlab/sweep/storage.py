"""Where a sweep's trials live, and the locks that make them safe to share.

Two storages, one interface (a "backend"; this module has the journal's, and
postgres.py PostgreSQL's, imported only when used: it needs SQLAlchemy):

* embedded (default): Optuna's journal file in the sweep folder, for the
  workers of one machine.  Locks are `flock`s on files in the folder; the
  kernel releases them when their process dies, however it dies.
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

import fcntl
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from rnnlab.errors import RnnlabError

from .journal import JournalFile

JOURNAL = "journal"  # how sweep.json names the embedded storage


class FileLock:
    """An exclusive `flock` on a file, created if missing.

    Also serves Optuna's journal as its append lock: JournalFileBackend calls
    `acquire()` and `release()` on its `lock_obj` (the interface of
    optuna.storages.journal._file.BaseJournalFileLock, which Optuna does not
    export).  Optuna's own lock files outlive a killed worker and stall the
    others for a 30 s grace period; a flock dies with its holder.
    """

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the file releases its flock

    @contextmanager
    def held(self):
        self.acquire()
        try:
            yield
        finally:
            self.release()


def retry_callback() -> RetryHeartbeatStaleTrialCallback:
    """Queues a copy (same user attrs, so same configuration) of a trial whose worker died.

    No limit on retries: a configuration that kills its worker takes one worker
    with it each time, so the workers run out before the retries do.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return RetryHeartbeatStaleTrialCallback()


class JournalBackend:
    """Optuna's journal file in the sweep folder, flocks beside it."""

    def __init__(self, folder: Path):
        self.description = JOURNAL
        self._locks = folder / "locks"
        self._locks.mkdir(exist_ok=True)
        journal = JournalFile(folder / "journal.log", FileLock(self._locks / "journal.lock"))
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
        return FileLock(self._locks / "sweep.lock").held()  # a file of its own: thread-safe

    def hold(self, trial_id: int, number: int) -> FileLock:
        """The trial's lock file, held for as long as this worker runs the trial."""
        lock = FileLock(self._trial_lock_path(number))
        lock.acquire()
        return lock

    def requeue_dead(self, study: optuna.Study) -> None:
        """A RUNNING trial whose lock file nobody holds lost its worker."""
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            lock = FileLock(self._trial_lock_path(trial.number))
            if not lock.acquire(blocking=False):
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
