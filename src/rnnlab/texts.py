"""Reviews from files: .txt (one a line), .csv and .jsonl (a text field), or standard input.

Read one at a time, so memory does not grow with the file; a line that is not
UTF-8, a missing field or a label that is not one is a one-line error naming
the line.  `read_labelled` also reads a label per review, for evaluating a
model on your own texts.
"""

import csv
import itertools
import json
import os
import stat
import sys
from pathlib import Path

from .errors import RnnlabError

INPUT_FORMATS = ("txt", "csv", "jsonl")
MAX_FIELD = 64 << 20  # a CSV field (one review) of up to 64 MB; csv's own limit is 128 KB
LABELS = {"0": 0, "1": 1, "neg": 0, "pos": 1, "negative": 0, "positive": 1}


def _lines(path: str):
    """(line number, line) of a UTF-8 file or of standard input ('-'), decoded line
    by line so that an error names the exact line."""
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    try:
        for number, raw in enumerate(stream, start=1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise RnnlabError(
                    f"{path} is not UTF-8 text (line {number}, byte {error.start + 1}): convert "
                    f"it, e.g. iconv -f latin1 -t utf-8 {path} > fixed.txt"
                ) from None
    finally:
        if path != "-":
            stream.close()


def read_reviews(path: str, input_format=None, text_field="text"):
    """The reviews of a .txt (one per line, blank lines skipped), .csv (column
    `text_field`) or .jsonl (field `text_field`) file, one at a time."""
    for record in _records(path, input_format, {"text": text_field}):
        yield record["text"]


def read_labelled(path: str, input_format=None, text_field="text", label_field="label"):
    """(text, label 0 or 1) from a .csv or .jsonl file; labels may be 0/1, neg/pos or
    negative/positive (any case).  Another label is a one-line error that lists the
    labels the file holds."""
    fields = {"text": text_field, "label": label_field}
    for record in _records(path, input_format, fields):
        label = LABELS.get(str(record["label"]).strip().lower())
        if label is None:
            found = sorted({str(r["label"]) for r in _records(path, input_format, fields)})
            shown = ", ".join(repr(value) for value in found[:10])
            raise RnnlabError(
                f"{path}: labels must be 0/1, neg/pos or negative/positive; its "
                f"{label_field!r} holds {shown}{' ...' if len(found) > 10 else ''}"
            )
        yield record["text"], label


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


def labelled_reviews(file=None, input_format=None, text_field="text", label_field="label",
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


def _records(path: str, input_format, fields: dict):
    """{name: value} of `fields` (name -> the file's column or field) for each review."""
    check_file(path)
    fmt = input_format or (Path(path).suffix.lstrip(".").lower() if path != "-" else "txt")
    if fmt not in INPUT_FORMATS:
        raise RnnlabError(
            f"cannot tell the format of {path}: name it .txt, .csv or .jsonl, or pass "
            "--input-format txt|csv|jsonl"
        )
    if fmt == "txt":
        if "label" in fields:
            raise RnnlabError(f"{path}: a .txt file has no labels; give a .csv or .jsonl file")
        for _, line in _lines(path):
            if line.strip():
                yield {"text": line.rstrip("\r\n")}
    elif fmt == "csv":
        yield from _csv_records(path, fields)
    else:
        yield from _jsonl_records(path, fields)


def _csv_records(path: str, fields: dict):
    csv.field_size_limit(MAX_FIELD)
    rows = csv.DictReader(line for _, line in _lines(path))
    try:
        for row in rows:
            missing = [column for column in fields.values() if column not in row]
            if missing:
                raise RnnlabError(
                    f"{path} has no column {missing[0]!r} (columns: "
                    f"{', '.join(rows.fieldnames or [])}); choose one with "
                    f"--{'text' if missing[0] == fields['text'] else 'label'}-field"
                )
            yield {name: row[column] or "" for name, column in fields.items()}
    except csv.Error as error:
        raise RnnlabError(f"{path} line {rows.line_num}: not valid CSV ({error})") from None


def _jsonl_records(path: str, fields: dict):
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise RnnlabError(f"{path} line {number} is not JSON") from None
        if not isinstance(record, dict) or not isinstance(record.get(fields["text"]), str):
            raise RnnlabError(
                f"{path} line {number} has no text field {fields['text']!r}; "
                "choose one with --text-field"
            )
        if "label" in fields and fields["label"] not in record:
            raise RnnlabError(
                f"{path} line {number} has no label field {fields['label']!r}; "
                "choose one with --label-field"
            )
        yield {name: record[field] for name, field in fields.items()}
