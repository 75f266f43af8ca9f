"""Opening a sweep: its folder (marked by sweep.json), its storage and its Optuna study.

The first command of a sweep creates the study and stores its grid or search
in it; every later command, on any machine, must give the same one, and a
worker joining reads it from there.  Each folder holds one sweep, in one
storage, so that two sweeps never mix their run folders.
"""

import json
from pathlib import Path

import optuna

from rnnlab.errors import RnnlabError
from rnnlab.files import write_json
from rnnlab.locks import Lock

from .identity import check_grid, default_name, grid_hash
from .search import Search
from .storage import JOURNAL, open_journal
from .study import GRID, GRID_HASH, RESULTS, SEARCH, TRIALS, Sweep

MARKER = "sweep.json"  # what makes a folder a sweep folder
FOLDER_LOCK = ".sweep.lock"  # held while a command makes or checks the marker
DATA_HASH = "data_content_hash"  # study user attr: the content hash of the data it trains on


def open_sweep(
    folder: Path | str,
    grid: list[dict] | Search | None = None,
    *,
    name: str | None = None,
    storage: str | None = None,
    heartbeat_interval: int = 10,
    grace_period: int = 60,
    data_hash: str | None = None,
) -> Sweep:
    """Start or continue the sweep `name` (default: from the grid's hash) in `folder`.

    With a grid (or a Search), the sweep is created if it is new, and must have
    been started with the same grid (or search) if it is not.  Without one (a
    worker joining), the sweep must exist and its grid or search is read from
    the study.  `storage`: None for the journal file in the folder, or a
    postgresql:// URL (with heartbeats every `heartbeat_interval` s; a trial
    without one for `grace_period` s is re-queued).  Raises RnnlabError for
    anything the user can fix: a folder that is not a sweep folder or holds
    another sweep, a malformed or unreachable storage (within 10 s), another
    grid under the same name, or with `data_hash` (the content hash of the data
    its trials train on) a sweep begun on other data: a finished trial counts only
    for the data it was trained on.
    """
    folder = Path(folder)
    if grid is None and name is None:
        raise ValueError("joining a sweep needs its name")
    if grid is not None and not isinstance(grid, Search):
        grid = check_grid(grid)
    name = name or sweep_name(grid)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no INFO line per trial
    postgres = None
    if storage is not None:  # connect before the folder is marked with this storage
        from .postgres import open_postgres

        joining = grid is None  # the sweep, so the tables, exist
        postgres = open_postgres(storage, name, heartbeat_interval, grace_period, not joining)
    try:
        _claim_folder(folder, name, postgres.description if postgres else JOURNAL)
        backend = postgres or open_journal(folder)
        study = _load_or_create(backend, name, grid, data_hash)
    except BaseException:
        if postgres:
            postgres.close()
        raise
    if SEARCH in study.user_attrs:
        search = Search.from_json(study.user_attrs[SEARCH])
        study.pruner = search.pruner()  # the sampler is set for each sample (Sweep._sample)
        return Sweep(folder, name, None, study, backend, search)
    return Sweep(folder, name, study.user_attrs[GRID], study, backend)


def sweep_name(grid: list[dict] | Search) -> str:
    """A sweep's default name: grid- or search- and a hash of what it trains."""
    return f"search-{grid.hash()[:12]}" if isinstance(grid, Search) else default_name(grid)


def _load_or_create(backend, name: str, grid, data_hash: str | None) -> optuna.Study:
    with backend.errors(), backend.lock():
        if grid is None:
            try:
                return optuna.load_study(study_name=name, storage=backend.optuna_storage)
            except KeyError:
                raise RnnlabError(f"no sweep named {name!r} in {backend.description}") from None
        study = optuna.create_study(
            study_name=name,
            storage=backend.optuna_storage,
            direction="maximize",  # each trial reports its best validation accuracy
            load_if_exists=True,
        )
        if isinstance(grid, Search):
            _check_or_store(study, SEARCH, grid.to_json(), grid.hash(), "search")
        else:
            _check_or_store(study, GRID, grid, grid_hash(grid), "grid")
        if data_hash is not None:
            _check_or_store_data(study, data_hash)
        return study


def _check_or_store_data(study: optuna.Study, data_hash: str) -> None:
    """Record the data a new sweep trains on, or check that a rerun gives the same (for
    a sweep begun before the data was recorded, its finished trials' data)."""
    recorded = study.user_attrs.get(DATA_HASH)
    if recorded is None:
        results = [t.user_attrs.get(RESULTS) for t in study.get_trials(deepcopy=False)]
        trained_on = {r["data"].get("content_hash") for r in results if _has_data(r)}
        recorded = next(iter(trained_on - {data_hash}), None)
        if recorded is None:
            study.set_user_attr(DATA_HASH, data_hash)
            return
    if recorded != data_hash:
        raise RnnlabError(
            f"the sweep {study.study_name!r} trains on other data (content hash "
            f"{recorded[:12]}, this --data: {data_hash[:12]}): pass the --data that started "
            "it to continue it, or another --name (and --out) to start a sweep on this data"
        )


def _check_or_store(study: optuna.Study, attr: str, plan, plan_hash: str, what: str) -> None:
    """Store the grid or search of a new sweep, or check it is the one it was started with."""
    recorded = study.user_attrs.get(GRID_HASH)
    if recorded is None:
        study.set_user_attr(attr, plan)
        study.set_user_attr(GRID_HASH, plan_hash)
    elif recorded != plan_hash:
        if attr not in study.user_attrs:
            detail = "a grid" if what == "search" else "a search"
        elif what == "grid":
            count = len(study.user_attrs[GRID])
            detail = f"another grid ({count} configurations; these options give {len(plan)})"
        else:
            detail = "another search"
        raise RnnlabError(
            f"the sweep {study.study_name!r} was started with {detail}: rerun with the "
            "options that started it to continue it, or pass another --name to start a new "
            "sweep"
        )


def _has_data(results) -> bool:
    return isinstance(results, dict) and isinstance(results.get("data"), dict)


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
    lock = Lock(folder / FOLDER_LOCK)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except OSError as error:
        raise RnnlabError(f"cannot use {folder} as a sweep folder: {error.strerror}") from None
    marker = folder / MARKER
    try:
        if not marker.exists():
            # Only run folders left by an earlier sweep may be there: their finished
            # trainings are adopted by the trials of the same configurations.
            if any(path.name not in (TRIALS, FOLDER_LOCK) for path in folder.iterdir()):
                raise RnnlabError(
                    f"{folder} is not a sweep folder (it has files but no {MARKER}): "
                    "choose a new or empty folder"
                )
            write_json(marker, {"sweep": name, "storage": storage})
        recorded = read_marker(folder)
        recorded_name, recorded_storage = recorded["sweep"], recorded["storage"]
    finally:
        lock.release()
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
