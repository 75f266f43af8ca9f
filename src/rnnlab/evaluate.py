"""`rnnlab evaluate`: a saved run's model on the test split of its data (or another), or
on your own labelled reviews."""

import itertools
from dataclasses import dataclass

from . import runs, tutorial
from .baselines import NgramLogReg, loss_and_accuracy
from .data import open_dataset
from .engine import ENGINES
from .errors import RnnlabError


@dataclass
class Evaluation:
    test_loss: float
    test_accuracy: float
    test_reviews: int
    data: str  # a description of the source
    same_data_as_training: bool


def evaluate(run_dir, data=None, allow_unfinished=False) -> Evaluation:
    """Test loss and accuracy of a saved run's best model."""
    model = runs.load_model(run_dir, allow_unfinished)
    config, trained_on = runs.read_config(run_dir)
    raw = open_dataset(data if data is not None else trained_on["path"], **config.data_options)
    split = tutorial.load_and_split(
        raw, config.num_words, config.maxlen, config.padding, config.truncating
    )
    if isinstance(model, NgramLogReg):
        loss, accuracy = loss_and_accuracy(model, split.test_x, split.test_y)
    else:
        tutorial.compile_model(model, config.learning_rate, config.optimizer)
        batch = ENGINES[config.engine].eval_batch_size
        loss, accuracy = tutorial.evaluate_test(model, split, batch)
    return Evaluation(
        loss,
        accuracy,
        len(split.test_x),
        raw.source,
        raw.content_hash == trained_on["content_hash"],
    )


@dataclass
class TextEvaluation:
    source: str
    reviews: int
    accuracy: float
    confusion: list[list[int]]  # [true label][predicted label], 0 negative, 1 positive
    words: int  # in all the reviews
    oov_words: int  # that the model cannot see: rare ones (read as [OOV]) and unseen ones
    unseen_words: int  # of those, the ones training never saw (skipped)

    @property
    def oov_share(self) -> float:
        return self.oov_words / self.words if self.words else 0.0


def evaluate_texts(run_dir, labelled, source: str, allow_unfinished=False) -> TextEvaluation:
    """The model of `run_dir` on (text, label) pairs, read and predicted batch by batch."""
    from .predict import load

    predictor = load(run_dir, allow_unfinished)
    confusion = [[0, 0], [0, 0]]
    words = oov = unseen = 0
    labelled = iter(labelled)
    while batch := list(itertools.islice(labelled, predictor.batch_size)):
        texts, labels = zip(*batch, strict=True)
        probabilities, encoded = predictor.predict_encoded(texts)
        for label, p in zip(labels, probabilities, strict=True):
            confusion[label][int(p >= 0.5)] += 1
        words += sum(encoded.word_counts)
        oov += sum(encoded.oov_counts)
        unseen += sum(encoded.unseen_counts)
    total = sum(map(sum, confusion))
    if not total:
        raise RnnlabError(f"{source} holds no review")
    correct = confusion[0][0] + confusion[1][1]
    return TextEvaluation(source, total, correct / total, confusion, words, oov, unseen)
