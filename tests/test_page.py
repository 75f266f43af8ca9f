"""rnnlab page: one HTML file that runs the model in the browser as rnnlab predict does.

The page's own script runs under node (tests/js/harness.js evaluates the script
text of the written page, no DOM) and is compared with the Python tokenizer,
encoder and model, for every model kind and every tokenizer (word; char and
subword on Korean reviews, emoji outside the BMP, mixed scripts, against
CharTokenizer and sentencepiece itself); headless Chromium opens the page itself.
Tests that need node or Chromium skip without them, except on CI (CI=true);
tests on the real data skip without RNNLAB_DATA (IMDB) or RNNLAB_NSMC.
"""

import itertools
import json
import os
import random
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import quote

import keras
import numpy as np
import pytest
from helpers import aclimdb_files, tiny_config, write_nsmc, write_tarball
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnlab
from rnnlab import runs
from rnnlab.cli import main
from rnnlab.config import TrainConfig
from rnnlab.data.tokenizer import tokenize
from rnnlab.data.tokenizers import CharTokenizer, SubwordTokenizer
from rnnlab.errors import RnnlabError
from rnnlab.files import write_text
from rnnlab.models import KERAS_MODELS, Architecture, build_model
from rnnlab.predict import Predictor, format_explanation
from rnnlab.report.page import page_html, write_page
from rnnlab.runs import TOKENIZER_MODEL
from rnnlab.train import train

HARNESS = Path(__file__).parent / "js" / "harness.js"
SHAPE = Architecture(num_words=24, maxlen=12, units=4, embedding_dim=5)
# By rank: the first 20 get ids (num_words 24), the others are [OOV]; any other word is skipped.
VOCABULARY = [
    *["the", "movie", "was", "great", "bad", "film", "and", "it", "i", "a", "don't"],
    *["οδος", "straße", "x²", "한국어", "映画", "awful", "boring", "wonderful", "plot"],
    *["ß", "٣", "o'neil", "stanbul", "acting", "worst", "best", "fun", "dull"],
]
TEXTS = [
    "The movie was great, I don't think it was bad!",
    "",
    "zzz qqq",
    "Awful awful boring film <br /><br />and it was BAD. Wonderful plot, worst acting.",
    "ΟΔΟΣ STRAẞE İstanbul x² ٣ 한국어 映画 O’Neil — unknownword",
    " ".join(VOCABULARY * 3),
    "<a href='the movie was great'>the film</a> " * 8 + "ΟΔΟΣ\nawful " * 10 + "the end",
    # a tag long enough that a cut of the review falls inside it, at either end
    "the film " * 20 + "<i title='" + "great movie " * 30 + "'> bad bad",
    "<i title='" + "great movie " * 30 + "'>bad bad " + "the film " * 20,
]


def tool(names: list[str], install: str) -> str:
    """The first of `names` on PATH; without it, skip (fail on CI, which installs it)."""
    for name in names:
        if path := shutil.which(name):
            return path
    message = f"{names[0]} is not installed: {install}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


