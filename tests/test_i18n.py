"""Reports in Korean (`--lang ko`): the catalogue, the language choice, the numbers, the fonts.

One tiny reproduction (two models, two seeds, one epoch) is trained once for the module,
and its report written in English and in Korean with the clocks frozen, so that every
number of the two reports must be equal, the times too.
"""

import re
import string
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import aclimdb_files, markdown_tables, write_tarball

from rnnlab import i18n, runs
from rnnlab.cli import main

SOURCE = Path(i18n.__file__).parent
HANGUL = re.compile(r"[\uac00-\ud7a3]")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
TRANSLATED_CALL = re.compile(r"\b(?:_|N_|gettext)\(\s*[rbuf]*[\"']")


def numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


def headings(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("#")]


def read_catalogue(lang="ko"):
    from babel.messages.pofile import read_po

    with i18n.catalogue(lang).open("rb") as po:
        return read_po(po)


def code_messages() -> dict[str, list[str]]:
    """Every text of the package marked for translation: {message: [where]}."""
    from babel.messages.extract import extract_from_file

    found: dict[str, list[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        for line, message, _comments, _context in extract_from_file("python", path):
            found.setdefault(message, []).append(f"{path.relative_to(SOURCE)}:{line}")
    return found


@pytest.fixture(scope="module")
def isolated(tmp_path_factory):
    """The module's own cache and environment: no data, no language chosen."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RNNLAB_HOME", str(tmp_path_factory.mktemp("home")))
        for name in ("RNNLAB_DATA", "RNNLAB_LANG"):
            patch.delenv(name, raising=False)
        yield tmp_path_factory.mktemp("i18n")


@pytest.fixture(scope="module")
def tarball(isolated):
    return write_tarball(isolated / "tiny_aclImdb.tar.gz", aclimdb_files())


@pytest.fixture(scope="module")
def reproduced(isolated, tarball):
    """report.md (.en, .ko) and report.html (.en_html, .ko_html) of one reproduction
    (2 models x 2 seeds), and its folder (.out)."""
    out = isolated / "repro"
    argv = ["reproduce", "--data", str(tarball), "--epochs", "1", "--seeds", "2", "--quiet"]
    reports = {}
    with pytest.MonkeyPatch.context() as patch:
        # Frozen clocks and memory: the times of both reports are equal too.  Only the main
        # process' measurements (the trainings ran once, in their workers).
        patch.setattr(time, "perf_counter", lambda: 1000.0)
        patch.setattr(runs, "peak_memory_mb", lambda: 123.0)
        for lang, option in (("en", []), ("ko", ["--lang", "ko"])):  # English: the default
            assert main([*argv, "--out", str(out), *option]) == 0
            reports[lang] = (out / "report.md").read_text(encoding="utf-8")
            reports[f"{lang}_html"] = (out / "report.html").read_text(encoding="utf-8")
    return SimpleNamespace(out=out, **reports)


@pytest.fixture(scope="module")
def two_runs(reproduced):
    return sorted(str(p) for p in (reproduced.out / "trials").glob("*seed42*"))


# --- the catalogue ---------------------------------------------------------------------------


def test_every_message_of_the_code_has_a_korean_text():
    catalogue = read_catalogue()
    ids = {message.id for message in catalogue if message.id}
    used = code_messages()
    assert not (missing := sorted(set(used) - ids)), f"not in the catalogue: {missing}"
    assert not (unused := sorted(ids - set(used))), f"not used by the code: {unused}"
    for message in catalogue:
        if not message.id:
            continue
        assert message.string, f"no Korean text for {message.id!r}"
        assert not message.fuzzy, f"fuzzy (check, then remove the flag): {message.id!r}"
        fields = {name for _, name, _, _ in string.Formatter().parse(message.id) if name}
        given = {name for _, name, _, _ in string.Formatter().parse(message.string) if name}
        assert given == fields, f"{message.id!r}: placeholders {given} instead of {fields}"
        words = "".join(text for text, *_ in string.Formatter().parse(message.string))
        if re.search("[A-Za-z]", words):  # a text with words in it, not only placeholders
            assert HANGUL.search(words), f"not Korean: {message.string!r}"


def test_the_extractor_sees_every_marked_text():
    """A _() the extractor cannot see (inside an f-string) would be English in every report."""
    in_code = sum(
        len(TRANSLATED_CALL.findall(path.read_text(encoding="utf-8")))
        for path in SOURCE.rglob("*.py")
    )
    extracted = sum(len(where) for where in code_messages().values())
    assert in_code == extracted


def test_the_catalogue_compiles_and_translates():
    ko = i18n.translation("ko")
    assert ko.gettext("4. Training") == "4. 훈련"
    assert i18n.translation("en").gettext("4. Training") == "4. Training"


# --- which language ---------------------------------------------------------------------------


def test_language_comes_from_the_option_then_the_environment(monkeypatch):
    monkeypatch.delenv("RNNLAB_LANG", raising=False)
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    monkeypatch.setenv("LC_ALL", "ko_KR.UTF-8")
    assert i18n.language() == "en"  # the system locale does not choose
    monkeypatch.setenv("RNNLAB_LANG", "ko")
    assert i18n.language() == "ko"
    assert i18n.language("en") == "en"  # --lang first


def test_rnnlab_lang_switches_and_the_system_locale_does_not(two_runs, isolated, monkeypatch):
    monkeypatch.setenv("RNNLAB_HOME", str(isolated / "home-env"))
    monkeypatch.delenv("RNNLAB_LANG", raising=False)
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    monkeypatch.setenv("LC_ALL", "ko_KR.UTF-8")
    assert main(["compare", *two_runs, "--out", str(isolated / "locale")]) == 0
    assert not HANGUL.search((isolated / "locale" / "comparison.md").read_text(encoding="utf-8"))

    monkeypatch.setenv("RNNLAB_LANG", "ko")
    assert main(["compare", *two_runs, "--out", str(isolated / "env")]) == 0
    markdown = (isolated / "env" / "comparison.md").read_text(encoding="utf-8")
    assert all(HANGUL.search(line) for line in headings(markdown))
    assert '<html lang="ko">' in (isolated / "env" / "comparison.html").read_text(encoding="utf-8")
    # comparison.csv keeps its English columns, for scripts
    assert (isolated / "env" / "comparison.csv").read_text().startswith("run,model,engine,")

    assert main(["compare", *two_runs, "--out", str(isolated / "opt"), "--lang", "en"]) == 0
    assert not HANGUL.search((isolated / "opt" / "comparison.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize("command", ["compare", "reproduce", "sweep"])
def test_an_unknown_language_is_a_one_line_error(command, tarball, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("RNNLAB_LANG", raising=False)
    argv = {
        "compare": ["compare", str(tmp_path), "--out", str(tmp_path / "out")],
        "reproduce": ["reproduce", "--data", str(tarball), "--out", str(tmp_path / "out")],
        "sweep": ["sweep", "--data", str(tarball), "--out", str(tmp_path / "out")],
    }[command]
    assert main([*argv, "--lang", "fr"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'fr'" in err[0] and "en (English)" in err[0] and "ko (" in err[0]
    assert not (tmp_path / "out").exists()  # refused before anything ran

    monkeypatch.setenv("RNNLAB_LANG", "klingon")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "RNNLAB_LANG" in err[0] and "ko (" in err[0]


# --- the reports ------------------------------------------------------------------------------


def test_korean_reproduce_report_has_korean_headings(reproduced):
    titles = headings(reproduced.ko)
    assert len(titles) >= 9  # title, 7 sections, the statistics' subsections
    assert all(HANGUL.search(line) for line in titles), titles
    assert titles[1] == "## 1. 데이터"
    assert '<html lang="ko">' in reproduced.ko_html and '<html lang="en">' in reproduced.en_html
    for table in markdown_tables(reproduced.ko):
        assert all(HANGUL.search(h) or h in ("", "p") for h in table[0] if h), table[0]
    # no English sentence of the catalogue is left in the Korean report
    for message in read_catalogue():
        if message.id and " " in message.id.strip() and "{" not in message.id:
            assert message.id not in reproduced.ko, message.id
    # the per-model curves are drawn again, in Korean, in the reproduction's folder
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", reproduced.ko)
    assert len(images) == 6 and all((reproduced.out / image).is_file() for image in images)
    assert sum(image.startswith("curves/") for image in images) == 2


def test_korean_and_english_reports_hold_the_same_numbers(reproduced):
    en, ko = reproduced.en, reproduced.ko
    assert len(numbers(en)) > 100
    assert Counter(numbers(ko)) == Counter(numbers(en))
    en_tables, ko_tables = markdown_tables(en), markdown_tables(ko)
    assert len(ko_tables) == len(en_tables) == 5
    for en_table, ko_table in zip(en_tables, ko_tables, strict=True):
        assert len(ko_table[0]) == len(en_table[0])
        # cell by cell (Korean may put a cell's numbers in another order: "32개 중 0개")
        en_cells = [sorted(numbers(cell)) for row in en_table[1:] for cell in row]
        assert [sorted(numbers(cell)) for row in ko_table[1:] for cell in row] == en_cells


def test_korean_compare_report_holds_the_same_numbers(two_runs, isolated):
    reports = {}
    for lang in ("en", "ko"):
        assert main(["compare", *two_runs, "--out", str(isolated / lang), "--lang", lang]) == 0
        reports[lang] = (isolated / lang / "comparison.md").read_text(encoding="utf-8")
    assert all(HANGUL.search(line) for line in headings(reports["ko"]))
    (table,) = markdown_tables(reports["ko"])
    assert table[0][:4] == ["실행", "모델", "엔진", "매개변수 개수"]
    assert Counter(numbers(reports["ko"])) == Counter(numbers(reports["en"]))
    assert (isolated / "ko" / "comparison.csv").read_text() == (
        isolated / "en" / "comparison.csv"
    ).read_text()


def test_compare_notes_in_korean(two_runs):
    from rnnlab.compare import ComparedRun, difference, note

    entry = ComparedRun("b", runs.read(two_runs[1]), differs=["maxlen"], against="a")
    assert difference(entry) == "different maxlen from a"
    assert note(entry, "ko") == "maxlen 설정이 a 실행과 다름"


def test_korean_sweep_summary_holds_the_same_numbers(tmp_path):
    from rnnlab.baselines import BaselineResult
    from rnnlab.sweep.study import Outcome
    from rnnlab.sweep.summary import write_sweep_summary

    def outcome(model, seed, accuracy):
        history = {"val_loss": [0.69, 0.6 - accuracy / 10, 0.55]}
        metrics = {"best_val_accuracy": accuracy, "test_accuracy": accuracy - 0.01,
                   "best_epoch": 2, "total_seconds": 12.5}  # fmt: skip
        results = {"metrics": metrics, "history": history}
        where = {"dir": f"trials/{model}-seed{seed}"}
        return Outcome({"model": model, "seed": seed, "units": 8}, "k", "complete", results,
                       None, 1, where)  # fmt: skip

    outcomes = [outcome(m, s, a) for m, a in (("lstm", 0.7), ("gru", 0.55)) for s in (1, 2, 3)]
    baseline = BaselineResult("bow-logreg", 0.74, 0.73, 0.4)
    reports = {}
    for lang in ("en", "ko"):
        title = i18n.translation(lang).gettext("rnnlab sweep {name}: {n} trainings")
        title = title.format(name="grid-1", n=len(outcomes))
        write_sweep_summary(tmp_path / lang, title, outcomes, baseline, "data.tar.gz", lang)
        reports[lang] = (tmp_path / lang / "summary.md").read_text(encoding="utf-8")
    assert all(HANGUL.search(line) for line in headings(reports["ko"]))
    assert "정체된 시행" in reports["ko"] and "bow-logreg (기준 모델)" in reports["ko"]
    assert Counter(numbers(reports["ko"])) == Counter(numbers(reports["en"]))
    assert (tmp_path / "ko" / "summary.csv").read_text() == (
        tmp_path / "en" / "summary.csv"
    ).read_text()


# --- the fonts of the plots -------------------------------------------------------------------


@pytest.fixture
def drawn(monkeypatch):
    """The texts of every figure drawn, instead of writing it."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from rnnlab.report import plots

    figures = []

    def record(fig, path):
        figures.append({t.get_text() for t in fig.findobj(Text) if t.get_text()})
        plt.close(fig)

    monkeypatch.setattr(plots, "save_figure", record)
    plots.font_for.cache_clear()
    yield figures
    plots.font_for.cache_clear()


def test_plots_in_korean_when_a_font_has_hangul(drawn):
    from rnnlab.report import plots

    if plots.find_hangul_font() is None:
        pytest.skip("no font with Hangul here (Debian: apt-get install fonts-noto-cjk)")
    history = {"loss": [0.7, 0.6], "accuracy": [0.5, 0.6]}
    history |= {"val_loss": [0.69, 0.65], "val_accuracy": [0.5, 0.55]}
    plots.plot_curves(history, "unused.png", "gru", lang="ko")
    plots.plot_curves(history, "unused.png", "gru")
    assert {"에포크", "gru: 손실", "훈련", "검증"} <= drawn[0]
    assert {"epoch", "gru: loss", "train", "validation"} <= drawn[1]


def test_without_a_hangul_font_plots_fall_back_to_english_once(drawn, monkeypatch, capsys):
    from rnnlab.report import plots

    monkeypatch.setattr(plots, "find_hangul_font", lambda: None)
    for _ in range(2):
        plots.plot_overlay({"gru": {"val_loss": [0.7, 0.6]}}, "val_loss", "unused.png", lang="ko")
    plots.plot_length_histogram([10, 20, 120], 100, "unused.png", lang="ko")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Hangul" in err[0] and "fonts-noto-cjk" in err[0]
    assert all(not any(HANGUL.search(text) for text in texts) for texts in drawn)
    assert "val_loss per epoch" in drawn[0] and "epoch" in drawn[0]
