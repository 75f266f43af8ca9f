"""Using a trained model on new reviews: raw text in, probability of positive out.

A run folder carries `preprocessing.json`: the tokenizer version, the training
vocabulary in rank order and the settings of `load_data` and `pad_sequences`.
`TextEncoder` applies them exactly as the data layer does for the dataset
(tests/test_predict.py checks it review by review), so predicting needs
neither the dataset nor the network.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data.preprocess import pad_sequences
from .data.tokenizer import TOKENIZER_VERSION, tokenize_corpus
from .errors import RnnlabError
from .files import write_json

PREPROCESSING_FILE = "preprocessing.json"
PREPROCESSING_FORMAT = 1
START, OOV, PAD = 1, 2, 0  # Keras' load_data defaults, used by every rnnlab model
INDEX_FROM = 3


@dataclass
class Encoded:
    ids: np.ndarray  # (n, maxlen) int32, what the model reads
    oov_counts: list[int]  # per review: words the model cannot see (rare or never seen)


class TextEncoder:
    """Raw review text -> the padded ids a model was trained on."""

    def __init__(self, vocabulary, num_words, maxlen, padding="pre", truncating="pre"):
        self.vocabulary = list(vocabulary)  # training words, most frequent first
        self.rank = {word: r for r, word in enumerate(self.vocabulary, start=1)}
        self.num_words, self.maxlen = num_words, maxlen
        self.padding, self.truncating = padding, truncating

    def word_id(self, word: str) -> int | None:
        """The id of `word`, OOV if it is rare, None if training never saw it
        (such words are skipped, as in Keras' IMDB data)."""
        rank = self.rank.get(word)
        if rank is None:
            return None
        return rank + INDEX_FROM if rank + INDEX_FROM < self.num_words else OOV

    def sequence(self, words: list[str]) -> list[int]:
        """load_data's sequence for one review: the start id, then the word ids."""
        ids = (self.word_id(w) for w in words)
        return [START, *(i for i in ids if i is not None)]

    def encode(self, texts: list[str]) -> Encoded:
        sequences, oov_counts = [], []
        for words in tokenize_corpus(texts):
            sequence = self.sequence(words)
            sequences.append(sequence)
            oov_counts.append(len(words) - sum(1 for i in sequence[1:] if i != OOV))
        ids = pad_sequences(
            sequences, maxlen=self.maxlen, padding=self.padding, truncating=self.truncating
        )
        return Encoded(ids, oov_counts)

    def token_name(self, token_id: int) -> str:
        if token_id in (PAD, START, OOV):
            return {PAD: "[PAD]", START: "[START]", OOV: "[OOV]"}[token_id]
        return self.vocabulary[token_id - INDEX_FROM - 1]

    def save(self, path: Path) -> None:
        write_json(
            path,
            {
                "format": PREPROCESSING_FORMAT,
                "tokenizer_version": TOKENIZER_VERSION,
                "num_words": self.num_words,
                "maxlen": self.maxlen,
                "padding": self.padding,
                "truncating": self.truncating,
                "index_from": INDEX_FROM,
                "start_char": START,
                "oov_char": OOV,
                "vocabulary": self.vocabulary,
            },
        )

    @classmethod
    def load(cls, path: Path) -> "TextEncoder":
        try:
            spec = json.loads(Path(path).read_text(encoding="utf-8"))
            if spec.get("format") != PREPROCESSING_FORMAT:
                raise RnnlabError(
                    f"{path} has format {spec.get('format')}, this rnnlab reads format "
                    f"{PREPROCESSING_FORMAT}: use the rnnlab version that trained it, or retrain"
                )
            if spec["tokenizer_version"] != TOKENIZER_VERSION:
                raise RnnlabError(
                    f"{path} was made with tokenizer v{spec['tokenizer_version']}, this rnnlab has "
                    f"v{TOKENIZER_VERSION}: use the rnnlab version that trained it, or retrain"
                )
            keras_defaults = (spec["index_from"], spec["start_char"], spec["oov_char"])
            if keras_defaults != (INDEX_FROM, START, OOV):
                raise RnnlabError(f"{path}: unsupported index_from/start/oov ids {keras_defaults}")
            return cls(
                spec["vocabulary"],
                spec["num_words"],
                spec["maxlen"],
                spec["padding"],
                spec["truncating"],
            )
        except (ValueError, KeyError, TypeError) as error:
            raise RnnlabError(f"{path} is unreadable ({type(error).__name__}: {error})") from None


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

    def predict_encoded(self, texts: list[str]) -> tuple[np.ndarray, list[int]]:
        encoded = self.encoder.encode(list(texts))
        if not len(encoded.ids):
            return np.zeros(0, dtype=np.float32), []
        probabilities = self.model.predict(encoded.ids, batch_size=self.batch_size, verbose=0)
        return probabilities[:, 0], encoded.oov_counts

    def predict(self, texts) -> np.ndarray:
        """P(positive) of each review; an empty text reads as a review with no words."""
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts; for one text use predict([text])")
        return self.predict_encoded(texts)[0]

    def explain(self, text: str) -> Explanation:
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

            layers = self.model.layers
            if isinstance(layers[-2], keras.layers.Bidirectional):
                raise RnnlabError(
                    "--explain reads a one-directional RNN's state token by token; "
                    f"{self.model.name} reads the review both ways"
                )

            def with_sequences(layer):
                config = layer.get_config()
                if layer is layers[-2]:
                    config["return_sequences"] = True
                return layer.__class__.from_config(config)

            running = keras.models.clone_model(self.model, clone_function=with_sequences)
            running.set_weights(self.model.get_weights())
            self._running = running
        return self._running


def load(run_dir) -> Predictor:
    """The trained model of `run_dir` (a folder written by `rnnlab train`), for raw text."""
    from .train import load_run

    run_dir = Path(run_dir)
    if run_dir.is_dir() and not (run_dir / PREPROCESSING_FILE).is_file():
        raise RnnlabError(
            f"{run_dir} has no {PREPROCESSING_FILE} (not a run folder, or its data had no word "
            "list: a Keras npz without imdb_word_index.json beside it); retrain with words"
        )
    _, model = load_run(run_dir)
    return Predictor(model, TextEncoder.load(run_dir / PREPROCESSING_FILE))


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
    padding = sum(1 for t in e.tokens if t == "[PAD]")
    steps = list(enumerate(zip(e.tokens, e.probabilities, strict=True), start=1))
    if padding:
        last_pad = e.probabilities[padding - 1]
        lines.append(f"{'1-' + str(padding):>4}  {'[PAD] x ' + str(padding):<18} {last_pad:>11.4f}")
        previous, steps = last_pad, steps[padding:]
    moves = []
    for step, (token, p) in steps:
        change = "" if previous is None else f"{p - previous:+.4f}"
        lines.append(f"{step:>4}  {token:<18} {p:>11.4f}  {change:>7}")
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


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# --- many reviews: reading files and writing results, streamed in batches -------------

INPUT_FORMATS = ("txt", "csv", "jsonl")
OUTPUT_FORMATS = ("table", "csv", "jsonl")


def _lines(path: str):
    """(line number, line) of a UTF-8 file or of standard input ('-'), decoded line
    by line so that an error names the exact line."""
    import sys

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
    if path != "-" and not Path(path).is_file():
        raise RnnlabError(f"review file {path} does not exist")
    fmt = input_format or (Path(path).suffix.lstrip(".").lower() if path != "-" else "txt")
    if fmt not in INPUT_FORMATS:
        raise RnnlabError(
            f"cannot tell the format of {path}: name it .txt, .csv or .jsonl, or pass "
            "--input-format txt|csv|jsonl"
        )
    if fmt == "txt":
        for _, line in _lines(path):
            if line.strip():
                yield line.rstrip("\r\n")
    elif fmt == "csv":
        import csv

        rows = csv.DictReader(line for _, line in _lines(path))
        for row in rows:
            if text_field not in row:
                raise RnnlabError(
                    f"{path} has no column {text_field!r} (columns: {', '.join(rows.fieldnames)});"
                    " choose one with --text-field"
                )
            yield row[text_field] or ""
    else:
        for number, line in _lines(path):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise RnnlabError(f"{path} line {number} is not JSON") from None
            if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
                raise RnnlabError(
                    f"{path} line {number} has no text field {text_field!r}; "
                    "choose one with --text-field"
                )
            yield record[text_field]


def predict_stream(predictor: Predictor, reviews, threshold=0.5, batch_size=None):
    """Rows (text, probability, label, oov words) for an iterable of reviews,
    `batch_size` (default: the predictor's) at a time, so memory does not grow
    with the input."""
    from itertools import islice

    batch_size = batch_size or predictor.batch_size
    reviews = iter(reviews)
    while batch := list(islice(reviews, batch_size)):
        probabilities, oov_counts = predictor.predict_encoded(batch)
        for text, p, oov in zip(batch, probabilities.tolist(), oov_counts, strict=True):
            yield text, p, "positive" if p >= threshold else "negative", oov


def write_rows(rows, stream, fmt="table") -> int:
    """Write prediction rows to a text stream; returns how many."""
    import csv

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
