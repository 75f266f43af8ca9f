"""A sweep's summary: each model over its seeds, models compared seed by seed, a baseline.

Written as summary.csv (one row per trial), summary.md and a self-contained
summary.html, with two pictures: each seed's best val_accuracy per model, and
the val_loss curves as a mean with a band.  Everything comes from the
sweep's storage, so the summary is complete on any machine of the sweep.
"""

import csv
import io
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from ..files import write_text
from ..report import Report, plot_bands, plot_strip
from .stats import paired_difference, summarize

STALLED_BELOW = 0.60
STALLED = (
    f"stalled: its best val_accuracy stayed below {STALLED_BELOW:.2f}, little better than "
    "guessing (0.50); such a model sat on a plateau for the whole training"
)


@dataclass
class Group:
    """The trials of one configuration (everything but the seed)."""

    label: str
    trials: list = field(default_factory=list)  # complete Outcomes, in seed order

    def by_seed(self, metric: str) -> dict[int, float]:
        return {o.config["seed"]: o.results["metrics"][metric] for o in self.trials}

    def values(self, metric: str) -> list[float]:
        return list(self.by_seed(metric).values())


def group_label(config: dict, shown=None) -> str:
    """The model, then the settings in `shown` (default: all but the seed), e.g.
    "lstm units=16 maxlen=200"."""
    others = [
        f"{k}={v}"
        for k, v in sorted(config.items())
        if k not in ("model", "seed") and (shown is None or k in shown)
    ]
    return " ".join([config["model"], *others])


def varying(configs: list[dict]) -> set[str]:
    """The settings whose values differ between configurations (the others are shared)."""
    keys = {key for config in configs for key in config}
    return {k for k in keys if len({repr(config.get(k)) for config in configs}) > 1}


def shared_settings(configs: list[dict]) -> str:
    common = sorted(set(configs[0]) - varying(configs) - {"model", "seed"}) if configs else []
    return ", ".join(f"{k}={configs[0][k]}" for k in common) or "the defaults"


def groups(outcomes) -> dict[str, Group]:
    found: dict[str, Group] = {}
    shown = varying([o.config for o in outcomes])
    for outcome in outcomes:
        if outcome.state == "complete":
            label = group_label(outcome.config, shown)
            found.setdefault(label, Group(label)).trials.append(outcome)
    for group in found.values():
        group.trials.sort(key=lambda o: o.config["seed"])
    return found


def _mean_sd(summary) -> str:
    return f"{summary.mean:.4f}" + (f" ± {summary.sd:.4f}" if summary.sd is not None else "")


def _interval(summary) -> str:
    if summary.ci_low is None:
        return "–"
    return f"[{summary.ci_low:.4f}, {summary.ci_high:.4f}]"


def model_table(found: dict[str, Group], baseline=None) -> tuple[list[str], list[list]]:
    headers = [
        "model", "n", "best val_accuracy: mean ± sd", "min–max", "95% CI",
        "test accuracy: mean ± sd", "95% CI", "epochs to best", "s per trial", "stalled",
    ]  # fmt: skip
    rows = []
    for group in found.values():
        val = summarize(group.values("best_val_accuracy"))
        test = summarize(group.values("test_accuracy"))
        best_epochs = summarize(group.values("best_epoch"))
        seconds = summarize(group.values("total_seconds"))
        stalled = sum(v < STALLED_BELOW for v in group.values("best_val_accuracy"))
        rows.append([
            group.label, val.n, _mean_sd(val), f"{val.min:.4f}–{val.max:.4f}", _interval(val),
            _mean_sd(test), _interval(test), f"{best_epochs.mean:.1f}", f"{seconds.mean:.0f}",
            f"{stalled}/{val.n}",
        ])  # fmt: skip
    if baseline is not None:
        rows.append([
            f"{baseline.name} (baseline)", 1, f"{baseline.val_accuracy:.4f}", "–", "–",
            f"{baseline.test_accuracy:.4f}", "–", "–", f"{baseline.seconds:.0f}", "–",
        ])  # fmt: skip
    return headers, rows


