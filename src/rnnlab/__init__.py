"""rnnlab: recurrent neural networks on IMDB movie reviews.

`import rnnlab` stays light: the public names below are imported on first use,
and Keras is only imported by the modules that build or train models.
"""

import importlib
import os

# rnnlab runs on Keras 3 with the JAX backend unless the user chose another one, and
# on the CPU unless asked otherwise (its small RNNs run slower on a GPU; --device).
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

__version__ = "0.1.0"

_LAZY = {
    "load_imdb": "rnnlab.data",
    "open_imdb": "rnnlab.data",
    "open_dataset": "rnnlab.data",
    "get_word_index": "rnnlab.data",
    "decode_review": "rnnlab.data",
    "pad_sequences": "rnnlab.data",
    "train_val_split": "rnnlab.data",
    "length_stats": "rnnlab.data",
    "load": "rnnlab.predict",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")
