"""The `rnnlab` command: parses arguments, calls the library, prints.

One flat parser per command whose options map onto the function it calls;
the training options are generated from TrainConfig's fields (config.py), so
they cannot disagree.  User mistakes end as one line on stderr and exit code
2, never a traceback.
"""

import argparse
import io
import sys
from dataclasses import fields

from . import __version__
from .config import TrainConfig
from .engine.startup import keras_without_sklearn
from .errors import RnnlabError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
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
    add_config_options(data, ("data", "num_words", "maxlen"))
    data.add_argument("--out", metavar="DIR", default="runs/data", help="output folder")
    data.set_defaults(run=run_data)

    train = commands.add_parser(
        "train",
        help="train one model with the tutorial's recipe into a run folder",
        description="Train a model with the tutorial's recipe (tutorial.py: RMSprop, binary "
        "cross-entropy, early stopping restoring the best weights) and write config.json, "
        "summary.txt, history.csv, best.keras, curves.png, metrics.json and "
        "preprocessing.json to the run folder.",
    )
    add_config_options(train)
    train.add_argument("--out", metavar="DIR", help="run folder (default: runs/<model>-<time>)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    train.set_defaults(run=run_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="test loss and accuracy of a saved run",
        description="Load RUN_DIR/best.keras and evaluate it on the test split of the data it "
        "was trained on (or --data).",
    )
    evaluate.add_argument("run_dir", metavar="RUN_DIR", help="a run folder of rnnlab train")
    evaluate.add_argument("--data", metavar="PATH", help="evaluate on this source instead")
    evaluate.set_defaults(run=run_evaluate)

    reproduce = commands.add_parser(
        "reproduce",
        help="run the whole tutorial (chapter 9-2, 9-3 or both) and write a report",
        description="The tutorial in order: data exploration, then each model of the chapter "
        "trained and tested (9-2: model A, one-hot SimpleRNN, and model B, Embedding + "
        "SimpleRNN; 9-3: lstm, lstm-dropout, lstm-stacked, gru); writes report.md and a "
        "self-contained report.html with every table and picture.",
    )
    reproduce.add_argument(
        "--chapter", choices=("9-2", "9-3", "all"), default="9-2", help="(default: 9-2)"
    )
    add_config_options(reproduce, ("data", "epochs", "engine"))
    reproduce.add_argument(
        "--out",
        metavar="DIR",
        default="runs/reproduce",
        help="output folder (default: %(default)s)",
    )
    reproduce.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    reproduce.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    reproduce.set_defaults(run=run_reproduce)

    compare = commands.add_parser(
        "compare",
        help="compare run folders: a table and overlaid validation curves",
        description="Write comparison.csv, .md and .html (model, parameters, best epoch, "
        "val loss/accuracy, test accuracy, s/epoch, peak memory) and val_loss.png and "
        "val_accuracy.png with every run's curve. Runs trained on different data, num_words "
        "or maxlen are flagged.",
    )
    compare.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folders")
    compare.add_argument(
        "--out", metavar="DIR", default="runs/compare", help="output folder (default: %(default)s)"
    )
    compare.set_defaults(run=run_compare)

    predict = commands.add_parser(
        "predict",
        help="probability that new reviews are positive, with a trained run",
        description="Turn raw reviews into the model's input exactly as in training (the run "
        "folder carries the tokenizer settings and vocabulary) and print P(positive), the label "
        "and the number of words outside the model's vocabulary.",
    )
    predict.add_argument("run_dir", metavar="RUN_DIR", help="a run folder of rnnlab train")
    predict.add_argument("texts", nargs="*", metavar="TEXT", help="reviews to classify")
    predict.add_argument(
        "--file",
        metavar="PATH",
        help="reviews from a file: .txt (one per line), .csv or .jsonl (a 'text' column or "
        "field), or - for standard input (one per line)",
    )
    predict.add_argument(
        "--input-format",
        choices=("txt", "csv", "jsonl"),
        help="format of --file when its name does not tell",
    )
    predict.add_argument(
        "--text-field",
        default="text",
        metavar="NAME",
        help="column or field holding the review (default: text)",
    )
    predict.add_argument(
        "--threshold",
        type=_probability,
        default=0.5,
        metavar="P",
        help="label positive when P(positive) >= P (default: 0.5)",
    )
    predict.add_argument(
        "--format",
        choices=("table", "csv", "jsonl"),
        default="table",
        help="output format (default: table)",
    )
    predict.add_argument(
        "--output", metavar="PATH", help="write there (atomically) instead of standard output"
    )
    predict.add_argument(
        "--explain",
        action="store_true",
        help="for one review: the tokens the model read and P(positive) after "
        "each, so you see which words moved it",
    )
    predict.set_defaults(run=run_predict)
    return parser


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def run_predict(args) -> None:
    from .predict import format_explanation, load, predict_stream, read_reviews, write_rows

    if bool(args.texts) == bool(args.file):
        raise RnnlabError("give reviews as arguments or with --file PATH (one of the two)")
    if args.explain and (args.file or len(args.texts) != 1):
        raise RnnlabError("--explain takes exactly one review, as an argument")
    predictor = load(args.run_dir)
    if args.explain:
        text = args.texts[0]
        print(format_explanation(text, predictor.explain(text), args.threshold))
        return
    reviews = (
        read_reviews(args.file, args.input_format, args.text_field) if args.file else args.texts
    )
    rows = predict_stream(predictor, reviews, args.threshold)
    if args.output:
        from .files import atomic_write

        def write(binary):
            stream = io.TextIOWrapper(binary, encoding="utf-8", newline="")
            count = write_rows(rows, stream, args.format)
            stream.flush()
            stream.detach()
            print(f"{count:,} predictions written to {args.output}", file=sys.stderr)

        atomic_write(args.output, write)
    else:
        write_rows(rows, sys.stdout, args.format)


