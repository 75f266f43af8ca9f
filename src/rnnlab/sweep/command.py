"""Running a grid of trainings for `rnnlab sweep` and `rnnlab reproduce`, with progress.

The data is opened (and tokenized into the cache, under a lock) once, before
any worker starts; the workers read it through RNNLAB_DATA.  Each finished
trial prints one line, under a bar with the time left.  At the end the
bag-of-words baseline is fitted on the same split, for the summary.
"""

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..baselines import BaselineResult
from .grid import applied
from .run import SweepResult, TrialFinished, run_sweep
from .search import Search
from .summary import group_label, varying

TRIAL_FUNCTION = "rnnlab.sweep.trial:run_trial"


@dataclass
class SweepRun:
    """A sweep run on this machine, for the summary and the report."""

    folder: Path
    result: SweepResult
    baseline: BaselineResult | None  # bow-logreg on the grid's data settings
    data: str  # the data source's path on this machine
    seconds: float


def run(grid: list[dict] | Search, folder, raw, jobs=1, name=None, storage=None, quiet=False,
        log=print) -> SweepRun:  # fmt: skip
    """Run (or continue) the sweep of `grid` (or the search) in `folder` on the opened
    data `raw`."""
    started = time.perf_counter()
    with TrialPrinter(grid, quiet) as printer:
        result = run_sweep(
            folder, grid, TRIAL_FUNCTION, jobs=jobs, name=name, storage=storage,
            on_event=printer.trial_finished, worker_environment={"RNNLAB_DATA": raw.path},
            data_hash=raw.content_hash,
        )  # fmt: skip
    for problem in result.worker_problems:
        log(f"warning: {problem}")
    baseline = fit_baseline(raw, [outcome.config for outcome in result.outcomes])
    return SweepRun(Path(folder), result, baseline, raw.path, time.perf_counter() - started)


def shared_data_options(grid: list[dict] | Search) -> dict:
    """How the trials read the data (tokenizer, columns) when they all read it alike,
    else the defaults (each trial then opens its own)."""
    from ..config import TrainConfig
    from ..models import PRESETS

    defaults = TrainConfig().data_options
    preset = PRESETS[grid.preset].settings if getattr(grid, "preset", None) else {}
    configs = [grid.fixed] if isinstance(grid, Search) else grid
    seen = {tuple((k, c.get(k, preset.get(k, v))) for k, v in defaults.items()) for c in configs}
    return dict(seen.pop()) if len(seen) == 1 else defaults


def fit_baseline(raw, grid: list[dict]):
    """bow-logreg on the grid's data settings, when they are one (else none)."""
    from ..config import TrainConfig
    from ..tutorial import load_and_split

    settings = {
        (c.num_words, c.maxlen, c.padding, c.truncating)
        for c in (TrainConfig.from_dict(config) for config in grid)
    }
    if len(settings) != 1:
        return None
    from ..baselines import bow_logreg  # scikit-learn: only here, in the parent

    return bow_logreg(load_and_split(raw, *settings.pop()))


class TrialPrinter:
    """One line per finished trial, under a bar with the time left (tqdm)."""

    def __init__(self, grid: list[dict] | Search, quiet: bool):
        from tqdm import tqdm

        if isinstance(grid, Search):
            self.shown_settings = set(grid.space)
        else:
            self.shown_settings = varying([applied(c) for c in grid])
        self.quiet, self.shown = quiet, 0
        # disable=None: no bar where stderr is not a terminal (logs, pipes)
        self.bar = tqdm(total=len(grid), unit="trial", disable=quiet or None, file=sys.stderr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()

    def trial_finished(self, event: TrialFinished) -> None:
        progress = event.progress
        self.bar.n = progress.done + progress.failed
        if progress.seconds_left is not None:
            self.bar.set_postfix_str(f"about {progress.seconds_left / 60:.1f} min left")
        self.bar.refresh()
        if self.quiet:
            return
        self.shown += 1
        where = f"[{progress.settled_before + self.shown}/{progress.total}]"
        label = group_label(applied(event.config), self.shown_settings)
        what = f"{label} seed {event.config['seed']}"
        if event.state in ("complete", "pruned"):
            m = event.results["metrics"]
            epoch = f" (epoch {m['best_epoch']})" if "best_epoch" in m else ""
            pruned = event.results.get("pruned_at_epoch")
            line = (
                f"{where} {what}: best val_accuracy {m['best_val_accuracy']:.4f}{epoch}, "
                f"test {m['test_accuracy']:.4f}, {m['total_seconds']:.0f} s"
                + (f"; pruned after epoch {pruned}" if pruned else "")
            )
        elif event.state == "failed":
            line = f"{where} {what}: failed: {event.error}"
        else:
            line = f"{where} {what}: its worker stopped; it goes back to the queue"
        self.bar.write(line, file=sys.stdout)


def sweep(grid: list[dict] | Search, data=None, folder=None, jobs=1, name=None, storage=None,
          lang="en", quiet=False, log=print) -> SweepRun:  # fmt: skip
    """`rnnlab sweep`: run (or continue) the grid or the search, then write summary.md,
    .html and .csv."""
    from ..data import open_dataset
    from ..i18n import translation
    from .opening import sweep_name
    from .summary import write_search_summary, write_sweep_summary

    name = name or sweep_name(grid)
    folder = folder or f"runs/sweeps/{name}"
    log(f"sweep {name}: {len(grid)} trials, {jobs} at a time, in {folder}")
    done = run(grid, folder, open_dataset(data, **shared_data_options(grid)), jobs, name,
               storage, quiet, log)  # fmt: skip
    title = translation(lang).gettext("rnnlab sweep {name}: {n} trainings")
    title = title.format(name=name, n=len(done.result.outcomes))
    arguments = done.folder, title, done.result.outcomes
    if isinstance(grid, Search):
        write_search_summary(*arguments, grid, done.baseline, done.data, lang)
    else:
        write_sweep_summary(*arguments, done.baseline, done.data, lang)
    return done
