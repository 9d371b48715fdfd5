"""A run's report as one self-contained HTML page (``pip install manualnn[report]``).

The page is a Jinja2 template (``templates/report.html.j2``, shipped with the package)
filled with what cli/report.py gathers; every picture is drawn by matplotlib and carried
inline as a ``data:image/png;base64`` URI, and the page has no script and loads nothing,
so it opens the same in any browser, offline, mailed or archived.
"""

from __future__ import annotations

import base64
import importlib.resources
from collections.abc import Sequence
from typing import Any

import numpy as np

from manualnn.checks import Array
from manualnn.io import plots

TEMPLATE = "report.html.j2"
TILES_UP_TO = 64   # hidden units drawn as first-layer tiles; the first ones, in order


def require() -> tuple[Any, Any]:
    """(jinja2, pyplot), or a ValueError naming the extra that brings them."""
    try:
        import jinja2
        import matplotlib
    except ImportError:
        raise ValueError("report: needs Jinja2 and matplotlib: pip install "
                         "'manualnn[report]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return jinja2, plt


def data_uri(png: bytes) -> str:
    """``png`` as a ``data:image/png;base64`` URI, for an ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def figure_uri(fig: Any) -> str | None:
    """The matplotlib figure ``fig`` as a PNG data URI (the figure is closed); None for None."""
    return None if fig is None else data_uri(plots.png_bytes(fig))


def weight_tiles(W1: Array, image_shape: tuple[int, int], units: int = TILES_UP_TO) -> str:
    """The first ``units`` columns of W_1 (n_1, n_2), each reshaped to ``image_shape``
    (rows, cols) with n_1 = rows * cols: the input pattern each hidden unit responds to
    most.  Each tile has its own symmetric colour scale (red positive, blue negative)."""
    _, plt = require()
    count = min(units, W1.shape[1])
    cols = min(16, count)
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 0.9), squeeze=False)
    for j, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if j < count:
            tile = np.asarray(W1[:, j], dtype=np.float64).reshape(image_shape)
            top = float(np.abs(tile).max()) or 1.0
            ax.imshow(tile, cmap="RdBu_r", vmin=-top, vmax=top, interpolation="nearest")
            ax.set_title(str(j + 1), fontsize=6, pad=1)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.95, bottom=0.01, wspace=0.1, hspace=0.3)
    return data_uri(plots.png_bytes(fig))


def picture(row: Sequence[float] | Array, image_shape: tuple[int, int], scale: int = 4) -> str:
    """One input row (n_1,) drawn as a grey image of ``image_shape``, ``scale`` screen
    pixels per input pixel (nearest neighbour: the pixels the network saw)."""
    _, plt = require()
    image = np.asarray(row, dtype=np.float64).reshape(image_shape)
    h, w = image_shape
    fig = plt.figure(figsize=(w * scale / 100, h * scale / 100))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.imshow(image, cmap="gray_r", interpolation="nearest")
    return data_uri(plots.png_bytes(fig))


def render(page: dict[str, Any], template: str = TEMPLATE) -> str:
    """The HTML text of the page ``template`` (one of templates/: the run's report, or a
    course's class page); ``page`` holds what the template names (see cli/report.py).
    Autoescaped: class names and paths are shown, never interpreted."""
    jinja2, _ = require()
    source = importlib.resources.files("manualnn.io") / "templates" / template
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.finalize = _printable   # no control character reaches a page raw
    return env.from_string(source.read_text(encoding="utf-8")).render(**page)


def _printable(value: object) -> object:
    """What a page shows of ``value``: a string with each control character (but tab and
    line breaks) as U+FFFD, anything else as it is."""
    return plots.shown(value, lines=True) if isinstance(value, str) else value