def run_compare(args) -> None:
    from .compare import compare

    result = compare(args.run_dirs, args.out)
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    widths = [
        max(len(str(cell)) for cell in column)
        for column in zip(result.headers, *result.rows, strict=True)
    ]
    for row in [result.headers, *result.rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(f"written to {result.out}: comparison.md, comparison.csv, val_loss.png, val_accuracy.png")


def run_reproduce(args) -> None:
    from .reproduce import reproduce, results_table

    result = reproduce(
        args.data,
        args.out,
        args.chapter,
        overwrite=args.overwrite,
        verbose=0 if args.quiet else 2,
        epochs=args.epochs,
        engine=args.engine,
    )
    headers, rows = results_table(result.runs)
    print()
    print(" | ".join(headers))
    for row in rows:
        print(" | ".join(map(str, row)))
    for step, seconds in result.timings.items():
        print(f"{step}: {seconds:.1f} s")
    print("report: " + ", ".join(map(str, result.report)))


def run_train(args) -> None:
    from .train import train

    result = train(config_from(args), args.out, args.overwrite, verbose=0 if args.quiet else 2)
    print()
    print(result.summary)
    print()
    print(format_metrics(result.metrics))
    print(f"run folder: {result.path}")


def format_metrics(m: dict) -> str:
    stop = "early stopping" if m["stopped_early"] else "epoch limit"
    return "\n".join(
        [
            f"{m['model']}: {m['parameters']:,} parameters, {m['epochs_run']} epochs ({stop}), "
            f"best epoch {m['best_epoch']}",
            f"  best val_loss {m['best_val_loss']:.4f}   val_accuracy {m['best_val_accuracy']:.4f}",
            f"  test loss     {m['test_loss']:.4f}   test accuracy {m['test_accuracy']:.4f}",
            f"  {m['seconds_per_epoch']:.2f} s/epoch (first epoch {m['first_epoch_seconds']:.2f} s,"
            f" compilation included), peak memory {m['peak_memory_mb']:,.0f} MB",
        ]
    )


def run_evaluate(args) -> None:
    from .evaluate import evaluate

    result = evaluate(args.run_dir, args.data)
    print(f"data: {result.data}")
    if not result.same_data_as_training:
        print("warning: this is not the data the model was trained on")
    print(
        f"test loss {result.test_loss:.4f}   test accuracy {result.test_accuracy:.4f}   "
        f"({result.test_reviews:,} reviews)"
    )


def run_data(args) -> None:
    from .explore import explore, format_exploration

    print(format_exploration(explore(args.data, args.num_words, args.maxlen, args.out)))


def main(argv=None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse stops filling `predict`'s TEXT list at the first option, so that
    # `rnnlab predict RUN --explain "text"` leaves "text" over: it is a review too.
    if extra and args.command == "predict" and not any(e.startswith("-") for e in extra):
        args.texts += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        with keras_without_sklearn():
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
