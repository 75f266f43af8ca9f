"""The command line's option types: TrainConfig's fields as options, and one-line errors."""

import argparse
from dataclasses import fields

from ..config import TrainConfig

EXIT_BUG, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 1, 2, 130, 141


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (argparse prints two)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _config_value(spec):
    """An argparse type for a TrainConfig field: the text parsed, then the field's check."""
    kind = type(spec.default) if spec.default is not None else str

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            expected = {int: "a whole number", float: "a number"}.get(kind, kind.__name__)
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        try:
            spec.metadata["check"](value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    return parse


def add_config_options(parser, names=None):
    """--option for each TrainConfig field (or those in `names`), with its help and check."""
    for spec in fields(TrainConfig):
        if names is not None and spec.name not in names:
            continue
        choices = getattr(spec.metadata["check"], "choices", None)
        metavar = spec.metadata["metavar"] or ("{" + ",".join(choices) + "}" if choices else None)
        default = "" if spec.default is None else f" (default: {spec.default})"
        parser.add_argument(
            "--" + spec.name.replace("_", "-"),
            type=_config_value(spec),
            default=spec.default,
            metavar=metavar,
            help=spec.metadata["help"].replace("%", "%%") + default,
        )


def config_from(args, **changes) -> TrainConfig:
    given = {spec.name: getattr(args, spec.name) for spec in fields(TrainConfig)}
    return TrainConfig(**{**given, **changes})


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def add_allow_unfinished(parser):
    parser.add_argument(
        "--allow-unfinished",
        action="store_true",
        help="use a run whose training was interrupted (its best epoch so far)",
    )
