"""A sweep's summary: each model over its seeds, models compared seed by seed, a baseline.

Written as summary.csv (one row per trial), summary.md and a self-contained
summary.html, with two pictures: each seed's best val_accuracy per model, and
the val_loss curves as a mean with a band.  Everything comes from the
sweep's storage, so the summary is complete on any machine of the sweep.
Its Markdown and HTML are written in the language asked for (`lang`, rnnlab/i18n.py);
summary.csv stays English, for scripts.
"""

import csv
import io
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from ..files import write_text
from ..i18n import N_, gettext_for, translation
from ..report import Report, plot_bands, plot_overlay, plot_strip
from ..report.plots import plot_language
from .grid import applied
from .search import STARTUP_TRIALS
from .stats import paired_difference, summarize

STALLED_BELOW = 0.60
STALLED = N_(
    "stalled: its best val_accuracy stayed below {below}, little better than guessing "
    "(0.50); such a model sat on a plateau for the whole training"
)


@dataclass
class Group:
    """The trials of one configuration (everything but the seed)."""

    label: str
    trials: list = field(default_factory=list)  # complete Outcomes, in seed order

    def by_seed(self, metric: str) -> dict[int, float]:
        """metric per seed, for the trials that have it (a baseline has no epochs)."""
        return {
            o.config["seed"]: o.results["metrics"][metric]
            for o in self.trials
            if metric in o.results["metrics"]
        }

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
    """The settings whose values differ between the configurations that have them (a
    baseline has none of the recurrent models' settings); the others are shared."""
    keys = {key for config in configs for key in config}
    return {k for k in keys if len({repr(c[k]) for c in configs if k in c}) > 1}


def shared_settings(configs: list[dict], lang="en") -> str:
    everywhere = set.intersection(*(set(c) for c in configs)) if configs else set()
    common = sorted(everywhere - varying(configs) - {"model", "seed"})
    shared = ", ".join(f"{k}={configs[0][k]}" for k in common)
    return shared or translation(lang).gettext("the defaults")


def groups(outcomes) -> dict[str, Group]:
    found: dict[str, Group] = {}
    shown = varying([applied(o.config) for o in outcomes])
    for outcome in outcomes:
        if outcome.state == "complete":
            label = group_label(applied(outcome.config), shown)
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


def model_table(found: dict[str, Group], baseline=None, lang="en") -> tuple[list[str], list[list]]:
    _ = gettext_for(lang)
    headers = [
        _("model"), _("n"), _("best val_accuracy: mean ± sd"), _("min–max"), _("95% CI"),
        _("test accuracy: mean ± sd"), _("95% CI"), _("epochs to best"), _("s per trial"),
        _("stalled"),
    ]  # fmt: skip
    rows = []
    for group in found.values():
        val = summarize(group.values("best_val_accuracy"))
        test = summarize(group.values("test_accuracy"))
        epochs = group.values("best_epoch")
        best_epochs = f"{summarize(epochs).mean:.1f}" if epochs else "–"
        seconds = summarize(group.values("total_seconds"))
        stalled = sum(v < STALLED_BELOW for v in group.values("best_val_accuracy"))
        rows.append([
            group.label, val.n, _mean_sd(val), f"{val.min:.4f}–{val.max:.4f}", _interval(val),
            _mean_sd(test), _interval(test), best_epochs, f"{seconds.mean:.0f}",
            f"{stalled}/{val.n}",
        ])  # fmt: skip
    if baseline is not None:
        rows.append([
            _("{name} (baseline)").format(name=baseline.name), 1, f"{baseline.val_accuracy:.4f}",
            "–", "–", f"{baseline.test_accuracy:.4f}", "–", "–", f"{baseline.seconds:.0f}", "–",
        ])  # fmt: skip
    return headers, rows


def paired_table(found: dict[str, Group], metric="best_val_accuracy", lang="en"):
    """Each pair of models trained with the same seeds: the mean difference, seed by seed."""
    _ = gettext_for(lang)
    difference = _("mean difference of {metric}").format(metric=metric)
    headers = [_("first"), _("second"), _("seeds"), difference, _("95% CI"), _("p")]
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


