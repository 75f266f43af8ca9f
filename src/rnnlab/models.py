"""The model registry: name -> builder, and the parameter formulas the summaries show.

Every model takes the padded ids, shape (batch, maxlen) int32, and ends in
Dense(1, sigmoid): the probability that a review is positive.  A builder
returns the layers in between.  Keras is imported only when a model is built,
so that listing the models (`rnnlab --help`) stays instant.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .errors import RnnlabError


@dataclass(frozen=True)
class ModelShape:
    """The hyperparameters that decide a model's size."""

    num_words: int = 500
    maxlen: int = 100
    units: int = 8
    embedding_dim: int = 16


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    hidden_layers: Callable  # (ModelShape, rnnlab.layers) -> list of layers
    chapter: str


MODELS: dict[str, ModelSpec] = {}


def register(name: str, description: str, chapter: str):
    def add(build):
        MODELS[name] = ModelSpec(name, description, build, chapter)
        return build

    return add


def build_model(name: str, shape: ModelShape = ModelShape()):
    """The keras.Model called `name`: ids -> hidden layers -> Dense(1, sigmoid)."""
    if name not in MODELS:
        raise RnnlabError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    import keras

    from . import layers

    return keras.Sequential(
        [
            keras.Input(shape=(shape.maxlen,), dtype="int32", name="ids"),
            *MODELS[name].hidden_layers(shape, layers),
            keras.layers.Dense(1, activation="sigmoid", name="output"),
        ],
        name=name.replace("-", "_"),
    )


def _embedding(shape, layers):
    return layers.Embedding(shape.num_words, shape.embedding_dim, name="embedding")


@register("simplernn-onehot", "tutorial model A: one-hot words -> SimpleRNN -> Dense", "9-2")
def simplernn_onehot(shape, layers):
    from .layers import OneHotSimpleRNN

    return [OneHotSimpleRNN(shape.units, shape.num_words, name="simple_rnn")]


@register("simplernn-embedding", "tutorial model B: Embedding -> SimpleRNN -> Dense", "9-2")
def simplernn_embedding(shape, layers):
    return [_embedding(shape, layers), layers.SimpleRNN(shape.units, name="simple_rnn")]


# --- parameter formulas ------------------------------------------------------------


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


# --- chapter 9-3 and beyond: gated and bidirectional layers ----------------------------


@register("lstm", "Embedding -> LSTM -> Dense", "9-3")
def lstm(shape, layers):
    return [_embedding(shape, layers), layers.LSTM(shape.units, name="lstm")]


@register("lstm-dropout", "Embedding -> LSTM(dropout=0.3) -> Dense", "9-3")
def lstm_dropout(shape, layers):
    return [_embedding(shape, layers), layers.LSTM(shape.units, dropout=0.3, name="lstm")]


@register("lstm-stacked", "Embedding -> LSTM(dropout=0.3) x 2 -> Dense", "9-3")
def lstm_stacked(shape, layers):
    return [
        _embedding(shape, layers),
        layers.LSTM(shape.units, dropout=0.3, return_sequences=True, name="lstm_1"),
        layers.LSTM(shape.units, dropout=0.3, name="lstm_2"),
    ]


@register("gru", "Embedding -> GRU -> Dense", "9-3")
def gru(shape, layers):
    return [_embedding(shape, layers), layers.GRU(shape.units, name="gru")]


@register("bilstm", "Embedding -> Bidirectional(LSTM) -> Dense", "beyond")
def bilstm(shape, layers):
    return [
        _embedding(shape, layers),
        layers.Bidirectional(layers.LSTM(shape.units), name="bilstm"),
    ]


@register("bigru", "Embedding -> Bidirectional(GRU) -> Dense", "beyond")
def bigru(shape, layers):
    return [_embedding(shape, layers), layers.Bidirectional(layers.GRU(shape.units), name="bigru")]
