"""The pictures: length histogram, training curves, overlaid curves of several runs."""

import io

import matplotlib

matplotlib.use("Agg")  # files only, no window; must come before pyplot
import matplotlib.pyplot as plt  # noqa: E402

from ..files import atomic_write  # noqa: E402


def save_figure(fig, path) -> None:
    """Write `fig` as a PNG atomically and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write(path, lambda f: f.write(buffer.getvalue()))


def plot_length_histogram(lengths, maxlen, path, title="Review lengths (training split)"):
    """The tutorial's histogram of review lengths, with the `maxlen` cut drawn."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(lengths, bins=50, color="#4c72b0")
    ax.axvline(maxlen, color="#c44e52", linestyle="--", label=f"maxlen = {maxlen}")
    longer = sum(1 for n in lengths if n > maxlen)
    ax.set_title(f"{title}: {longer:,} of {len(lengths):,} longer than maxlen are truncated")
    ax.set_xlabel("length (tokens, start token included)")
    ax.set_ylabel("number of reviews")
    ax.legend()
    save_figure(fig, path)


def plot_curves(history: dict, path, title=""):
    """Loss and accuracy per epoch, train vs validation, the best epoch marked."""
    epochs = range(1, len(history["loss"]) + 1)
    best = min(epochs, key=lambda e: history["val_loss"][e - 1])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(epochs, history[metric], label="train")
        ax.plot(epochs, history[f"val_{metric}"], label="validation")
        ax.axvline(best, color="gray", linestyle=":", label=f"best epoch ({best})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    axes[0].set_title(f"{title}: loss" if title else "loss")
    axes[1].set_title(f"{title}: accuracy" if title else "accuracy")
    save_figure(fig, path)


def plot_overlay(histories: dict, metric: str, path, title=None):
    """One curve of `metric` per run (e.g. val_loss of model A vs model B)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, history in histories.items():
        ax.plot(range(1, len(history[metric]) + 1), history[metric], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} per epoch")
    ax.legend()
    save_figure(fig, path)


def plot_strip(values: dict[str, list[float]], path, ylabel: str, reference=None, title=None):
    """One column of points per group (each point a seed), the mean marked, and an
    optional horizontal reference line (label, value): a baseline."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(max(5, 1.3 * len(values) + 2), 4))
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
    ax.set_title(title or f"{ylabel}, one point per seed (red: the mean)")
    save_figure(fig, path)


def plot_bands(histories: dict[str, list[dict]], metric: str, path, title=None):
    """Per group, the mean of `metric` per epoch over its runs, with a band from the
    lowest to the highest run (runs that stopped earlier leave the later epochs)."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(7, 4))
    for label, runs in histories.items():
        longest = max(len(run[metric]) for run in runs)
        table = np.full((len(runs), longest), np.nan)
        for row, run in enumerate(runs):
            table[row, : len(run[metric])] = run[metric]
        epochs = np.arange(1, longest + 1)
        line = ax.plot(epochs, np.nanmean(table, axis=0), label=f"{label} ({len(runs)})")[0]
        low, high = np.nanmin(table, axis=0), np.nanmax(table, axis=0)
        ax.fill_between(epochs, low, high, alpha=0.18, color=line.get_color())
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric}: mean over seeds, band from lowest to highest")
    ax.legend()
    save_figure(fig, path)
