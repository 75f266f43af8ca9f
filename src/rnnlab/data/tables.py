"""Texts (and labels) from files, one pass, line by line, with bounds.

The formats, told by the file's name (or given):

- `.txt`: one review a line (blank lines skipped), unless its first line is the
  header `id<TAB>document<TAB>label`: then it is NSMC's format, tab-separated
  with no quoting (a review may hold `"`), three fields a line.
- `.tsv` and `.csv`: a header line, then rows; quoting as Excel writes it (a quoted
  field may hold tabs, commas, quotes and line breaks).
- `.jsonl`: one JSON object a line (blank lines skipped).

Every format: a UTF-8 BOM (Excel's "CSV UTF-8") is dropped, CRLF line ends are
read as LF, and a line (or field) over `MAX_LINE` bytes is refused.  Bytes
that are not UTF-8 are an error naming the line, or with `errors="replace"`
(data sets, as for IMDB's reviews) read as U+FFFD.  The text column is found by
name (`document`, `text` or `review`, in that order) unless given; labels are
0/1, neg/pos or negative/positive, in any case.  Problems are one-line
`RnnlabError`s naming the file and the line.  The file is read once, so a pipe
or standard input (`-`) works.
"""

import csv
import json
import sys
from pathlib import Path

from ..errors import RnnlabError

FORMATS = ("txt", "tsv", "csv", "jsonl")
TEXT_COLUMNS = ("document", "text", "review")
LABEL_COLUMN = "label"
ID_COLUMN = "id"
LABELS = {"0": 0, "1": 1, "neg": 0, "pos": 1, "negative": 0, "positive": 1}
NSMC_HEADER = ["id", "document", "label"]
MAX_LINE = 64 << 20  # a review of up to 64 MB; csv's own limit is 128 KB
BOM = "\ufeff"


def file_format(path: str, given: str | None = None) -> str:
    """The format of `path` by its name ('-': txt), or `given`; else a one-line error."""
    fmt = given or ("txt" if path == "-" else Path(path).suffix.lstrip(".").lower())
    if fmt not in FORMATS:
        raise RnnlabError(
            f"cannot tell the format of {path}: name it .txt, .tsv, .csv or .jsonl, or pass "
            "--input-format"
        )
    return fmt