def trial_rows(outcomes, data: str | None, lang="en") -> tuple[list[str], list[list]]:
    """One row per configuration: its result, and the command that trains it again."""
    _ = gettext_for(lang)
    headers = [_("model"), _("settings"), _("seed"), _("state"), _("best epoch"),
               _("best val_accuracy"), _("test accuracy"), _("run folder"),
               _("train it again")]  # fmt: skip
    shown = varying([applied(o.config) for o in outcomes]) - {"model"}
    states = {"complete": _("complete"), "pruned": _("pruned"), "failed": _("failed"),
              "running": _("running"), "waiting": _("waiting"),
              "not queued": _("not queued")}  # fmt: skip
    rows = []
    for o in outcomes:
        metrics = (o.results or {}).get("metrics", {})
        settings = group_label(applied(o.config), shown).partition(" ")[2]
        rows.append([
            o.config["model"], settings or "–", o.config["seed"], states.get(o.state, o.state),
            metrics.get("best_epoch", "–"),
            f"{metrics['best_val_accuracy']:.4f}" if metrics else "–",
            f"{metrics['test_accuracy']:.4f}" if metrics else "–",
            (o.ran_on or {}).get("dir", "–"), rerun_command(o.config, data),
        ])  # fmt: skip
    return headers, rows


def rerun_command(config: dict, data: str | None, command="rnnlab train") -> str:
    order = sorted(config, key=lambda k: (k not in ("model", "models"), k != "seed", k))
    options = [f"--{k.replace('_', '-')} {config[k]}" for k in order]
    return " ".join([command, *options, *([f"--data {data}"] if data else [])])