def run_node(page: Path, request: dict) -> dict:
    node = tool(["node"], "apt-get install nodejs")
    request_file = page.with_name(page.stem + ".request.json")
    request_file.write_text(json.dumps(request))
    done = subprocess.run(
        [node, str(HARNESS), str(page), str(request_file)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def open_in_chromium(page: Path, review: str) -> str:
    """The DOM of `page` opened with `#review=<review>`, once its scripts have run."""
    chromium = tool(["chromium", "chromium-browser"], "apt-get install chromium fonts-noto-cjk")
    url = f"{page.resolve().as_uri()}#review={quote(review, safe='')}"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [chromium, "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={profile}",
             "--virtual-time-budget=10000", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def shown_probability(dom: str) -> str:
    match = re.search(r'<output id="probability">([^<]*)</output>', dom)
    assert match, dom[-3000:]
    return match.group(1)


def assert_same_4_decimals(shown: str, p: float):
    """The page prints what predict prints, unless p is within float32 noise of a tie."""
    near_tie = abs((p * 1e4) % 1 - 0.5) < 1e-2
    assert shown == f"{p:.4f}" or (near_tie and abs(float(shown) - p) <= 6e-5), (shown, p)


# --- run folders ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("page")


@pytest.fixture(scope="module")
def trained_run(folder) -> Path:
    """Model B trained for an epoch on tiny data: a run folder as rnnlab train writes it."""
    data = write_tarball(folder / "tiny.tar.gz", aclimdb_files())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_HOME", str(folder / "home"))
        train(tiny_config(data, epochs=1), folder / "trained", verbose=0)
    return folder / "trained"


@pytest.fixture(scope="module")
def trained_page(trained_run) -> Path:
    return write_page(trained_run)


def copy_run(trained_run: Path, path: Path) -> Path:
    return shutil.copytree(trained_run, path, ignore=shutil.ignore_patterns("page.html"))


def run_with(trained_run: Path, path: Path, model, **preprocessing) -> Path:
    """A copy of the trained run folder with `model` (of SHAPE) as its best model and
    the fields of preprocessing.json changed: VOCABULARY, SHAPE, then `preprocessing`."""
    copy_run(trained_run, path)
    model.save(path / "best.keras")
    spec = json.loads((path / "preprocessing.json").read_text(encoding="utf-8"))
    words = {"vocabulary": VOCABULARY, "num_words": SHAPE.num_words, "maxlen": SHAPE.maxlen}
    (path / "preprocessing.json").write_text(json.dumps({**spec, **words, **preprocessing}))
    # config.json describes the same model and preprocessing (runcheck compares them).
    record = json.loads((path / "config.json").read_text(encoding="utf-8"))
    sides = {k: v for k, v in preprocessing.items() if k in ("padding", "truncating", "tokenizer")}
    shape = {"num_words": SHAPE.num_words, "maxlen": SHAPE.maxlen, "units": SHAPE.units,
             "embedding_dim": SHAPE.embedding_dim}  # fmt: skip
    record["settings"].update(shape, **sides)
    (path / "config.json").write_text(json.dumps(record))
    return path


def randomized(model, seed=0):
    """Every weight drawn at random (biases too), so that each one shows in the output."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.6, w.shape).astype("float32") for w in model.get_weights()])
    return model


def custom_model(kind: str):
    """Models rnnlab does not train yet, made of the layers the page runs."""
    L = keras.layers
    n, length = SHAPE.num_words, SHAPE.maxlen
    hidden = {
        # masked steps keep the state; post padding makes the last steps masked
        "masked-post": [
            L.Embedding(n, 5, mask_zero=True),
            L.SimpleRNN(5, activation="relu", return_sequences=True),
            L.Dropout(0.5),
            L.GRU(4, reset_after=False, use_bias=False),
        ],
        "backwards": [
            L.Embedding(n, 5),
            L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="sum"),
            L.LSTM(4, recurrent_activation="hard_sigmoid", go_backwards=True),
        ],
        # a masked step outputs zeros, not the last output (the state is kept)
        "zero-output": [
            L.Embedding(n, 3, mask_zero=True),
            L.SimpleRNN(3, zero_output_for_mask=True),
        ],
        "masked-bidirectional": [
            L.Embedding(n, 5, mask_zero=True),
            L.Bidirectional(L.GRU(3)),
            L.Dense(4, activation="relu"),
        ],
    }[kind]
    inputs = [keras.Input((length,), dtype="int32")]
    return keras.Sequential([*inputs, *hidden, L.Dense(1, activation="sigmoid")], name=kind)


KINDS = [*KERAS_MODELS, "masked-post", "zero-output", "backwards", "masked-bidirectional"]
# models with no probability after each step
WHOLE_REVIEW_ONLY = {"bilstm", "bigru", "gru-pool", "bigru-pool", "masked-bidirectional"}


@pytest.fixture(scope="module", params=KINDS)
def kind_run(request, trained_run, folder):
    kind = request.param
    model = build_model(kind, SHAPE) if kind in KERAS_MODELS else custom_model(kind)
    post = kind in ("masked-post", "zero-output")
    sides = {"padding": "post", "truncating": "post"} if post else {}
    run = run_with(trained_run, folder / kind, randomized(model), **sides)
    # Straight from the model: a run folder holds only the models rnnlab trains
    # (runcheck refuses others), and the page runs these layers whoever made them.
    predictor = Predictor(model, runs.read_encoder(run))
    return kind, run, write_text(run / "page.html", page_html(predictor)), predictor


# --- the page equals predict ---------------------------------------------------------


def test_every_model_kind_gives_predicts_ids_and_probabilities(kind_run):
    kind, run, page, predictor = kind_run
    texts = TEXTS + [
        " ".join(random.Random(seed).choices(VOCABULARY + ["unseen", "<br />"], k=seed * 3))
        for seed in range(8)
    ]
    # A small chunk makes the page tokenize only the end of most reviews (what a
    # 1 MB review needs): the ids must not change.
    answers = run_node(page, {"encode": texts, "chunk": 40})["encode"]
    expected_ids = predictor.encoder.encode(texts).ids
    probabilities = predictor.predict(texts)
    one_way = kind not in WHOLE_REVIEW_ONLY
    for text, answer, ids, p in zip(texts, answers, expected_ids, probabilities, strict=True):
        assert answer["ids"] == ids.tolist(), text
        assert answer["probability"] == pytest.approx(float(p), abs=1e-5), text
        assert_same_4_decimals(answer["formatted"], float(p))
        assert (answer["probabilities"] is not None) == one_way
        if one_way:
            explanation = predictor.explain(text)
            per_token = explanation.probabilities
            np.testing.assert_allclose(answer["probabilities"], per_token, atol=1e-5)
            if predictor.encoder.padding == "pre":
                assert moves_lines(answer["moves"]) == moves_lines_of_predict(text, explanation)


def run_settings(run: Path) -> dict:
    return json.loads((run / "preprocessing.json").read_text(encoding="utf-8"))


def test_page_marks_skipped_words_and_truncation(kind_run):
    _, run, page, _ = kind_run
    reviews = ["great film unseen " * 20, "the unseen movie"]
    long, short = run_node(page, {"encode": reviews})["encode"]
    cut = "cutAfter" if run_settings(run)["truncating"] == "post" else "cutBefore"
    assert long[cut] and not short["cutBefore"] and not short["cutAfter"]
    assert short["counts"] == {"words": 3, "skipped": 1, "oov": 0, "whole": True}
    assert ["[START]", "the", "movie"] in (short["tokens"][:3], short["tokens"][-3:])


def moves_lines(moves) -> list[str]:
    if not moves["up"] and not moves["down"]:
        return []
    up, down = (
        ", ".join(f"{move['token']} ({move['change']:+.3f})" for move in side)
        for side in (moves["up"], moves["down"])
    )
    return [f"moved it up most: {up or '-'}", f"moved it down most: {down or '-'}"]


def moves_lines_of_predict(text, explanation) -> list[str]:
    return [
        line
        for line in format_explanation(text, explanation).splitlines()
        if line.startswith("moved it")
    ]


def test_a_megabyte_review_is_read_fast_and_exactly(trained_page, trained_run):
    review = ("A great movie <i>with <a href='x y'>tags</a></i> and ΟΔΟΣ; " * 20000)[: 1 << 20]
    (answer,) = run_node(trained_page, {"encode": [review]})["encode"]
    assert answer["ids"] == rnnlab.load(trained_run).encoder.encode([review]).ids[0].tolist()
    assert answer["counts"]["whole"] is False  # only the end was tokenized
    assert answer["milliseconds"] < 500


# --- the tokenizer equals Python's -----------------------------------------------------

HARD_CASES = [
    "İstanbul ISTANBUL ıi İı Iİ",
    "STRASSE Straße STRAẞE ß ẞ",
    "ΟΔΟΣ ΟΔΟΣ. Σ ΑΣ ΑΣΑ Σ̈Α ΑΣ̈ ΑΣ'Β ΑΣ' 'ΑΣ ὈΔΥΣΣΕΎΣ ΣΑ 1Σ ʰΣ aʰΣ ᾼΣ Σ𐐀",
    "café cafe\u0301 e\u0301 \u0301start",
    "x² ⁴ ½ ① Ⅻ ⅻ ²³",
    "zero\u200dwidth joi\u200cner a\u200bb \ufeffbom",
    "emoji 😀😃 👍🏽 👨‍👩‍👧 ❤️ 🇰🇷 test😀word",
    "<br /><br />tags <i>italic</i> <a href='x y'>link</a> a<b>b c < d > e <3 </ not <1a>",
    "don't 'quoted' trailing' ''double'' o'neil rock'n'roll it’s ’tis can''t a' ' '",
    "映画 東京 中文字符 ｆｕｌｌｗｉｄｔｈ ＡＢＣ",
    "한국어 리뷰 입니다 ㅋㅋㅋ 한글ABC",
    "العربية فيلم رائع ٣٤٥",
    "हिन्दी फ़िल्म अच्छी १२३",
    "digits ٣ ৩ ໓ ๓ 𝟑 𝟘",
    "under_score snake_case __init__",
    "mixed\x1eseparator \x00 nul \ud800 lone",
    "ǅUNGLA ǲ Ǆ ﬁ ﬂ K Å Ω 𐐀𐐨 𞤀",
    "",
]


def test_tokenizer_equals_python_on_hard_cases(trained_page):
    answer = run_node(trained_page, {"tokenize": HARD_CASES})["tokenize"]
    for text, words in zip(HARD_CASES, answer, strict=True):
        assert words == tokenize(text), repr(text)


TRICKY = [*"'’<>/_\n.ΣσΑİıẞß\u0301\u0307\u200d\u200b한映ʰ²٣😀𐐀", "<br />", "<i>", "</a>"]
ANY_TEXT = st.lists(st.one_of(st.characters(), st.sampled_from(TRICKY)), max_size=30).map("".join)


# One node run per example, 100 texts each; no health check on a busy machine's speed.
@settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(ANY_TEXT, min_size=100, max_size=100))
def test_tokenizer_equals_python_on_any_text(trained_page, texts):
    answer = run_node(trained_page, {"tokenize": texts})["tokenize"]
    for text, words in zip(texts, answer, strict=True):
        assert words == tokenize(text), repr(text)


def real_reviews(tarball, n: int) -> list[str]:
    """The first `n` reviews of the aclImdb tarball, decoded as the data layer does."""
    texts = []
    with tarfile.open(tarball) as tar:
        while len(texts) < n:
            member = tar.next()
            if member.isfile() and member.name.endswith(".txt"):
                texts.append(tar.extractfile(member).read().decode("utf-8", errors="replace"))
    return texts


def test_tokenizer_equals_python_on_2000_real_reviews(real_data, trained_page):
    texts = real_reviews(real_data, 2000)
    answer = run_node(trained_page, {"tokenize": texts})["tokenize"]
    for text, words in zip(texts, answer, strict=True):
        assert words == tokenize(text), text[:200]


# --- the real vocabulary: exact, and small enough ----------------------------------------


@pytest.mark.slow
def test_model_b_page_with_the_real_vocabulary(real_data, real_home, folder):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_HOME", str(real_home))
        config = TrainConfig(model="simplernn-embedding", data=real_data, epochs=1)
        train(config, folder / "real-b", verbose=0)
    predictor = rnnlab.load(folder / "real-b")
    assert len(predictor.encoder.vocabulary) > 80000
    page = write_page(folder / "real-b")
    assert page.stat().st_size <= 300_000
    texts = real_reviews(real_data, 40)
    answers = run_node(page, {"encode": texts})["encode"]
    for text, answer in zip(texts, answers, strict=True):
        explanation = predictor.explain(text)
        assert answer["ids"] == explanation.ids
        np.testing.assert_allclose(answer["probabilities"], explanation.probabilities, atol=1e-5)


# --- in a browser ------------------------------------------------------------------------


def test_browser_scores_the_review_in_the_address(trained_page, trained_run):
    review = "The movie was great and wonderful, I loved it!"
    dom = open_in_chromium(trained_page, review)
    p = float(rnnlab.load(trained_run).predict([review])[0])
    assert_same_4_decimals(shown_probability(dom), p)
    assert ("positive" if p >= 0.5 else "negative") in re.search(r'<span id="label"[^>]*>', dom)[0]
    assert "[START]" in dom and "<svg" in dom


def test_review_and_vocabulary_stay_text(trained_run, folder):
    """A review with HTML in the address and HTML in the vocabulary run nothing."""
    crafted = [
        "great",
        "</script><script>document.body.dataset.pwned=1</script>",
        "<!--",
        '"quoted"',
        "<b>bold</b>",
        "&amp;",
        "\u2028",
        "x</SCRIPT >",
    ]
    model = randomized(build_model("simplernn-embedding", SHAPE), seed=1)
    run = run_with(trained_run, folder / "crafted", model, vocabulary=crafted * 5 + VOCABULARY)
    page = write_page(run, lang="ko")
    review = (
        '</textarea><img src=x onerror="document.body.dataset.pwned=2">'
        "<script>document.body.dataset.pwned=3</script> great"
    )
    dom = open_in_chromium(page, review)
    assert "data-pwned" not in dom and "<img" not in dom
    assert "&lt;img src=x onerror=" in dom  # the review, as text in the box
    assert_same_4_decimals(shown_probability(dom), float(rnnlab.load(run).predict([review])[0]))
    assert "긍정" in dom or "부정" in dom


def test_bidirectional_pages_explain_why_there_are_no_token_probabilities(trained_page):
    message = "--explain reads a one-directional RNN's state token by token; {name} reads"
    assert message in trained_page.read_text(encoding="utf-8")


# --- bad input -------------------------------------------------------------------------


def test_page_is_self_contained_and_written_once(trained_run, trained_page):
    html = trained_page.read_text(encoding="utf-8")
    assert set(re.findall(r"\w+://[^\s\"'`]*", html)) == {"http://www.w3.org/2000/svg"}
    assert "default-src 'none'" in html  # the browser itself refuses any request
    with pytest.raises(RnnlabError, match="exists; pass --overwrite"):
        write_page(trained_run)
    assert write_page(trained_run, overwrite=True) == trained_page
    with pytest.raises(RnnlabError, match="language"):
        write_page(trained_run, trained_run / "other.html", lang="fr")


def test_run_folder_without_preprocessing(trained_run, folder):
    run = copy_run(trained_run, folder / "no-words")
    (run / "preprocessing.json").unlink()
    with pytest.raises(RnnlabError, match="preprocessing.json"):
        write_page(run)


def test_damaged_model(trained_run, folder):
    run = copy_run(trained_run, folder / "damaged")
    (run / "best.keras").write_bytes(b"not a zip file")
    with pytest.raises(RnnlabError, match="damaged"):
        write_page(run)


@pytest.mark.parametrize(
    "layers, named",
    [
        ([keras.layers.Conv1D(4, 3), keras.layers.GlobalMaxPooling1D()], "Conv1D"),
        ([keras.layers.SimpleRNN(4, activation="gelu")], "gelu"),
        ([keras.layers.LSTM(4, return_sequences=True)], "final state"),
    ],
)
def test_layers_the_page_cannot_run(trained_run, folder, layers, named):
    model = keras.Sequential(
        [keras.Input((SHAPE.maxlen,), dtype="int32"), keras.layers.Embedding(24, 4), *layers,
         keras.layers.Dense(1, activation="sigmoid")]
    )  # fmt: skip
    run = run_with(trained_run, folder / f"unsupported-{named}", model)
    with pytest.raises(RnnlabError, match=named):
        write_page(run)


# --- Korean: the char tokenizer, the page in Korean ---------------------------------------

KOREAN_REVIEWS = [
    "정말 재미있고 감동적인 영화였어요",
    "최악... 시간 아깝다 ㅠㅠ 노잼",
    "배우 연기는 좋은데 스토리가 별로 😡😡",
    "ㅋㅋㅋㅋ 명작!! 강추 👍🏽 10점 만점에 10점",
    "완전 감동 😍 🇰🇷 best movie ever, 최고",
    "  <br />앞뒤   공백과\t탭\n줄바꿈  ",
    "조합형 \u1100\u1161\u11a8 한글과 NFC: \u1112\u1161\u11ab\u1100\u1173\u11af",
    "",
    "😀" * 50 + " 정말 " * 30,
]
HARD_CHAR_CASES = [
    *KOREAN_REVIEWS,
    *HARD_CASES,
    "\u1100\u1161 \u1100\u1161\u11a8 \uac00\u11a8 \uac01\u11a8 \u1100\u0301\u1161",
    "a\u0328\u0301 a\u0301\u0328 e\u0301\u0301 \u1e0b\u0323 q\u0307\u0323 \u00c5 \u212b",
    "\u0f73 \u0f75 \u0f81 \u0344 \u0958 \u2adc \U0001d15e \U0001d160 \u0b47\u0b3e \u09c7\u09be",
    "\u2000 \u2001 \u3000 \x1c\x1d\x1e\x1f \x85 \xa0 \u1680 \u2028 \u2029 \u202f \ufeff",
    "▁ 스페이스▁기호 a▁▁b",
    "ΟΔΟΣ ΑΣ̈ İ ẞ",
]


@pytest.fixture(scope="module")
def korean_run(folder) -> Path:
    """Model B trained for an epoch on tiny Korean reviews with the char tokenizer."""
    data = write_nsmc(folder / "nsmc", n_per_label=40)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_HOME", str(folder / "home"))
        train(tiny_config(data, epochs=1, tokenizer="char"), folder / "korean", verbose=0)
    return folder / "korean"


@pytest.fixture(scope="module")
def korean_page(korean_run) -> Path:
    return write_page(korean_run)


def page_data(page: Path) -> dict:
    html = page.read_text(encoding="utf-8")
    return json.loads(re.search(r'id="rnnlab-data">(.*?)</script>', html, re.S).group(1))


def test_korean_model_gets_a_korean_page(korean_page, trained_page):
    data = page_data(korean_page)
    assert (data["lang"], data["reviews"], data["tokenizer"]) == ("ko", "ko", "char")
    english = page_data(trained_page)
    assert (english["lang"], english["reviews"], english["tokenizer"]) == ("en", "en", "word")


def test_char_page_gives_predicts_ids_and_probabilities(korean_page, korean_run):
    predictor = rnnlab.load(korean_run)
    answers = run_node(korean_page, {"encode": KOREAN_REVIEWS, "chunk": 10})["encode"]
    expected = predictor.encoder.encode(KOREAN_REVIEWS).ids
    for text, answer, ids in zip(KOREAN_REVIEWS, answers, expected, strict=True):
        assert answer["ids"] == ids.tolist(), text
        explanation = predictor.explain(text)
        assert answer["tokens"] == explanation.tokens, text  # the names --explain prints
        np.testing.assert_allclose(answer["probabilities"], explanation.probabilities, atol=1e-5)
        assert moves_lines(answer["moves"]) == moves_lines_of_predict(text, explanation)


def char_run_with(trained_run: Path, path: Path, vocabulary: list[str], **preprocessing) -> Path:
    """A run folder of the char tokenizer (unless `preprocessing` names another) with
    `vocabulary` (its first 20 get ids)."""
    model = randomized(build_model("simplernn-embedding", SHAPE), seed=3)
    settings = {"format": 2, "tokenizer": "char", "tokenizer_version": 1, **preprocessing}
    return run_with(trained_run, path, model, vocabulary=vocabulary, **settings)


def test_char_tokens_beyond_the_ids_read_as_oov_even_control_characters(trained_run, folder):
    vocabulary = [*"영화정말재미있다▁.!ㅋㅠ😀abcdefg", "\x01", "\x7f", "최", "😡", "\u0301", "한"]
    run = char_run_with(trained_run, folder / "char-oov", vocabulary, padding="post")
    page = write_page(run)
    texts = ["최악 \x01 😡 한글", "정말 \x7f e\u0301 ㅋㅋ", "ok 영화" * 5]
    answers = run_node(page, {"encode": texts, "chunk": 3})["encode"]
    predictor = rnnlab.load(run)
    for text, answer, ids in zip(texts, answers, predictor.encoder.encode(texts).ids, strict=True):
        assert answer["ids"] == ids.tolist(), repr(text)
    assert answers[0]["counts"]["oov"] == 4  # 최, \x01, 😡, 한: seen, beyond the ids


def test_char_tokenizer_equals_python_on_hard_cases(korean_page):
    answer = run_node(korean_page, {"tokenize": HARD_CHAR_CASES})["tokenize"]
    for text, tokens in zip(HARD_CHAR_CASES, answer, strict=True):
        assert tokens == CharTokenizer().tokenize(text), repr(text)


def test_char_tokenizer_normalizes_every_character_as_python(korean_page):
    """NFC with this Python's tables: every code point alone, after a Hangul jamo
    and before two combining marks in the wrong order."""
    codes = [c for c in range(0x30000) if not 0xD800 <= c < 0xE000]
    texts = ["".join(f"\u1100{chr(c)}\u0323\u0301 " for c in codes[k : k + 2000])
             for k in range(0, len(codes), 2000)]  # fmt: skip
    answer = run_node(korean_page, {"tokenize": texts})["tokenize"]
    for text, tokens in zip(texts, answer, strict=True):
        assert tokens == CharTokenizer().tokenize(text), repr(text[:20])


MARKS = [*"\u0301\u0323\u0328\u0307\u0344\u0f71\u0f72\u0f80\u05b0\u05bc\u3099\u309a\u0bbe"]
JAMO = [*"\u1100\u1112\u1161\u1175\u11a8\u11c2\uac00\uac01\u3131ᄀ"]
KOREAN_TEXT = st.lists(
    st.one_of(st.characters(), st.sampled_from(TRICKY + MARKS + JAMO + [" ", "\u3000"])),
    max_size=30,
).map("".join)


@settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(KOREAN_TEXT, min_size=100, max_size=100))
def test_char_tokenizer_equals_python_on_any_text(korean_page, texts):
    answer = run_node(korean_page, {"tokenize": texts})["tokenize"]
    for text, tokens in zip(texts, answer, strict=True):
        assert tokens == CharTokenizer().tokenize(text), repr(text)


def nsmc_reviews(n: int) -> list[str]:
    """The first `n` reviews of $RNNLAB_NSMC's training file (skip without it)."""
    folder = os.environ.get("RNNLAB_NSMC")
    if not folder:
        pytest.skip("RNNLAB_NSMC is not set")
    lines = (Path(folder) / "ratings_train.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[1] for line in lines[1 : n + 1]]


def test_char_tokenizer_equals_python_on_3000_nsmc_reviews(korean_page):
    texts = nsmc_reviews(3000)
    answer = run_node(korean_page, {"tokenize": texts})["tokenize"]
    for text, tokens in zip(texts, answer, strict=True):
        assert tokens == CharTokenizer().tokenize(text), text


def test_korean_page_in_the_browser(korean_page, korean_run):
    review = "정말 재미있고 감동적인 영화였어요 😍"
    dom = open_in_chromium(korean_page, review)
    assert_same_4_decimals(
        shown_probability(dom), float(rnnlab.load(korean_run).predict([review])[0])
    )
    assert "이 리뷰는 긍정일까요" in dom and "한국어로" in dom and "(영어)" not in dom
    assert '<html lang="ko"' in dom and "😍" in dom


def test_lang_option_overrides_the_reviews_language(korean_run, folder):
    page = write_page(korean_run, folder / "korean-en.html", lang="en")
    assert (page_data(page)["lang"], page_data(page)["reviews"]) == ("en", "ko")


@pytest.fixture(scope="module")
def subword_run(folder) -> Path:
    """Model B trained for an epoch on tiny Korean reviews with 60 learned subwords."""
    data = write_nsmc(folder / "nsmc-subword", n_per_label=40)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_HOME", str(folder / "home"))
        config = tiny_config(data, epochs=1, tokenizer="subword", subword_vocab=60)
        train(config, folder / "subword", verbose=0)
    return folder / "subword"


def test_subword_page_gives_predicts_ids_and_probabilities(subword_run, capsys):
    assert main(["page", str(subword_run)]) == 0
    capsys.readouterr()
    page = subword_run / "page.html"
    assert page_data(page)["tokenizer"] == "subword" and page_data(page)["lang"] == "ko"
    predictor = rnnlab.load(subword_run)
    texts = [*KOREAN_REVIEWS, "영화 " * 40 + "최고"]
    answers = run_node(page, {"encode": texts, "chunk": 10})["encode"]
    for text, answer, ids in zip(texts, answers, predictor.encoder.encode(texts).ids, strict=True):
        assert answer["ids"] == ids.tolist(), text
        explanation = predictor.explain(text)
        assert answer["tokens"] == explanation.tokens, text
        np.testing.assert_allclose(answer["probabilities"], explanation.probabilities, atol=1e-5)


def subword_page(trained_run: Path, path: Path, model: bytes) -> Path:
    """The page of a run folder whose tokenizer is the sentencepiece `model`."""
    tokenizer = SubwordTokenizer(model)
    run = char_run_with(trained_run, path, tokenizer.pieces, tokenizer="subword")
    (run / TOKENIZER_MODEL).write_bytes(model)
    return write_page(run)


def subword_tokens(model: bytes, texts: list[str]) -> list[list[str]]:
    return SubwordTokenizer(model).tokenize_corpus(texts)


def test_subword_tokenizer_equals_sentencepiece_on_any_text(subword_run, trained_run, folder):
    model = (subword_run / TOKENIZER_MODEL).read_bytes()
    page = subword_page(trained_run, folder / "subword-any", model)
    texts = [*HARD_CHAR_CASES, "", " ", "▁", "a ▁", "▁ a", "ㅋ▁▁", "  \t "]
    for seed in range(4):
        rng = random.Random(seed)
        alphabet = "영화최고정말재미없다ㅋㅠ  ▁.!a😀\u0301\u1100\u1161"
        texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(100)]
    texts = [text for text in texts if not re.search("[\ud800-\udfff]", text)]  # not UTF-8
    answer = run_node(page, {"tokenize": texts})["tokenize"]
    for text, tokens, expected in zip(texts, answer, subword_tokens(model, texts), strict=True):
        assert tokens == expected, repr(text)


def test_subword_tokenizer_equals_sentencepiece_on_nsmc(trained_run, folder):
    """8,000 pieces learned from 20,000 NSMC reviews, read on 3,000 others."""
    reviews = nsmc_reviews(23000)
    model = SubwordTokenizer.learn(reviews[:20000], 8000).model
    page = subword_page(trained_run, folder / "subword-nsmc", model)
    texts = reviews[20000:]
    answer = run_node(page, {"tokenize": texts})["tokenize"]
    for text, tokens, expected in zip(texts, answer, subword_tokens(model, texts), strict=True):
        assert tokens == expected, text


@pytest.mark.parametrize(
    "options, named",
    [({"user_defined_symbols": ["ㅋㅋ"]}, "user-defined"), ({"byte_fallback": True}, "byte")],
)
def test_subword_models_with_other_rules_are_refused(trained_run, folder, options, named):
    import io

    import sentencepiece

    words = ["영화", "정말", "ㅋㅋ", "별로"]
    sentences = [" ".join(order) for order in itertools.permutations(words)]
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences * 20), model_writer=model, vocab_size=300,
        hard_vocab_limit=False, normalization_rule_name="identity", minloglevel=2, **options,
    )  # fmt: skip
    with pytest.raises(RnnlabError, match=named):
        subword_page(trained_run, folder / f"subword-{named}", model.getvalue())
