"""`rnnlab reproduce`: the book's chapters in order (9-2, 9-3 or both), and a report."""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from .child import cores
from .config import TrainConfig
from .data import open_imdb
from .explore import explore, format_exploration, memory_lines
from .report import Report, plot_overlay
from .run_folder import peak_memory_mb, prepare_out_dir, train_in_subprocess

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
CHAPTERS = {
    "9-2": ("simplernn-onehot", "simplernn-embedding"),
    "9-3": ("lstm", "lstm-dropout", "lstm-stacked", "gru"),
}
CHAPTERS["all"] = CHAPTERS["9-2"] + CHAPTERS["9-3"]
TITLES = {
    "9-2": "chapter 9-2, IMDB reviews with a simple RNN",
    "9-3": "chapter 9-3, IMDB reviews with LSTM and GRU",
    "all": "chapters 9-2 and 9-3, IMDB reviews with simple, LSTM and GRU networks",
}


def reproduce(
    data=None,
    out="runs/reproduce",
    epochs=100,
    overwrite=False,
    verbose=2,
    log=print,
    chapter="9-2",
):
    """Run a chapter: exploration, each model trained and tested, the report.

    Each model trains in a process of its own, as many at a time as there are
    cores (the models are independent; each process gives the same results as
    `rnnlab train`).  On two cores chapter 9-2 takes about 38 s instead of 47 s.
    """
    out = prepare_out_dir(Path(out), overwrite)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    raw = open_imdb(data)  # tokenized and cached (when new) before the trainings read it
    base = TrainConfig(data=raw.path, epochs=epochs)
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
        exploration = explore(raw, out_dir=out / "data")
        timings["load and explore the data"] = time.perf_counter() - started
        log(format_exploration(exploration))
        log(f"\n== training {', '.join(names)}: {at_once} at a time, each in its own process ==")
        finished = dict(zip(names, finishing, strict=True))
    runs = {name: run for name, (run, _) in finished.items()}
    timings.update({f"train and test {name}": seconds for name, (_, seconds) in finished.items()})
    timings[f"all models ({at_once} at a time)"] = time.perf_counter() - started

    plot_overlay(
        {name: run.history for name, run in runs.items()},
        "val_loss",
        out / "val_loss.png",
        title="validation loss of every model",
    )
    report = build_report(exploration, runs, timings, TITLES[chapter])
    markdown, html = report.write(out)
    return {"out": out, "runs": runs, "timings": timings, "report": (markdown, html)}


def results_table(runs) -> tuple[list[str], list[list]]:
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
    for name, run in runs.items():
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


def build_report(exploration, runs, timings, title) -> Report:
    ex, s = exploration, exploration.stats
    report = Report(f"rnnlab reproduce: {title}")
    report.text(
        f"Data: {ex.source}. num_words={ex.num_words}, maxlen={ex.maxlen}, split 80/20 with "
        "random_state=42; training with RMSprop(1e-4), binary cross-entropy, batch 64, up to "
        "100 epochs, early stopping (patience 3) restoring the best weights."
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
    for name, run in runs.items():
        report.text(f"{name}:")
        report.code(run.summary)

    report.heading("3. Memory: the tutorial's one-hot input vs what rnnlab feeds")
    report.code("\n".join(memory_lines(ex.memory)))
    report.text(
        "The tutorial builds the one-hot tensor (to_categorical) to feed model A. rnnlab feeds "
        "the padded int32 ids and looks up one kernel row per id, the same mathematics. "
        "Measured peak memory of each model's training process: "
        + ", ".join(f"{name}: {r.metrics['peak_memory_mb']:,.0f} MB" for name, r in runs.items())
        + "."
    )

    report.heading("4. Training")
    for name in runs:
        report.image(f"{name}/curves.png", f"{name}: loss and accuracy per epoch")
    report.image("val_loss.png", "Validation loss of every model")

    report.heading("5. Results, next to the book's")
    report.table(*results_table(runs))
    report.text(
        "The tutorial's numbers come from Keras' own npz; with the raw aclImdb text rnnlab's "
        "tokenizer gives slightly different ids, so expect close, not equal, results. Small RNNs "
        "at lr 1e-4 can sit on a plateau for many epochs before they learn."
    )

    report.heading("6. Time")
    rows = [[step, f"{seconds:.1f} s"] for step, seconds in timings.items()]
    for name, run in runs.items():
        m = run.metrics
        rows.append(
            [
                f"{name}: seconds per epoch (first epoch)",
                f"{m['seconds_per_epoch']:.2f} s ({m['first_epoch_seconds']:.2f} s)",
            ]
        )
    rows.append(["peak memory of the main process (data, report)", f"{peak_memory_mb():,.0f} MB"])
    report.table(["step", "time"], rows)
    return report
