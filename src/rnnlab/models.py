"""The model registry: every model rnnlab trains, by name, and its parameter formulas.

The book's six models are defined in tutorial.py (step 4); the registry names
them and adds rnnlab's own.  Every model reads the padded ids, shape
(batch, maxlen) int32, and ends in Dense(1, sigmoid): the probability that a
review is positive.  Keras is imported only when a model is built, so that
listing the models (`rnnlab --help`) stays instant.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from . import tutorial
from .errors import RnnlabError
from .tutorial import ModelShape


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    # (ModelShape, layer namespace) -> the layers between ids and output; None for a
    # bag-of-words baseline (baselines.py), which is no Keras model
    hidden_layers: Callable | None
    chapter: str  # "9-2" and "9-3": the book's; "beyond": rnnlab's own; "baseline"
    defaults: dict = field(default_factory=dict)  # settings this model trains with by default

    @property
    def is_baseline(self) -> bool:
        return self.hidden_layers is None


@dataclass(frozen=True)
class Architecture(ModelShape):
    """The book's settings of a model's size, and what rnnlab's own models also read."""

    mask_zero: bool = False  # the embedding marks padding, and the recurrent layers skip it
    dropout: float = 0.0  # the share of inputs the recurrent layers drop while training


def embedding(shape, layers):
    """The book's embedding, with padding masked when the settings ask for it."""
    return layers.Embedding(
        shape.num_words, shape.embedding_dim, mask_zero=shape.mask_zero, name="embedding"
    )


def bilstm(shape, layers):
    lstm = layers.LSTM(shape.units, dropout=shape.dropout)
    return [embedding(shape, layers), layers.Bidirectional(lstm, name="bilstm")]


def bigru(shape, layers):
    gru = layers.GRU(shape.units, dropout=shape.dropout)
    return [embedding(shape, layers), layers.Bidirectional(gru, name="bigru")]


# With mask_zero, the pool reads the masked steps' outputs as Keras gives them (the
# state held, or zeros): the mask is meant to end at the pool, which Keras warns about.
warnings.filterwarnings("ignore", r"Layer 'max_over_time' .* does not support masking", UserWarning)


def gru_pool(shape, layers):
    """bigru-pool reading one way only: what the second direction adds."""
    import keras

    gru = layers.GRU(shape.units, dropout=shape.dropout, return_sequences=True, name="gru")
    return [embedding(shape, layers), gru, keras.layers.GlobalMaxPooling1D(name="max_over_time")]


def bigru_pool(shape, layers):
    """Every step's state, both ways, then the largest value of each feature over the
    review: a strong word anywhere counts, not only what the last steps remember."""
    import keras

    gru = layers.GRU(shape.units, dropout=shape.dropout, return_sequences=True)
    return [
        embedding(shape, layers),
        layers.Bidirectional(gru, name="bigru"),
        keras.layers.GlobalMaxPooling1D(name="max_over_time"),
    ]


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            "simplernn-onehot",
            "tutorial model A: one-hot words -> SimpleRNN -> Dense",
            tutorial.model_a,
            "9-2",
        ),
        ModelSpec(
            "simplernn-embedding",
            "tutorial model B: Embedding -> SimpleRNN -> Dense",
            tutorial.model_b,
            "9-2",
        ),
        ModelSpec("lstm", "Embedding -> LSTM -> Dense", tutorial.lstm, "9-3"),
        ModelSpec(
            "lstm-dropout", "Embedding -> LSTM(dropout=0.3) -> Dense", tutorial.lstm_dropout, "9-3"
        ),
        ModelSpec(
            "lstm-stacked",
            "Embedding -> LSTM(dropout=0.3) x 2 -> Dense",
            tutorial.lstm_stacked,
            "9-3",
        ),
        ModelSpec("gru", "Embedding -> GRU -> Dense", tutorial.gru, "9-3"),
        ModelSpec("bilstm", "Embedding -> Bidirectional(LSTM) -> Dense", bilstm, "beyond"),
        ModelSpec("bigru", "Embedding -> Bidirectional(GRU) -> Dense", bigru, "beyond"),
        ModelSpec(
            "gru-pool", "Embedding -> GRU(every step) -> max over time -> Dense", gru_pool, "beyond"
        ),
        ModelSpec(
            "bigru-pool",
            "Embedding -> Bidirectional(GRU, every step) -> max over time -> Dense",
            bigru_pool,
            "beyond",
        ),
        ModelSpec(
            "bow-logreg",
            "baseline: logistic regression on which words a review holds",
            None,
            "baseline",
        ),
        ModelSpec(
            "tfidf-logreg",
            "baseline: logistic regression on TF-IDF of words and word pairs, every word",
            None,
            "baseline",
            {"num_words": 100_000, "maxlen": 1000},  # the whole vocabulary, whole reviews
        ),
        ModelSpec(
            "char-tfidf-logreg",
            "baseline: logistic regression on TF-IDF of character 1-3-grams (the strong "
            "baseline for Korean)",
            None,
            "baseline",
            {"tokenizer": "char", "num_words": 100_000, "maxlen": 1000},  # every character
        ),
    ]
}


