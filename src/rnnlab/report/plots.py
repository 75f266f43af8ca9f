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
