"""The tokenizer that turns raw review text into words (versioned).

Version 1, applied in this order:

1. HTML tags (``<br />``, ``<i>``, ``</a>``: ``<``, a letter, up to ``>``)
   become a space; a lone ``<`` or ``>`` is left alone.
2. The typographic apostrophe ``’`` becomes ``'``; the text is lower-cased
   (``str.lower``).
3. A word is a maximal run of letters or digits of any script, with inner
   apostrophes kept (``don't``, ``o'neil``).  Everything else separates words:
   punctuation, underscores, emoji, whitespace.  A leading or trailing
   apostrophe is dropped (``'quoted'`` -> ``quoted``).

Bytes that are not valid UTF-8 are decoded as U+FFFD (``errors="replace"``),
which is not a letter, so a bad byte splits words rather than failing.

Changing any rule changes which ids a review gets: bump ``TOKENIZER_VERSION``
so that caches and saved models made with the old rules are not mixed up.
"""

import re

TOKENIZER_VERSION = 1

# Reviews are joined with a control character (never part of a word) so that
# normalisation runs once over the whole corpus; a tag cannot span it.
_SEPARATOR = "\x1e"
_TAG = re.compile(r"</?[A-Za-z][^<>\x1e]*>")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def tokenize_corpus(texts: list[str]) -> list[list[str]]:
    """Split many reviews into words, one list per review."""
    if not texts:
        return []
    corpus = _SEPARATOR.join(text.replace(_SEPARATOR, " ") for text in texts)
    corpus = _TAG.sub(" ", corpus).replace("\u2019", "'").lower()
    return [_WORD.findall(part) for part in corpus.split(_SEPARATOR)]


def tokenize(text: str) -> list[str]:
    """Split one review into words (the same rules as ``tokenize_corpus``)."""
    return tokenize_corpus([text])[0]
