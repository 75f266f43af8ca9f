"""What each `rnnlab` command does: call the library, print the result."""

import io
import sys

from ..config import TrainConfig
from ..errors import RnnlabError
from .options import config_from, given_settings


def run_predict(args) -> None:
    from ..predict import format_explanation, load, predict_stream, write_rows
    from ..texts import check_file, read_reviews

    if bool(args.texts) == bool(args.file):
        raise RnnlabError("give reviews as arguments or with --file PATH (one of the two)")
    if args.explain and (args.file or len(args.texts) != 1):
        raise RnnlabError("--explain takes exactly one review, as an argument")
    if args.file:
        check_file(args.file)  # before the model loads: a wrong path fails at once
    predictor = load(args.run_dir, args.allow_unfinished)
    if args.explain:
        text = args.texts[0]
        print(format_explanation(text, predictor.explain(text), args.threshold))
        return
    reviews = (
        read_reviews(args.file, args.input_format, args.text_field) if args.file else args.texts
    )
    rows = predict_stream(predictor, reviews, args.threshold)
    if args.output:
        from ..files import atomic_write

        written = []

        def write(binary):
            stream = io.TextIOWrapper(binary, encoding="utf-8", newline="")
            written.append(write_rows(rows, stream, args.format))
            stream.flush()
            stream.detach()

        atomic_write(args.output, write)
        print(f"{written[0]:,} predictions written to {args.output}", file=sys.stderr)
    else:
        write_rows(rows, sys.stdout, args.format)


