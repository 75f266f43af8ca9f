"""One source for every setting: the command line's training options are TrainConfig's fields."""

import argparse
from dataclasses import fields

import pytest

from rnnlab.cli import build_parser
from rnnlab.config import TrainConfig
from rnnlab.errors import RnnlabError


def train_options() -> dict:
    """option dest -> argparse action, for `rnnlab train`."""
    parser = build_parser()
    (train,) = [
        action.choices["train"] for action in parser._actions if hasattr(action, "choices")
        if isinstance(action.choices, dict) and "train" in action.choices
    ]  # fmt: skip
    return {action.dest: action for action in train._actions}


def test_every_field_is_an_option_with_its_default_and_help():
    """An option not given is left out, so that TrainConfig.resolve applies the model's
    (or the preset's) own defaults, and TrainConfig's where they have none."""
    options = train_options()
    for spec in fields(TrainConfig):
        action = options[spec.name]
        assert action.option_strings == ["--" + spec.name.replace("_", "-")]
        assert action.default == argparse.SUPPRESS
        assert spec.metadata["help"] in action.help
        if spec.default is not None:
            assert f"(default: {spec.default}" in action.help
    assert TrainConfig.resolve() == TrainConfig()
    assert set(options) - {spec.name for spec in fields(TrainConfig)} == {
        "help", "out", "overwrite", "quiet", "resume", "preset", "device",
    }  # fmt: skip


@pytest.mark.parametrize(
    "name, text, value",
    [
        ("num_words", "3", 3),
        ("maxlen", "0", 0),
        ("units", "-1", -1),
        ("learning_rate", "nan", float("nan")),
        ("learning_rate", "inf", float("inf")),
        ("seed", "4294967296", 2**32),
        ("patience", "-1", -1),
        ("padding", "middle", "middle"),
        ("model", "lstm-xl", "lstm-xl"),
        ("engine", "turbo", "turbo"),
    ],
)
def test_the_command_line_and_the_config_refuse_alike(name, text, value):
    """A bad value gets the same message from the option parser and from TrainConfig."""
    with pytest.raises(RnnlabError) as from_config:
        TrainConfig(**{name: value})
    parse = train_options()[name].type
    with pytest.raises(Exception) as from_cli:  # argparse.ArgumentTypeError
        parse(text)
    assert str(from_config.value) == f"{name}: {from_cli.value}"


def test_good_values_parse_to_what_the_config_holds():
    options = train_options()
    assert options["learning_rate"].type("3e-4") == 3e-4
    assert options["seed"].type("0") == 0 and options["padding"].type("post") == "post"
    assert TrainConfig.from_dict({"model": "gru", "seed": 7}) == TrainConfig(model="gru", seed=7)
    with pytest.raises(RnnlabError, match="unknown settings: colour"):
        TrainConfig.from_dict({"colour": "blue"})


def test_masking_and_dropout_are_refused_on_the_books_models():
    """The book's models keep the book's layers: a setting they would ignore is an error."""
    with pytest.raises(RnnlabError, match="gru keeps the book's layers"):
        TrainConfig(model="gru", mask_zero=True)
    with pytest.raises(RnnlabError, match="simplernn-embedding keeps the book's layers"):
        TrainConfig(model="simplernn-embedding", dropout=0.2)
    assert TrainConfig(model="gru-pool", mask_zero=True, dropout=0.2).shape.mask_zero


def test_the_best_preset_is_a_recurrent_model_and_given_options_win():
    config = TrainConfig.resolve("best", units=16)
    assert config.model in ("bilstm", "bigru", "gru-pool", "bigru-pool")
    assert config.units == 16 and config.mask_zero
    with pytest.raises(RnnlabError, match="unknown preset 'fastest'; choose one of: best"):
        TrainConfig.resolve("fastest")


def test_help_shows_argparse_defaults_except_for_flags_and_worked_out_ones():
    parser = build_parser()
    for command in ("reproduce", "sweep", "predict", "evaluate", "compare", "data"):
        (sub,) = [
            action.choices[command] for action in parser._actions if hasattr(action, "choices")
            if isinstance(action.choices, dict) and command in action.choices
        ]  # fmt: skip
        text = " ".join(sub.format_help().split())
        assert "(default: False)" not in text and "(default: None)" not in text
        assert "(default: cpu)" in text or command in ("compare", "data")
    assert parser.parse_args(["reproduce"]).seeds == [42] == parser.parse_args(["sweep"]).seeds
