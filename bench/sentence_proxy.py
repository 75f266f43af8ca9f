"""Short movie-review sentences with labels: a proxy for "your own sentences".

    python bench/sentence_proxy.py --data ../shared/data/aclImdb_labeled.tar.gz --out sentences.csv
    rnnlab evaluate RUN_DIR --file sentences.csv

The models are trained on whole reviews; users type a sentence.  No labelled
set of short sentences is on this machine, so this cuts single sentences from
IMDB's *test* reviews (never trained on) and labels each with its review's
label.  It is a noisy proxy: a positive review holds neutral and even negative
sentences, so no model can reach 100%, and a sentence that shows no
sentiment is a coin flip for every model.  The sentences are drawn with a
fixed seed: the same file every time.
"""

import argparse
import csv
import random
import re
import sys

from rnnlab.data.readers import read_aclimdb_tar

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
TAG = re.compile(r"<[^>]+>")


def sentences(text: str, shortest: int, longest: int) -> list[str]:
    """The review's sentences of `shortest` to `longest` words."""
    parts = SENTENCE_END.split(TAG.sub(" ", text))
    return [p.strip() for p in parts if shortest <= len(p.split()) <= longest]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", required=True, help="an aclImdb .tar.gz")
    parser.add_argument("--out", required=True, help="the CSV to write (text,label)")
    parser.add_argument("--per-label", type=int, default=2000, help="sentences of each label")
    parser.add_argument("--words", default="5-30", help="sentence length in words (default 5-30)")
    args = parser.parse_args()
    shortest, longest = map(int, args.words.split("-"))
    _, _, texts, labels = read_aclimdb_tar(args.data)
    rng = random.Random(42)
    chosen = []
    for label in (0, 1):
        pool = [
            rng.choice(found)
            for text, y in zip(texts, labels, strict=True)
            if y == label and (found := sentences(text, shortest, longest))
        ]  # one sentence per review: no review dominates
        chosen += [(sentence, label) for sentence in rng.sample(pool, args.per_label)]
    rng.shuffle(chosen)
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(chosen)
    print(f"{len(chosen):,} sentences written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
