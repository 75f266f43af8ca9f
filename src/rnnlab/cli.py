"""The `rnnlab` command: parses arguments, calls the library, prints.

User mistakes end as one line on stderr and exit code 2, never a traceback.
"""

import argparse
import sys

from . import __version__
from .errors import RnnlabError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (argparse prints two)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _add_data_options(parser, with_out=None):
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="IMDB source: a Keras imdb.npz, an aclImdb .tar.gz or folder, or the name of a "
        "download ('keras', 'aclimdb'). Default: $RNNLAB_DATA, else download 'keras'.",
    )
    parser.add_argument(
        "--num-words",
        type=positive_int,
        default=500,
        metavar="N",
        help="keep the N most frequent words, others become the OOV id 2 (default: 500)",
    )
    parser.add_argument(
        "--maxlen",
        type=positive_int,
        default=100,
        metavar="N",
        help="pad or cut every review to N tokens (default: 100)",
    )
    if with_out:
        parser.add_argument(
            "--out", metavar="DIR", default=with_out, help=f"output folder (default: {with_out})"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rnnlab",
        description="Recurrent neural networks on IMDB reviews: the Keras tutorial "
        "(혼공머신 9-2/9-3), reproduced and explained.",
    )
    parser.add_argument("--version", action="version", version=f"rnnlab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    data = commands.add_parser(
        "data",
        help="load IMDB and print the tutorial's data exploration",
        description="Load IMDB like keras.datasets.imdb.load_data, split 80/20, pad, and print "
        "what the tutorial prints: sizes, a review as ids and words, length statistics, a "
        "padded example, the memory cost of one-hot input. Writes the length histogram.",
    )
    _add_data_options(data, with_out="runs/data")
    data.set_defaults(run=run_data)
    return parser


def run_data(args) -> None:
    from .explore import explore, format_exploration

    print(format_exploration(explore(args.data, args.num_words, args.maxlen, args.out)))


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except RnnlabError as error:
        print(f"rnnlab {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("rnnlab: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
