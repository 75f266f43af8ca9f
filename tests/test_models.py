"""Models against Keras: parameter counts, formulas, and model A's one-hot shortcut."""

import keras
import numpy as np
import pytest

from rnnlab import tutorial
from rnnlab.layers import OneHotSimpleRNN
from rnnlab.models import KERAS_MODELS, build_model, chapter_models, summary_text
from rnnlab.tutorial import ModelShape


def test_tutorial_parameter_counts():
    model_a = build_model("simplernn-onehot")
    model_b = build_model("simplernn-embedding")
    assert [layer.count_params() for layer in model_a.layers] == [4_072, 9]
    assert model_a.count_params() == 4_081
    assert [layer.count_params() for layer in model_b.layers] == [8_000, 200, 9]
    assert model_b.count_params() == 8_209


@pytest.mark.parametrize("num_words, units, embedding_dim", [(100, 4, 8), (1000, 16, 32)])
def test_parameter_counts_follow_the_options(num_words, units, embedding_dim):
    shape = ModelShape(num_words=num_words, maxlen=20, units=units, embedding_dim=embedding_dim)
    recurrent_a = num_words * units + units * units + units
    recurrent_b = embedding_dim * units + units * units + units
    assert build_model("simplernn-onehot", shape).count_params() == recurrent_a + units + 1
    assert build_model("simplernn-embedding", shape).count_params() == (
        num_words * embedding_dim + recurrent_b + units + 1
    )


def test_summary_shows_formulas_with_numbers():
    text_a = summary_text(build_model("simplernn-onehot"))
    assert "500×8 + 8×8 + 8 = 4,072" in text_a and "8×1 + 1 = 9" in text_a
    assert "4,081" in text_a
    text_b = summary_text(build_model("simplernn-embedding"))
    assert "500×16 = 8,000" in text_b and "16×8 + 8×8 + 8 = 200" in text_b
    assert "8,209" in text_b


BOOK_PARAMETERS = {
    "simplernn-onehot": 4_081,
    "simplernn-embedding": 8_209,
    "lstm": 8_809,
    "lstm-dropout": 8_809,
    "lstm-stacked": 9_353,
    "gru": 8_633,
}


@pytest.mark.parametrize("name", KERAS_MODELS)
def test_parameter_count_equals_keras_own_layers(name):
    """Our registry against the same architecture written directly in Keras."""
    e = lambda: keras.layers.Embedding(500, 16)  # noqa: E731
    direct = {
        "simplernn-onehot": [keras.Input((100, 500)), keras.layers.SimpleRNN(8)],
        "simplernn-embedding": [keras.Input((100,)), e(), keras.layers.SimpleRNN(8)],
        "lstm": [keras.Input((100,)), e(), keras.layers.LSTM(8)],
        "lstm-dropout": [keras.Input((100,)), e(), keras.layers.LSTM(8, dropout=0.3)],
        "lstm-stacked": [
            keras.Input((100,)),
            e(),
            keras.layers.LSTM(8, dropout=0.3, return_sequences=True),
            keras.layers.LSTM(8, dropout=0.3),
        ],
        "gru": [keras.Input((100,)), e(), keras.layers.GRU(8)],
        "bilstm": [keras.Input((100,)), e(), keras.layers.Bidirectional(keras.layers.LSTM(8))],
        "bigru": [keras.Input((100,)), e(), keras.layers.Bidirectional(keras.layers.GRU(8))],
        "gru-pool": [
            keras.Input((100,)),
            e(),
            keras.layers.GRU(8, return_sequences=True),
            keras.layers.GlobalMaxPooling1D(),
        ],
        "bigru-pool": [
            keras.Input((100,)),
            e(),
            keras.layers.Bidirectional(keras.layers.GRU(8, return_sequences=True)),
            keras.layers.GlobalMaxPooling1D(),
        ],
    }[name]
    reference = keras.Sequential([*direct, keras.layers.Dense(1, activation="sigmoid")])
    count = build_model(name).count_params()
    assert count == reference.count_params()
    if name in BOOK_PARAMETERS:
        assert count == BOOK_PARAMETERS[name]


