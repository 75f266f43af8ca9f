"""Fault injection, run folders: files tampered with or mixed up, and memory bounds.

A run folder's files are checked against each other before use (rnnlab/runcheck.py):
preprocessing.json against config.json, best.keras against the architecture
config.json names, a resume state against the model it would fill.  Each mismatch is
a one-line error (exit 2) saying what to do, never predictions from a mismatched
pair; a NaN in metrics.json is shown as missing, with a note.  A model archive that
would inflate to gigabytes is refused before it is inflated, and the memory
estimate counts the embedding's output.  Rows of CASES run through tests/faults.py.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from faults import Case, Ctx, Expect, Invocation, check, child_env, run_case, run_in_process
from helpers import aclimdb_files, tiny_config, write_tarball

TINY = ["--num-words", "40", "--maxlen", "30", "--units", "4", "--embedding-dim", "4"]
TINY += ["--batch-size", "8"]
NEEDS_MEMORY = r"\d[\d,.]*\s*GB"


def killed_training(data: Path, out: Path, units: int, home: Path) -> subprocess.Popen:
    """A training of 100,000 epochs, to be killed once it wrote a resume state."""
    argv = ["train", "--data", str(data), *TINY[:4], "--units", str(units), *TINY[6:]]
    argv += ["--epochs", "100000", "--patience", "100000", "--quiet", "--out", str(out)]
    return subprocess.Popen(
        [sys.executable, "-m", "rnnlab.cli", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_env({"RNNLAB_HOME": str(home)}),
        start_new_session=True,
    )


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """Finished tiny runs of 4 and 6 units (trained in this process), and two runs of the
    same killed with SIGKILL once each had written its resume state."""
    from rnnlab.train import train

    folder = tmp_path_factory.mktemp("faults-runs")
    data = write_tarball(folder / "tiny.tar.gz", aclimdb_files())
    killed = {u: folder / f"killed-{u}" for u in (4, 6)}
    children = [killed_training(data, out, u, folder / "home") for u, out in killed.items()]
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("RNNLAB_HOME", str(folder / "home"))
            runs = {
                units: train(tiny_config(data, epochs=1, units=units), folder / f"run-{units}",
                             verbose=0).path
                for units in (4, 6)
            }  # fmt: skip
        deadline = time.monotonic() + 120
        while not all((out / ".resume.npz").exists() for out in killed.values()):
            assert time.monotonic() < deadline, "the trainings wrote no resume state in 120 s"
            time.sleep(0.2)
    finally:
        for child in children:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    return {"runs": runs, "killed": killed, "data": data}


@pytest.fixture
def ctx(tmp_path, monkeypatch, capsys, request, shared):
    monkeypatch.delenv("RNNLAB_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    return Ctx(tmp_path, monkeypatch, capsys, request)


def copy(ctx, which="runs", units=4) -> Path:
    target = ctx.tmp / "run"
    source = ctx.fixture("shared")[which][units]
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".rnnlab.lock"))
    return target


def edit_json(path: Path, change: dict) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))


def preprocessing(command="predict", **change):
    def make(ctx):
        run = copy(ctx)
        spec = json.loads((run / "preprocessing.json").read_text())
        edit_json(run / "preprocessing.json", {k: v(spec) if callable(v) else v
                                               for k, v in change.items()})  # fmt: skip
        return on(command, run)

    return make


def on(command, run) -> Invocation:
    return Invocation([command, str(run), *(["good"] if command == "predict" else [])])


def evaluate_texts(predicting: Invocation) -> Invocation:
    """The run of a predict invocation, evaluated on a file of labelled reviews instead."""
    Path("x.csv").write_text("text,label\ngood,1\n")
    return Invocation(["evaluate", predicting.argv[1], "--file", "x.csv"])


def both_num_words(ctx) -> Invocation:
    """config.json and preprocessing.json both edited: they agree, the model does not."""
    run = copy(ctx)
    edit_json(run / "preprocessing.json", {"num_words": 400})
    config = json.loads((run / "config.json").read_text())
    edit_json(run / "config.json", {"settings": {**config["settings"], "num_words": 400}})
    return on("predict", run)


def other_model(command):
    def make(ctx):
        run = copy(ctx)
        shutil.copy(ctx.fixture("shared")["runs"][6] / "best.keras", run / "best.keras")
        return on(command, run)

    return make


def inflating_config(ctx) -> Invocation:
    """best.keras whose config.json inflates to 200 MB (a few hundred kB on disk)."""
    run = copy(ctx)
    original = run / "best.keras"
    with zipfile.ZipFile(original) as archive:
        members = {m.filename: archive.read(m.filename) for m in archive.infolist()}
    with zipfile.ZipFile(original, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            if name == "config.json":
                with archive.open(name, "w", force_zip64=True) as f:
                    f.write(data)
                    for _ in range(200):
                        f.write(b" " * (1 << 20))
            else:
                archive.writestr(name, data)
    return Invocation(["predict", str(run), "good"], subprocess=True, memory_limit_mb=1024)


def metrics_with(value):
    def make(ctx):
        run = copy(ctx)
        text = (run / "metrics.json").read_text()
        text = text.replace('"best_val_loss": ', f'"best_val_loss": {value}, "was": ')
        (run / "metrics.json").write_text(text)
        return Invocation(["compare", str(run), "--out", str(ctx.tmp / "cmp")])

    return make


def shown_as_missing(ctx, inv, outcome):
    assert "best_val_loss, shown as missing" in outcome.stderr, outcome.stderr
    table = [line for line in outcome.stdout.splitlines() if line.startswith("run ")]
    assert table and "nan" not in table[-1].lower() and "inf" not in table[-1].lower(), table
    assert "–" in table[-1], table


def resume_other_state(ctx) -> Invocation:
    run = copy(ctx, "killed", 4)
    shutil.copy(ctx.fixture("shared")["killed"][6] / ".resume.npz", run / ".resume.npz")
    return Invocation(["train", "--resume", str(run)])


def resume_kept(ctx, inv, outcome):
    assert (ctx.tmp / "run" / ".resume.npz").exists(), "the resume state was lost"


CASES = [
    Case("preprocessing-num-words-smaller", "mixed up", "rnnlab predict RUN good",
         "preprocessing.json num_words 20 (config.json and the model: 40)",
         Expect(2, says=("num_words", "config.json")), make=preprocessing(num_words=20)),
    Case("preprocessing-maxlen-other", "mixed up", "rnnlab predict RUN good",
         "preprocessing.json maxlen 31 (config.json: 30)",
         Expect(2, says=("maxlen",)), make=preprocessing(maxlen=31)),
    Case("preprocessing-and-config-num-words", "mixed up", "rnnlab predict RUN good",
         "num_words 400 in both preprocessing.json and config.json (the model: 40)",
         Expect(2, says=("best.keras", "config.json")), make=both_num_words),
    Case("preprocessing-vocabulary-integers", "tampered", "rnnlab predict RUN good",
         "the vocabulary replaced by the integers 0..N", Expect(2, says=("vocabulary",)),
         make=preprocessing(vocabulary=lambda s: list(range(len(s["vocabulary"]))))),
    Case("preprocessing-vocabulary-a-null", "tampered", "rnnlab predict RUN good",
         "one word of the vocabulary replaced by null", Expect(2, says=("vocabulary",)),
         make=preprocessing(vocabulary=lambda s: [None, *s["vocabulary"][1:]])),
    Case("preprocessing-padding-invalid", "tampered", "rnnlab predict RUN good",
         "padding 'middle'", Expect(2, says=("padding", "'pre' or 'post'")),
         make=preprocessing(padding="middle")),
    Case("preprocessing-truncating-a-number", "tampered", "rnnlab predict RUN good",
         "truncating 3", Expect(2, says=("truncating",)), make=preprocessing(truncating=3)),
    Case("preprocessing-maxlen-text", "tampered", "rnnlab predict RUN good",
         'maxlen "30"', Expect(2, says=("maxlen",)), make=preprocessing(maxlen="30")),
    Case("preprocessing-evaluate-texts", "tampered", "rnnlab evaluate RUN --file x.csv",
         "padding 'middle', evaluating the user's own reviews", Expect(2, says=("padding",)),
         make=lambda ctx: evaluate_texts(preprocessing(padding="middle")(ctx))),
    Case("model-another-architecture-predict", "mixed up", "rnnlab predict RUN good",
         "best.keras of a model with 6 units (config.json: 4)",
         Expect(2, says=("best.keras", "config.json")), make=other_model("predict")),
    Case("model-another-architecture-evaluate", "mixed up", "rnnlab evaluate RUN",
         "best.keras of a model with 6 units (config.json: 4)",
         Expect(2, says=("best.keras", "config.json")), make=other_model("evaluate")),
    Case("model-config-inflates", "memory", "rnnlab predict RUN good",
         "best.keras whose config.json inflates to 200 MB",
         Expect(2, says=("config.json", "inflate"), max_rss_mb=1024), make=inflating_config),
    Case("metrics-nan", "silently wrong", "rnnlab compare RUN",
         "metrics.json best_val_loss NaN", Expect(0), make=metrics_with("NaN"),
         then=shown_as_missing),
    Case("metrics-infinity", "silently wrong", "rnnlab compare RUN",
         "metrics.json best_val_loss Infinity", Expect(0), make=metrics_with("Infinity"),
         then=shown_as_missing),
    Case("resume-state-of-another-model", "mixed up", "rnnlab train --resume RUN",
         "the .resume.npz of a killed 6-unit training in a killed 4-unit run",
         Expect(2, says=("resume state", "--overwrite")), make=resume_other_state,
         then=resume_kept),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fault(case, ctx):
    run_case(case, ctx)


def test_untouched_runs_pass_every_check(ctx, shared):
    """The checks refuse only what was changed: both untouched runs predict."""
    for units in (4, 6):
        check(run_in_process(on("predict", shared["runs"][units]), ctx), Expect(0), "predict")


def test_the_memory_estimate_counts_the_embedding_output():
    """--embedding-dim 400000: the embedding's output alone is batch x maxlen x 400,000
    floats (10 GB at batch 64 and maxlen 100); the estimate holds at least that."""
    from rnnlab.config import TrainConfig

    config = TrainConfig(embedding_dim=400_000)
    output = config.batch_size * config.maxlen * config.embedding_dim * 4
    assert config.memory_needed()["a batch's activations"] >= output


def test_embedding_dim_400000_is_refused_before_training(ctx):
    from rnnlab.config import TrainConfig, available_memory

    if sum(TrainConfig(embedding_dim=400_000).memory_needed().values()) < available_memory():
        pytest.skip("this machine has the memory for it")
    outcome = run_in_process(Invocation(["train", "--data", "x", "--embedding-dim", "400000"]), ctx)
    check(outcome, Expect(2, says=("--embedding-dim",), matches=NEEDS_MEMORY), "train")
