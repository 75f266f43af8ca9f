"""Bag-of-words baselines: scikit-learn as the oracle, and run folders like the RNNs'."""

import json

import numpy as np
import pytest
from helpers import tiny_config

from rnnlab import runs
from rnnlab.baselines import BOW_LOGREG, TFIDF_LOGREG, NgramLogReg, new
from rnnlab.cli import main
from rnnlab.evaluate import evaluate, evaluate_texts
from rnnlab.train import train


def sequences(seed=0, n=60, length=12, vocabulary=30):
    """Padded ids ('pre', with the start id 1 and padding 0) and labels."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, length), dtype=np.int32)
    for row in range(n):
        k = rng.integers(1, length)
        ids[row, -k - 1 :] = [1, *rng.integers(2, vocabulary, size=k)]
    return ids, (ids == 7).any(axis=1).astype(int) | (rng.random(n) < 0.2)


def sklearn_tokens(ids: np.ndarray) -> list[list]:
    """The n-grams scikit-learn should count: the words (id >= 2) and their neighbour pairs."""
    docs = []
    for row in ids:
        words = [int(i) for i in row if i >= 2]
        docs.append(
            [(w,) for w in words] + [(a, b) for a, b in zip(words, words[1:], strict=False)]
        )
    return docs


def test_tfidf_features_equal_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    ids, labels = sequences()
    ours = NgramLogReg("t", ngrams=2, tfidf=True, min_df=2).fit(ids, labels)
    oracle = TfidfVectorizer(analyzer=lambda doc: doc, sublinear_tf=True, min_df=2)
    expected = oracle.fit_transform(sklearn_tokens(ids)).toarray()
    # map our n-grams ("a b") to scikit-learn's columns
    names = [tuple(int(i) for i in term.split()) for term in ours.vocabulary]
    order = [oracle.vocabulary_[name] for name in names]
    assert sorted(order) == list(range(len(oracle.vocabulary_)))  # the same n-grams, min_df too
    np.testing.assert_allclose(ours.features(ids).toarray(), expected[:, order], atol=1e-12)
    np.testing.assert_allclose(ours.idf, oracle.idf_[order])


def test_predictions_equal_scikit_learn_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    ids, labels = sequences(seed=1)
    ours = new(BOW_LOGREG).fit(ids, labels)
    oracle = LogisticRegression(max_iter=2000).fit(ours.features(ids), labels)
    new_ids, _ = sequences(seed=2)
    np.testing.assert_allclose(
        ours.predict(new_ids)[:, 0],
        oracle.predict_proba(ours.features(new_ids))[:, 1],
        rtol=1e-6,
    )


def test_a_saved_baseline_predicts_the_same(tmp_path):
    ids, labels = sequences(seed=3)
    model = new(TFIDF_LOGREG).fit(ids, labels)
    model.save(tmp_path / "model.npz")
    loaded = NgramLogReg.load(tmp_path / "model.npz", TFIDF_LOGREG)
    np.testing.assert_array_equal(loaded.predict(ids), model.predict(ids))
    with np.load(tmp_path / "model.npz", allow_pickle=False) as f:  # plain arrays, no pickle
        assert set(f.files) == {"vocabulary", "idf", "weights", "settings", "bias"}


def test_a_baseline_saved_by_rnnlab_0_1_loads_and_predicts_the_same(tmp_path):
    """rnnlab 0.1 saved each n-gram as an integer code (a pair (a, b) as a * 2**31 + b)."""
    ids, labels = sequences(seed=4)
    model = new(TFIDF_LOGREG).fit(ids, labels)
    pairs = [[int(i) for i in term.split()] for term in model.vocabulary]
    codes = np.array([p[0] * 2**31 + p[1] if len(p) == 2 else p[0] for p in pairs], np.int64)
    np.savez(
        tmp_path / "old.npz",
        codes=codes,
        idf=model.idf,
        weights=model.weights,
        settings=np.array([2, 1, 2]),
        bias=np.array(model.bias),
    )
    loaded = NgramLogReg.load(tmp_path / "old.npz", TFIDF_LOGREG)
    assert loaded.ngrams == 2 and loaded.tfidf and loaded.min_df == 2
    np.testing.assert_array_equal(loaded.predict(ids), model.predict(ids))


def test_three_grams_count_words_pairs_and_triples_of_neighbours():
    ids = np.array([[0, 1, 5, 6, 7], [0, 0, 1, 5, 6]])
    model = NgramLogReg("t", ngrams=3).fit(ids, np.array([1, 0]))
    assert list(model.vocabulary) == ["5", "5 6", "5 6 7", "6", "6 7", "7"]
    assert model.features(ids).toarray().tolist() == [[1] * 6, [1, 1, 0, 1, 0, 0]]
    assert "presence of token 1-3-grams" in model.summary()


@pytest.fixture(scope="module")
def baseline_runs(tmp_path_factory):
    from helpers import aclimdb_files, write_tarball

    folder = tmp_path_factory.mktemp("baselines")
    data = write_tarball(folder / "tiny.tar.gz", aclimdb_files())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_HOME", str(folder / "home"))
        return {
            name: train(tiny_config(data, model=name), folder / name, verbose=0).path
            for name in (BOW_LOGREG, TFIDF_LOGREG)
        }, data


def test_baselines_are_run_folders(baseline_runs, capsys):
    folders, data = baseline_runs
    for name, folder in folders.items():
        assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(
            [runs.CONFIG, runs.SUMMARY, runs.METRICS, runs.PREPROCESSING, runs.BASELINE_MODEL,
             runs.FINISHED]
        )  # fmt: skip
        metrics = json.loads((folder / runs.METRICS).read_text())
        assert metrics["model"] == name and 0 <= metrics["test_accuracy"] <= 1
        assert evaluate(folder).test_accuracy == pytest.approx(metrics["test_accuracy"])
        assert main(["predict", str(folder), "a wonderful great film", "awful boring"]) == 0
        rows = capsys.readouterr().out.strip().splitlines()[1:]
        assert [row.split()[1] for row in rows] == ["positive", "negative"]
    assert main(["predict", str(folders[BOW_LOGREG]), "--explain", "great"]) == 2
    assert "reads no order" in capsys.readouterr().err
    assert main(["page", str(folders[BOW_LOGREG])]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_model_uses_its_own_defaults_unless_given():
    from rnnlab.config import TrainConfig

    assert TrainConfig.resolve(model=TFIDF_LOGREG).num_words == 100_000
    assert TrainConfig.resolve(model=TFIDF_LOGREG, num_words=800).num_words == 800
    assert TrainConfig.resolve(model=BOW_LOGREG).num_words == 500


def test_evaluate_on_your_own_labelled_texts(baseline_runs):
    folders, _ = baseline_runs
    labelled = [("a wonderful great film", 1), ("awful boring worst", 0), ("zzz qqq", 1)]
    result = evaluate_texts(folders[BOW_LOGREG], labelled, "mine")
    assert result.reviews == 3 and sum(map(sum, result.confusion)) == 3
    assert result.confusion[0][0] == 1 and result.confusion[1][1] >= 1
    assert result.words == 9 and result.unseen_words == 2  # zzz and qqq were never seen
    assert result.oov_share == pytest.approx(result.oov_words / 9)


def test_evaluate_command_on_a_labelled_file(baseline_runs, tmp_path, capsys):
    folders, _ = baseline_runs
    run = str(folders[TFIDF_LOGREG])
    mine = tmp_path / "mine.csv"
    mine.write_text('text,label\n"a wonderful great film",pos\n"awful boring",negative\ngreat,1\n')
    assert main(["evaluate", run, "--file", str(mine), "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["reviews"] == 3 and sum(map(sum, record["confusion"])) == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nx,good\ny,0\nz,bad\n")
    assert main(["evaluate", run, "--file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv line 2: label 'good'" in err and len(err.strip().splitlines()) == 1
    good, bad_reviews = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("a wonderful film\nloved it, great\n")
    bad_reviews.write_text("awful and boring\n")
    argv = ["evaluate", run, "--positives", str(good), "--negatives", str(bad_reviews)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "(3 reviews)" in printed and "words the model cannot see" in printed
    assert main([*argv[:4], "--data", "x"]) == 2  # --data is the data set, not your reviews
    assert main(argv[:4]) == 2  # --positives needs --negatives
    assert "go together" in capsys.readouterr().err