def run_compare(args) -> None:
    from ..compare import compare
    from ..i18n import language

    result = compare(args.run_dirs, args.out, args.allow_unfinished, language(args.lang))
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    widths = [
        max(len(str(cell)) for cell in column)
        for column in zip(result.headers, *result.rows, strict=True)
    ]
    for row in [result.headers, *result.rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    files = "comparison.html, comparison.md, comparison.csv, val_loss.png, val_accuracy.png"
    print(f"written to {result.out}: {files}")


def run_reproduce(args) -> None:
    from ..i18n import language
    from ..reproduce import reproduce, results_table

    lang = language(args.lang)  # a mistake shows before the training
    result = reproduce(
        args.data,
        args.out,
        args.chapter,
        args.seeds,
        args.jobs,
        overwrite=args.overwrite,
        quiet=args.quiet,
        epochs=args.epochs,
        engine=args.engine,
        lang=lang,
        **{name: getattr(args, name) for name in TrainConfig().data_options},
    )
    headers, rows = results_table(result.runs, book=result.book)
    print()
    print(" | ".join(headers))
    for row in rows:
        print(" | ".join(map(str, row)))
    for step, seconds in result.timings.items():
        print(f"{step}: {seconds:.1f} s")
    print("report: " + ", ".join(map(str, result.report)))


def run_train(args) -> None:
    from ..train import resume, train

    verbose = 0 if args.quiet else 2
    if args.resume:
        given = [f"--{name.replace('_', '-')}" for name in given_settings(args)]
        if given or args.out or args.overwrite:
            raise RnnlabError(
                "--resume takes every setting from the run folder's config.json; drop "
                + ", ".join(given + ["--out"] * bool(args.out) + ["--overwrite"] * args.overwrite)
            )
        result = resume(args.resume, verbose)
    else:
        result = train(config_from(args), args.out, args.overwrite, verbose)
    print()
    print(result.summary)
    print()
    print(format_metrics(result.metrics))
    print(f"run folder: {result.path}")


def format_metrics(m: dict) -> str:
    if "epochs_run" in m:
        stop = "early stopping" if m["stopped_early"] else "epoch limit"
        training = f"{m['epochs_run']} epochs ({stop}), best epoch {m['best_epoch']}"
        speed = (
            f"{m['seconds_per_epoch']:.2f} s/epoch (first epoch {m['first_epoch_seconds']:.2f} "
            "s, compilation included)"
        )
    else:  # a baseline: fitted once, no epochs
        training, speed = "fitted once (no epochs)", f"{m['total_seconds']:.1f} s"
    return "\n".join(
        [
            f"{m['model']}: {m['parameters']:,} parameters, {training}",
            f"  best val_loss {m['best_val_loss']:.4f}   val_accuracy {m['best_val_accuracy']:.4f}",
            f"  test loss     {m['test_loss']:.4f}   test accuracy {m['test_accuracy']:.4f}",
            f"  {speed}, peak memory {m['peak_memory_mb']:,.0f} MB",
        ]
    )


def run_evaluate(args) -> None:
    from ..evaluate import evaluate

    if args.file or args.positives or args.negatives:
        return _evaluate_texts(args)
    if args.format == "json":
        raise RnnlabError("--format json is for your own reviews (--file, or --positives ...)")
    result = evaluate(args.run_dir, args.data, args.allow_unfinished)
    print(f"data: {result.data}")
    if not result.same_data_as_training:
        print("warning: this is not the data the model was trained on")
    print(
        f"test loss {result.test_loss:.4f}   test accuracy {result.test_accuracy:.4f}   "
        f"({result.test_reviews:,} reviews)"
    )


def _evaluate_texts(args) -> None:
    import json

    from ..evaluate import evaluate_texts
    from ..texts import labelled_reviews

    if args.data:
        raise RnnlabError("--data is the data set; your own reviews come with --file: give one")
    reviews, source = labelled_reviews(
        args.file, args.input_format, args.text_field, args.label_field, args.positives,
        args.negatives,
    )  # fmt: skip
    result = evaluate_texts(args.run_dir, reviews, source, args.allow_unfinished)
    (tn, fp), (fn, tp) = result.confusion
    if args.format == "json":
        record = {"source": result.source, "reviews": result.reviews,
                  "accuracy": result.accuracy, "confusion": result.confusion,
                  "words": result.words, "oov_words": result.oov_words,
                  "unseen_words": result.unseen_words, "oov_share": result.oov_share}  # fmt: skip
        print(json.dumps(record, ensure_ascii=False))
        return
    print(f"reviews: {result.source}")
    print(f"accuracy {result.accuracy:.4f} ({result.reviews:,} reviews)")
    print("                    predicted negative   predicted positive")
    print(f"  truly negative    {tn:>18,}   {fp:>18,}")
    print(f"  truly positive    {fn:>18,}   {tp:>18,}")
    print(
        f"words the model cannot see: {result.oov_share:.1%} of {result.words:,} "
        f"({result.oov_words - result.unseen_words:,} rare, read as [OOV]; "
        f"{result.unseen_words:,} never seen in training, skipped)"
    )


def run_data(args) -> None:
    from ..explore import explore, format_exploration

    options = {name: getattr(args, name) for name in TrainConfig().data_options}
    print(format_exploration(explore(args.data, args.num_words, args.maxlen, args.out, **options)))


def run_sweep(args) -> None:
    from ..i18n import language
    from ..sweep import grid, search
    from ..sweep.command import sweep
    from ..sweep.summary import best_of_search, groups, model_table

    lang = language(args.lang)  # a mistake shows before the training
    axes = {k: v for k, v in given_settings(args).items() if k not in (*grid.NOT_IN_GRID, "seed")}
    if args.search is None:
        if args.prune:
            raise RnnlabError(
                "--prune stops trials early, which would bias the statistics over seeds: "
                "it works with --search N only"
            )
        plan = grid.build(axes, args.grid, args.seeds, args.preset)
    else:
        if args.grid is not None:
            raise RnnlabError("--grid lists configurations and --search samples them: give one")
        plan = search.build(axes, args.seeds, args.search, args.prune, args.preset)
    done = sweep(plan, args.data, args.out, args.jobs, args.name, args.storage, lang, args.quiet)
    states = [o.state for o in done.result.outcomes]
    print(
        f"{states.count('complete')} of {len(states)} trials complete"
        + (f", {states.count('pruned')} pruned" if "pruned" in states else "")
        + (f", {states.count('failed')} failed" if "failed" in states else "")
        + f" ({done.seconds / 60:.1f} min); summary: {done.folder / 'summary.html'}"
    )
    if args.search is None:
        headers, rows = model_table(groups(done.result.outcomes), done.baseline)  # in English
        for row in [headers, *rows]:
            print(" | ".join(map(str, row)))
    else:
        print(best_of_search(done.result.outcomes, plan, args.data) or "no trial completed")


def run_page(args) -> None:
    import os

    from ..i18n import ENVIRONMENT, language
    from ..report.page import write_page

    # Asked for (--lang, $RNNLAB_LANG), or else the language of the model's reviews.
    lang = language(args.lang) if args.lang or os.environ.get(ENVIRONMENT) else None
    path = write_page(args.run_dir, args.output, args.overwrite, lang, args.allow_unfinished)
    size = path.stat().st_size / 1000
    print(f"page written to {path} ({size:.0f} kB): open it in any browser, it works offline")
