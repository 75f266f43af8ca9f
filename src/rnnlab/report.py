"""Pictures and reports: everything that is drawn or written for a person to read."""

import io

import matplotlib

matplotlib.use("Agg")  # files only, no window; must come before pyplot
import matplotlib.pyplot as plt  # noqa: E402

from .files import atomic_write  # noqa: E402


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
