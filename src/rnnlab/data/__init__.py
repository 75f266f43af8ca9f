"""The data layer: sources, tokenizers, cache, and the tutorial's preprocessing.

Importing this package imports neither Keras nor JAX.
"""

from .dataset import open_dataset
from .imdb import decode_review, get_word_index, load_imdb, open_imdb
from .preprocess import length_stats, memory_table, pad_sequences, train_val_split
from .raw import RawDataset, RawImdb
from .tokenizer import TOKENIZER_VERSION, tokenize

__all__ = [
    "TOKENIZER_VERSION",
    "RawDataset",
    "RawImdb",
    "decode_review",
    "get_word_index",
    "length_stats",
    "load_imdb",
    "memory_table",
    "open_dataset",
    "open_imdb",
    "pad_sequences",
    "tokenize",
    "train_val_split",
]
