"""The pictures: length histogram, training curves, overlaid curves of several runs.

Each takes `lang=`, the language of its labels (rnnlab/i18n.py); a language whose
script the default font lacks (Korean) is drawn with a font that has it, or, where
matplotlib finds none, in English (said once, on stderr).
"""

import functools
import io
import re
import sys
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from .. import i18n
from ..files import atomic_write

# Font families with Hangul, the Korean ones first (Debian: fonts-noto-cjk, fonts-nanum).
HANGUL_FAMILIES = (
    *("Noto Sans CJK KR", "Noto Sans KR", "Source Han Sans KR", "NanumGothic"),
    *("NanumBarunGothic", "Malgun Gothic", "Apple SD Gothic Neo", "AppleGothic", "UnDotum"),
    *("Baekmuk Gulim", "Noto Serif CJK KR", "Noto Sans CJK JP", "Noto Sans CJK SC"),
)
_HANGUL_FILES = re.compile(r"cjk|nanum|malgun|gothic|hangul|korean|sourcehan|baekmuk|undotum", re.I)


def find_hangul_font() -> str | None:
    """The family of a font with Hangul that matplotlib can use, or None."""
    from matplotlib import font_manager

    def known():
        names = set(font_manager.get_font_names())
        return next((family for family in HANGUL_FAMILIES if family in names), None)

    if (found := known()) is None:
        # Installed after matplotlib listed the fonts in its cache? Look once more.
        for path in font_manager.findSystemFonts():
            if _HANGUL_FILES.search(Path(path).name):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue  # a font file FreeType cannot read
        found = known()
    return found


@functools.cache
def font_for(lang: str) -> str | None:
    """The font family that draws `lang`'s script (None: the default font does, or
    none does; that is said once, on stderr)."""
    if lang == "en":
        return None
    found = find_hangul_font()
    if found is None:
        print(
            "rnnlab: matplotlib finds no font with Hangul (Debian: apt-get install "
            "fonts-noto-cjk); the plots keep English labels, the report's text is Korean",
            file=sys.stderr,
        )
    return found


def plot_language(lang: str) -> str:
    """The language the plots can be drawn in: `lang`, or English where no font has it."""
    return lang if lang == "en" or font_for(lang) else "en"


def _localized(plot):
    """Draws `plot` in the language of its `lang=`, with a font for its script."""

    @functools.wraps(plot)
    def draw(*args, lang="en", **kwargs):
        lang = plot_language(lang)
        font = font_for(lang)
        with matplotlib.rc_context({"font.family": ["sans-serif", font]} if font else {}):
            return plot(*args, lang=lang, **kwargs)

    return draw


def figure(nrows=1, ncols=1, figsize=(7, 4)):
    """A figure and its axes, drawn off screen: pyplot's global state (and a notebook's
    inline plots) stay untouched."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols)


def save_figure(fig, path) -> None:
    """Write `fig` as a PNG, atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    atomic_write(path, lambda f: f.write(buffer.getvalue()))


@_localized
def plot_length_histogram(lengths, maxlen, path, title=None, lang="en"):
    """The tutorial's histogram of review lengths, with the `maxlen` cut drawn."""
    _ = i18n.gettext_for(lang)
    title = title or _("Review lengths (training split)")
    fig, ax = figure(figsize=(7, 4))
    ax.hist(lengths, bins=50, color="#4c72b0")
    ax.axvline(maxlen, color="#c44e52", linestyle="--", label=f"maxlen = {maxlen}")
    longer = sum(1 for n in lengths if n > maxlen)
    ax.set_title(
        _("{title}: {longer} of {total} longer than maxlen are truncated").format(
            title=title, longer=f"{longer:,}", total=f"{len(lengths):,}"
        )
    )
    ax.set_xlabel(_("length (tokens, start token included)"))
    ax.set_ylabel(_("number of reviews"))
    ax.legend()
    save_figure(fig, path)


