"""The book's recipe: chapters 9-2 and 9-3 of 혼자 공부하는 머신러닝+딥러닝, top to bottom.

Read this file first.  It is the tutorial as the book writes it, on Keras'
public API and rnnlab's data layer (which loads IMDB exactly as
`keras.datasets.imdb` does).  `rnnlab train`, `rnnlab reproduce` and the
benchmark's "as written" rows all run through these functions; everything
else in rnnlab is what it adds around them: run folders and reports
(train.py, runs.py, report/), speed (engine/, behind `--engine`), and clear
errors instead of tracebacks.

Keras is imported in steps 4-6 only, so that the data steps (`rnnlab data`)
start at once.
"""

from dataclasses import dataclass

import numpy as np

from .data import RawDataset, open_dataset, pad_sequences, train_val_split

# The book's settings, and why.
NUM_WORDS = 500  # the 500 most frequent words; every rarer word becomes the OOV id 2
MAXLEN = 100  # pad or cut every review to 100 tokens (the median review has 178)
UNITS = 8  # neurons of the recurrent layer
EMBEDDING_DIM = 16  # model B: 16 learned numbers per word instead of a one-hot vector of 500
LEARNING_RATE = 1e-4  # RMSprop, slow and steady
BATCH_SIZE = 64
EPOCHS = 100  # an upper bound: early stopping ends training well before
PATIENCE = 3  # stop after 3 epochs without a lower validation loss


@dataclass
class Split:
    """Steps 1-3: the reviews as padded ids (n, maxlen) int32, and their labels (1 = positive)."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    train_input: np.ndarray  # step 2's training reviews before padding (length statistics)
    loaded_input: np.ndarray  # step 1's training reviews before the split
    loaded_target: np.ndarray


def load_and_split(
    source=None, num_words=NUM_WORDS, maxlen=MAXLEN, padding="pre", truncating="pre"
):
    """Steps 1-3; `source` is a data spec (see `rnnlab.data.open_dataset`) or an opened
    RawDataset (IMDB, NSMC or your own labelled texts)."""
    # Step 1. Load IMDB like keras.datasets.imdb.load_data(num_words=500): every review is a
    # list of word ids, 1 marks its start and 2 a word outside the 500 most frequent.
    raw = source if isinstance(source, RawDataset) else open_dataset(source)
    (loaded_input, loaded_target), (test_input, test_target) = raw.load_data(num_words=num_words)

    # Step 2. Hold out 20% of the training reviews for validation, as
    # train_test_split(train_input, train_target, test_size=0.2, random_state=42) does.
    (train_input, train_target), (val_input, val_target) = train_val_split(
        loaded_input, loaded_target, val_size=0.2, seed=42
    )

    # Step 3. Make every review maxlen tokens long: pad short ones with 0, cut long ones
    # ('pre': both at the start, Keras' default, so the end of a review is always kept).
    def pad(reviews):
        return pad_sequences(reviews, maxlen=maxlen, padding=padding, truncating=truncating)

    return Split(
        train_x=pad(train_input),
        train_y=train_target,
        val_x=pad(val_input),
        val_y=val_target,
        test_x=pad(test_input),
        test_y=test_target,
        train_input=train_input,
        loaded_input=loaded_input,
        loaded_target=loaded_target,
    )


# Step 4. The models: the padded ids in, recurrent layers, Dense(1, sigmoid) out: P(positive).
# `layers` is rnnlab.layers (Keras' own layers, and OneHotSimpleRNN) or an engine's twins with
# the same weights and mathematics (rnnlab/engine).


@dataclass(frozen=True)
class ModelShape:
    """The settings that decide a model's size."""

    num_words: int = NUM_WORDS
    maxlen: int = MAXLEN
    units: int = UNITS
    embedding_dim: int = EMBEDDING_DIM


def model_a(shape, layers):
    """9-2, model A: one-hot words -> SimpleRNN(8).  The book feeds to_categorical(train_seq),
    a (20000, 100, 500) tensor of 4 GB (`model_a_as_written`); a one-hot vector times the
    kernel is one row of the kernel, so OneHotSimpleRNN looks the rows up by id instead."""
    return [layers.OneHotSimpleRNN(shape.units, shape.num_words, name="simple_rnn")]


def model_b(shape, layers):
    """9-2, model B: each word id becomes 16 learned numbers (an Embedding) -> SimpleRNN(8)."""
    return [embedding(shape, layers), layers.SimpleRNN(shape.units, name="simple_rnn")]


