"""Sweeps under concurrency and failure: every configuration completes exactly once,
and a search samples exactly its number of trials.

Each test runs real worker processes on both storages: the journal file in
the sweep folder and a throwaway PostgreSQL cluster (tests/postgres.py).
The workers import this module for its trial function, `sleepy_trial`, which
appends what it does to a file: how many times each configuration's function
really ran, and how many times each worker ran its setup (this module's import).
"""

import json
import os
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from optuna.trial import TrialState

from rnnlab.child import start_python
from rnnlab.errors import RnnlabError
from rnnlab.sweep.grid import Range, applied
from rnnlab.sweep.identity import config_key
from rnnlab.sweep.opening import open_sweep
from rnnlab.sweep.run import run_sweep
from rnnlab.sweep.search import PRUNE_AFTER, PRUNE_FROM_TRIAL, Search, build
from rnnlab.sweep.study import CONFIG_KEY, ERROR, SEARCH_INDEX

RUNS_LOG = "RNNLAB_TEST_SWEEP_RUNS"  # where sleepy_trial appends, set for the workers
DIE_ONCE = "RNNLAB_TEST_SWEEP_DIE_ONCE"  # set: the first trial to start kills its worker
FAIL_ONCE = "RNNLAB_TEST_SWEEP_FAIL_ONCE"  # set: each configuration fails its first time
TRIAL_FUNCTION = "test_sweep_study:sleepy_trial"
# Short, so that tests end in seconds; 3 s spares a live worker on a busy machine.
FAST_HEARTBEAT = {"heartbeat_interval": 1, "grace_period": 3}


def _append(line: str) -> None:
    with open(os.environ[RUNS_LOG], "a") as runs:  # one short append: atomic
        runs.write(line + "\n")


if os.environ.get(RUNS_LOG):  # in a worker: its setup
    _append(f"setup - {os.getpid()}")


def sleepy_trial(config: dict, trial_dir: Path) -> dict:
    """Sleeps, writes a file in its run folder, returns a number; on request fails,
    returns nonsense, or SIGKILLs its own worker the first time."""
    key = config_key(config)
    _append(f"start {key} {os.getpid()}")
    if config.get("die") or os.environ.get(DIE_ONCE):
        first_time = Path(os.environ[RUNS_LOG] + f".died-{key if config.get('die') else 'once'}")
        if not first_time.exists():
            first_time.touch()
            os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(config.get("sleep", 0.1))
    failed_before = Path(os.environ[RUNS_LOG] + f".failed-{key}")
    if os.environ.get(FAIL_ONCE) and not failed_before.exists():
        failed_before.touch()
        raise ValueError("this configuration fails the first time")
    if config.get("fail"):
        raise ValueError("this configuration always fails\nsecond line")
    (trial_dir / "result.txt").write_text(json.dumps(config))
    _append(f"end {key} {os.getpid()}")
    if config.get("nonsense"):
        return {"objective": "high"}
    return {"objective": config["seed"] / 10, "history": [{"epoch": 1, "val_loss": 0.5}]}


def grid(models=("gru", "lstm", "rnn"), seeds=4, **settings) -> list[dict]:
    return [{"model": m, "seed": s, **settings} for m in models for s in range(seeds)]


@pytest.fixture(params=["journal", "postgresql"])
def storage(request) -> str | None:
    """None (the journal file), or the URL of a fresh PostgreSQL database."""
    return None if request.param == "journal" else request.getfixturevalue("postgres_url")


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """The log of what sleepy_trial did; workers import this module from tests/."""
    monkeypatch.setenv(RUNS_LOG, str(tmp_path / "runs.log"))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    return Runs(tmp_path / "runs.log")


class Runs:
    def __init__(self, path: Path):
        self.path = path

    def lines(self) -> list[tuple[str, str, int]]:
        if not self.path.exists():
            return []
        return [
            (what, key, int(pid))
            for what, key, pid in (line.split() for line in self.path.read_text().splitlines())
        ]

    def count(self, what: str) -> Counter:
        """How many times each configuration key did `what` ("start" or "end")."""
        return Counter(key for done, key, _ in self.lines() if done == what)

    def setups_per_worker(self) -> Counter:
        return Counter(pid for done, _, pid in self.lines() if done == "setup")

    def trial_pids(self) -> set[int]:
        return {pid for done, _, pid in self.lines() if done == "start"}


