"""``manualnn report`` and ``train --report``: one self-contained page, checked as text and
in a real browser (Debian's chromium, driven headless by Selenium)."""

import base64
import builtins
import io
import os
import re
import shutil

import numpy as np
import pytest

from browser import chromium, console_errors
from manualnn.cli import main

pytest.importorskip("jinja2", reason="the report needs the report extra (jinja2)")
pytest.importorskip("matplotlib", reason="the report needs the report extra (matplotlib)")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A small real run: digits, 2 epochs, with its report."""
    out = tmp_path_factory.mktemp("report") / "digits"
    assert main(["train", "--dataset", "digits", "--hidden", "32", "--epochs", "2",
                 "--out", str(out), "--quiet", "--threads", "1", "--report"]) == 0
    return out


def images_of(html):
    return re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)


def test_train_report_writes_one_self_contained_page(run):
    html = (run / "report.html").read_text()
    # nothing outside the file: no scripts, no links, no remote pictures or styles
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(?!data:)', html)
    assert "http://" not in html and "https://" not in html
    sources = images_of(html)
    # curves, confusion, tiles and the 16 most confident mistakes (the model is 2 epochs old)
    assert len(sources) == 3 + 16
    from PIL import Image
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as img:
            assert img.format == "PNG" and img.width > 0 and img.height > 0


def test_the_page_holds_the_run_the_classes_and_the_explain_table(run):
    html = (run / "report.html").read_text()
    for text in ("digits: 64-32-10 relu", "2,410", "adamw lr 0.001", "label\">test accuracy",
                 "Learning curves", "Per-class accuracy", "Confusion matrix", "First-layer weights",
                 "Most confident mistakes", "Z_2 = relu(Z_1 W_1 + b_1)",
                 "grad W_1 = Z_1^T D_1", "(128, 64) x (64, 32) -&gt; (128, 32)"):
        assert text in html, text
    rows = re.findall(r"<tr><td>(\d)</td><td class=\"num\">([\d.]+)%</td>", html)
    assert [r[0] for r in rows] == [str(c) for c in range(10)]
    from manualnn.cli.evaluation import outputs_on_test
    out = outputs_on_test(str(run))
    m = out["confusion"].matrix
    assert [float(r[1]) for r in rows] == pytest.approx(100 * np.diag(m) / m.sum(1), abs=0.006)
    assert f"{np.mean(out['pred'] == out['ds'].y_test):.2%}" in html


def test_report_command_rewrites_the_page_and_says_where(run, capsys):
    os.unlink(run / "report.html")
    assert main(["report", str(run)]) == 0
    assert capsys.readouterr().out == f"report: {run / 'report.html'}\n"
    assert (run / "report.html").stat().st_size > 10_000


def test_report_refuses_a_link_a_missing_run_and_a_missing_extra(run, tmp_path, capsys,
                                                                 monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    os.unlink(copy / "report.html")
    os.symlink(tmp_path / "elsewhere.html", copy / "report.html")
    assert main(["report", str(copy)]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere.html").exists()
    assert main(["report", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a run folder" in err
    real_import = builtins.__import__

    def no_jinja(name, *args, **kwargs):
        if name == "jinja2":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_jinja)
    assert main(["report", str(run)]) == 2
    assert capsys.readouterr().err == ("manualnn: error: report: needs Jinja2 and matplotlib: "
                                       "pip install 'manualnn[report]'\n")
    assert main(["train", "--dataset", "digits", "--report", "--out", str(tmp_path / "r")]) == 2
    assert "manualnn[report]" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()   # refused before any training


def test_a_run_without_a_test_split_or_images_gets_a_shorter_page(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    np.savez(tmp_path / "table.npz", X=X, y=(X[:, 0] > 0).astype(int) + (X[:, 1] > 0))
    out = tmp_path / "run"
    assert main(["train", "--dataset", str(tmp_path / "table.npz"), "--hidden", "8",
                 "--epochs", "2", "--out", str(out), "--quiet", "--report"]) == 0
    assert capsys.readouterr().out.endswith(f"report: {out / 'report.html'}\n")
    html = (out / "report.html").read_text()
    assert "has no test split" in html and "no test split, 3 classes" in html
    for absent in ("Per-class accuracy", "Confusion matrix", "First-layer weights",
                   "Most confident mistakes", "label\">test accuracy"):
        assert absent not in html
    assert len(images_of(html)) == 1   # the curves
    assert "Z_2 = relu(Z_1 W_1 + b_1)" in html


def test_the_template_ships_with_the_package():
    """setuptools' package-data names the template (an installed wheel has the page)."""
    import pathlib

    import tomllib
    root = pathlib.Path(__file__).resolve().parents[2]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = data["package-data"]["manualnn.io"]
    folder = root / "src" / "manualnn" / "io"
    assert any((folder / "templates" / "report.html.j2") in folder.glob(p) for p in patterns)


# -- in a real browser -----------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def test_the_report_renders_in_chromium(run, browser):
    from PIL import Image
    browser.get((run / "report.html").as_uri())
    assert browser.title == "manualnn report: digits: 64-32-10 relu"
    sizes = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, "
        "i.naturalHeight]);")
    assert len(sizes) == 3 + 16
    assert all(done and w > 0 and h > 0 for done, w, h in sizes), sizes
    assert console_errors(browser) == []
    shot = np.asarray(Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("L"))
    assert shot.shape[0] > 100 and shot.std() > 10   # not one flat colour
    assert (shot < 100).mean() > 0.005               # text and pictures: dark pixels


def test_the_browser_sees_a_console_error(browser, tmp_path):
    """The console check can fail: a page whose picture does not decode is reported."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><img src="missing.png"></body></html>')
    browser.get(page.as_uri())
    assert browser.execute_script("return document.images[0].naturalWidth;") == 0
    assert any(e["level"] == "SEVERE" for e in browser.get_log("browser"))
