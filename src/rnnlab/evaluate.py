"""`rnnlab evaluate`: a saved run's best model on the test split of its data (or another)."""

from dataclasses import dataclass

from . import runs, tutorial
from .data import open_imdb
from .engine import ENGINES


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
    raw = open_imdb(data if data is not None else trained_on["path"])
    split = tutorial.load_and_split(
        raw, config.num_words, config.maxlen, config.padding, config.truncating
    )
    tutorial.compile_model(model, config.learning_rate)
    loss, accuracy = tutorial.evaluate_test(model, split, ENGINES[config.engine].eval_batch_size)
    return Evaluation(
        loss,
        accuracy,
        len(split.test_x),
        raw.source,
        raw.content_hash == trained_on["content_hash"],
    )