class Table:
    """One pass over a file of texts: iterate for (line number, text, label or None).

    `labelled`: each row must carry a valid label.  `unique_ids`: a column `id`
    must not repeat (a row pasted twice).  After the first row, `columns` holds
    the file's column names (for a check that two files share a layout) and
    `replaced_lines` counts the lines whose bad bytes became U+FFFD.
    """

    def __init__(self, path: str, fmt=None, text_column=None, label_column=None,
                 labelled=False, errors="strict", unique_ids=False):  # fmt: skip
        self.path, self.format = str(path), file_format(str(path), fmt)
        self.text_column, self.label_column = text_column, label_column or LABEL_COLUMN
        self.labelled, self.errors, self.unique_ids = labelled, errors, unique_ids
        self.columns: list[str] | None = None
        self.replaced_lines = 0

    def __iter__(self):
        lines = self._lines()
        if self.format == "jsonl":
            rows = self._json_rows(lines)
        elif self.format == "txt":
            rows = self._txt_rows(lines)
        else:
            rows = self._csv_rows(lines, "\t" if self.format == "tsv" else ",")
        seen_ids = {} if self.unique_ids else None
        for number, text, label, row_id in rows:
            if seen_ids is not None and row_id:  # an empty id is no id
                first = seen_ids.setdefault(row_id, number)
                if first != number:
                    raise RnnlabError(
                        f"{self.path} line {number}: id {row_id!r} is also on line {first}; "
                        "ids must be unique: remove the repeated row"
                    )
            yield number, text, self._label(label, number) if self.labelled else None

    # --- lines -----------------------------------------------------------------

    def _lines(self):
        """(line number, text) with the BOM dropped and the line end kept as LF."""
        stream = sys.stdin.buffer if self.path == "-" else open(self.path, "rb")  # noqa: SIM115
        try:
            number = 0
            while raw := stream.readline(MAX_LINE + 1):
                number += 1
                if len(raw) > MAX_LINE:
                    raise RnnlabError(
                        f"{self.path} line {number} is over {MAX_LINE >> 20} MB: not a review; "
                        "check that it is a text file"
                    )
                line = self._decode(raw, number)
                if number == 1 and line.startswith(BOM):
                    line = line[1:]
                if line.endswith("\r\n"):
                    line = line[:-2] + "\n"
                yield number, line
        finally:
            if self.path != "-":
                stream.close()

    def _decode(self, raw: bytes, number: int) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            if self.errors != "replace":
                raise RnnlabError(
                    f"{self.path} is not UTF-8 text (line {number}, byte {error.start + 1}): "
                    f"convert it, e.g. iconv -f latin1 -t utf-8 {self.path} > fixed.txt"
                ) from None
            self.replaced_lines += 1
            return raw.decode("utf-8", errors="replace")

    # --- formats ---------------------------------------------------------------

    def _txt_rows(self, lines):
        """One review a line, or NSMC's format when the first line is its header."""
        nsmc = False
        for number, line in lines:
            line = line.rstrip("\n")
            if number == 1 and line.split("\t") == NSMC_HEADER:
                nsmc, self.columns = True, list(NSMC_HEADER)
                continue
            if not nsmc:
                if self.labelled:
                    raise RnnlabError(
                        f"{self.path}: a .txt file has no labels unless it is NSMC's format "
                        "(first line id<TAB>document<TAB>label); give a .tsv, .csv or .jsonl file"
                    )
                self.columns = ["text"]
                if line.strip():
                    yield number, line, None, None
                continue
            fields = line.split("\t")
            if len(fields) != 3:
                raise RnnlabError(
                    f"{self.path} line {number} has {len(fields)} tab-separated fields; NSMC's "
                    "format has 3 (id, document, label)"
                )
            yield number, fields[1], fields[2], fields[0]

    def _csv_rows(self, lines, delimiter: str):
        csv.field_size_limit(MAX_LINE)
        numbered = iter(lines)
        current = [0]

        def text_lines():
            for number, line in numbered:
                current[0] = number
                yield line

        reader = csv.reader(text_lines(), delimiter=delimiter)
        try:
            header = next(reader, None)
            if header is None:
                return
            self.columns = [name.strip() for name in header]
            text_at = self.columns.index(self._text_name(self.columns, 1))
            label_at = self._label_index(self.columns)
            id_at = self.columns.index(ID_COLUMN) if ID_COLUMN in self.columns else None
            for row in reader:
                if not row:
                    continue  # a blank line
                number = current[0]
                wanted = max(text_at, label_at if label_at is not None else 0)
                if len(row) <= wanted:
                    raise RnnlabError(
                        f"{self.path} line {number} has {len(row)} fields, the header "
                        f"{len(self.columns)}; fix that row"
                    )
                label = row[label_at] if label_at is not None else None
                row_id = row[id_at] if id_at is not None and id_at < len(row) else None
                yield number, row[text_at], label, row_id
        except csv.Error as error:
            raise RnnlabError(f"{self.path} line {current[0]}: not valid CSV ({error})") from None

    def _json_rows(self, lines):
        for number, line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise RnnlabError(f"{self.path} line {number} is not JSON") from None
            if not isinstance(record, dict):
                raise RnnlabError(f"{self.path} line {number} is not a JSON object")
            if self.columns is None:
                self.columns = list(record)
            name = self._text_name(list(record), number)
            if not isinstance(record[name], str):
                raise RnnlabError(f"{self.path} line {number}: field {name!r} is not text")
            if self.labelled and self.label_column not in record:
                raise RnnlabError(
                    f"{self.path} line {number} has no label field {self.label_column!r}; "
                    "choose one with --label-column"
                )
            row_id = record.get(ID_COLUMN)
            yield number, record[name], record.get(self.label_column), _id_text(row_id)

    # --- columns and labels -----------------------------------------------------

    def _text_name(self, names: list[str], number: int) -> str:
        if self.text_column is not None:
            if self.text_column in names:
                return self.text_column
            wanted = self.text_column
        else:
            found = [name for name in TEXT_COLUMNS if name in names]
            if found:
                return found[0]
            wanted = "text"
        where = f"{self.path} line {number}" if self.format == "jsonl" else self.path
        also = "" if self.text_column else " (nor 'document' or 'review')"
        return _missing(where, wanted, names, "text", also)

    def _label_index(self, names: list[str]) -> int | None:
        if self.label_column in names:
            return names.index(self.label_column)
        if self.labelled:
            _missing(self.path, self.label_column, names, "label")
        return None

    def _label(self, value, number: int) -> int:
        label = LABELS.get(str(value).strip().lower()) if not isinstance(value, bool) else None
        if label is None:
            raise RnnlabError(
                f"{self.path} line {number}: label {value!r} is not 0/1, neg/pos or "
                "negative/positive; fix or remove that row"
            )
        return label


def _missing(where: str, wanted: str, names: list[str], kind: str, also=""):
    raise RnnlabError(
        f"{where} has no column {wanted!r}{also}; its columns: {', '.join(names) or 'none'}; "
        f"choose one with --{kind}-column"
    )


def _id_text(value) -> str | None:
    return None if value is None else str(value)
