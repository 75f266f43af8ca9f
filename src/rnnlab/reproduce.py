"""`rnnlab reproduce`: the book's chapters in order (9-2, 9-3 or both), and a report.

The models train as a sweep (rnnlab/sweep): one worker process per core, each
model a run folder in the output folder; running the command again continues
what stopped.  With several seeds the report adds the statistics over seeds;
seed 42's runs stay the story the report tells.
"""

import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import runs
from .child import cores
from .config import TrainConfig
from .data import open_imdb
from .errors import RnnlabError
from .explore import explore, format_exploration, memory_lines
from .models import chapter_models
from .report import Report, plot_length_histogram, plot_overlay
from .sweep import command, grid, study, summary

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
STORY_SEED = 42
# What a reproduction writes in its folder, and --overwrite removes.
OUTPUTS = (
    *("sweep.json", "journal.log", "trials", "logs", "locks", "data", "report.md", "report.html"),
    *("val_loss.png", "best_val_accuracy.png", "val_loss_bands.png"),
)


@dataclass
class Reproduction:
    out: Path
    runs: dict[str, runs.Run]  # model name -> its seed-42 run folder, read back
    timings: dict[str, float]  # step -> seconds
    report: tuple[Path, Path]  # report.md, report.html


def reproduce(data=None, out="runs/reproduce", chapter="9-2", seeds=(STORY_SEED,), jobs=None,
              overwrite=False, quiet=False, log=print, **settings) -> Reproduction:  # fmt: skip
    """Run a chapter: exploration, each model trained and tested (for each seed), the report.

    `settings` are TrainConfig fields (epochs, engine, ...) for every model.
    """
    out = Path(out)
    if STORY_SEED not in seeds:
        raise RnnlabError(f"the report tells seed {STORY_SEED}'s story: include it in --seeds")
    started = time.perf_counter()
    raw = open_imdb(data)  # tokenized and cached (when new) before the workers read it
    config = TrainConfig(data=raw.path, **settings)
    axes = {"model": list(CHAPTERS[chapter]), **{k: [v] for k, v in settings.items()}}
    configurations = grid.build(axes, None, list(seeds))
    name = f"reproduce-{chapter}-{study.grid_hash(configurations)[:8]}"
    if overwrite:
        _remove(out, OUTPUTS)
    elif (out / study.MARKER).is_file() and study.read_marker(out)["sweep"] != name:
        # Another reproduction (other settings or seeds) was here: start a new sweep; its
        # trials reuse the run folders of the same trainings (rnnlab/sweep/trial.py).
        log(f"{out}: a new reproduction; finished runs with the same settings are reused")
        _remove(out, [name for name in OUTPUTS if name != study.TRIALS])
    timings: dict[str, float] = {}

    # The exploration runs while the workers start (importing Keras takes seconds).
    explored = {}

    def exploration():
        explored["data"] = explore(raw, config.num_words, config.maxlen)
        timings["load and explore the data"] = time.perf_counter() - started
        log(format_exploration(explored["data"]))
        log(f"\n== training {len(configurations)} models, {jobs or cores()} at a time ==")

    thread = threading.Thread(target=exploration)
    thread.start()
    try:
        done = command.run(configurations, out, raw, jobs or min(cores(), len(configurations)),
                           name=name, quiet=quiet, log=log)  # fmt: skip
    finally:
        thread.join()
    timings[f"all models ({jobs or cores()} at a time)"] = time.perf_counter() - started
    unfinished = [o for o in done.result.outcomes if o.state != "complete"]
    if unfinished:
        raise RnnlabError(
            f"{len(unfinished)} trainings did not complete ({unfinished[0].error}); see "
            f"{out}/logs, and run the command again to retry them"
        )
    story = {
        o.config["model"]: runs.read(out / o.ran_on["dir"])
        for o in done.result.outcomes
        if o.config["seed"] == STORY_SEED
    }
    ex = explored["data"]
    plot_length_histogram(ex.lengths, config.maxlen, out / "data" / "lengths.png")
    plot_overlay(
        {name: run.history for name, run in story.items()},
        "val_loss",
        out / "val_loss.png",
        title=f"validation loss of every model (seed {STORY_SEED})",
    )
    for name, run in story.items():
        timings[f"train and test {name}"] = run.metrics["total_seconds"]
    report = build_report(ex, config, story, timings, TITLES[chapter], out)
    if len(seeds) > 1:
        report.heading(f"7. Over {len(seeds)} seeds")
        report.text(
            f"Seed {STORY_SEED} is one story; here is every model over seeds "
            f"{', '.join(map(str, seeds))}: how much of the story is luck."
        )
        found = summary.groups(done.result.outcomes)
        summary.add_statistics(report, out, found, done.baseline, level=3)
    return Reproduction(out, story, timings, report.write(out))


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


def _remove(folder: Path, names) -> None:
    for name in names:
        path = folder / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def build_report(exploration, config, trained, timings, title, out: Path) -> Report:
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
        "Measured peak memory of the worker process that trained each model: "
        + ", ".join(f"{name}: {r.metrics['peak_memory_mb']:,.0f} MB" for name, r in trained.items())
        + "."
    )

    report.heading("4. Training")
    for name, run in trained.items():
        curves = (run.path / runs.CURVES).relative_to(out)
        report.image(str(curves), f"{name}: loss and accuracy per epoch")
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
