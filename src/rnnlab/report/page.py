"""`rnnlab page`: one HTML file that runs a trained model in the browser.

The page holds everything it needs: the weights, the vocabulary, and the
tokenizer and the forward pass in plain JavaScript (page_assets/core.js; the
interface is page_assets/ui.js).  It makes no network request (its Content
Security Policy forbids them), so it opens from file:// and works offline.

What keeps the page equal to `rnnlab predict` (tests/test_page.py checks it):

- the model is read layer by layer from Keras' own layers and configs, with its
  float32 weights; the JavaScript computes in double precision;
- the tokenizer: the word rules (the book's and IMDB's), characters (for
  Korean), with this Python's own Unicode tables, since a browser's differ
  (page_unicode.py), or sentencepiece's subwords over those characters, its
  unigram encoder rewritten in JavaScript with the model's pieces and scores
  (page_subword.py);
- the vocabulary: the words that get ids, in rank order, and every other word
  seen in training as a set, because predict reads those as [OOV] while it
  skips words never seen;
- the language: a model of Korean reviews gets a page in Korean, with Korean
  examples (`review_language`), unless a language is asked for.

The weights are float32 in byte planes, deflated, in base64; the words with an
id are JSON; the other words are front-coded and deflated (other subwords: their
piece ids).  The README gives the size rule that follows.
"""

import base64
import hashlib
import html
import json
import os
import re
import zlib
from importlib import resources
from pathlib import Path

import numpy as np

from .. import i18n, runs
from ..errors import RnnlabError
from ..files import write_text
from .page_subword import subword_data
from .page_unicode import unicode_tables

# The activations core.js implements (Keras' names).
ACTIVATIONS = ("linear", "tanh", "sigmoid", "relu", "hard_sigmoid", "softsign")
SUPPORTED_LAYERS = (
    "Embedding, SimpleRNN, LSTM, GRU, Bidirectional, GlobalMaxPooling1D, Dense and Dropout"
)
FIRST_WORD_ID = 4  # ids 0-2 are padding, start and OOV; Keras' index_from=3 leaves 3 unused


TOKENIZERS = ("word", "char", "subword")  # the tokenizers core.js runs


def write_page(run_dir, output=None, overwrite=False, lang=None, allow_unfinished=False) -> Path:
    """Write the page of the run folder `run_dir` (default: RUN_DIR/page.html);
    `lang`: the page's language (default: the language of the reviews the model
    read, see `review_language`); `allow_unfinished`: also from an interrupted run,
    with its best model so far."""
    from ..predict import load

    if lang is not None:
        i18n.translation(lang)  # an unknown language is a one-line error
    output = Path(run_dir) / runs.PAGE if output is None else Path(output)
    if output.exists() and not overwrite:
        raise RnnlabError(f"{output} exists; pass --overwrite to replace it, or choose --output")
    return write_text(output, page_html(load(run_dir, allow_unfinished), lang))


def page_html(predictor, lang=None) -> str:
    """The page of a loaded `Predictor`, as one HTML text."""
    tokenizer = predictor.encoder.tokenizer.name
    if tokenizer not in TOKENIZERS:
        raise RnnlabError(
            f"the page cannot run a {tokenizer} tokenizer; it runs {', '.join(TOKENIZERS)} "
            "models: use rnnlab predict for it"
        )
    reviews = review_language(predictor.encoder.vocabulary)
    lang = lang or reviews
    layers, weights = describe_model(predictor.model)
    tables = unicode_tables(tokenizer)
    if "decompositions" in tables:  # the largest table: deflated
        tables = {**tables, "decompositions": _deflated_base64(tables["decompositions"].encode())}
    data = {
        "lang": lang,
        "reviews": reviews,
        "tokenizer": tokenizer,
        "model": {"name": predictor.model.name, "layers": layers, "weights": _packed(weights)},
        "encoder": encoder_data(
            predictor.encoder, getattr(predictor.encoder.tokenizer, "pieces", None)
        ),
        "unicode": tables,
    }
    if tokenizer == "subword":
        data["subword"] = subword_data(predictor.encoder.tokenizer.model)
    scripts = {"core": _asset("core.js"), "ui": _asset("ui.js")}
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in scripts.values()
    )
    parts = {
        **scripts,
        "lang": lang,
        "title": html.escape(f"rnnlab · {predictor.model.name}"),
        "csp": f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'",
        "style": _asset("page.css"),
        "data": script_json(data),
    }
    # One pass, so that nothing inserted is read again as a placeholder.
    return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], _asset("page.html"))


HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


