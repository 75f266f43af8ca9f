"""`rnnlab reproduce`: the book's chapters in order (9-2, 9-3 or both), and a report."""

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from . import runs
from .child import cores, start_python
from .config import TrainConfig
from .data import open_imdb
from .errors import RnnlabError
from .explore import explore, format_exploration, memory_lines
from .models import chapter_models
from .report import Report, plot_overlay

# The book's published results (its notebooks and the walkthrough in
# shared/reference, across TensorFlow versions), for the comparison table.
_SIMPLE_RNN = {"best_val_accuracy": "0.78–0.79", "stop_epochs": "24–60", "test_accuracy": "–"}
_GATED = {"best_val_accuracy": "0.79–0.81", "stop_epochs": "–", "test_accuracy": "–"}
TUTORIAL_RESULTS = {
    "simplernn-onehot": _SIMPLE_RNN,
    "simplernn-embedding": _SIMPLE_RNN,
    "lstm": _GATED,
    "lstm-dropout": _GATED,
    "lstm-stacked": {**_GATED, "test_accuracy": "0.7975–0.8019"},
    "gru": _GATED,
}
CHAPTERS = {"9-2": chapter_models("9-2"), "9-3": chapter_models("9-3")}
CHAPTERS["all"] = CHAPTERS["9-2"] + CHAPTERS["9-3"]
TITLES = {
    "9-2": "chapter 9-2, IMDB reviews with a simple RNN",
    "9-3": "chapter 9-3, IMDB reviews with LSTM and GRU",
    "all": "chapters 9-2 and 9-3, IMDB reviews with simple, LSTM and GRU networks",
}


@dataclass
class Reproduction:
    out: Path
    runs: dict[str, runs.Run]  # model name -> its run folder, read back
    timings: dict[str, float]  # step -> seconds
    report: tuple[Path, Path]  # report.md, report.html


def reproduce(data=None, out="runs/reproduce", chapter="9-2", overwrite=False, verbose=2,
              log=print, **settings) -> Reproduction:  # fmt: skip
    """Run a chapter: exploration, each model trained and tested, the report.

    `settings` are TrainConfig fields (epochs, engine, ...) for every model.
    Each model trains in a process of its own, as many at a time as there are
    cores (the models are independent; each process gives the same results as
    `rnnlab train`).
    """
    with runs.claim(Path(out), overwrite):
        return _reproduce(Path(out), chapter, data, overwrite, verbose, log, settings)


def _reproduce(out, chapter, data, overwrite, verbose, log, settings) -> Reproduction:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    raw = open_imdb(data)  # tokenized and cached (when new) before the trainings read it
    base = TrainConfig(data=raw.path, **settings)
    names = CHAPTERS[chapter]
    at_once = min(cores(), len(names))

    def train_one(name):
        begun = time.perf_counter()
        run = train_in_subprocess(replace(base, model=name), out / name, overwrite, verbose, log)
        return run, time.perf_counter() - begun

    with ThreadPoolExecutor(at_once) as pool:
        # The trainings start now (Keras' import takes seconds) and the exploration
        # runs meanwhile; its printout comes first.
        finishing = pool.map(train_one, names)
        exploration = explore(raw, base.num_words, base.maxlen, out_dir=out / "data")
        timings["load and explore the data"] = time.perf_counter() - started
        log(format_exploration(exploration))
        log(f"\n== training {', '.join(names)}: {at_once} at a time, each in its own process ==")
        finished = dict(zip(names, finishing, strict=True))
    trained = {name: run for name, (run, _) in finished.items()}
    timings.update({f"train and test {name}": seconds for name, (_, seconds) in finished.items()})
    timings[f"all models ({at_once} at a time)"] = time.perf_counter() - started

    plot_overlay(
        {name: run.history for name, run in trained.items()},
        "val_loss",
        out / "val_loss.png",
        title="validation loss of every model",
    )
    report = build_report(exploration, base, trained, timings, TITLES[chapter])
    return Reproduction(out, trained, timings, report.write(out))


_TRAIN_JOB = """
import sys
from rnnlab.engine.startup import keras_without_sklearn
with keras_without_sklearn():
    from rnnlab.train import train_job
    sys.exit(train_job(sys.argv[1]))
"""


