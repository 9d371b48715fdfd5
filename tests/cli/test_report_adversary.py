"""``manualnn report`` on a run folder edited by an adversary (issue 25, items 2 and 8):
one line naming the file, or a page written without a line of noise on the terminal."""

import csv
import json
import shutil
import warnings

import numpy as np
import pytest

from cli_helpers import one_line
from manualnn.cli import main

pytest.importorskip("jinja2", reason="the report needs the report extra (jinja2)")
pytest.importorskip("matplotlib", reason="the report needs the report extra (matplotlib)")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A real run of two epochs on three classes named by an adversary."""
    base = tmp_path_factory.mktemp("adversary")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 4))
    names = np.array(["a" * 5000, "b\x01c", "d\x02\x1b[31m"])
    y = names[rng.integers(0, 3, 90)]
    np.savez(base / "names.npz", X=X[:60], y=y[:60], X_test=X[60:], y_test=y[60:])
    assert main(["train", "--dataset", str(base / "names.npz"), "--hidden", "4",
                 "--epochs", "2", "--out", str(base / "run"), "--quiet",
                 "--threads", "1"]) == 0
    return base / "run"


@pytest.fixture
def run(trained, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    return copy


def edit_history(run, column: str, values) -> None:
    path = run / "history.csv"
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    at = rows[0].index(column)
    for row, value in zip(rows[1:], values):
        row[at] = value
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def report_quietly(run, capsys) -> tuple[int, str]:
    """(exit status, stderr) of ``manualnn report RUN``, with every warning turned into
    stderr text as a terminal would show it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["report", str(run)])
    err = capsys.readouterr().err
    return code, err + "".join(f"{w.category.__name__}: {w.message}\n" for w in caught)


@pytest.mark.parametrize("epoch", ["inf", "1" * 400, "1.5", "0", "2"])
def test_an_epoch_that_is_no_count_is_refused_naming_the_history(run, capsys, epoch):
    edit_history(run, "epoch", [epoch])
    assert main(["report", str(run)]) == 2
    assert "history.csv" in one_line(capsys)


def test_a_history_that_is_not_utf8_is_refused_naming_it(run, capsys):
    (run / "history.csv").write_bytes(b"epoch,lr\n\xff\xfe,1\n")
    assert main(["report", str(run)]) == 2
    line = one_line(capsys)
    assert "history.csv" in line and "UTF-8" in line


def test_an_option_of_config_json_beyond_any_int_is_refused_naming_the_file(run, capsys):
    text = (run / "config.json").read_text()
    config = json.loads(text)
    text = text.replace(f'"batch_size": {config["batch_size"]}', '"batch_size": 1e400')
    (run / "config.json").write_text(text)
    assert main(["report", str(run)]) == 2
    line = one_line(capsys)
    assert "config.json" in line and "batch_size" in line


@pytest.mark.parametrize("values", [["1e308", "-1e308"], ["1e308", "2.5"]])
def test_extreme_losses_give_a_page_without_warnings(run, capsys, values):
    edit_history(run, "train_loss", values)
    code, err = report_quietly(run, capsys)
    assert code == 0 and err == "", err
    assert "Learning curves" in (run / "report.html").read_text()


def test_long_names_and_control_characters_give_a_page_without_warnings(run, capsys):
    code, err = report_quietly(run, capsys)
    assert code == 0 and err == "", err
    html = (run / "report.html").read_text()
    assert not any(c in html for c in "\x01\x02\x1b")
    assert "b\ufffdc" in html and "a" * 5000 in html   # in the tables, whole