def complete_trials(folder: Path, configs: list[dict], storage) -> Counter:
    """COMPLETE trials per configuration key, as the storage has them."""
    with open_sweep(folder, configs, storage=storage, **FAST_HEARTBEAT) as sweep:
        return Counter(t.user_attrs[CONFIG_KEY] for t in sweep.trials((TrialState.COMPLETE,)))


def each_once(configs: list[dict]) -> Counter:
    return Counter(config_key(config) for config in configs)


PARENT = """
import json, sys
from rnnlab.sweep.run import run_sweep
from rnnlab.sweep.search import Search
folder, configs, storage, jobs, trial_function = sys.argv[1:]
configs = json.loads(configs)  # a grid, or a search
configs = Search.from_json(configs) if isinstance(configs, dict) else configs
try:
    run_sweep(folder, configs, trial_function, jobs=int(jobs),
              storage=storage or None, heartbeat_interval=1, grace_period=3)
except KeyboardInterrupt:
    sys.exit(130)
"""


def start_parent(folder: Path, configs, storage, jobs: int) -> subprocess.Popen:
    """`rnnlab sweep` as a separate program (what another terminal or machine runs), on a
    grid or a Search."""
    configs = configs.to_json() if hasattr(configs, "to_json") else configs
    arguments = (str(folder), json.dumps(configs), storage or "", str(jobs), TRIAL_FUNCTION)
    return start_python(PARENT, *arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_three_commands_started_at_once_complete_each_configuration_once(tmp_path, storage, runs):
    configs = grid()
    parents = [start_parent(tmp_path / "sweep", configs, storage, jobs=1) for _ in range(3)]
    for parent in parents:
        _, errors = parent.communicate(timeout=120)
        assert parent.returncode == 0, errors.decode()
        assert errors == b""
    assert complete_trials(tmp_path / "sweep", configs, storage) == each_once(configs)
    assert runs.count("end") == each_once(configs)  # each function ran to its end once
    assert runs.count("start") == each_once(configs)
    setups = runs.setups_per_worker()
    assert set(setups.values()) == {1} and runs.trial_pids() <= set(setups)
    assert len(list((tmp_path / "sweep" / "trials").glob("*/result.txt"))) == len(configs)


def test_a_worker_killed_mid_trial_is_replaced_and_every_configuration_completes_once(
    tmp_path, storage, runs
):
    configs = grid(seeds=3) + [{"model": "gru", "seed": 9, "die": True}]
    events = []
    result = run_sweep(
        tmp_path / "sweep",
        configs,
        TRIAL_FUNCTION,
        jobs=3,
        storage=storage,
        on_event=events.append,
        **FAST_HEARTBEAT,
    )
    doomed = config_key(configs[-1])
    assert len(result.worker_problems) == 1 and "killed by SIGKILL" in result.worker_problems[0]
    assert complete_trials(tmp_path / "sweep", configs, storage) == each_once(configs)
    assert runs.count("end") == each_once(configs)
    assert runs.count("start")[doomed] == 2  # killed, then run again by another worker
    assert [o.state for o in result.outcomes] == ["complete"] * len(configs)
    assert result.outcomes[-1].attempts == 2
    states = Counter(event.state for event in events)
    assert states == {"complete": len(configs), "requeued": 1}
    assert events[-1].progress.done == len(configs) == events[-1].progress.total
    requeued = next(event for event in events if event.state == "requeued")
    assert config_key(requeued.config) == doomed


def test_ctrl_c_stops_every_worker_within_10_s_and_the_next_run_continues(tmp_path, storage, runs):
    configs = grid(models=("gru",), seeds=3, sleep=1.0)
    parent = start_parent(tmp_path / "sweep", configs, storage, jobs=2)
    deadline = time.monotonic() + 60
    while len(runs.count("start")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(runs.count("start")) == 2, "the workers never started their trials"
    interrupted = time.monotonic()
    parent.send_signal(signal.SIGINT)
    output, errors = parent.communicate(timeout=30)
    assert time.monotonic() - interrupted < 10
    assert parent.returncode == 130
    assert (output, errors) == (b"", b"")  # no traceback from the parent or its workers
    for pid in runs.trial_pids():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not runs.count("end")  # both trials were interrupted

    result = run_sweep(tmp_path / "sweep", configs, TRIAL_FUNCTION, jobs=2, storage=storage)
    assert [o.state for o in result.outcomes] == ["complete"] * 3
    assert complete_trials(tmp_path / "sweep", configs, storage) == each_once(configs)
    assert runs.count("end") == each_once(configs)


def test_when_every_worker_died_the_run_says_so_and_the_next_run_finishes(tmp_path, runs):
    doomed = {"model": "gru", "seed": 9, "die": True}  # as after a power cut
    configs = grid(models=("gru",), seeds=2) + [doomed]
    with pytest.raises(RnnlabError, match="1 of 3 configurations left: worker 0 was killed by"):
        run_sweep(tmp_path / "sweep", configs, TRIAL_FUNCTION)
    result = run_sweep(tmp_path / "sweep", configs, TRIAL_FUNCTION)
    assert [o.state for o in result.outcomes] == ["complete"] * 3
    assert complete_trials(tmp_path / "sweep", configs, None) == each_once(configs)
    assert runs.count("start")[config_key(doomed)] == 2


def test_a_failing_trial_fails_its_configuration_and_only_the_next_run_retries_it(tmp_path, runs):
    configs = grid(models=("gru",), seeds=2) + [
        {"model": "bad", "seed": 0, "fail": True},
        {"model": "odd", "seed": 0, "nonsense": True},
    ]
    events = []
    result = run_sweep(tmp_path / "sweep", configs, TRIAL_FUNCTION, on_event=events.append)
    first, _, bad, odd = result.outcomes
    assert bad.state == "failed" and bad.error == "ValueError: this configuration always fails"
    assert odd.error == "the trial function's results have no number under 'objective'"
    assert first.state == "complete" and first.results["objective"] == 0.0
    assert (result.progress.done, result.progress.failed, result.progress.total) == (2, 2, 4)
    assert result.worker_problems == []
    failed = [event for event in events if event.state == "failed"]
    assert sorted(event.config["model"] for event in failed) == ["bad", "odd"]

    again = run_sweep(tmp_path / "sweep", configs, TRIAL_FUNCTION)
    starts = runs.count("start")
    assert starts[config_key(configs[2])] == 2  # retried once by the second run
    assert starts[config_key(configs[0])] == 1  # finished trials never run again
    assert again.outcomes[2].attempts == 2 and again.outcomes[2].state == "failed"
    with open_sweep(tmp_path / "sweep", configs) as sweep:
        assert all(ERROR in t.user_attrs for t in sweep.trials((TrialState.FAIL,)))


def test_an_unimportable_trial_function_is_a_one_line_error(tmp_path, runs):
    with pytest.raises(RnnlabError, match="expected 'module:function'"):
        run_sweep(tmp_path / "sweep", grid(), "no colon")
    with pytest.raises(RnnlabError, match="cannot load the trial function 'nowhere:run'") as error:
        run_sweep(tmp_path / "sweep", grid(), "nowhere:run", jobs=2)
    assert "\n" not in str(error.value) and "rerun" in str(error.value)


def test_a_grid_that_differs_from_the_sweeps_is_refused_with_a_way_on(tmp_path, storage):
    with open_sweep(tmp_path / "a", grid(), name="mine", storage=storage):
        pass
    # On PostgreSQL, as from another machine: another folder, the same study.
    elsewhere = tmp_path / ("a" if storage is None else "b")
    with pytest.raises(RnnlabError, match="started with another grid.*another --name"):
        open_sweep(elsewhere, grid(seeds=5), name="mine", storage=storage)
    with open_sweep(elsewhere, list(reversed(grid())), name="mine", storage=storage) as again:
        assert again.grid == grid()  # the same grid in another order is the same sweep
    with pytest.raises(RnnlabError, match="holds the sweep 'mine'"):
        open_sweep(tmp_path / "a", grid(seeds=5), storage=storage)


def test_a_folder_that_is_not_a_sweep_folder_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RnnlabError, match="not a sweep folder"):
        open_sweep(tmp_path, grid())
    with pytest.raises(RnnlabError, match="cannot use .* as a sweep folder"):
        open_sweep(tmp_path / "notes.txt", grid())
    with pytest.raises(RnnlabError, match="no sweep named 'other'"):
        open_sweep(tmp_path / "empty", name="other")


@pytest.mark.parametrize(
    "url, message",
    [
        ("postgresql://u@127.0.0.1:notaport/db", "not a storage URL"),
        ("mysql://u@127.0.0.1/db", "unsupported storage mysql://"),
        ("postgresql://u@127.0.0.1:1/db", "Connection refused"),
        ("postgresql://u@127.0.0.1:99999/db", "invalid port"),
    ],
)
def test_a_wrong_storage_url_is_a_one_line_error_and_leaves_no_folder(tmp_path, url, message):
    with pytest.raises(RnnlabError, match=message) as error:
        open_sweep(tmp_path / "sweep", grid(), storage=url)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "sweep").exists()