@_localized
def plot_curves(history: dict, path, title="", lang="en"):
    """Loss and accuracy per epoch, train vs validation, the best epoch marked."""
    _ = i18n.gettext_for(lang)
    epochs = range(1, len(history["loss"]) + 1)
    best = min(epochs, key=lambda e: history["val_loss"][e - 1])
    fig, axes = figure(1, 2, figsize=(11, 4))
    names = {"loss": _("loss"), "accuracy": _("accuracy")}
    for ax, (metric, name) in zip(axes, names.items(), strict=True):
        ax.plot(epochs, history[metric], label=_("train"))
        ax.plot(epochs, history[f"val_{metric}"], label=_("validation"))
        ax.axvline(
            best, color="gray", linestyle=":", label=_("best epoch ({best})").format(best=best)
        )
        ax.set_xlabel(_("epoch"))
        ax.set_ylabel(name)
        ax.legend()
        ax.set_title(f"{title}: {name}" if title else name)
    save_figure(fig, path)


@_localized
def plot_overlay(histories: dict, metric: str, path, title=None, lang="en"):
    """One curve of `metric` per run (e.g. val_loss of model A vs model B)."""
    _ = i18n.gettext_for(lang)
    fig, ax = figure(figsize=(7, 4))
    for name, history in histories.items():
        if metric in history:  # a baseline has no epochs
            ax.plot(range(1, len(history[metric]) + 1), history[metric], label=name)
    ax.set_xlabel(_("epoch"))
    ax.set_ylabel(metric)
    ax.set_title(title or _("{metric} per epoch").format(metric=metric))
    ax.legend()
    save_figure(fig, path)


@_localized
def plot_strip(values: dict[str, list[float]], path, ylabel: str, reference=None, title=None,
               lang="en"):  # fmt: skip
    """One column of points per group (each point a seed), the mean marked, and an
    optional horizontal reference line (label, value): a baseline."""
    import numpy as np

    _ = i18n.gettext_for(lang)
    fig, ax = figure(figsize=(max(5, 1.3 * len(values) + 2), 4))
    rng = np.random.default_rng(0)  # the same jitter every time
    for i, points in enumerate(values.values()):
        jitter = rng.uniform(-0.12, 0.12, size=len(points))
        ax.scatter(i + jitter, points, s=22, alpha=0.75, color="#4c72b0")
        ax.hlines(np.mean(points), i - 0.25, i + 0.25, color="#c44e52", linewidth=2)
    if reference is not None:
        ax.axhline(reference[1], color="gray", linestyle="--", label=reference[0])
        ax.legend(loc="lower right")
    ax.set_xticks(range(len(values)), list(values), rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title or _("{ylabel}, one point per seed (red: the mean)").format(ylabel=ylabel))
    save_figure(fig, path)


@_localized
def plot_bands(histories: dict[str, list[dict]], metric: str, path, title=None, lang="en"):
    """Per group, the mean of `metric` per epoch over its runs, with a band from the
    lowest to the highest run (runs that stopped earlier leave the later epochs)."""
    import numpy as np

    _ = i18n.gettext_for(lang)
    fig, ax = figure(figsize=(7, 4))
    for label, runs in histories.items():
        runs = [run for run in runs if metric in run]  # a baseline has no epochs
        if not runs:
            continue
        longest = max(len(run[metric]) for run in runs)
        table = np.full((len(runs), longest), np.nan)
        for row, run in enumerate(runs):
            table[row, : len(run[metric])] = run[metric]
        epochs = np.arange(1, longest + 1)
        line = ax.plot(epochs, np.nanmean(table, axis=0), label=f"{label} ({len(runs)})")[0]
        low, high = np.nanmin(table, axis=0), np.nanmax(table, axis=0)
        ax.fill_between(epochs, low, high, alpha=0.18, color=line.get_color())
    ax.set_xlabel(_("epoch"))
    ax.set_ylabel(metric)
    ax.set_title(
        title or _("{metric}: mean over seeds, band from lowest to highest").format(metric=metric)
    )
    ax.legend()
    save_figure(fig, path)
