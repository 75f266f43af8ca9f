"""`rnnlab reproduce`: the book's chapters in order (9-2, 9-3 or both), and a report.

The models train as a sweep (rnnlab/sweep): one worker process per core, each
model a run folder in the output folder; running the command again continues
what stopped.  With several seeds the report adds the statistics over seeds;
seed 42's runs stay the story the report tells.  The report is written in the
language asked for (`lang`, rnnlab/i18n.py); what the command prints stays English.
"""

import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import runs
from .child import cores
from .config import TrainConfig
from .data import open_dataset
from .data.sources import IMDB_KINDS
from .errors import RnnlabError
from .explore import explore, format_exploration, memory_lines
from .i18n import N_, gettext_for, translation
from .models import chapter_models
from .report import Report, plot_curves, plot_length_histogram, plot_overlay
from .report.plots import plot_language
from .sweep import command, grid, identity, opening, study, summary

# The book's published results (its notebooks, and the walkthrough of 9-2 this project
# started from, across TensorFlow versions), for the comparison table.
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
    "9-2": N_("chapter 9-2, IMDB reviews with a simple RNN"),
    "9-3": N_("chapter 9-3, IMDB reviews with LSTM and GRU"),
    "all": N_("chapters 9-2 and 9-3, IMDB reviews with simple, LSTM and GRU networks"),
}
# On other reviews (NSMC's, yours) the chapters' recipes run as they are; the book's
# results are IMDB's, so nothing stands beside them.
OTHER_TITLES = {
    "9-2": N_("chapter 9-2's recipe on other reviews, with a simple RNN"),
    "9-3": N_("chapter 9-3's recipe on other reviews, with LSTM and GRU"),
    "all": N_("chapters 9-2 and 9-3's recipes on other reviews"),
}
STORY_SEED = 42
PAGE = runs.PAGE  # the best model, in the browser
CURVES = "curves"  # each model's curves, drawn again where the report's language is not English
# What a reproduction writes in its folder, and --overwrite removes.
OUTPUTS = (
    *("sweep.json", "journal.log", "trials", "logs", "locks", "data", "report.md", "report.html"),
    *("val_loss.png", "best_val_accuracy.png", "val_loss_bands.png", CURVES, PAGE),
)


@dataclass
class Reproduction:
    out: Path
    runs: dict[str, runs.Run]  # model name -> its seed-42 run folder, read back
    timings: dict[str, float]  # step -> seconds
    report: tuple[Path, Path]  # report.md, report.html
    book: bool = True  # IMDB: the book's results stand beside these