def test_a_server_that_never_answers_is_an_error_within_10_s(tmp_path):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql://u@127.0.0.1:{silent.getsockname()[1]}/db"
        started = time.monotonic()
        with pytest.raises(RnnlabError, match="timeout") as error:
            open_sweep(tmp_path / "sweep", grid(), storage=url)
    assert time.monotonic() - started < 10
    assert "\n" not in str(error.value)


def test_a_missing_database_is_a_one_line_error(tmp_path, postgres_server):  # noqa: F811
    missing = postgres_server.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(RnnlabError, match='database "no_such_database" does not exist'):
        open_sweep(tmp_path / "sweep", grid(), storage=missing)


def test_claims_from_many_threads_at_once_take_each_trial_once(tmp_path, storage):
    """Claims race harder from threads than from processes: the lock and ask() agree."""
    configs = grid(models=("gru", "lstm"), seeds=10)
    folder = tmp_path / "sweep"
    with open_sweep(folder, configs, storage=storage, **FAST_HEARTBEAT) as sweep:
        sweep.enqueue_missing()
    claimed = []

    def claim_all():
        with open_sweep(folder, configs, storage=storage, **FAST_HEARTBEAT) as sweep:
            while (claim := sweep.claim()) is not None:
                claimed.append(claim.key)
                sweep.complete(claim, {"objective": 1.0}, 1.0)

    claimers = [threading.Thread(target=claim_all) for _ in range(4)]
    for claimer in claimers:
        claimer.start()
    for claimer in claimers:
        claimer.join()
    assert Counter(claimed) == each_once(configs)
    assert complete_trials(folder, configs, storage) == each_once(configs)


