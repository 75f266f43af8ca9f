"""The settings of one training: defined once, read by the command line, the trainer and reports.

Each field of `TrainConfig` carries its help text and its check. `rnnlab train`'s
options are generated from these fields (cli/options.py), so the two cannot disagree,
and a value is checked in one place, with one message, whether it comes from
the command line, a saved config.json or Python.  No Keras here: the command
line reads this without paying Keras' import.
"""

import os
from dataclasses import dataclass, field, fields

from . import engine, tutorial
from .data.tokenizers import DEFAULT_SUBWORD_VOCABULARY
from .errors import RnnlabError
from .models import MODELS, PRESETS, Architecture

DATA_HELP = (
    "the data: a Keras imdb.npz, an aclImdb .tar.gz or folder, a folder holding NSMC's "
    "ratings_train.txt and ratings_test.txt, your labelled .tsv/.csv/.jsonl file (split 80/20 "
    "by label, seed 42) or two files TRAIN,TEST, or the name of a download ('keras', "
    "'aclimdb', 'nsmc'). Default: $RNNLAB_DATA, else download 'keras'."
)


def whole_number(minimum: int, maximum: int | None = None):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum:,}, got {value:,}")

    return check


def positive_number(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    if not 0 < value < float("inf"):
        raise ValueError(f"must be a finite number above 0, got {value}")


def share(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    if not 0 <= value < 1:
        raise ValueError(f"must be at least 0 and below 1, got {value}")


def one_of(*choices):
    def check(value):
        if value not in choices:
            raise ValueError(f"choose one of: {', '.join(map(str, choices))} (got {value!r})")

    check.choices = choices
    return check


def any_text(value):
    if value is not None and not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")


def setting(default, help: str, check=any_text, metavar: str | None = None):
    """A TrainConfig field with its help text (for --help) and its check."""
    return field(default=default, metadata={"help": help, "check": check, "metavar": metavar})


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training; the defaults are the tutorial's."""

    model: str = setting(
        "simplernn-embedding",
        "the model to train: "
        + "; ".join(f"{name} ({spec.description})" for name, spec in MODELS.items()),
        one_of(*MODELS),
        "NAME",
    )
    data: str | None = setting(None, DATA_HELP, any_text, "PATH")
    tokenizer: str = setting(
        "word",
        "how a review becomes tokens: word (rnnlab's word rules, for IMDB), char (every "
        "character, Hangul syllables included; a space is a token), or subword (a "
        "sentencepiece vocabulary learned from the training split, saved in the run folder)",
        one_of("word", "char", "subword"),
    )
    subword_vocab: int = setting(
        DEFAULT_SUBWORD_VOCABULARY,
        "with --tokenizer subword: the pieces sentencepiece learns",
        whole_number(16, 1_000_000),
        "N",
    )
    text_column: str | None = setting(
        None,
        "the column or field of your data file that holds the text (default: document, text "
        "or review)",
        any_text,
        "NAME",
    )
    label_column: str | None = setting(
        None, "the column or field holding the label (default: label)", any_text, "NAME"
    )
    num_words: int = setting(
        tutorial.NUM_WORDS,
        "keep the N most frequent words; the others become the OOV id 2",
        whole_number(4, 2**31 - 1),  # ids 0-2 are padding, start and OOV; ids are int32
        "N",
    )
    maxlen: int = setting(
        tutorial.MAXLEN, "pad or cut every review to N tokens", whole_number(1), "N"
    )
    units: int = setting(tutorial.UNITS, "neurons of each recurrent layer", whole_number(1), "N")
    embedding_dim: int = setting(
        tutorial.EMBEDDING_DIM, "embedding size, for embedding models", whole_number(1), "N"
    )
    padding: str = setting(
        "pre", "pad at the start (pre, as Keras) or the end", one_of("pre", "post")
    )
    truncating: str = setting(
        "pre", "cut long reviews at the start (pre, as Keras) or the end", one_of("pre", "post")
    )
    learning_rate: float = setting(
        tutorial.LEARNING_RATE, "the optimizer's learning rate", positive_number, "LR"
    )
    batch_size: int = setting(tutorial.BATCH_SIZE, "reviews per batch", whole_number(1), "N")
    epochs: int = setting(tutorial.EPOCHS, "most epochs", whole_number(1), "N")
    patience: int = setting(
        tutorial.PATIENCE, "stop after N epochs without a better val_loss", whole_number(0), "N"
    )
    optimizer: str = setting(
        "rmsprop",
        "the book's rmsprop, or adam (faster, for bigger models)",
        one_of("rmsprop", "adam"),
    )
    mask_zero: bool = setting(
        False,
        "rnnlab's own models (bilstm, bigru, gru-pool, bigru-pool): mask the padding, so the RNN "
        "skips it",
        one_of(False, True),
        "{false,true}",
    )
    dropout: float = setting(
        0.0,
        "rnnlab's own models: the share of inputs each recurrent layer drops while training",
        share,
        "P",
    )
    seed: int = setting(
        42, "random seed: the same seed gives the same results", whole_number(0, 2**32 - 1), "N"
    )
    engine: str = setting(
        engine.DEFAULT,
        "how the model runs: "
        + "; ".join(f"{e.name}: {e.description}" for e in engine.ENGINES.values())
        + f"; {engine.AUTO}: fused where it can run, else xla",
        one_of(*engine.CHOICES),
    )

    def __post_init__(self):
        for spec in fields(self):
            try:
                spec.metadata["check"](getattr(self, spec.name))
            except ValueError as error:
                raise RnnlabError(f"{spec.name}: {error}") from None
        spec = MODELS.get(self.model)
        book = spec is not None and spec.chapter in ("9-2", "9-3")
        if book and (self.mask_zero or self.dropout):
            own = ", ".join(name for name, s in MODELS.items() if s.chapter == "beyond")
            raise RnnlabError(
                f"mask_zero and dropout are settings of rnnlab's own models ({own}); "
                f"{self.model} keeps the book's layers: leave them out"
            )

    def memory_needed(self, reviews=50_000) -> dict[str, int]:
        """Bytes a training with these settings needs, part by part: an estimate from
        above (4 gates, 2 recurrent layers, weights kept 5 times over by the optimizer
        and the checkpoints, a batch's activations 3 times for the backward pass: the
        embedding's output, batch x maxlen x its width, and the gates' states)."""
        width = max(self.units, self.embedding_dim)
        recurrent = 2 * 4 * self.units * (width + self.units + 2)
        per_step = width + self.units * 8  # the embedding's output, then the gates' states
        return {
            "the padded reviews": reviews * self.maxlen * 4,
            "the model and its optimizer": (self.num_words * width + recurrent) * 4 * 5,
            "a batch's activations": self.batch_size * self.maxlen * per_step * 4 * 3,
        }

    def check_memory(self) -> None:
        """A one-line error, before any work, when these settings cannot fit in memory."""
        parts = self.memory_needed()
        available = available_memory()
        if sum(parts.values()) > available:
            largest = max(parts, key=parts.get)
            raise RnnlabError(
                f"these settings need about {sum(parts.values()) / 1e9:,.1f} GB ({largest}: "
                f"{parts[largest] / 1e9:,.1f} GB), more than the {available / 1e9:,.1f} GB this "
                "machine has free: choose a smaller --maxlen, --units, --embedding-dim, "
                "--num-words or --batch-size"
            )

    @property
    def data_options(self) -> dict:
        """How the data is read and tokenized: `open_dataset`'s options besides the path."""
        names = ("tokenizer", "subword_vocab", "text_column", "label_column")
        return {name: getattr(self, name) for name in names}

    @property
    def shape(self) -> Architecture:
        return Architecture(
            self.num_words, self.maxlen, self.units, self.embedding_dim, self.mask_zero,
            self.dropout,
        )  # fmt: skip

    @classmethod
    def resolve(cls, preset: str | None = None, **given) -> "TrainConfig":
        """The settings a training uses: TrainConfig's defaults, then the model's own
        (a model's `defaults` in models.py), then the preset's, then those `given`, each
        over the ones before."""
        if preset is not None and preset not in PRESETS:
            raise RnnlabError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
        chosen = PRESETS[preset].settings if preset else {}
        model = given.get("model", chosen.get("model", cls.model))
        own = MODELS[model].defaults if model in MODELS else {}
        return cls.from_dict({**own, **chosen, **given})

    @classmethod
    def from_dict(cls, settings: dict) -> "TrainConfig":
        """A config from config.json's settings; unknown keys are an error, missing ones
        take their defaults (older run folders have no `engine`: theirs was today's default)."""
        unknown = set(settings) - {spec.name for spec in fields(cls)}
        if unknown:
            raise RnnlabError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(**settings)


def available_memory() -> int:
    """Bytes of memory this machine has free (Linux: MemAvailable), else all of it."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
