"""The `rnnlab` command: parses arguments, calls the library, prints.

User mistakes end as one line on stderr and exit code 2, never a traceback.
"""

import argparse
import sys

from . import __version__
from .child import keras_without_sklearn
from .errors import RnnlabError
from .models import MODELS

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (argparse prints two)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _whole_number(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


positive_int = _whole_number(1)
non_negative_int = _whole_number(0)


def _decimal(is_valid, requirement: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not is_valid(value):
            raise argparse.ArgumentTypeError(f"{requirement}, got {text}")
        return value

    return parse


positive_float = _decimal(lambda v: v > 0, "must be above 0")
probability = _decimal(lambda v: 0 <= v <= 1, "must be between 0 and 1")


_DATA_HELP = (
    "IMDB source: a Keras imdb.npz, an aclImdb .tar.gz or folder, or the name of a download "
    "('keras', 'aclimdb'). Default: $RNNLAB_DATA, else download 'keras'."
)


def _add_data_options(parser, with_out=None):
    parser.add_argument("--data", metavar="PATH", help=_DATA_HELP)
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

    train = commands.add_parser(
        "train",
        help="train one model with the tutorial's recipe into a run folder",
        description="Train a model (RMSprop, binary cross-entropy, batch 64, early stopping "
        "restoring the best weights) and write config.json, summary.txt, history.csv, "
        "best.keras, curves.png and metrics.json to the run folder.",
    )
    train.add_argument(
        "--model",
        required=True,
        metavar="NAME",
        help="one of: "
        + ", ".join(f"{name} ({spec.description})" for name, spec in MODELS.items()),
    )
    _add_data_options(train)
    _add_training_options(train)
    train.add_argument("--out", metavar="DIR", help="run folder (default: runs/<model>-<time>)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
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
    reproduce.add_argument("--data", metavar="PATH", help=_DATA_HELP)
    reproduce.add_argument(
        "--out",
        metavar="DIR",
        default="runs/reproduce",
        help="output folder (default: %(default)s)",
    )
    reproduce.add_argument(
        "--epochs",
        type=positive_int,
        default=100,
        metavar="N",
        help="most epochs per model (default: 100)",
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
        type=probability,
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
        import io

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
    for warning in result["warnings"]:
        print(warning, file=sys.stderr)
    widths = [
        max(len(str(cell)) for cell in column)
        for column in zip(result["headers"], *result["rows"], strict=True)
    ]
    for row in [result["headers"], *result["rows"]]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(
        f"written to {result['out']}: comparison.md, comparison.csv, val_loss.png, val_accuracy.png"
    )


def run_reproduce(args) -> None:
    from .reproduce import reproduce, results_table

    result = reproduce(
        args.data,
        args.out,
        args.epochs,
        overwrite=args.overwrite,
        verbose=0 if args.quiet else 2,
        chapter=args.chapter,
    )
    headers, rows = results_table(result["runs"])
    print()
    print(" | ".join(headers))
    for row in rows:
        print(" | ".join(map(str, row)))
    for step, seconds in result["timings"].items():
        print(f"{step}: {seconds:.1f} s")
    print("report: " + ", ".join(map(str, result["report"])))


def _add_training_options(parser):
    parser.add_argument(
        "--units", type=positive_int, default=8, metavar="N", help="recurrent units (default: 8)"
    )
    parser.add_argument(
        "--embedding-dim",
        type=positive_int,
        default=16,
        metavar="N",
        help="embedding size, for embedding models (default: 16)",
    )
    parser.add_argument(
        "--epochs", type=positive_int, default=100, metavar="N", help="most epochs (default: 100)"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=64, metavar="N", help="batch size (default: 64)"
    )
    parser.add_argument(
        "--learning-rate",
        type=positive_float,
        default=1e-4,
        metavar="LR",
        help="RMSprop learning rate (default: 1e-4)",
    )
    parser.add_argument(
        "--patience",
        type=non_negative_int,
        default=3,
        metavar="N",
        help="stop after N epochs without a better val_loss (default: 3)",
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="random seed: same seed, same results (default: 42)"
    )
    parser.add_argument(
        "--padding",
        choices=("pre", "post"),
        default="pre",
        help="pad at the start or the end (default: pre, as Keras)",
    )
    parser.add_argument(
        "--truncating",
        choices=("pre", "post"),
        default="pre",
        help="cut long reviews at the start or the end (default: pre)",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-epoch progress")


def _train_config(args, model):
    from .config import TrainConfig

    return TrainConfig(
        model=model,
        data=args.data,
        num_words=args.num_words,
        maxlen=args.maxlen,
        units=args.units,
        embedding_dim=args.embedding_dim,
        padding=args.padding,
        truncating=args.truncating,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        epochs=args.epochs,
        patience=args.patience,
        seed=args.seed,
    )


def run_train(args) -> None:
    from .train import train

    config = _train_config(args, args.model)
    result = train(config, args.out, overwrite=args.overwrite, verbose=0 if args.quiet else 2)
    print()
    print(result.summary)
    print()
    print(format_metrics(result.metrics))
    print(f"run folder: {result.out}")


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
    from .train import evaluate

    result = evaluate(args.run_dir, args.data)
    print(f"data: {result['data']}")
    if not result["same_data_as_training"]:
        print("warning: this is not the data the model was trained on")
    print(
        f"test loss {result['test_loss']:.4f}   test accuracy {result['test_accuracy']:.4f}   "
        f"({result['test_reviews']:,} reviews)"
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