# A search: Optuna's TPE samples real training settings; the trials only sleep.
SPACE = {"units": {"low": 1, "high": 64}, "model": {"choices": ["gru", "lstm"]}}


def search(trials=8, prune=False) -> Search:
    return Search({"seed": 42}, SPACE, trials, prune)


def lossy_trial(config: dict, trial_dir: Path, prune=None) -> dict:
    """Five epochs whose validation loss is units / 10: wider is worse, every epoch."""
    loss = applied(config)["units"] / 10
    for epoch in range(1, 6):
        if prune is not None and prune(epoch, loss):
            return {"objective": -loss, "pruned": True, "pruned_at_epoch": epoch}
    return {"objective": -loss}


def test_three_commands_searching_at_once_sample_exactly_its_trials(tmp_path, storage, runs):
    plan = search(trials=8)
    parents = [start_parent(tmp_path / "sweep", plan, storage, jobs=1) for _ in range(3)]
    for parent in parents:
        _, errors = parent.communicate(timeout=120)
        assert parent.returncode == 0, errors.decode()
    with open_sweep(tmp_path / "sweep", plan, storage=storage, **FAST_HEARTBEAT) as sweep:
        outcomes = sweep.outcomes()
        indexes = Counter(t.user_attrs[SEARCH_INDEX] for t in sweep.trials())
    assert [o.state for o in outcomes] == ["complete"] * 8
    assert indexes == {index: 1 for index in range(8)}  # each sampled once, by one worker
    # A repeated sample takes the first one's result, unless that one was still running
    trained = sum(runs.count("end").values())
    assert sum(runs.count("start").values()) == trained
    assert len({outcome.key for outcome in outcomes}) <= trained <= 8
    for settings in (applied(outcome.config) for outcome in outcomes):
        assert 1 <= settings["units"] <= 64 and settings["model"] in ("gru", "lstm")
        assert settings["seed"] == 42
    assert len(list((tmp_path / "sweep" / "trials").glob("*/result.txt"))) == trained


