"""The `rnnlab` command line: one flat parser per command whose options map onto the
function it calls (commands.py); the training options come from TrainConfig's fields."""

from dataclasses import fields

from .. import __version__
from ..config import TrainConfig
from ..i18n import ENVIRONMENT, LANGUAGES
from ..models import PRESETS
from . import commands
from .options import (
    Parser,
    add_allow_unfinished,
    add_config_options,
    add_device_option,
    add_jobs_option,
    add_review_file_options,
    count,
    parsed_by,
    probability,
)

CONFIG_NAMES = [spec.name for spec in fields(TrainConfig)]
DATA_OPTIONS = tuple(TrainConfig().data_options)  # how the data is read and tokenized


def _seeds(text: str) -> list[int]:
    from ..sweep.grid import seeds

    return parsed_by(seeds, text)


def _sweep_name(text: str) -> str:
    from ..sweep.identity import check_name

    return parsed_by(check_name, text)


def _explicit_grid(text: str) -> list[dict]:
    from ..sweep.grid import explicit

    return parsed_by(explicit, text)


def _add_lang_option(parser) -> None:
    parser.add_argument(
        "--lang",
        metavar="LANG",
        help="the report's language: "
        + ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())
        + f" (default: ${ENVIRONMENT}, else en)",
    )