def test_chapters_come_from_the_registry():
    assert chapter_models("9-2") == ("simplernn-onehot", "simplernn-embedding")
    assert chapter_models("9-3") == ("lstm", "lstm-dropout", "lstm-stacked", "gru")
    assert set(BOOK_PARAMETERS) == set(chapter_models("9-2") + chapter_models("9-3"))


def test_gated_formulas():
    assert "4 × (16×8 + 8×8 + 8) = 800" in summary_text(build_model("lstm"))
    assert "4 × (8×8 + 8×8 + 8) = 544" in summary_text(build_model("lstm-stacked"))
    assert "3 × (16×8 + 8×8 + 2×8) = 624" in summary_text(build_model("gru"))
    assert "2 × [4 × (16×8 + 8×8 + 8)] = 1,600" in summary_text(build_model("bilstm"))


def test_every_registered_model_builds_with_a_formula_for_each_layer():
    for name in KERAS_MODELS:
        model = build_model(name)
        text = summary_text(model)
        for layer in model.layers:
            assert f"= {layer.count_params():,}" in text, (name, layer.name)


def onehot_pair(num_words=50, maxlen=12, units=5, seed=0):
    """Model A as rnnlab builds it, and as the book writes it, with equal weights."""
    keras.utils.set_random_seed(seed)
    shape = ModelShape(num_words=num_words, maxlen=maxlen, units=units)
    ours = build_model("simplernn-onehot", shape)
    as_written = tutorial.model_a_as_written(shape)
    rng = np.random.RandomState(seed)
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in as_written.weights]
    as_written.set_weights(weights)
    ours.set_weights(weights)
    ids = rng.randint(0, num_words, size=(16, maxlen)).astype("int32")
    labels = rng.randint(0, 2, size=(16, 1)).astype("float32")
    return ours, as_written, ids, labels


def test_one_hot_equals_keras_to_categorical():
    ids = np.array([[0, 3, 49], [1, 1, 2]])
    expected = keras.utils.to_categorical(ids, num_classes=50)
    np.testing.assert_array_equal(tutorial.one_hot(ids, 50), expected)
    assert tutorial.one_hot(ids, 50).dtype == np.float32


def test_onehot_layer_equals_keras_simplernn_on_one_hot_input():
    ours, as_written, ids, _ = onehot_pair()
    np.testing.assert_allclose(
        ours.predict(ids, verbose=0),
        as_written.predict(tutorial.one_hot(ids, 50), verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )


def test_onehot_layer_has_keras_gradients():
    """One SGD step with learning rate 1 moves each weight by minus its gradient."""
    ours, tutorial_model, ids, labels = onehot_pair(seed=1)
    onehot = tutorial.one_hot(ids, 50)
    for model in (ours, tutorial_model):
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="binary_crossentropy")
    before = [w.copy() for w in ours.get_weights()]
    ours.train_on_batch(ids, labels)
    tutorial_model.train_on_batch(onehot, labels)
    for ours_w, tutorial_w, start in zip(
        ours.get_weights(), tutorial_model.get_weights(), before, strict=True
    ):
        assert not np.allclose(ours_w, start)  # the step changed something
        np.testing.assert_allclose(ours_w, tutorial_w, rtol=1e-5, atol=1e-6)


def test_onehot_layer_saves_and_loads(tmp_path):
    model = build_model("simplernn-onehot", ModelShape(num_words=30, maxlen=7, units=3))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[0], OneHotSimpleRNN)
    ids = np.arange(14).reshape(2, 7).astype("int32")
    np.testing.assert_allclose(model.predict(ids, verbose=0), loaded.predict(ids, verbose=0))
