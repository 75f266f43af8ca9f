"""Using a trained model on new reviews: raw text in, probability of positive out.

The run folder's preprocessing (runs.read_encoder) turns raw text into the
ids the model was trained on, exactly as the data layer does for the data
set, so predicting needs neither the data set nor the network.
"""

import csv
import itertools
import json
from dataclasses import dataclass

import numpy as np

from . import runcheck, runs
from .baselines import NgramLogReg
from .data.encoder import Encoded, TextEncoder
from .errors import RnnlabError


@dataclass
class Explanation:
    tokens: list[str]  # what the model read, after padding/truncation ([PAD], [START], [OOV])
    ids: list[int]
    probabilities: list[float]  # P(positive) had the review ended at each token
    probability: float
    oov_count: int


class Predictor:
    """A trained run, ready for raw text: `predict(texts)` and `explain(text)`."""

    def __init__(self, model, encoder: TextEncoder, batch_size=1024):
        self.model, self.encoder, self.batch_size = model, encoder, batch_size
        self._running = None

    def predict_encoded(self, texts: list[str]) -> tuple[np.ndarray, Encoded]:
        """(P(positive) of each review, what the encoder made of them)."""
        encoded = self.encoder.encode(list(texts))
        if not len(encoded.ids):
            return np.zeros(0, dtype=np.float32), encoded
        probabilities = self.model.predict(encoded.ids, batch_size=self.batch_size, verbose=0)
        return probabilities[:, 0], encoded

    def predict(self, texts) -> np.ndarray:
        """P(positive) of each review; an empty text reads as a review with no words."""
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts; for one text use predict([text])")
        return self.predict_encoded(texts)[0]

    def explain(self, text: str) -> Explanation:
        if isinstance(self.model, NgramLogReg):
            raise RnnlabError(
                f"--explain follows an RNN's state word by word; {self.model.name} is a bag "
                "of words, which reads no order: use rnnlab predict without --explain"
            )
        encoded = self.encoder.encode([text])
        ids = encoded.ids[0]
        running = self._running_model().predict(encoded.ids, verbose=0)[0, :, 0]
        return Explanation(
            tokens=[self.encoder.token_name(int(i)) for i in ids],
            ids=ids.tolist(),
            probabilities=running.tolist(),
            probability=float(running[-1]),
            oov_count=encoded.oov_counts[0],
        )

    def _running_model(self):
        """The same model with its last recurrent layer returning every step's state:
        the output layer then gives P(positive) after each token."""
        if self._running is None:
            import keras

            from .layers import OneHotSimpleRNN

            layers = self.model.layers
            last = layers[-2]  # the layer before Dense(1, sigmoid)
            if isinstance(last, keras.layers.Bidirectional):
                raise RnnlabError(
                    "--explain reads a one-directional RNN's state token by token; "
                    f"{self.model.name} reads the review both ways"
                )
            if not isinstance(last, keras.layers.RNN | OneHotSimpleRNN):
                raise RnnlabError(
                    "--explain reads the state of the RNN the output layer reads; in "
                    f"{self.model.name} a {type(last).__name__} comes between them"
                )

            def with_sequences(layer):
                config = layer.get_config()
                if layer is last:
                    config["return_sequences"] = True
                return layer.__class__.from_config(config)

            running = keras.models.clone_model(self.model, clone_function=with_sequences)
            running.set_weights(self.model.get_weights())
            self._running = running
        return self._running


def load(run_dir, allow_unfinished=False) -> Predictor:
    """The trained model of `run_dir` (a folder written by `rnnlab train`), for raw text."""
    runs.check(run_dir, (runs.CONFIG,), allow_unfinished)
    encoder = runs.read_encoder(run_dir)
    model = runs.load_model(run_dir, allow_unfinished)  # checked against config.json
    runcheck.check_encoder(encoder, runs.read_config(run_dir)[0], run_dir)
    return Predictor(model, encoder)