def lstm(shape, layers):
    """9-3: LSTM(8), whose gates decide what the cell state keeps and forgets."""
    return [embedding(shape, layers), layers.LSTM(shape.units, name="lstm")]


def lstm_dropout(shape, layers):
    """9-3: LSTM(8) that drops 30% of its inputs while training, against overfitting."""
    return [embedding(shape, layers), layers.LSTM(shape.units, dropout=0.3, name="lstm")]


def lstm_stacked(shape, layers):
    """9-3: two LSTM layers; the first hands its state at every step to the second."""
    return [
        embedding(shape, layers),
        layers.LSTM(shape.units, dropout=0.3, return_sequences=True, name="lstm_1"),
        layers.LSTM(shape.units, dropout=0.3, name="lstm_2"),
    ]


def gru(shape, layers):
    """9-3: GRU(8), a lighter gated cell."""
    return [embedding(shape, layers), layers.GRU(shape.units, name="gru")]


def embedding(shape, layers):
    return layers.Embedding(shape.num_words, shape.embedding_dim, name="embedding")


def build_model(hidden_layers, shape=ModelShape(), layers=None, name="imdb"):
    """Input (the padded ids) -> `hidden_layers(shape, layers)` -> Dense(1, sigmoid)."""
    import keras

    from . import layers as keras_layers

    return keras.Sequential(
        [
            keras.Input(shape=(shape.maxlen,), dtype="int32", name="ids"),
            *hidden_layers(shape, layers or keras_layers),
            keras.layers.Dense(1, activation="sigmoid", name="output"),
        ],
        name=name,
    )


def model_a_as_written(shape=ModelShape()):
    """Model A exactly as the book writes it, reading one-hot vectors (`one_hot`)."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(shape.maxlen, shape.num_words)),
            keras.layers.SimpleRNN(shape.units),
            keras.layers.Dense(1, activation="sigmoid", name="output"),
        ],
        name="imdb",
    )


def one_hot(ids, num_words=NUM_WORDS, dtype="float32"):
    """The book's keras.utils.to_categorical(ids) (which gives float64 on Keras 3)."""
    return np.eye(num_words, dtype=dtype)[ids]


# Step 5. Train: RMSprop, binary cross-entropy (two classes), batches of 64, the best model
# kept by validation loss, and early stopping that restores the best weights.


def compile_model(model, learning_rate=LEARNING_RATE, optimizer="rmsprop", **options):
    """`optimizer`: the book's RMSprop, or "adam" for rnnlab's own recipes."""
    import keras

    optimizers = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam}
    model.compile(
        optimizer=optimizers[optimizer](learning_rate=learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
        **options,
    )
    return model


def checkpoint(path):
    """Keep the model of the epoch with the lowest validation loss in `path`."""
    import keras

    return keras.callbacks.ModelCheckpoint(path, save_best_only=True)


def early_stopping(patience=PATIENCE):
    """Stop after `patience` epochs without a lower validation loss; restore the best weights."""
    import keras

    return keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)


def fit(model, split, callbacks, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=2, **options):
    return model.fit(
        split.train_x,
        split.train_y,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(split.val_x, split.val_y),
        callbacks=callbacks,
        verbose=verbose,
        **options,
    )


# Step 6. The test set: reviews the model never saw, touched once, at the end.


def evaluate_test(model, split, batch_size=None) -> tuple[float, float]:
    """(test loss, test accuracy); `batch_size` None is Keras' default (32), as the book's
    model.evaluate(test_seq, test_target)."""
    loss, accuracy = model.evaluate(split.test_x, split.test_y, batch_size=batch_size, verbose=0)
    return float(loss), float(accuracy)


def run(hidden_layers, source=None, checkpoint_path="best-model.keras", seed=42, patience=PATIENCE,
        **settings):  # fmt: skip
    """The whole recipe as the book runs it, on plain Keras: the history and the test result."""
    import keras

    split = load_and_split(source)
    keras.utils.set_random_seed(seed)
    model = compile_model(build_model(hidden_layers))
    callbacks = [
        checkpoint(checkpoint_path),
        early_stopping(patience),
        *settings.pop("callbacks", []),
    ]
    history = fit(model, split, callbacks, **settings)
    return history, evaluate_test(model, split)
