"""Sphinx configuration of manualnn's documentation site (``make docs``).

Sphinx, because NumPy's and scikit-learn's sites are built with it and autodoc reads the
docstrings and annotations the package already has; MyST (myst-parser) so that the
pages stay plain Markdown that GitHub shows too; myst-nb to render docs/lecture.ipynb
with the outputs stored in it, never executing it at build time (``nb_execution_mode =
"off"``: tests/test_notebook.py runs it); and the Furo theme: maintained, readable on a
phone, light and dark, with no JavaScript of ours.

The build is strict: ``make docs`` runs ``sphinx-build -W --keep-going -n`` (warnings are
errors, and every cross-reference of our own pages must resolve: nitpicky).  References
into other projects' types (NumPy's arrays, ...) go through intersphinx only when the
network is there; offline they are listed in ``nitpick_ignore_regex`` below, never
silenced one by one.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

import manualnn

project = "manualnn"
author = "the manualnn authors"
copyright = "2026, the manualnn authors"
release = version = manualnn.__version__

extensions = [
    "myst_nb",                    # Markdown (MyST) and notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "more_guides",                # docs/_ext: the front page lists every page of docs/
    "plain_docstrings",           # docs/_ext: the docstrings shown as written (plain text)
]

# .rst first: autosummary writes its pages in the first suffix
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "_ext", "**/.ipynb_checkpoints"]
root_doc = "index"

# -- MyST and the notebook ---------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 4          # #anchors of headings, as GitHub makes them
nb_execution_mode = "off"         # the notebook's stored outputs; tests/test_notebook.py runs it
nb_merge_streams = True

# -- API reference -----------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False   # a module page lists what it defines
autodoc_typehints = "description"  # the types beside each parameter, from the annotations
autodoc_typehints_format = "short"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True,
                           "ignore-module-all": True}   # a name on the page of its own module
autodoc_mock_imports = ["cupy", "mpi4py", "numba", "onnx", "onnxruntime", "jinja2"]
napoleon_google_docstring = napoleon_numpy_docstring = False   # docstrings are plain text

# nitpicky: every link and reference of the pages must resolve (a page, a heading, a file,
# a documented object).  The types in signatures are not held to it: they name other
# projects' classes (NumPy's ndarray, ...) that no inventory can resolve offline, and our
# classes by the short names their modules import.
nitpicky = True
nitpick_ignore_regex = [(r"py:(class|obj|data|exc)", r".*")]

# -- HTML --------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"manualnn {release}"
html_static_path: list[str] = []
html_last_updated_fmt = None
