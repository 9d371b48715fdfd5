"""The run's pictures: any class names, any number of classes, a bounded picture."""

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("matplotlib", reason="matplotlib is not installed (manualnn[plot])")

from manualnn.io.plots import MAX_INCHES, plot_confusion


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24])


@settings(max_examples=15, deadline=None)
@given(st.lists(st.text(alphabet="$\\^_{}ab c", min_size=1, max_size=8), min_size=2,
                max_size=4))
def test_class_names_are_drawn_as_written_never_parsed_as_tex(tmp_path_factory, names):
    """A name like '$\\frac$' once made matplotlib's TeX parser raise."""
    path = tmp_path_factory.mktemp("p") / "c.png"
    k = len(names)
    assert plot_confusion(np.eye(k, dtype=int) * 3, names, path) == str(path)


@pytest.mark.parametrize("k", [3, 45, 200])
def test_the_picture_stays_bounded_as_the_classes_grow(tmp_path, k):
    """200 classes once took 55 s and 5.2 GB: a picture of 120 inches with 40000 labels."""
    matrix = np.random.default_rng(0).integers(0, 50, (k, k))
    path = plot_confusion(matrix, [f"class {i}" for i in range(k)], tmp_path / "c.png")
    width, height = png_size(path)
    assert max(width, height) <= (MAX_INCHES + 0.2) * 100 + 1


def test_a_picture_that_fails_leaves_the_text_report(monkeypatch, tmp_path):
    from manualnn.cli import evaluation

    def broken(*args):
        raise ValueError("the picture could not be drawn")
    monkeypatch.setattr("manualnn.io.plots.plot_confusion", broken)
    line = evaluation._picture(np.eye(2, dtype=int), ["a", "b"], tmp_path / "c.png")
    assert line == "(no confusion matrix picture: the picture could not be drawn)"