def reproduce(data=None, out="runs/reproduce", chapter="9-2", seeds=(STORY_SEED,), jobs=None,
              overwrite=False, quiet=False, log=print, lang="en",
              **settings) -> Reproduction:  # fmt: skip
    """Run a chapter: exploration, each model trained and tested (for each seed), the report.

    `settings` are TrainConfig fields (epochs, engine, ...) for every model; `lang` is
    the report's language.
    """
    _ = gettext_for(lang)
    out = Path(out)
    if STORY_SEED not in seeds:
        raise RnnlabError(f"the report tells seed {STORY_SEED}'s story: include it in --seeds")
    started = time.perf_counter()
    # tokenized and cached (when new) before the workers read it
    raw = open_dataset(data, **TrainConfig(**settings).data_options)
    config = TrainConfig(data=raw.path, **settings)
    axes = {"model": list(CHAPTERS[chapter]), **{k: [v] for k, v in settings.items()}}
    configurations = grid.build(axes, None, list(seeds))
    name = f"reproduce-{chapter}-{identity.grid_hash(configurations)[:8]}"
    if overwrite:
        _remove(out, OUTPUTS)
    elif (out / opening.MARKER).is_file() and opening.read_marker(out)["sweep"] != name:
        # Another reproduction (other settings or seeds) was here: start a new sweep; its
        # trials reuse the run folders of the same trainings (rnnlab/sweep/trial.py).
        log(f"{out}: a new reproduction; finished runs with the same settings are reused")
        _remove(out, [name for name in OUTPUTS if name != study.TRIALS])
    timings: dict[str, float] = {}
    steps: dict[str, str] = {}  # each step of `timings` in the report's language

    def step(english: str, **fields) -> str:
        key = english.format(**fields)
        steps[key] = _(english).format(**fields)
        return key

    # The exploration runs while the workers start (importing Keras takes seconds).
    explored = {}

    def exploration():
        explored["data"] = explore(raw, config.num_words, config.maxlen)
        timings[step(N_("load and explore the data"))] = time.perf_counter() - started
        log(format_exploration(explored["data"]))
        log(f"\n== training {len(configurations)} models, {jobs or cores()} at a time ==")

    thread = threading.Thread(target=exploration)
    thread.start()
    try:
        done = command.run(configurations, out, raw, jobs or min(cores(), len(configurations)),
                           name=name, quiet=quiet, log=log)  # fmt: skip
    finally:
        thread.join()
    timings[step(N_("all models ({jobs} at a time)"), jobs=jobs or cores())] = (
        time.perf_counter() - started
    )
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
    plot_length_histogram(ex.lengths, config.maxlen, out / "data" / "lengths.png", lang=lang)
    plot_overlay(
        {name: run.history for name, run in story.items()},
        "val_loss",
        out / "val_loss.png",
        title=translation(plot_language(lang))
        .gettext("validation loss of every model (seed {seed})")
        .format(seed=STORY_SEED),
        lang=lang,
    )
    for name, run in story.items():
        timings[step(N_("train and test {name}"), name=name)] = run.metrics["total_seconds"]
        if plot_language(lang) != "en":  # the run folder's curves.png is in English
            plot_curves(run.history, out / CURVES / f"{run.path.name}.png", name, lang=lang)
    book = raw.kind in IMDB_KINDS
    title = (TITLES if book else OTHER_TITLES)[chapter]
    report = build_report(ex, config, story, timings, title, out, lang, steps, book)
    add_page(report, out, story, lang)
    if len(seeds) > 1:
        report.heading(_("7. Over {n} seeds").format(n=len(seeds)))
        report.text(
            _(
                "Seed {seed} is one story; here is every model over seeds {seeds}: how much "
                "of the story is luck."
            ).format(seed=STORY_SEED, seeds=", ".join(map(str, seeds)))
        )
        found = summary.groups(done.result.outcomes)
        summary.add_statistics(report, out, found, done.baseline, level=3, lang=lang)
    return Reproduction(out, story, timings, report.write(out), book)


def add_page(report: Report, out: Path, story: dict, lang: str) -> None:
    """The interactive page of the model with the best validation accuracy, linked from
    the report (none where the data has no words: a Keras npz without its word index)."""
    from .report.page import write_page

    _ = gettext_for(lang)
    name, best = max(story.items(), key=lambda item: item[1].metrics["best_val_accuracy"])
    try:
        write_page(best.path, out / PAGE, overwrite=True, lang=lang)
    except RnnlabError:
        return
    report.heading(_("Try it yourself"))
    report.link(PAGE, _("Open {page}: {model} (the best validation accuracy) reads your review in "
                        "your browser, word by word").format(page=PAGE, model=name))  # fmt: skip


def results_table(trained, lang="en", book=True) -> tuple[list[str], list[list]]:
    """The results of each model, and (`book`: on IMDB) the book's beside them."""
    _ = gettext_for(lang)
    headers = [
        _("model"),
        _("parameters"),
        _("epochs run"),
        _("best epoch"),
        _("best val_loss"),
        _("best val_accuracy"),
        _("test accuracy"),
        _("book: best val_accuracy"),
        _("book: stop epoch"),
        _("book: test accuracy"),
    ][: None if book else -3]
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
            ][: None if book else -3]
        )
    return headers, rows


