"""PostgreSQL as a sweep's storage, for workers on several machines.

Optuna's RDBStorage keeps the trials; each running trial's worker records a
heartbeat, and a trial without one for `grace_period` seconds is failed and
re-queued.  The sweep lock is a PostgreSQL advisory lock, held by a
connection of its own: the server releases it when that connection ends,
however its process ended.  See storage.py for the backend interface.
"""

import hashlib
import threading
import warnings
from contextlib import contextmanager, suppress

import optuna
import sqlalchemy
from optuna.exceptions import ExperimentalWarning, StorageInternalError

from rnnlab.errors import RnnlabError

from .storage import retry_callback, storage_error

# libpq applies its connect timeout to each address of a host name in turn
# ("localhost" can be two): 4 s keeps a dead server's error within 10 s.
CONNECT_TIMEOUT_SECONDS = 4
# A machine that loses power does not close its connections: the server finds
# out by TCP keepalives, with these within about 30 s, and then ends the
# session, releasing its locks (the default would take two hours).
SERVER_KEEPALIVES = (
    "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
)
POSTGRES_SCHEMES = ("postgresql", "postgres")


class PostgresBackend:
    """Optuna's RDBStorage with heartbeats, and an advisory lock per sweep."""

    def __init__(
        self,
        url: str,
        study_name: str,
        heartbeat_interval: int,
        grace_period: int,
        may_create_tables: bool,
    ):
        parsed = _postgres_url(url)
        self.description = parsed.render_as_string(hide_password=True)
        self.heartbeat_interval = heartbeat_interval
        self._lock_key = _lock_key(f"rnnlab sweep {study_name}")
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, "options": SERVER_KEEPALIVES}
        with self.errors():
            # A connection of its own for the lock, never pooled: closing it ends
            # the session, which releases the lock even if unlocking failed.
            self._engine = sqlalchemy.create_engine(
                parsed, connect_args=connect_args, poolclass=sqlalchemy.pool.NullPool
            )
            # Optuna creates its tables on first use, and PostgreSQL can fail two
            # CREATE TABLEs of one name at once: one at a time.  Workers joining a
            # sweep find the tables there and need not wait for each other.
            schema_lock = _lock_key("rnnlab sweep schema") if may_create_tables else None
            with self._advisory_lock(schema_lock), warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)  # heartbeat_interval
                self.rdb = optuna.storages.RDBStorage(
                    parsed.render_as_string(hide_password=False),
                    engine_kwargs={"connect_args": connect_args, "pool_pre_ping": True},
                    heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period,
                    heartbeat_stale_trial_callback=retry_callback(),
                )
        self.optuna_storage = self.rdb

    @contextmanager
    def errors(self):
        try:
            yield
        except (sqlalchemy.exc.SQLAlchemyError, StorageInternalError) as error:
            cause = getattr(error, "orig", None) or error.__cause__ or error
            raise storage_error(self.description, cause) from None
        except ImportError as error:  # the driver
            raise RnnlabError(
                f"cannot use the sweep storage {self.description}: {error} "
                "(install the PostgreSQL driver: pip install 'rnnlab[postgres]')"
            ) from None

    def close(self) -> None:
        self.rdb.remove_session()
        self.rdb.engine.dispose()  # RDBStorage.engine: its connection pool

    def lock(self):
        return self._advisory_lock(self._lock_key)

    def hold(self, trial_id: int, number: int) -> "Heartbeat":
        return Heartbeat(self.rdb, trial_id, self.heartbeat_interval)

    def requeue_dead(self, study: optuna.Study) -> None:
        """A RUNNING trial without a heartbeat for `grace_period` seconds lost its worker."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)  # then calls the retry callback

    @contextmanager
    def _advisory_lock(self, key: int | None):
        if key is None:
            yield
            return
        with self._engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": key})
            yield  # leaving closes the connection, which releases the lock


class Heartbeat:
    """Records a trial's heartbeat now, then every `interval` seconds until released.

    Optuna only runs its heartbeat thread inside `Study.optimize`; a sweep
    claims trials with `ask`, so it runs its own, with the public
    `RDBStorage.record_heartbeat`.
    """

    def __init__(self, rdb: optuna.storages.RDBStorage, trial_id: int, interval: int):
        self._rdb = rdb
        self._trial_id = trial_id
        self._stopped = threading.Event()
        rdb.record_heartbeat(trial_id)
        self._thread = threading.Thread(target=self._beat, args=(interval,), daemon=True)
        self._thread.start()

    def _beat(self, interval: int) -> None:
        while not self._stopped.wait(interval):
            # The database is away: beat again later, or be declared dead.
            with suppress(sqlalchemy.exc.SQLAlchemyError):
                self._rdb.record_heartbeat(self._trial_id)

    def release(self) -> None:
        self._stopped.set()
        self._thread.join()


def open_postgres(
    url: str, study_name: str, heartbeat_interval: int, grace_period: int, may_create_tables: bool
) -> PostgresBackend:
    if heartbeat_interval < 1 or grace_period <= heartbeat_interval:
        raise ValueError("need 1 <= heartbeat_interval < grace_period (whole seconds)")
    return PostgresBackend(url, study_name, heartbeat_interval, grace_period, may_create_tables)


def _postgres_url(url: str) -> sqlalchemy.engine.URL:
    """A parsed postgresql:// URL, with psycopg (3) as its driver unless it names one."""
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        raise RnnlabError(
            f"not a storage URL: {url!r} (expected postgresql://user@host:port/database)"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in POSTGRES_SCHEMES:
        raise RnnlabError(
            f"unsupported storage {backend}://: use postgresql://user@host:port/database, "
            "or no storage for a journal file in the sweep folder"
        )
    return parsed.set(drivername=f"postgresql+{driver or 'psycopg'}")


def _lock_key(text: str) -> int:
    """A signed 64-bit advisory lock key for a text."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)