def format_explanation(text: str, explanation: Explanation, threshold=0.5) -> str:
    """The tokens the model read and P(positive) after each, leading padding folded."""
    e = explanation
    label = "positive" if e.probability >= threshold else "negative"
    lines = [
        f"review: {_shorten(text, 70)!r}",
        f"P(positive) = {e.probability:.4f} -> {label}; words outside the model's vocabulary: "
        f"{e.oov_count}",
        "",
        f"{'step':>4}  {'token':<18} {'P(positive)':>11}  {'change':>7}",
    ]
    previous = None
    leading = next((i for i, token in enumerate(e.tokens) if token != "[PAD]"), len(e.tokens))
    steps = list(enumerate(zip(e.tokens, e.probabilities, strict=True), start=1))
    if leading:  # 'pre' padding: fold the padding before the review into one line
        last_pad = e.probabilities[leading - 1]
        lines.append(f"{'1-' + str(leading):>4}  {'[PAD] x ' + str(leading):<18} {last_pad:>11.4f}")
        previous, steps = last_pad, steps[leading:]
    moves = []
    for step, (token, p) in steps:
        if token == "[PAD]":  # 'post' padding after the review: the state just runs on
            continue
        change = "" if previous is None else f"{p - previous:+.4f}"
        lines.append(f"{step:>4}  {_padded(token, 18)} {p:>11.4f}  {change:>7}")
        if previous is not None and token not in ("[START]", "[OOV]"):
            moves.append((p - previous, token))
        previous = p
    if moves:
        up = ", ".join(f"{t} ({d:+.3f})" for d, t in sorted(moves, reverse=True)[:5] if d > 0)
        down = ", ".join(f"{t} ({d:+.3f})" for d, t in sorted(moves)[:5] if d < 0)
        lines += ["", f"moved it up most: {up or '-'}", f"moved it down most: {down or '-'}"]
    if e.tokens and e.tokens[0] != "[PAD]" and e.tokens[0] != "[START]":
        lines.append(f"(the review was cut to its last {len(e.tokens)} tokens)")
    return "\n".join(lines)


def _padded(token: str, width: int) -> str:
    """`token` padded to `width` terminal columns: a Hangul syllable or CJK character
    takes two, so that a Korean model's table stays aligned."""
    import unicodedata

    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in token)
    return token + " " * max(width - columns, 0)


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# --- many reviews: results streamed in batches ------------------------------------------


def predict_stream(predictor: Predictor, reviews, threshold=0.5, batch_size=None):
    """Rows (text, probability, label, oov words) for an iterable of reviews,
    `batch_size` (default: the predictor's) at a time, so memory does not grow
    with the input."""
    batch_size = batch_size or predictor.batch_size
    reviews = iter(reviews)
    while batch := list(itertools.islice(reviews, batch_size)):
        probabilities, encoded = predictor.predict_encoded(batch)
        for text, p, oov in zip(batch, probabilities.tolist(), encoded.oov_counts, strict=True):
            yield text, p, "positive" if p >= threshold else "negative", oov


def write_rows(rows, stream, fmt="table") -> int:
    """Write prediction rows to a text stream; returns how many."""
    count = 0
    if fmt == "table":
        stream.write(f"{'P(positive)':>11}  {'label':<8}  {'oov':>4}  review\n")
    writer = csv.writer(stream, lineterminator="\n") if fmt == "csv" else None
    if writer:
        writer.writerow(["probability", "label", "oov_words", "text"])
    for text, p, label, oov in rows:
        if fmt == "table":
            stream.write(f"{p:>11.4f}  {label:<8}  {oov:>4}  {_shorten(text, 60)}\n")
        elif writer:
            writer.writerow([f"{p:.6f}", label, oov, text])
        else:
            record = {"probability": round(p, 6), "label": label, "oov_words": oov, "text": text}
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
