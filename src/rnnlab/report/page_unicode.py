"""The Unicode tables of this Python, for the page's tokenizers (page_assets/core.js).

A browser's Unicode tables differ from Python's (`\\p{L}` vs `str.isalnum`,
`toLowerCase` vs `str.lower`, `\\s` vs Python's whitespace, and the Unicode version
of `String.normalize`), so the page carries this Python's own, as short codes:

- word: the characters `[^\\W_]` matches (the word tokenizer's words);
- lower, lower_multi: what `str.lower` changes; cased, ignorable: the classes of
  its final-sigma rule;
- space: what Python's `\\s` and `str.strip` call whitespace (the char tokenizer);
- combining, decompositions: `unicodedata`'s canonical combining classes and
  canonical decompositions, each marked when it is excluded from composition,
  from which core.js computes NFC as `unicodedata.normalize("NFC", ...)` does.
"""

import functools
import re
import sys
import unicodedata

import numpy as np

HANGUL_SYLLABLES = range(0xAC00, 0xD7A4)  # decomposed by a formula, not a table


@functools.cache
def unicode_tables(tokenizer: str = "word") -> dict:
    """The tables core.js's tokenizer `tokenizer` needs (a few KB)."""
    single, multi = _lower_changes()
    tables = {
        "cased": _ranges_code(_final_sigma_after("")),
        "ignorable": _ranges_code(_final_sigma_after("A") & ~_final_sigma_after("")),
        "lower": _lower_code(single),
        "lower_multi": {str(code): text for code, text in multi.items()},
    }
    if tokenizer == "word":
        return {**tables, "word": _ranges_code(_matches(r"[^\W_]"))}
    return {**tables, "space": _ranges_code(_matches(r"\s")), **normalization_tables()}


def _everything() -> str:
    return "".join(map(chr, range(sys.maxunicode + 1)))


def _matches(pattern: str) -> np.ndarray:
    """For every character: does the one-character regex `pattern` match it?"""
    flags = np.zeros(sys.maxunicode + 1, bool)
    for match in re.finditer(f"{pattern}+", _everything()):
        flags[match.start() : match.end()] = True
    return flags


def normalization_tables() -> dict:
    """combining: runs of equal non-zero combining class as (gap, length, class);
    decompositions: for each character with a canonical decomposition (Hangul
    syllables aside), (gap since the previous one, kind, its code points), kind =
    the number of code points, + 2 when the character is excluded from composition."""
    classes = [unicodedata.combining(chr(c)) for c in range(sys.maxunicode + 1)]
    runs, previous_end, c = [], 0, 0
    while c <= sys.maxunicode:
        if classes[c] == 0:
            c += 1
            continue
        start = c
        while c <= sys.maxunicode and classes[c] == classes[start]:
            c += 1
        runs += [start - previous_end, c - start, classes[start]]
        previous_end = c
    numbers, previous = [], 0
    for code in range(sys.maxunicode + 1):
        raw = unicodedata.decomposition(chr(code))
        if not raw or raw.startswith("<") or code in HANGUL_SYLLABLES:
            continue
        parts = [int(part, 16) for part in raw.split()]
        excluded = unicodedata.normalize("NFC", chr(code)) != chr(code)
        numbers += [code - previous, len(parts) + 2 * excluded, *parts]
        previous = code
    return {"combining": _base36(runs), "decompositions": _base36(numbers)}


def _lower_changes() -> tuple[dict[int, int], dict[int, str]]:
    """{code: lower-case code - code} and {code: longer lower case} of `str.lower`,
    capital sigma aside (its rule needs context)."""
    single, multi = {}, {}
    for block in range(0, sys.maxunicode + 1, 256):
        if (text := "".join(map(chr, range(block, block + 256)))).lower() == text:
            continue
        for code in range(block, block + 256):
            lower = chr(code).lower()
            if lower != chr(code) and code != 0x3A3:
                if len(lower) == 1:
                    single[code] = ord(lower) - code
                else:
                    multi[code] = lower
    return single, multi


@functools.cache
def _final_sigma_after(prefix: str) -> np.ndarray:
    """For every character c: does `str.lower` make a capital sigma after prefix + c final?
    Without prefix: c is cased and not case-ignorable.  After "A": c is either."""
    codes = [c for c in range(sys.maxunicode + 1) if c != 10]  # "\n" separates the tests
    pieces = "\n".join(f"{prefix}{chr(c)}\u03a3" for c in codes).lower().split("\n")
    final = np.zeros(sys.maxunicode + 1, bool)
    final[codes] = [piece[-1] == "\u03c2" for piece in pieces]
    final[10] = f"{prefix}\n\u03a3".lower()[-1] == "\u03c2"
    return final


def _base36(numbers) -> str:
    return ",".join(np.base_repr(int(n), 36).lower() for n in numbers)


def _ranges_code(flags: np.ndarray) -> str:
    """The runs of True in `flags` as (gap since the previous run, length) pairs."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    starts, ends = edges[::2], edges[1::2]
    gaps = starts - np.concatenate(([0], ends[:-1]))
    return _base36(np.column_stack((gaps, ends - starts)).ravel())


def _lower_code(single: dict[int, int]) -> str:
    """`single` as (gap, count, stride, delta) runs: A-Z is one run (stride 1, delta
    32), Ā ā Ă ă ... another (stride 2, delta 1)."""
    codes, numbers, cursor, i = sorted(single), [], 0, 0
    while i < len(codes):
        start, delta, count, stride = codes[i], single[codes[i]], 1, 1
        if i + 1 < len(codes) and single[codes[i + 1]] == delta and codes[i + 1] - start <= 2:
            stride = codes[i + 1] - start
            while (
                i + count < len(codes)
                and single[codes[i + count]] == delta
                and codes[i + count] - codes[i + count - 1] == stride
            ):
                count += 1
        numbers += [start - cursor, count, stride, delta]
        cursor = start + (count - 1) * stride + 1
        i += count
    return _base36(numbers)
