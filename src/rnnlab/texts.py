"""Reviews from files for `predict` and `evaluate`: .txt, .tsv, .csv, .jsonl, or standard input.

The formats and their rules are data/tables.py's (the same reader as the data
sets'): a .txt is one review a line unless its first line is NSMC's header
`id<TAB>document<TAB>label`; the text column is `document`, `text` or `review`
unless named; a BOM and CRLF line ends are read as Excel writes them.  Each
file is read once, one review at a time, so memory does not grow with it and a
pipe or `-` works; a line that is not UTF-8, a missing column or a label that
is not one is a one-line error naming the line.
"""

import itertools
import os
import stat

from .data.tables import Table
from .errors import RnnlabError


def read_reviews(path: str, input_format=None, text_field=None):
    """The reviews of a file, one at a time (blank lines of a .txt skipped)."""
    for _, text, _ in Table(path, input_format, text_field):
        yield text


def read_labelled(path: str, input_format=None, text_field=None, label_field=None):
    """(text, label 0 or 1) from a .tsv, .csv, .jsonl or NSMC-format .txt file; labels
    may be 0/1, neg/pos or negative/positive (any case)."""
    for _, text, label in Table(path, input_format, text_field, label_field, labelled=True):
        yield text, label


def check_file(path: str) -> None:
    """A one-line error unless `path` is a file or a pipe (or '-', standard input): a
    folder or a device such as /dev/zero is no file of reviews."""
    if path == "-":
        return
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = 0
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise RnnlabError(
            f"review file {path} does not exist or is not a file (a folder or a device); give "
            "a file, or - for standard input"
        )


def labelled_reviews(file=None, input_format=None, text_field=None, label_field=None,
                     positives=None, negatives=None):  # fmt: skip
    """((text, label) pairs, a description of where they come from): a labelled `file`, or
    a file of `positives` and one of `negatives`, one review a line."""
    if bool(file) == bool(positives or negatives):
        raise RnnlabError("give your reviews with --file, or with --positives and --negatives")
    if file:
        check_file(file)
        return read_labelled(file, input_format, text_field, label_field), file
    if not (positives and negatives):
        raise RnnlabError("--positives and --negatives go together: give both files")
    for path in (positives, negatives):
        check_file(path)
    pairs = itertools.chain(
        ((text, 1) for text in read_reviews(positives, "txt")),
        ((text, 0) for text in read_reviews(negatives, "txt")),
    )
    return pairs, f"{positives} (positive), {negatives} (negative)"