def _csv(folder: Path, headers: list[str], rows: list[list]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([headers, *rows])
    write_text(folder / "summary.csv", buffer.getvalue())


def write_sweep_summary(folder: Path, title: str, outcomes, baseline=None, data=None,
                  lang="en") -> Report:  # fmt: skip
    """summary.csv, summary.md, summary.html and the two pictures, in `folder`; the
    report (its `title` too) in `lang`."""
    _ = gettext_for(lang)
    found = groups(outcomes)
    report = Report(title, lang)
    configs = [applied(o.config) for o in outcomes]
    report.text(
        _("Settings every trial shares, besides its model and seed: {settings}.").format(
            settings=shared_settings(configs, lang)
        )
    )
    add_statistics(report, folder, found, baseline, lang=lang)
    report.heading(_("Every trial"))
    report.table(*trial_rows(outcomes, data, lang))
    _csv(folder, *trial_rows(outcomes, data))  # English columns, for scripts
    report.write(folder, "summary")
    return report


def ranked_by_search(outcomes) -> list:
    """Best val_accuracy first; trials without results last."""

    def score(outcome):
        return outcome.results["metrics"]["best_val_accuracy"] if outcome.results else -1.0

    return sorted(outcomes, key=score, reverse=True)


def best_of_search(outcomes, search, data: str | None = None, lang="en") -> str | None:
    """The best trial's settings (the searched ones always, at their defaults too) and
    score, and the command that measures it over seeds."""
    ranked = [o for o in ranked_by_search(outcomes) if o.results]
    if not ranked:
        return None
    best = ranked[0]
    metrics = best.results["metrics"]
    shown = {**best.config, **{k: applied(best.config)[k] for k in search.space}}
    settings = {("models" if k == "model" else k): v for k, v in shown.items() if k != "seed"}
    _ = gettext_for(lang)
    return _(
        "Best: {settings}, best val_accuracy {val:.4f} (test {test:.4f}). One seed and the "
        "best of {n} draws: part of that is luck. Measure it over seeds: `{command}`"
    ).format(
        settings=group_label(shown), val=metrics["best_val_accuracy"],
        test=metrics["test_accuracy"], n=len(ranked),
        command=rerun_command(settings, data, "rnnlab sweep --seeds 5"),
    )  # fmt: skip


def _space_text(search, lang="en") -> str:
    """What a search samples from: "model: one of gru, lstm; units: 8..32; learning_rate:
    0.0003..0.003 (log scale)"."""
    _ = gettext_for(lang)
    parts = []
    for name, span in search.space.items():
        if "choices" in span:
            choices = ", ".join(map(str, span["choices"]))
            parts.append(_("{name}: one of {choices}").format(name=name, choices=choices))
        elif search.distributions()[name].log:
            parts.append(_("{name}: {low}..{high} (log scale)").format(name=name, **span))
        else:
            parts.append(f"{name}: {span['low']}..{span['high']}")
    return "; ".join(parts)


def write_search_summary(folder: Path, title: str, outcomes, search, baseline=None, data=None,
                         lang="en") -> Report:  # fmt: skip
    """A search's summary.csv, .md and .html: its trials best first, the best one's
    settings, the command that measures it over seeds, and the best trials' curves."""
    _ = gettext_for(lang)
    ranked = ranked_by_search(outcomes)
    report = Report(title, lang)
    report.text(
        _("Searched: {space}; {n} trials, one seed each, sampled by Optuna's TPE (the first "
          "{startup} at random){pruning}. Shared by every trial: {settings}.").format(
            space=_space_text(search, lang), n=search.trials,
            startup=min(search.trials, STARTUP_TRIALS),
            pruning=_(", pruned by the median validation loss") if search.prune else "",
            settings=shared_settings([applied(o.config) for o in outcomes], lang),
        )
    )  # fmt: skip
    if best := best_of_search(ranked, search, data, lang):
        report.text(best)
    if baseline is not None:
        report.text(
            _("{name} (baseline) on the same data settings: val_accuracy {val:.4f}, test "
              "{test:.4f}.").format(
                name=baseline.name, val=baseline.val_accuracy, test=baseline.test_accuracy
            )
        )  # fmt: skip
    report.heading(_("Every trial, best first"))
    report.table(*trial_rows(ranked, data, lang))
    top = [o for o in ranked if o.results and o.results.get("history")][:5]
    if top:
        histories = {
            f"{rank}. {group_label(applied(o.config), set(search.space))}": o.results["history"]
            for rank, o in enumerate(top, 1)
        }
        title = _("val_loss per epoch of the best trials")
        plot_overlay(histories, "val_loss", folder / "val_loss.png", title, lang=lang)
        report.image("val_loss.png", title)
    _csv(folder, *trial_rows(ranked, data))
    report.write(folder, "summary")
    return report


def add_statistics(report: Report, folder: Path, found: dict[str, Group], baseline=None, level=2,
                   lang="en"):  # fmt: skip
    """The statistics sections (also part of `rnnlab reproduce --seeds N`'s report)."""
    _ = gettext_for(lang)
    report.heading(_("Each model over its seeds"), level)
    report.table(*model_table(found, baseline, lang))
    stalled = _(STALLED).format(below=f"{STALLED_BELOW:.2f}")
    report.text(_("A trial is {stalled}.").format(stalled=stalled))
    if baseline is not None:
        report.text(
            _(
                "{name}: a logistic regression on which words a review holds (a bag of words), "
                "on the same split, vocabulary and truncation: the bar any RNN here should clear."
            ).format(name=baseline.name)
        )
    paired = paired_table(found, lang=lang)
    if paired[1]:
        report.heading(_("Models compared on the same seeds"), level)
        report.table(*paired)
        report.text(
            _(
                "First minus second, seed by seed: each seed's luck (initial weights, data "
                "order) cancels in the difference. An interval that holds 0 means these seeds "
                "cannot tell the two apart."
            )
        )
    if found:
        values = {g.label: g.values("best_val_accuracy") for g in found.values()}
        reference = (baseline.name, baseline.val_accuracy) if baseline is not None else None
        ylabel = translation(plot_language(lang)).gettext("best val_accuracy")
        plot_strip(values, folder / "best_val_accuracy.png", ylabel, reference, lang=lang)
        report.image("best_val_accuracy.png", _("Best val_accuracy of each seed, per model"))
        histories = {g.label: [o.results["history"] for o in g.trials] for g in found.values()}
        plot_bands(histories, "val_loss", folder / "val_loss_bands.png", lang=lang)
        report.image(
            "val_loss_bands.png", _("val_loss per epoch: the mean, and the range of seeds")
        )
