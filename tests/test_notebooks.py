"""The chapter's notebooks (notebooks/*.ipynb) run top to bottom on rnnlab's API.

Each notebook is executed by a real Jupyter kernel (nbclient + ipykernel, the
kernel being this Python), on the notebooks' small setting: a tiny aclImdb
tarball made here (RNNLAB_DATA) and 1 epoch per model (RNNLAB_NOTEBOOK_EPOCHS).
The numbers they print then mean nothing, but a renamed function, a changed
signature or a missing file breaks the build.  Each runs in a temporary copy
of the notebooks' folder, so its run folders never land in the repository.
One cache folder (RNNLAB_HOME) and one JAX compilation cache serve them all,
so the second language of a chapter reuses the first one's compiled programs.
The NSMC notebook (in Korean only) reads a tiny NSMC folder made here (RNNLAB_NSMC).

The Korean and English notebooks of a chapter share their code cells, cell for
cell; this is checked without a kernel, so the two cannot drift apart.
"""

import importlib
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from helpers import aclimdb_files, write_nsmc, write_tarball

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CHAPTERS = ("9-2-simple-rnn", "9-3-lstm-gru")
LANGUAGES = ("ko", "en")
HANGUL = re.compile("[\uac00-\ud7a3]")
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the colours of IPython's tracebacks
CELL_TIMEOUT = 600  # seconds; a cell that trains runs for seconds on the tiny data

# What each notebook's outputs must show, besides running without an error.
EXPECTED = {
    "9-2-simple-rnn": {
        "texts": [
            "4,081",  # model A: Keras' summary, and the formula
            "500×8 + 8×8 + 8 = 4,072",
            "8,209",  # model B
            "16×8 + 8×8 + 8 = 200",
            "True True",  # load_and_split equals the steps taken one by one
            "model A: test accuracy",
            "model B: test accuracy",
            "best.keras",  # the run folder's files
            "P(positive)",  # predict and explain
        ],
        "images": 4,  # length histogram, two loss plots, the explanation
    },
    "9-2-nsmc": {
        "texts": [
            "words (eojeol):",  # the two tokenizers' vocabularies
            "characters read as [OOV]:",
            "8,209",  # model B
            "16×8 + 8×8 + 8 = 200",
            "True True",  # load_and_split equals the steps taken one by one
            "model B: test accuracy",
            "best.keras",
            "P(positive)",  # predict and explain
            "page.html",
        ],
        "images": 3,  # length histogram, the loss plot, the explanation
    },
    "9-3-lstm-gru": {
        "texts": [
            "8,809",  # lstm, lstm-dropout
            "9,353",  # lstm-stacked
            "8,633",  # gru
            "3 × (16×8 + 8×8 + 2×8) = 624",
            "lstm-dropout",
            "bow-logreg: test accuracy",
        ],
        "images": 5,  # four loss plots and the overlaid validation losses
    },
}


def require(module: str):
    """`module`, or a skip saying how to install it (a failure under CI=true)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        message = f"{module} is not installed: pip install -e '.[test]'"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def sources(notebook: dict, kind: str) -> list[str]:
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == kind]


@pytest.fixture(scope="session")
def notebook_env(tmp_path_factory) -> dict:
    """The environment of every notebook kernel: tiny data, 1 epoch, shared caches, and a
    `python3` kernel spec that starts this Python."""
    root = tmp_path_factory.mktemp("notebooks-env")
    spec = root / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (rnnlab tests)",
                "language": "python",
            }
        )
    )
    return {
        "RNNLAB_DATA": str(write_tarball(root / "tiny_aclImdb.tar.gz", aclimdb_files())),
        "RNNLAB_NSMC": str(write_nsmc(root / "tiny_nsmc", n_per_label=40)),
        "RNNLAB_HOME": str(root / "rnnlab-home"),
        "RNNLAB_NOTEBOOK_EPOCHS": "1",
        "KERAS_BACKEND": "jax",
        # Keep every compiled program, so the second notebook of a chapter skips compiling.
        "JAX_COMPILATION_CACHE_DIR": str(root / "jax-cache"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
        "JUPYTER_PATH": str(root / "jupyter"),  # its kernels/python3 comes first
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }


def execute(name: str, env: dict, monkeypatch, tmp_path) -> dict:
    """Run notebooks/NAME in a copy of the notebooks' folder; the executed notebook."""
    nbformat = require("nbformat")
    nbclient = require("nbclient")
    require("ipykernel")
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # the kernel inherits this process's environment
    workdir = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, workdir, ignore=shutil.ignore_patterns("runs", ".*"))
    notebook = nbformat.read(workdir / name, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(workdir)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{name} failed in a cell:\n{ANSI.sub('', str(error))}")
    assert (workdir / "runs").is_dir()  # its run folders went to the copy
    return json.loads(nbformat.writes(notebook))


def output_text(notebook: dict) -> str:
    parts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            parts.append("".join(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def images(notebook: dict) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
    )


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_notebook_runs_on_the_small_setting(chapter, lang, notebook_env, monkeypatch, tmp_path):
    executed = execute(f"{chapter}.{lang}.ipynb", notebook_env, monkeypatch, tmp_path)
    text = output_text(executed)
    missing = [expected for expected in EXPECTED[chapter]["texts"] if expected not in text]
    assert not missing, f"the outputs do not show {missing}"
    assert images(executed) >= EXPECTED[chapter]["images"]
    assert "epochs: 1" in text  # it read the small setting


def test_the_nsmc_notebook_runs_on_a_tiny_nsmc(notebook_env, monkeypatch, tmp_path):
    executed = execute("9-2-nsmc.ko.ipynb", notebook_env, monkeypatch, tmp_path)
    text = output_text(executed)
    missing = [expected for expected in EXPECTED["9-2-nsmc"]["texts"] if expected not in text]
    assert not missing, f"the outputs do not show {missing}"
    assert images(executed) >= EXPECTED["9-2-nsmc"]["images"]
    assert f"data: {notebook_env['RNNLAB_NSMC']}, tokenizer: char, epochs: 1" in text
    assert "정말 재미있고" in text  # the Korean sentences were read
    stored = read(NOTEBOOKS / "9-2-nsmc.ko.ipynb")
    assert all(HANGUL.search(markdown) for markdown in sources(stored, "markdown"))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_korean_notebook_is_the_english_one_in_korean(chapter):
    korean = read(NOTEBOOKS / f"{chapter}.ko.ipynb")
    english = read(NOTEBOOKS / f"{chapter}.en.ipynb")
    assert sources(korean, "code") == sources(english, "code")
    assert [c["cell_type"] for c in korean["cells"]] == [c["cell_type"] for c in english["cells"]]
    untranslated = [text[:60] for text in sources(korean, "markdown") if not HANGUL.search(text)]
    assert not untranslated, f"markdown cells without Korean: {untranslated}"
    assert korean["metadata"]["kernelspec"]["name"] == "python3"


STORED = [f"{chapter}.{lang}.ipynb" for chapter in CHAPTERS for lang in LANGUAGES]


@pytest.mark.parametrize("name", [*STORED, "9-2-nsmc.ko.ipynb"])
def test_the_notebook_is_stored_without_outputs(name):
    notebook = read(NOTEBOOKS / name)
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    first = "".join(code[0]["source"])
    assert 'os.environ.get("RNNLAB_NOTEBOOK_EPOCHS", 100)' in first  # the book's 100 by default
