"""A throwaway PostgreSQL cluster on 127.0.0.1 for the sweep tests.

The cluster lives in a temporary folder (data, unix socket, log), listens on a
free loopback port, trusts every connection (it is loopback-only and lives for
one test session) and is stopped and removed at the end of the session, even
when a test fails.
`initdb` refuses to run as root, so as root the cluster runs as the `postgres`
user; any other user runs it as itself.  Where no cluster can be started the
tests that need one are skipped with the reason, except under CI=true, where a
missing database is a failure rather than a silently skipped test.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

BINARIES_GLOB = "/usr/lib/postgresql/*/bin"


class ClusterUnavailable(Exception):
    """Why no cluster could be started here."""


def binaries() -> Path:
    """The newest PostgreSQL's bin folder that has initdb and pg_ctl."""
    found = [
        Path(folder)
        for folder in glob.glob(BINARIES_GLOB)
        if all((Path(folder) / tool).exists() for tool in ("initdb", "pg_ctl", "postgres"))
    ]
    if not found:
        raise ClusterUnavailable(f"no PostgreSQL binaries in {BINARIES_GLOB}")
    return max(found, key=lambda folder: _version(folder.parent.name))


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _as_cluster_owner() -> list[str]:
    """The command prefix that runs a PostgreSQL tool as a user it accepts."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ClusterUnavailable("running as root, and runuser is missing to become 'postgres'")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterUnavailable("running as root, and there is no 'postgres' user") from None
    return [runuser, "-u", "postgres", "--"]


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(what: str, command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        last_line = ((done.stderr or done.stdout).strip().splitlines() or ["no output"])[-1]
        raise ClusterUnavailable(f"{what} failed: {last_line}")


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a cluster; yield the URL of its `postgres` database; stop and remove it."""
    bin_folder = binaries()
    as_owner = _as_cluster_owner()
    # Under /tmp: short enough for a unix socket path, and the postgres user can reach it.
    folder = Path(tempfile.mkdtemp(prefix="rnnlab-pg-", dir="/tmp"))
    data = folder / "data"
    pg_ctl = [*as_owner, str(bin_folder / "pg_ctl"), "-D", str(data)]
    try:
        if as_owner:
            shutil.chown(folder, user="postgres", group="postgres")
        initdb = [*as_owner, str(bin_folder / "initdb"), "-D", str(data)]
        _run("initdb", [*initdb, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        port = _free_loopback_port()
        settings = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
        _run(
            "pg_ctl start",
            [*pg_ctl, "-o", settings, "-l", str(folder / "server.log"), "-w", "start"],
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def new_database(server_url: str) -> str:
    """Create an empty database on the cluster; return its URL."""
    import psycopg

    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def skip_or_fail(reason: str):
    """Skip, except in CI (CI=true), where a test that cannot run must fail."""
    message = f"PostgreSQL cannot be started here: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: this is a failure, not a skip)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a throwaway cluster's `postgres` database, for the whole session."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        skip_or_fail("its driver is not installed: pip install -e '.[test,postgres]'")
    try:
        with throwaway_cluster() as url:
            yield url
    except ClusterUnavailable as why:
        skip_or_fail(str(why))


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh database per test, so that tests never see each other's studies."""
    return new_database(postgres_server)
