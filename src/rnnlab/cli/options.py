"""The command line's option types: TrainConfig's fields as options, and one-line errors."""

import argparse
import os
from dataclasses import fields

from ..config import TrainConfig, whole_number

EXIT_BUG, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 1, 2, 130, 141


class DefaultsShown(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's own "(default: ...)" after an option's help, except for flags and for
    options whose default is worked out later (None: the help says how)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (argparse prints two), and --help shows
    each option's default."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", DefaultsShown)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _config_value(spec):
    """An argparse type for a TrainConfig field: the text parsed, then the field's check."""
    kind = type(spec.default) if spec.default is not None else str
    if kind is bool:
        kind = _yes_or_no
    elif kind is float:
        kind = _number  # "1" is a float too

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            expected = {int: "a whole number", _number: "a number", _yes_or_no: "true or false"}
            expected = expected.get(kind, kind.__name__)
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        try:
            spec.metadata["check"](value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    return parse


def _yes_or_no(text: str) -> bool:
    answers = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
    if text.strip().lower() not in answers:
        raise ValueError(text)
    return answers[text.strip().lower()]


def _number(text: str) -> float:
    return float(text)


def _config_values(spec):
    """An argparse type for a comma list of a field's values (a sweep's axis), or for a
    numeric field a range LOW..HIGH (what a search samples from)."""
    parse_one = _config_value(spec)

    def parse(text: str) -> list:
        if ".." in text:
            return [_range(spec, parse_one, text)]
        values = [parse_one(part.strip()) for part in text.split(",") if part.strip()]
        if not values:
            raise argparse.ArgumentTypeError("expected one value or a comma list, got nothing")
        return values

    return parse


def _range(spec, parse_one, text: str):
    from ..sweep.grid import Range

    if type(spec.default) not in (int, float):
        raise argparse.ArgumentTypeError(f"a range LOW..HIGH needs a numeric setting, got {text!r}")
    if "," in text:
        raise argparse.ArgumentTypeError(f"give one range LOW..HIGH or a comma list, got {text!r}")
    low, _, high = (part.strip() for part in text.partition(".."))
    low, high = parse_one(low), parse_one(high)
    if not low < high:
        raise argparse.ArgumentTypeError(f"a range LOW..HIGH needs LOW < HIGH, got {text!r}")
    return Range(low, high)


def add_config_options(parser, names=None, lists=False, given_only=False):
    """--option for each TrainConfig field (or those in `names`), with its help and check;
    with `lists`, each takes a comma list (a sweep's axis), and --model is --models;
    with `given_only`, an option not given is left out of the parsed arguments, so
    that a model's or a preset's own settings apply (`config_from`)."""
    for spec in fields(TrainConfig):
        if names is not None and spec.name not in names:
            continue
        choices = getattr(spec.metadata["check"], "choices", None)
        metavar = spec.metadata["metavar"] or ("{" + ",".join(choices) + "}" if choices else None)
        shown = ""  # argparse shows the default, but not of an option left out when not given
        if given_only and spec.default is not None:
            own = "" if spec.name == "model" else ", or the model's or preset's own"
            shown = f" (default: {spec.default}{own})"
        option = "--" + spec.name.replace("_", "-")
        parser.add_argument(
            *([option + "s", option] if lists and spec.name == "model" else [option]),
            dest=spec.name,
            type=_config_values(spec) if lists else _config_value(spec),
            default=argparse.SUPPRESS if given_only else [spec.default] if lists else spec.default,
            metavar=f"{metavar or 'VALUE'}[,...]" if lists else metavar,
            help=spec.metadata["help"].replace("%", "%%") + shown,
        )


def given_settings(args) -> dict:
    """The TrainConfig fields given on the command line (options added with given_only)."""
    return {
        spec.name: getattr(args, spec.name)
        for spec in fields(TrainConfig)
        if hasattr(args, spec.name)
    }


def config_from(args) -> TrainConfig:
    """The settings a training uses: the model's own and the preset's, then those given."""
    return TrainConfig.resolve(getattr(args, "preset", None), **given_settings(args))


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


def parsed_by(parse, text: str):
    """`parse(text)`, its ValueError turned into argparse's one-line option error."""
    try:
        return parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def count(text: str) -> int:
    """An argparse type: a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    parsed_by(whole_number(1), value)
    return value


def add_jobs_option(parser):
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--jobs",
        type=count,
        default=cores,
        metavar="N",
        help="worker processes on this machine: one per core",
    )


def add_device_option(parser):
    parser.add_argument(
        "--device",
        choices=("cpu", "gpu", "auto"),
        default="cpu",
        help="where JAX runs: cpu (these small RNNs run faster there than on a GPU, where "
        "every time step is a kernel launch), gpu (CUDA; not with the fused engine), or auto "
        "(JAX's choice)",
    )


def add_review_file_options(parser, what: str, formats: tuple[str, ...]):
    """--file, --input-format and --text-field: reviews read from a file (texts.py)."""
    parser.add_argument("--file", metavar="PATH", help=what)
    parser.add_argument(
        "--input-format", choices=formats, help="format of --file when its name does not tell"
    )
    parser.add_argument(
        "--text-field",
        "--text-column",
        dest="text_field",
        metavar="NAME",
        help="column or field holding the review (default: document, text or review)",
    )