def build_parser() -> Parser:
    parser = Parser(
        prog="rnnlab",
        description="Recurrent neural networks on movie reviews (IMDB, Korean NSMC) and your "
        "own labelled texts: the Keras tutorial (혼공머신 9-2/9-3), reproduced and explained.",
    )
    parser.add_argument("--version", action="version", version=f"rnnlab {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    subcommands.required = True

    data = subcommands.add_parser(
        "data",
        help="load a data set and print the tutorial's data exploration",
        description="Load the data (IMDB, NSMC, your own labelled file) like "
        "keras.datasets.imdb.load_data, split 80/20, pad, and print what the tutorial prints: "
        "sizes, a review as ids and tokens, length statistics in tokens, a padded example, the "
        "memory cost of one-hot input. Writes the length histogram, to choose --maxlen.",
    )
    add_config_options(data, ("data", "num_words", "maxlen", *DATA_OPTIONS))
    data.add_argument("--out", metavar="DIR", default="runs/data", help="output folder")
    data.set_defaults(run=commands.run_data)

    train = subcommands.add_parser(
        "train",
        help="train one model with the tutorial's recipe into a run folder",
        description="Train a model with the tutorial's recipe (tutorial.py: RMSprop, binary "
        "cross-entropy, early stopping restoring the best weights) and write config.json, "
        "summary.txt, history.csv, best.keras, curves.png, metrics.json and "
        "preprocessing.json to the run folder.",
    )
    add_config_options(train, given_only=True)
    train.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="a named recipe: "
        + "; ".join(f"{name}: {preset.description}" for name, preset in PRESETS.items())
        + " (options given override its settings)",
    )
    train.add_argument("--out", metavar="DIR", help="run folder (default: runs/<model>-<time>)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    train.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue an interrupted run from its last complete epoch, with its own settings "
        "(give no other training option); it ends as the uninterrupted run would",
    )
    add_device_option(train)
    train.set_defaults(run=commands.run_train)

    evaluate = subcommands.add_parser(
        "evaluate",
        help="test loss and accuracy of a saved run, or its accuracy on your own reviews",
        description="Evaluate RUN_DIR's model on the test split of the data it was trained on "
        "(or --data), or on your own labelled reviews (--file, or --positives and "
        "--negatives): accuracy, the confusion matrix, and the share of words the model "
        "cannot see (rare ones it reads as [OOV], and ones its training never saw).",
    )
    evaluate.add_argument("run_dir", metavar="RUN_DIR", help="a run folder of rnnlab train")
    evaluate.add_argument("--data", metavar="PATH", help="evaluate on this source instead")
    add_review_file_options(
        evaluate,
        "labelled reviews: .tsv, .csv or .jsonl with a text and a label (0/1, neg/pos or "
        "negative/positive) per review, or a .txt whose first line is NSMC's header "
        "id<TAB>document<TAB>label (then tab-separated, no quoting: NSMC's ratings_test.txt "
        "as it is); - reads standard input (once)",
        formats=("txt", "tsv", "csv", "jsonl"),
    )
    evaluate.add_argument(
        "--label-field",
        "--label-column",
        dest="label_field",
        metavar="NAME",
        help="column or field holding the label",
    )
    evaluate.add_argument("--positives", metavar="PATH", help="positive reviews, one a line")
    evaluate.add_argument("--negatives", metavar="PATH", help="negative reviews, one a line")
    evaluate.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format",
    )
    add_allow_unfinished(evaluate)
    add_device_option(evaluate)
    evaluate.set_defaults(run=commands.run_evaluate)

    reproduce = subcommands.add_parser(
        "reproduce",
        help="run the whole tutorial (chapter 9-2, 9-3 or both) and write a report",
        description="The tutorial in order: data exploration, then each model of the chapter "
        "trained and tested (9-2: model A, one-hot SimpleRNN, and model B, Embedding + "
        "SimpleRNN; 9-3: lstm, lstm-dropout, lstm-stacked, gru); writes report.md and a "
        "self-contained report.html with every table and picture. The models train as a "
        "sweep (see rnnlab sweep): running the command again continues where it stopped.",
    )
    reproduce.add_argument("--chapter", choices=("9-2", "9-3", "all"), default="9-2")
    add_config_options(reproduce, ("data", "epochs", "engine", *DATA_OPTIONS))
    reproduce.add_argument(
        "--seeds",
        type=_seeds,
        default="1",  # parsed as if given: [42]
        metavar="N|LIST",
        help="train each model with N seeds (42, 43, ...) or these (42,7,9: 42 included), and "
        "add the statistics over seeds to the report; seed 42 stays the one shown in detail",
    )
    add_jobs_option(reproduce)
    reproduce.add_argument(
        "--out",
        metavar="DIR",
        default="runs/reproduce",
        help="output folder",
    )
    reproduce.add_argument(
        "--overwrite", action="store_true", help="start again in a folder of an earlier run"
    )
    reproduce.add_argument("--quiet", action="store_true", help="no line per trained model")
    _add_lang_option(reproduce)
    add_device_option(reproduce)
    reproduce.set_defaults(run=commands.run_reproduce)

    sweep = subcommands.add_parser(
        "sweep",
        help="train a grid of models, settings and seeds with worker processes; statistics",
        description="Many trainings at once: every training option takes a comma list, and "
        "each list is an axis of the grid (--models lstm,gru --units 8,16 --seeds 5 is 20 "
        "trainings). Each trial is a normal run folder in the sweep folder; the summary "
        "(summary.md, .html, .csv) gives each model's mean, sd and 95% interval over its "
        "seeds, models compared seed by seed, and a bag-of-words baseline. Running the same "
        "command again continues the sweep; with --storage postgresql://... the same command "
        "on several machines joins one sweep.",
    )
    axes = [name for name in CONFIG_NAMES if name not in ("data", "seed")]
    add_config_options(sweep, axes, lists=True, given_only=True)
    add_config_options(sweep, ("data",))
    sweep.add_argument(
        "--seeds",
        type=_seeds,
        default="1",  # parsed as if given: [42]
        metavar="N|LIST",
        help="N seeds (42, 43, ... 42+N-1) or a comma list (1,7,9)",
    )
    sweep.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="every configuration starts from this recipe's settings (see rnnlab train)",
    )
    sweep.add_argument(
        "--grid",
        type=_explicit_grid,
        metavar="JSON|@FILE",
        help="explicit configurations, each crossed with the axes and seeds: a JSON list of "
        'objects of settings, e.g. [{"units": 16}, {"maxlen": 200}], or @FILE holding one',
    )
    sweep.add_argument(
        "--search",
        type=count,
        metavar="N",
        help="search instead of a grid: N trials, each one's settings sampled by Optuna's TPE "
        "from what the trials before it found; a comma list is a choice, LOW..HIGH a range "
        "(e.g. --units 8..64 --learning-rate 1e-4..1e-2: log scale where HIGH >= 10 x LOW); "
        "one seed",
    )
    sweep.add_argument(
        "--prune",
        action="store_true",
        help="with --search: stop a trial whose validation loss after an epoch is worse than "
        "the median of earlier trials' at that epoch (Optuna's MedianPruner)",
    )
    add_jobs_option(sweep)
    sweep.add_argument(
        "--out", metavar="DIR", help="this machine's sweep folder (default: runs/sweeps/NAME)"
    )
    sweep.add_argument(
        "--name",
        type=_sweep_name,
        help="the sweep's name in its storage (default: grid- or search-<hash of its options>)",
    )
    sweep.add_argument(
        "--storage",
        metavar="URL",
        help="postgresql://user@host/db to share the sweep between machines (default: a "
        "journal file in the sweep folder)",
    )
    sweep.add_argument("--quiet", action="store_true", help="no line per finished trial")
    _add_lang_option(sweep)
    add_device_option(sweep)
    sweep.set_defaults(run=commands.run_sweep)

    page = subcommands.add_parser(
        "page",
        help="write one HTML file that runs a trained model in a browser, offline",
        description="A self-contained page (weights, vocabulary, tokenizer and the forward "
        "pass in plain JavaScript): type a review and see P(positive) after every word. It "
        "opens from file://, makes no network request, and reads a review from its address "
        "(page.html#review=...), so a link can be shared. Its language: --lang, else "
        "$RNNLAB_LANG, else the reviews' (Korean when most of the model's frequent tokens "
        "are Hangul). It runs word, char and subword models.",
    )
    page.add_argument("run_dir", metavar="RUN_DIR", help="a run folder of rnnlab train")
    page.add_argument(
        "--output", "-o", metavar="FILE", help="where to write it (default: RUN_DIR/page.html)"
    )
    page.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    _add_lang_option(page)
    add_allow_unfinished(page)
    add_device_option(page)
    page.set_defaults(run=commands.run_page)

    compare = subcommands.add_parser(
        "compare",
        help="compare run folders: a table and overlaid validation curves",
        description="Write comparison.csv, .md and .html (model, parameters, best epoch, "
        "val loss/accuracy, test accuracy, s/epoch, peak memory) and val_loss.png and "
        "val_accuracy.png with every run's curve. Runs trained on different data, num_words "
        "or maxlen are flagged.",
    )
    compare.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folders")
    compare.add_argument("--out", metavar="DIR", default="runs/compare", help="output folder")
    add_allow_unfinished(compare)
    _add_lang_option(compare)
    compare.set_defaults(run=commands.run_compare)

    predict = subcommands.add_parser(
        "predict",
        help="probability that new reviews are positive, with a trained run",
        description="Turn raw reviews into the model's input exactly as in training (the run "
        "folder carries the tokenizer settings and vocabulary) and print P(positive), the label "
        "and the number of words outside the model's vocabulary.",
    )
    predict.add_argument("run_dir", metavar="RUN_DIR", help="a run folder of rnnlab train")
    predict.add_argument("texts", nargs="*", metavar="TEXT", help="reviews to classify")
    add_review_file_options(
        predict,
        "reviews from a file: .txt (one per line, or, when its first line is NSMC's header "
        "id<TAB>document<TAB>label, NSMC's tab-separated format), .tsv, .csv or .jsonl (a "
        "'document', 'text' or 'review' column or field), or - for standard input",
        formats=("txt", "tsv", "csv", "jsonl"),
    )
    predict.add_argument(
        "--threshold",
        type=probability,
        default=0.5,
        metavar="P",
        help="label positive when P(positive) >= P",
    )
    predict.add_argument(
        "--format",
        choices=("table", "csv", "jsonl"),
        default="table",
        help="output format",
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
    add_allow_unfinished(predict)
    add_device_option(predict)
    predict.set_defaults(run=commands.run_predict)
    return parser
