"""The "More guides" list of the front page, without an edit for each new page.

``% more-guides`` in index.md becomes the top-level pages of docs/ (``*.md`` and
``*.ipynb``) that no toctree of index.md names yet: a page another issue adds
(docs/tabular.md, ...) appears in the site, and so passes the strict build, as soon as it
is written.
"""

from __future__ import annotations

import pathlib
import re

MARKER = "% more-guides"


def more_guides(srcdir: str, index_text: str) -> list[str]:
    """The docnames of docs/'s top-level pages that ``index_text`` does not list."""
    named = set(re.findall(r"^([\w./-]+)$", index_text, re.MULTILINE))
    found = sorted(p.stem for p in pathlib.Path(srcdir).glob("*.md")
                   if p.stem != "index") + sorted(
        p.stem for p in pathlib.Path(srcdir).glob("*.ipynb"))
    return [name for name in found if name not in named]


def _on_source_read(app, docname, source):
    if docname == "index" and MARKER in source[0]:
        source[0] = source[0].replace(
            MARKER, "\n".join(more_guides(app.srcdir, source[0])))


def setup(app):
    app.connect("source-read", _on_source_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "2"}