def paired_table(found: dict[str, Group], metric="best_val_accuracy"):
    """Each pair of models trained with the same seeds: the mean difference, seed by seed."""
    headers = ["first", "second", "seeds", f"mean difference of {metric}", "95% CI", "p"]
    rows = []
    for first, second in combinations(found.values(), 2):
        a, b = first.by_seed(metric), second.by_seed(metric)
        shared = sorted(set(a) & set(b))
        if len(shared) < 2:
            continue
        d = paired_difference({s: a[s] for s in shared}, {s: b[s] for s in shared})
        p = "–" if d.p_value is None else f"{d.p_value:.3f}"
        interval = "–" if d.ci_low is None else f"[{d.ci_low:+.4f}, {d.ci_high:+.4f}]"
        rows.append([first.label, second.label, d.n, f"{d.mean:+.4f}", interval, p])
    return headers, rows


def trial_rows(outcomes, data: str | None) -> tuple[list[str], list[list]]:
    """One row per configuration: its result, and the command that trains it again."""
    headers = ["model", "settings", "seed", "state", "best epoch", "best val_accuracy",
               "test accuracy", "run folder", "train it again"]  # fmt: skip
    shown = varying([o.config for o in outcomes]) - {"model"}
    rows = []
    for o in outcomes:
        metrics = (o.results or {}).get("metrics", {})
        settings = group_label(o.config, shown).partition(" ")[2]
        rows.append([
            o.config["model"], settings or "–", o.config["seed"], o.state,
            metrics.get("best_epoch", "–"),
            f"{metrics['best_val_accuracy']:.4f}" if metrics else "–",
            f"{metrics['test_accuracy']:.4f}" if metrics else "–",
            (o.ran_on or {}).get("dir", "–"), rerun_command(o.config, data),
        ])  # fmt: skip
    return headers, rows


def rerun_command(config: dict, data: str | None) -> str:
    order = sorted(config, key=lambda k: (k != "model", k != "seed", k))
    options = [f"--{k.replace('_', '-')} {config[k]}" for k in order]
    return " ".join(["rnnlab train", *options, *([f"--data {data}"] if data else [])])


def write_summary(folder: Path, title: str, outcomes, baseline=None, data=None) -> Report:
    """summary.csv, summary.md, summary.html and the two pictures, in `folder`."""
    found = groups(outcomes)
    report = Report(title)
    configs = [o.config for o in outcomes]
    report.text(
        f"Settings every trial shares, besides its model and seed: {shared_settings(configs)}."
    )
    add_statistics(report, folder, found, baseline)
    report.heading("Every trial")
    headers, rows = trial_rows(outcomes, data)
    report.table(headers, rows)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([headers, *rows])
    write_text(folder / "summary.csv", buffer.getvalue())
    report.write(folder, "summary")
    return report


def add_statistics(report: Report, folder: Path, found: dict[str, Group], baseline=None, level=2):
    """The statistics sections (also part of `rnnlab reproduce --seeds N`'s report)."""
    report.heading("Each model over its seeds", level)
    report.table(*model_table(found, baseline))
    report.text(f"A trial is {STALLED}.")
    if baseline is not None:
        report.text(
            f"{baseline.name}: a logistic regression on which words a review holds (a bag of "
            "words), on the same split, vocabulary and truncation: the bar any RNN here should "
            "clear."
        )
    paired = paired_table(found)
    if paired[1]:
        report.heading("Models compared on the same seeds", level)
        report.table(*paired)
        report.text(
            "First minus second, seed by seed: each seed's luck (initial weights, data order) "
            "cancels in the difference. An interval that holds 0 means these seeds cannot tell "
            "the two apart."
        )
    if found:
        values = {g.label: g.values("best_val_accuracy") for g in found.values()}
        reference = (baseline.name, baseline.val_accuracy) if baseline is not None else None
        plot_strip(values, folder / "best_val_accuracy.png", "best val_accuracy", reference)
        report.image("best_val_accuracy.png", "Best val_accuracy of each seed, per model")
        histories = {g.label: [o.results["history"] for o in g.trials] for g in found.values()}
        plot_bands(histories, "val_loss", folder / "val_loss_bands.png")
        report.image("val_loss_bands.png", "val_loss per epoch: the mean, and the range of seeds")