def train_in_subprocess(config, out: Path, overwrite=False, verbose=2, log=print) -> runs.Run:
    """`train.train(config, out, ...)` in a fresh Python, so that several models
    can train at once, one per core.  Its output reaches `log` line by line,
    each line prefixed with the model's name."""
    job = json.dumps(
        {"config": asdict(config), "out": str(out), "overwrite": overwrite, "verbose": verbose}
    )
    lines = []
    with start_python(
        _TRAIN_JOB, job, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as child:
        for line in child.stdout:
            lines.append(line.rstrip())
            if verbose:
                log(f"[{config.model}] {lines[-1]}")
    if child.returncode != 0:
        last = next((line for line in reversed(lines) if line.strip()), "no output")
        raise RnnlabError(f"training {config.model} failed: {last.removeprefix('error: ')}")
    return runs.read(out)


def results_table(trained) -> tuple[list[str], list[list]]:
    headers = [
        "model",
        "parameters",
        "epochs run",
        "best epoch",
        "best val_loss",
        "best val_accuracy",
        "test accuracy",
        "book: best val_accuracy",
        "book: stop epoch",
        "book: test accuracy",
    ]
    rows = []
    for name, run in trained.items():
        m, published = run.metrics, TUTORIAL_RESULTS.get(name, {})
        rows.append(
            [
                name,
                f"{m['parameters']:,}",
                m["epochs_run"],
                m["best_epoch"],
                f"{m['best_val_loss']:.4f}",
                f"{m['best_val_accuracy']:.4f}",
                f"{m['test_accuracy']:.4f}",
                published.get("best_val_accuracy", "–"),
                published.get("stop_epochs", "–"),
                published.get("test_accuracy", "–"),
            ]
        )
    return headers, rows


def build_report(exploration, config, trained, timings, title) -> Report:
    ex, s, c = exploration, exploration.stats, config
    report = Report(f"rnnlab reproduce: {title}")
    report.text(
        f"Data: {ex.source}. num_words={c.num_words}, maxlen={c.maxlen}, split 80/20 with "
        f"random_state=42; training with RMSprop({c.learning_rate:g}), binary cross-entropy, "
        f"batch {c.batch_size}, up to {c.epochs} epochs, early stopping (patience {c.patience}) "
        f"restoring the best weights; seed {c.seed}, engine {c.engine}."
    )

    report.heading("1. The data")
    report.table(
        ["", "value"],
        [
            ["training reviews (test reviews)", f"{ex.n_train:,} ({ex.n_test:,})"],
            ["lengths of the first two reviews", f"{ex.first_lengths[0]}, {ex.first_lengths[1]}"],
            ["first 20 targets", " ".join(map(str, ex.first_targets))],
            ["train / validation after the split", f"{ex.n_train_split:,} / {ex.n_val_split:,}"],
            ["mean / median length (training split)", f"{s['mean']:.5f} / {s['median']:.1f}"],
            [
                f"reviews longer than maxlen={ex.maxlen}",
                f"{s['longer_than_maxlen']:,} of {s['count']:,}",
            ],
        ],
    )
    if ex.first_review_words:
        report.text("The first review, decoded: " + ex.first_review_words)
    report.image("data/lengths.png", "Review lengths of the training split, with the maxlen cut")
    report.text(f"One padded review (train_seq[{ex.padded_example_index}]):")
    report.code(str(ex.padded_example))

    report.heading("2. The models")
    for name, run in trained.items():
        report.text(f"{name}:")
        report.code(run.summary)

    report.heading("3. Memory: the tutorial's one-hot input vs what rnnlab feeds")
    report.code("\n".join(memory_lines(ex.memory)))
    report.text(
        "The tutorial builds the one-hot tensor (to_categorical) to feed model A. rnnlab feeds "
        "the padded int32 ids and looks up one kernel row per id, the same mathematics. "
        "Measured peak memory of each model's training process: "
        + ", ".join(f"{name}: {r.metrics['peak_memory_mb']:,.0f} MB" for name, r in trained.items())
        + "."
    )

    report.heading("4. Training")
    for name in trained:
        report.image(f"{name}/curves.png", f"{name}: loss and accuracy per epoch")
    report.image("val_loss.png", "Validation loss of every model")

    report.heading("5. Results, next to the book's")
    report.table(*results_table(trained))
    report.text(
        "The tutorial's numbers come from Keras' own npz; with the raw aclImdb text rnnlab's "
        "tokenizer gives slightly different ids, so expect close, not equal, results. Small RNNs "
        "at lr 1e-4 can sit on a plateau for many epochs before they learn."
    )

    report.heading("6. Time")
    rows = [[step, f"{seconds:.1f} s"] for step, seconds in timings.items()]
    for name, run in trained.items():
        m = run.metrics
        rows.append(
            [
                f"{name}: seconds per epoch (first epoch)",
                f"{m['seconds_per_epoch']:.2f} s ({m['first_epoch_seconds']:.2f} s)",
            ]
        )
    rows.append(
        ["peak memory of the main process (data, report)", f"{runs.peak_memory_mb():,.0f} MB"]
    )
    report.table(["step", "time"], rows)
    return report
