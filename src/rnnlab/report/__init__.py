"""Everything drawn or written for a person to read: pictures and reports."""

from .document import Report
from .plots import (
    plot_bands,
    plot_curves,
    plot_length_histogram,
    plot_overlay,
    plot_strip,
    save_figure,
)

__all__ = [
    "Report",
    "plot_bands",
    "plot_curves",
    "plot_length_histogram",
    "plot_overlay",
    "plot_strip",
    "save_figure",
]