def _remove(folder: Path, names) -> None:
    for name in names:
        path = folder / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def build_report(exploration, config, trained, timings, title, out: Path, lang="en",
                 steps=None, book=True) -> Report:  # fmt: skip
    """The report, in `lang`; `title` is one of TITLES (or OTHER_TITLES, without `book`:
    the book's results), `steps` the report's names of the steps of `timings` (default:
    as they are)."""
    _ = gettext_for(lang)
    steps = steps or {}
    ex, s, c = exploration, exploration.stats, config
    report = Report(f"rnnlab reproduce: {_(title)}", lang)
    report.text(
        _(
            "Data: {source}. num_words={num_words}, maxlen={maxlen}, split 80/20 with "
            "random_state=42; training with RMSprop({learning_rate}), binary cross-entropy, "
            "batch {batch_size}, up to {epochs} epochs, early stopping (patience {patience}) "
            "restoring the best weights; seed {seed}, engine {engine}."
        ).format(
            source=ex.source,
            num_words=c.num_words,
            maxlen=c.maxlen,
            learning_rate=f"{c.learning_rate:g}",
            batch_size=c.batch_size,
            epochs=c.epochs,
            patience=c.patience,
            seed=c.seed,
            engine=c.engine,
        )
    )

    report.heading(_("1. The data"))
    report.table(
        ["", _("value")],
        [
            [_("training reviews (test reviews)"), f"{ex.n_train:,} ({ex.n_test:,})"],
            [
                _("lengths of the first two reviews"),
                f"{ex.first_lengths[0]}, {ex.first_lengths[1]}",
            ],
            [_("first 20 targets"), " ".join(map(str, ex.first_targets))],
            [_("train / validation after the split"), f"{ex.n_train_split:,} / {ex.n_val_split:,}"],
            [_("mean / median length (training split)"), f"{s['mean']:.5f} / {s['median']:.1f}"],
            [
                _("reviews longer than maxlen={maxlen}").format(maxlen=ex.maxlen),
                _("{part} of {count}").format(
                    part=f"{s['longer_than_maxlen']:,}", count=f"{s['count']:,}"
                ),
            ],
        ],
    )
    if ex.first_review_words:
        report.text(_("The first review, decoded: {words}").format(words=ex.first_review_words))
    report.image("data/lengths.png", _("Review lengths of the training split, with the maxlen cut"))
    report.text(_("One padded review (train_seq[{index}]):").format(index=ex.padded_example_index))
    report.code(str(ex.padded_example))

    report.heading(_("2. The models"))
    for name, run in trained.items():
        report.text(f"{name}:")
        report.code(run.summary)

    report.heading(_("3. Memory: the tutorial's one-hot input vs what rnnlab feeds"))
    report.code("\n".join(memory_lines(ex.memory, lang)))
    peaks = [f"{name}: {r.metrics['peak_memory_mb']:,.0f} MB" for name, r in trained.items()]
    report.text(
        _(
            "The tutorial builds the one-hot tensor (to_categorical) to feed model A. rnnlab "
            "feeds the padded int32 ids and looks up one kernel row per id, the same "
            "mathematics. Measured peak memory of the worker process that trained each model: "
            "{peaks}."
        ).format(peaks=", ".join(peaks))
    )

    report.heading(_("4. Training"))
    for name, run in trained.items():
        curves = (run.path / runs.CURVES).relative_to(out)
        if plot_language(lang) != "en":
            curves = Path(CURVES, f"{run.path.name}.png")
        report.image(str(curves), _("{name}: loss and accuracy per epoch").format(name=name))
    report.image("val_loss.png", _("Validation loss of every model"))

    report.heading(_("5. Results, next to the book's") if book else _("5. Results"))
    report.table(*results_table(trained, lang, book))
    if book:
        report.text(
            _(
                "The tutorial's numbers come from Keras' own npz; with the raw aclImdb text "
                "rnnlab's tokenizer gives slightly different ids, so expect close, not equal, "
                "results. Small RNNs at lr 1e-4 can sit on a plateau for many epochs before "
                "they learn."
            )
        )

    report.heading(_("6. Time"))
    rows = [
        [steps.get(step, step), _("{seconds} s").format(seconds=f"{seconds:.1f}")]
        for step, seconds in timings.items()
    ]
    for name, run in trained.items():
        m = run.metrics
        rows.append(
            [
                _("{name}: seconds per epoch (first epoch)").format(name=name),
                _("{seconds} s ({first} s)").format(
                    seconds=f"{m['seconds_per_epoch']:.2f}", first=f"{m['first_epoch_seconds']:.2f}"
                ),
            ]
        )
    rows.append(
        [
            _("peak memory of the main process (data, report)"),
            f"{runs.peak_memory_mb():,.0f} MB",
        ]
    )
    report.table([_("step"), _("time")], rows)
    return report
