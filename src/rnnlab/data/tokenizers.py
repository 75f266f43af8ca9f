"""The tokenizers: raw review text -> tokens (strings), one interface, chosen by name.

- `word` (tokenizer.py, version 1): the word rules made for IMDB.  On Korean it
  yields eojeol, words with their particles (영화가, 영화는, 영화를): a huge vocabulary.
- `char`: every character but whitespace is a token (Hangul syllables, jamo
  such as ㅋ and ㅠ, letters, digits, punctuation, emoji); a run of whitespace is one
  token `▁`, so the model still sees the spacing.
- `subword`: a sentencepiece unigram vocabulary learned from the training split
  only (`learn`), saved as sentencepiece's own model file; its pieces are the tokens.
  The text is prepared as for `char` (tags out, NFC, lower case) and sentencepiece
  normalises nothing more (its `identity` rule), so the rules stay rnnlab's.

Every tokenizer gives strings, so the vocabulary (ranks by frequency in the
training split, ids 0 pad, 1 start, 2 OOV) is built the same way for all.  A
tokenizer is described by `spec()` (what a run folder and the cache record) and
rebuilt by `from_spec(spec, model)`; changing a tokenizer's rules means bumping
its version, so that caches and run folders made with the old rules are not mixed up.
"""

import re
import unicodedata

from ..errors import RnnlabError
from .tokenizer import TOKENIZER_VERSION, tokenize_corpus

NAMES = ("word", "char", "subword")
DEFAULT_SUBWORD_VOCABULARY = 8000
SPACE = "\u2581"  # sentencepiece's mark for a space; the char tokenizer's space token


class WordTokenizer:
    """rnnlab's word rules (tokenizer.py); the tokenizer of IMDB and the book."""

    name, version, model = "word", TOKENIZER_VERSION, None

    def tokenize_corpus(self, texts: list[str]) -> list[list[str]]:
        return tokenize_corpus(texts)

    def spec(self) -> dict:
        return {"name": self.name, "version": self.version}


_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_SPACES = re.compile(r"\s+")


def prepared(text: str) -> str:
    """HTML tags become a space (as in the word rules); Unicode NFC (decomposed Hangul
    becomes syllables); lower case; runs of whitespace become one space, none at the ends."""
    text = unicodedata.normalize("NFC", _TAG.sub(" ", text)).lower()
    return _SPACES.sub(" ", text).strip()


class CharTokenizer:
    """Characters, version 1: each character of the `prepared` text, a space as `▁`."""

    name, version, model = "char", 1, None

    def tokenize_corpus(self, texts: list[str]) -> list[list[str]]:
        return [self.tokenize(text) for text in texts]

    def tokenize(self, text: str) -> list[str]:
        return list(prepared(text).replace(" ", SPACE))

    def spec(self) -> dict:
        return {"name": self.name, "version": self.version}


class SubwordTokenizer:
    """A sentencepiece model (its serialized bytes, `model`): pieces as tokens.  Pieces
    are named through the model's own table, so an unknown character reads `<unk>`."""

    name, version = "subword", 1

    def __init__(self, model: bytes):
        import sentencepiece

        self.model = bytes(model)
        self.processor = sentencepiece.SentencePieceProcessor(model_proto=self.model)
        self.pieces = [self.processor.id_to_piece(i) for i in range(self.processor.vocab_size())]

    @classmethod
    def learn(cls, texts: list[str], vocab_size=DEFAULT_SUBWORD_VOCABULARY) -> "SubwordTokenizer":
        """A unigram vocabulary of up to `vocab_size` pieces learned from `texts` (the
        training split), offline, deterministically (one thread, a fixed seed, every
        sentence read)."""
        import io

        import sentencepiece

        sentences = [line for line in map(prepared, texts) if line]
        if not sentences:
            raise RnnlabError("the training split has no text to learn subwords from")
        sentencepiece.set_random_generator_seed(42)
        model = io.BytesIO()
        options = dict(
            model_type="unigram",
            normalization_rule_name="identity",  # `prepared` did rnnlab's normalising
            character_coverage=0.9995,  # rare characters read as <unk>, as for CJK text
            num_threads=2,
            hard_vocab_limit=False,  # a tiny corpus gets fewer pieces, not an error
            input_sentence_size=0,  # every sentence
            max_sentence_length=1 << 16,
            minloglevel=2,
        )
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences), model_writer=model, vocab_size=vocab_size, **options
        )
        return cls(model.getvalue())

    def tokenize_corpus(self, texts: list[str]) -> list[list[str]]:
        pieces = self.pieces
        encoded = self.processor.encode([prepared(text) for text in texts])
        return [[pieces[i] for i in ids] for ids in encoded]

    def spec(self) -> dict:
        return {"name": self.name, "version": self.version, "vocab_size": len(self.pieces)}


def from_spec(spec: dict, model: bytes | None = None):
    """The tokenizer `spec` describes (a subword one needs its `model` bytes); a
    ValueError names what does not fit."""
    name, version = spec.get("name"), spec.get("version")
    known = {"word": WordTokenizer, "char": CharTokenizer, "subword": SubwordTokenizer}
    if name not in known:
        raise ValueError(f"unknown tokenizer {name!r} (this rnnlab has {', '.join(NAMES)})")
    kind = known[name]
    if version != kind.version:
        raise ValueError(
            f"made with tokenizer v{version} ({name}), this rnnlab has v{kind.version}: use "
            "the rnnlab version that trained it, or retrain"
        )
    if kind is SubwordTokenizer:
        if model is None:
            raise ValueError("a subword tokenizer needs its sentencepiece model file")
        return SubwordTokenizer(model)
    return kind()


def cache_key(name: str, vocab_size: int) -> str:
    """What names a tokenizer's cache entry: its name and version (and vocabulary size)."""
    if name == "word":
        return "word"  # the entries' name from before there were other tokenizers
    if name == "char":
        return f"char{CharTokenizer.version}"
    return f"subword{SubwordTokenizer.version}-{vocab_size}"


def new(name: str, train_texts=None, vocab_size=DEFAULT_SUBWORD_VOCABULARY):
    """The tokenizer called `name`; a subword one is learned from `train_texts`."""
    if name == "subword":
        return SubwordTokenizer.learn(train_texts, vocab_size)
    return {"word": WordTokenizer, "char": CharTokenizer}[name]()
