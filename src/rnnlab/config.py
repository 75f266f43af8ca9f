"""The settings of one training (no Keras here: the CLI and reproduce read them
without paying Keras' import)."""

from dataclasses import dataclass

from .data import tutorial_split
from .errors import RnnlabError
from .models import MODELS, ModelShape


@dataclass
class TrainConfig:
    """Every setting of a training; the defaults are the tutorial's."""

    model: str = "simplernn-embedding"
    data: str | None = None
    num_words: int = 500
    maxlen: int = 100
    units: int = 8
    embedding_dim: int = 16
    padding: str = "pre"
    truncating: str = "pre"
    learning_rate: float = 1e-4
    batch_size: int = 64
    epochs: int = 100
    patience: int = 3
    seed: int = 42

    def __post_init__(self):
        if self.model not in MODELS:
            raise RnnlabError(f"unknown model {self.model!r}; choose one of: {', '.join(MODELS)}")
        for name in ("num_words", "maxlen", "units", "embedding_dim", "batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise RnnlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.num_words < 4:
            raise RnnlabError("num_words must be at least 4: ids 0-2 are padding, start, OOV")
        if not self.learning_rate > 0:
            raise RnnlabError(f"learning rate must be positive, got {self.learning_rate}")
        if self.patience < 0:
            raise RnnlabError(f"patience must be 0 or more, got {self.patience}")

    @property
    def shape(self) -> ModelShape:
        return ModelShape(self.num_words, self.maxlen, self.units, self.embedding_dim)

    def split(self, raw) -> dict:
        """The tutorial's split and padding of `raw` with these settings."""
        return tutorial_split(raw, self.num_words, self.maxlen, self.padding, self.truncating)
