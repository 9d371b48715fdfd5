"""``evaluate`` and ``report`` on a run of 12,000 classes under ``--max-memory 100M``.

A k x k confusion matrix is 1.15 GB of counts at k = 12,000: the text once ran to 720 MB
and its picture failed allocating 4.29 GiB.  The run is built from the library's own
pieces (a real model folder and config.json, untrained: its outputs are what they are),
since training 12,000 classes is not what these tests are about.
"""

import pathlib
import re
import tracemalloc

import numpy as np
import pytest

from manualnn.cli.config import DEFAULTS, RunConfig
from manualnn.cli.confusion import PAIRS, TEXT_UP_TO, Confusion
from manualnn.cli.evaluation import evaluate_run
from manualnn.core.network import MLP
from manualnn.io.rundir import RunDir
from manualnn.train.loop import TrainState

K, TEST_ROWS, LIMIT = 12_000, 300, 100 << 20


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """A run folder of a 2-12000 network over a dataset of 12,000 classes."""
    base = tmp_path_factory.mktemp("many")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(K, 2)), np.arange(K)
    np.savez(base / "many.npz", X=X, y=y, X_test=X[:TEST_ROWS], y_test=y[:TEST_ROWS])
    config = RunConfig.from_dict({"dataset": str(base / "many.npz"), "layers": [2, K],
                                  "preprocess": "none", "val_fraction": 0.0,
                                  "out": str(base / "run")})
    folder = RunDir(config.out, config_keys=DEFAULTS)
    try:
        folder.write_config(config.to_dict())
        meta = {"classes": list(range(K)), "labels": list(range(K)),
                "dataset": config.dataset, "preprocess": "none"}
        folder.save_model(MLP([2, K], rng=0), TrainState(), meta, {})
    finally:
        folder.close()
    return config.out


def peak(call):
    """(the result of ``call()``, the peak bytes that Python and NumPy allocated in it)."""
    tracemalloc.start()
    try:
        return call(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_evaluate_fits_the_limit_and_prints_the_most_confused_pairs(many):
    text, used = peak(lambda: evaluate_run(many, max_memory="100M", plot=True))
    assert used < LIMIT, f"{used / 2**20:.0f} MiB"
    lines = text.splitlines()
    assert len(lines) < K + 100 and max(map(len, lines)) < 200
    assert "most confused pairs (12000 classes" in text
    assert len(lines) == 4 + K + 1 + 2 + PAIRS + 1
    assert lines[-1].startswith("(no confusion matrix picture: 12000 classes")


def test_report_fits_the_limit_and_shows_pairs_instead_of_a_picture(many):
    pytest.importorskip("jinja2", reason="the report needs the report extra (jinja2)")
    pytest.importorskip("matplotlib", reason="the report needs the report extra")
    from manualnn.cli.report import write_report
    from manualnn.io.report import require
    require()   # the interpreter's modules (matplotlib's) are not the data's memory
    path, used = peak(lambda: write_report(many, max_memory="100M"))
    assert used < LIMIT, f"{used / 2**20:.0f} MiB"
    with open(path, encoding="utf-8") as f:
        html = f.read()
    assert "are more than one picture shows" in html
    assert len(re.findall(r"<tr><td>\d+</td><td>\d+</td><td class=\"num\">1</td>",
                          html)) == PAIRS
    assert html.count("<tr><td>") == K + PAIRS   # every class's accuracy, the pairs


def test_the_pairs_are_the_largest_off_diagonal_counts_of_the_matrix():
    rng = np.random.default_rng(1)
    k = 7
    y, p = rng.integers(0, k, 500), rng.integers(0, k, 500)
    c = Confusion(y, p, k)
    M = c.matrix.copy()
    assert (c.rows == M.sum(1)).all() and (c.correct == np.diag(M)).all()
    np.fill_diagonal(M, 0)
    expected = sorted((-M[i, j], i, j) for i in range(k) for j in range(k) if M[i, j])
    assert c.most_confused(100) == [(i, j, -n) for n, i, j in expected]


def test_the_worked_example_of_the_documentation_is_what_the_code_prints():
    """docs/many_classes.md shows evaluate's pairs for 100 classes: rebuilt from its own
    numbers, Confusion.text gives its lines, in its order."""
    root = pathlib.Path(__file__).resolve().parents[2]
    text = (root / "docs" / "many_classes.md").read_text()
    header = re.search(r"^most confused pairs \((\d+) classes are more than a (\d+)-column "
                       r"matrix shows; (\d+) of (\d+) pairs\)$", text, re.MULTILINE)
    assert header and header[2] == str(TEXT_UP_TO) and header[3] == str(PAIRS)
    k = int(header[1])
    lines = text[header.end() + 1:].split("\n```")[0].splitlines()
    pairs = [line.split() for line in lines[1:]]
    classes = [f"{c:02d}" for c in range(k)]
    code = {name: i for i, name in enumerate(classes)}
    y_true = [code[t] for t, _, n in pairs for _ in range(int(n))]
    y_pred = [code[p] for _, p, n in pairs for _ in range(int(n))]
    assert Confusion(y_true, y_pred, k).text(classes)[1:] == lines