KERAS_MODELS = tuple(name for name, spec in MODELS.items() if not spec.is_baseline)
# what baselines read: the data's settings
BASELINE_SETTINGS = ("num_words", "maxlen", "padding", "truncating", "tokenizer", "subword_vocab",
                     "text_column", "label_column")  # fmt: skip


@dataclass(frozen=True)
class Preset:
    """A named recipe for `rnnlab train --preset NAME`; options given override its settings."""

    description: str
    settings: dict


PRESETS: dict[str, Preset] = {
    # Chosen on the validation split (screens of seeds 42-43, then 42-44); docs/best-ablation.json
    # takes it apart one setting at a time (README, "Beyond the book").
    "best": Preset(
        "bigru-pool over 20,000 words and 500 tokens, padding masked, Adam",
        {
            "model": "bigru-pool",
            "num_words": 20_000,
            "maxlen": 500,
            "mask_zero": True,
            "embedding_dim": 64,
            "units": 32,
            "dropout": 0.5,
            "optimizer": "adam",
            "learning_rate": 5e-4,
            "epochs": 8,
            "patience": 2,
            "engine": "xla",
        },
    ),
    # NSMC (Korean reviews): chosen on the validation split (README, "Korean reviews and
    # your own data").
    "nsmc": Preset(
        "bigru-pool (64 units) over 16,000 subwords learned from the training split, 64 "
        "tokens, Adam 1e-3, batches of 128",
        {
            "tokenizer": "subword",
            "subword_vocab": 16_000,
            "num_words": 16_003,  # every piece keeps its id (ids 0-2: padding, start, OOV)
            "model": "bigru-pool",
            "maxlen": 64,  # about the 99th percentile of the reviews' lengths in pieces
            "mask_zero": True,
            "embedding_dim": 128,
            "units": 64,
            "dropout": 0.5,
            "optimizer": "adam",
            "learning_rate": 1e-3,
            "batch_size": 128,
            "epochs": 6,
            "patience": 2,
            "engine": "xla",
        },
    ),
}


def chapter_models(chapter: str) -> tuple[str, ...]:
    """The models of a chapter of the book, in the book's order."""
    return tuple(name for name, spec in MODELS.items() if spec.chapter == chapter)


def build_model(name: str, shape: ModelShape = Architecture(), layers=None):
    """The keras.Model called `name`; `layers`: an engine's layer namespace (default Keras')."""
    if name not in MODELS:
        raise RnnlabError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    if MODELS[name].is_baseline:
        raise RnnlabError(f"{name} is a bag-of-words baseline (baselines.py), not a Keras model")
    return tutorial.build_model(MODELS[name].hidden_layers, shape, layers, name.replace("-", "_"))


def _n(x: int) -> str:
    return f"{x:,}"


def _recurrent_terms(layer) -> str:
    """The formula, without the total, of one recurrent layer."""
    import keras

    from .layers import OneHotSimpleRNN

    if isinstance(layer, OneHotSimpleRNN):
        n_in, units, gates = layer.num_words, layer.units, 1
    else:
        cell = layer.cell
        n_in, gates = cell.kernel.shape[0], cell.kernel.shape[1] // cell.units
        units = cell.units
    core = f"{n_in}×{units} + {units}×{units} + "
    if isinstance(layer, keras.layers.GRU) and layer.cell.reset_after:
        core += f"2×{units}"  # two biases per gate when reset_after=True
    else:
        core += f"{units}"
    return f"{gates} × ({core})" if gates > 1 else core


def formula(layer) -> str | None:
    """How Keras counts the layer's parameters, with the numbers filled in."""
    import keras

    from .layers import OneHotSimpleRNN

    total = layer.count_params()
    if total == 0:
        return "no weights = 0"
    if isinstance(layer, keras.layers.Embedding):
        return f"{layer.input_dim}×{layer.output_dim} = {_n(total)}"
    if isinstance(layer, keras.layers.Dense):
        n_in, n_out = layer.kernel.shape
        return f"{n_in}×{n_out} + {n_out} = {_n(total)}"
    if isinstance(layer, keras.layers.Bidirectional):
        return f"2 × [{_recurrent_terms(layer.forward_layer)}] = {_n(total)}"
    if isinstance(layer, (OneHotSimpleRNN, keras.layers.RNN)):
        return f"{_recurrent_terms(layer)} = {_n(total)}"
    return None


def summary_text(model) -> str:
    """Keras' summary table, then each layer's parameter formula."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=80)
    lines += ["", "Parameters, layer by layer:"]
    for layer in model.layers:
        text = formula(layer)
        if text:
            lines.append(f"  {layer.name:<16} {type(layer).__name__:<16} {text}")
    lines.append(f"  {'total':<33} {_n(model.count_params())}")
    return "\n".join(lines)