def test_a_worker_killed_mid_search_is_replaced_and_the_search_still_has_its_trials(
    tmp_path, storage, runs, monkeypatch
):
    monkeypatch.setenv(DIE_ONCE, "1")
    result = run_sweep(
        tmp_path / "sweep", search(trials=6), TRIAL_FUNCTION, jobs=3, storage=storage,
        **FAST_HEARTBEAT,
    )  # fmt: skip
    assert len(result.worker_problems) == 1 and "killed by SIGKILL" in result.worker_problems[0]
    assert [o.state for o in result.outcomes] == ["complete"] * 6
    assert sorted(o.attempts for o in result.outcomes) == [1] * 5 + [2]
    started = sum(runs.count("start").values())  # the killed one ran again; a repeat may not
    assert len({o.key for o in result.outcomes}) + 1 <= started <= 7
    assert result.progress.done == result.progress.total == 6


def test_pruning_stops_the_trials_worse_than_the_median_and_one_worker_repeats_itself(
    tmp_path, runs
):
    def run(folder):
        result = run_sweep(tmp_path / folder, search(trials=12, prune=True),
                           "test_sweep_study:lossy_trial")  # fmt: skip
        return result.outcomes

    outcomes = run("first")
    pruned = [o for o in outcomes if o.state == "pruned"]
    assert pruned and len(pruned) < len(outcomes)
    for index, outcome in enumerate(outcomes):
        if outcome.state != "pruned":
            continue
        assert outcome.results["pruned_at_epoch"] == PRUNE_AFTER  # the earliest allowed
        earlier = [applied(o.config)["units"] for o in outcomes[:index] if o.state == "complete"]
        assert len(earlier) >= PRUNE_FROM_TRIAL
        assert applied(outcome.config)["units"] > statistics.median(earlier)
    again = run("second")  # one worker, the same search: the same trials
    assert [(o.config, o.state) for o in again] == [(o.config, o.state) for o in outcomes]


def test_a_search_that_differs_from_the_sweeps_is_refused(tmp_path):
    with open_sweep(tmp_path / "sweep", search(trials=4), name="mine"):
        pass
    with pytest.raises(Exception, match="started with another search.*another --name"):
        open_sweep(tmp_path / "sweep", search(trials=5), name="mine")
    with pytest.raises(Exception, match="started with a search"):
        open_sweep(tmp_path / "sweep", [{"model": "gru", "seed": 1}], name="mine")


def test_a_search_skips_settings_that_do_not_go_together_and_reuses_a_repeated_sample(
    tmp_path, runs
):
    # The book's gru refuses a dropout (it goes with 0 only): gru-pool's samples count
    plan = build({"model": ["gru", "gru-pool"], "dropout": [Range(0.0, 0.5)]}, [42], 4, False)
    result = run_sweep(tmp_path / "a", plan, TRIAL_FUNCTION)
    assert [(o.state, o.config["model"]) for o in result.outcomes] == [("complete", "gru-pool")] * 4
    with open_sweep(tmp_path / "a", plan) as sweep:
        refused = [t for t in sweep.trials((TrialState.FAIL,)) if ERROR in t.user_attrs]
    assert refused and all("mask_zero and dropout" in t.user_attrs[ERROR] for t in refused)
    assert sum(runs.count("start").values()) == 4

    two_choices = Search({"seed": 42}, {"model": {"choices": ["gru", "lstm"]}}, 5)
    result = run_sweep(tmp_path / "b", two_choices, TRIAL_FUNCTION)
    assert [o.state for o in result.outcomes] == ["complete"] * 5
    trained = {config_key(o.config) for o in result.outcomes}
    assert sum(runs.count("start").values()) == 4 + len(trained) <= 4 + 2  # each trained once
    by_key = {}
    for outcome in result.outcomes:  # a repeat has its first trial's result and run folder
        first = by_key.setdefault(outcome.key, outcome)
        assert (outcome.results, outcome.ran_on) == (first.results, first.ran_on)


def test_a_search_tries_its_failed_trials_again_in_the_next_run(tmp_path, runs, monkeypatch):
    monkeypatch.setenv(FAIL_ONCE, "1")
    first = run_sweep(tmp_path / "sweep", search(trials=3), TRIAL_FUNCTION)
    assert [o.state for o in first.outcomes] == ["failed"] * 3
    again = run_sweep(tmp_path / "sweep", search(trials=3), TRIAL_FUNCTION)
    assert [(o.state, o.attempts) for o in again.outcomes] == [("complete", 2)] * 3
    assert [o.config for o in again.outcomes] == [o.config for o in first.outcomes]