def review_language(vocabulary: list[str], sample=300) -> str:
    """Korean ("ko") when most of the `sample` most frequent tokens with a letter
    hold Hangul (a model of Korean reviews), else English: the page's language."""
    lettered = [token for token in vocabulary if any(c.isalpha() for c in token)][:sample]
    hangul = sum(1 for token in lettered if HANGUL.search(token))
    return "ko" if 2 * hangul > len(lettered) else "en"


def _asset(name: str) -> str:
    return (resources.files(__package__) / "page_assets" / name).read_text(encoding="utf-8")


def script_json(data) -> str:
    """JSON that is safe inside <script>: no '<', '>' or '&' (so no `</script>` or
    `<!--`), non-ASCII and U+2028/9 escaped."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _deflated_base64(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def _packed(weights: np.ndarray) -> str:
    """float32 weights as byte planes (every first byte, then every second...):
    the planes of signs and exponents deflate far better than whole floats."""
    planes = weights.astype("<f4").view(np.uint8).reshape(-1, 4).T
    return _deflated_base64(np.ascontiguousarray(planes).tobytes())


# --- the model -------------------------------------------------------------------------


def describe_model(model) -> tuple[list[dict], np.ndarray]:
    """The model's layers as core.js reads them, and all their weights (float32),
    each layer pointing into them by offset and size."""
    import keras

    if not isinstance(model, keras.Sequential):
        raise RnnlabError(
            f"the page runs Sequential models; {model.name} is a {type(model).__name__}"
        )
    weights = []

    def ref(variable) -> dict:
        array = np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float32).ravel()
        offset = sum(w.size for w in weights)
        weights.append(array)
        return {"offset": int(offset), "size": int(array.size)}

    layers = [_layer(layer, ref) for layer in model.layers]
    _check_structure(model.name, layers)
    return layers, np.concatenate(weights)


def _layer(layer, ref) -> dict:
    import keras

    from ..layers import OneHotSimpleRNN

    if isinstance(layer, keras.layers.Embedding):
        return {
            "type": "embedding",
            "output_dim": layer.output_dim,
            "mask_zero": bool(layer.mask_zero),
            "embeddings": ref(layer.embeddings),
        }
    if isinstance(layer, OneHotSimpleRNN):  # SimpleRNN on one-hot ids: kernel rows by id
        return {
            "type": "rnn",
            "cell": "simple",
            "input": "ids",
            "units": layer.units,
            "activation": "tanh",
            "go_backwards": False,
            "return_sequences": bool(layer.return_sequences),
            "zero_output_for_mask": False,
            "kernel": ref(layer.kernel),
            "recurrent_kernel": ref(layer.recurrent_kernel),
            "bias": ref(layer.bias),
        }
    if isinstance(layer, keras.layers.Bidirectional):
        if layer.merge_mode not in ("concat", "sum", "ave", "mul"):
            raise RnnlabError(
                f"the page cannot run {layer.name}: merge_mode {layer.merge_mode!r} "
                "(it runs concat, sum, ave and mul)"
            )
        return {
            "type": "bidirectional",
            "merge_mode": layer.merge_mode,
            "return_sequences": bool(layer.return_sequences),
            "forward": _recurrent(layer.forward_layer, ref),
            "backward": _recurrent(layer.backward_layer, ref),
        }
    if isinstance(layer, keras.layers.RNN):
        return _recurrent(layer, ref)
    if isinstance(layer, keras.layers.Dense):
        return {
            "type": "dense",
            "units": layer.units,
            "activation": _activation(layer, layer.activation),
            "kernel": ref(layer.kernel),
            "bias": ref(layer.bias) if layer.use_bias else None,
        }
    if isinstance(layer, (keras.layers.Dropout, keras.layers.SpatialDropout1D)):
        return {"type": "dropout"}  # nothing at inference
    if isinstance(layer, keras.layers.GlobalMaxPooling1D):
        if layer.data_format != "channels_last" or layer.keepdims:
            raise RnnlabError(
                f"the page cannot run {layer.name}: it pools channels_last inputs without keepdims"
            )
        return {"type": "max_over_time"}  # the mask is not used, as in Keras
    raise _unsupported(layer)


def _unsupported(layer) -> RnnlabError:
    return RnnlabError(
        f"the page cannot run layer {layer.name} ({type(layer).__name__}); "
        f"it runs {SUPPORTED_LAYERS} layers"
    )


def _recurrent(layer, ref) -> dict:
    """A Keras SimpleRNN, LSTM or GRU layer (or a subclass: same weights, same mathematics)."""
    import keras

    kinds = [
        (keras.layers.SimpleRNN, "simple"),
        (keras.layers.LSTM, "lstm"),
        (keras.layers.GRU, "gru"),
    ]
    kind = next((name for cls, name in kinds if isinstance(layer, cls)), None)
    if kind is None:
        raise _unsupported(layer)
    if layer.stateful:
        raise RnnlabError(f"the page cannot run {layer.name}: it is stateful; rebuild it without")
    cell = layer.cell
    return {
        "type": "rnn",
        "cell": kind,
        "input": "vectors",
        "units": cell.units,
        "activation": _activation(layer, cell.activation),
        "recurrent_activation": (
            _activation(layer, cell.recurrent_activation) if kind != "simple" else None
        ),
        "reset_after": bool(getattr(cell, "reset_after", False)),
        "go_backwards": bool(layer.go_backwards),
        "return_sequences": bool(layer.return_sequences),
        "zero_output_for_mask": bool(layer.zero_output_for_mask),
        "kernel": ref(cell.kernel),
        "recurrent_kernel": ref(cell.recurrent_kernel),
        "bias": ref(cell.bias) if cell.use_bias else None,
    }


def _activation(layer, function) -> str:
    import keras

    name = keras.activations.serialize(function)
    if name not in ACTIVATIONS:
        raise RnnlabError(
            f"the page cannot run {layer.name}: activation {name!r} "
            f"(it runs {', '.join(ACTIVATIONS)})"
        )
    return name


def _check_structure(name: str, layers: list[dict]) -> None:
    """What core.js assumes: ids in, one recurrent layer or more, one probability out."""
    first = layers[0] if layers else {}
    if first.get("type") != "embedding" and first.get("input") != "ids":
        raise RnnlabError(f"the page cannot run {name}: its first layer must read the ids")
    recurrent = [k for k, spec in enumerate(layers) if spec["type"] in ("rnn", "bidirectional")]
    last = recurrent[-1] if recurrent else None
    pooled = last is not None and any(
        spec["type"] == "max_over_time" for spec in layers[last + 1 :]
    )
    if last is None or (layers[last]["return_sequences"] and not pooled):
        raise RnnlabError(
            f"the page cannot run {name}: it needs a last recurrent layer that returns "
            "its final state only, or its sequence to a GlobalMaxPooling1D"
        )
    if layers[-1]["type"] != "dense" or layers[-1]["units"] != 1:
        raise RnnlabError(f"the page cannot run {name}: it must end in Dense(1)")


# --- the vocabulary --------------------------------------------------------------------


def encoder_data(encoder, pieces=None) -> dict:
    """The encoder's settings, the words that get ids (rank order), and the set of
    the other words seen in training: sorted, front-coded, deflated, base64 (the
    few with a control character, which the front coding cannot hold, as a list:
    characters can be tokens).  With the subword tokenizer's `pieces`, the other
    pieces seen are their ids, as gaps in base36, deflated: the page has the pieces."""
    with_ids = max(encoder.num_words - FIRST_WORD_ID, 0)
    others, seen_ids = encoder.vocabulary[with_ids:], []
    if pieces is not None:
        number = {piece: i for i, piece in enumerate(pieces)}
        seen_ids = sorted(number[token] for token in others if token in number)
        others = [token for token in others if token not in number]
    seen = {word.encode("utf-8", "replace") for word in others}
    seen.discard(b"")
    plain = sorted(word for word in seen if min(word) >= 32)
    return {
        "num_words": encoder.num_words,
        "maxlen": encoder.maxlen,
        "padding": encoder.padding,
        "truncating": encoder.truncating,
        "words": encoder.vocabulary[:with_ids],
        "seen": _deflated_base64(front_coded(plain)),
        "seen_control": sorted(w.decode("utf-8") for w in seen if min(w) < 32),
        "seen_pieces": _deflated_base64(
            ",".join(np.base_repr(gap, 36) for gap in np.diff(seen_ids, prepend=0)).encode()
        ),
    }


def front_coded(words: list[bytes]) -> bytes:
    """Sorted words, each as the number of bytes to drop from the end of the word
    before it (a byte below 32; several are summed: 31, 31, 2 drops 64), then the
    bytes it adds.  Sorted words share long beginnings, so this deflates well."""
    out, previous = bytearray(), b""
    for word in words:
        kept = len(os.path.commonprefix([previous, word]))
        drop = len(previous) - kept
        out += bytes([31] * (drop // 31) + [drop % 31]) + word[kept:]
        previous = word
    return bytes(out)
