"""manualnn's docstrings are plain text in the house style (shapes, equations written
out, aligned tables of arguments), not reStructuredText: this shows them as written.

The first paragraph stays prose (it is the one-line summary of the API tables), with
reST's special characters escaped except inside ``double backquotes``; the rest is one
literal block, as ``help()`` shows it.  So no docstring can break the strict build, and
none has to change for the site.  Members that another project defines (scikit-learn's
``set_fit_request`` on the estimators, ...) are left to that project's documentation.
"""

from __future__ import annotations

import re

LITERAL = re.compile(r"(``.+?``)")
SPECIAL = re.compile(r"([\\*|`_\[\]])")


def _escape(text: str) -> str:
    parts = LITERAL.split(text)
    return "".join(p if i % 2 else SPECIAL.sub(r"\\\1", p) for i, p in enumerate(parts))


def _plain(app, what, name, obj, options, lines):
    if not lines:
        return
    blank = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    summary = [_escape(line) for line in lines[:blank]]
    rest = lines[blank:]
    while rest and not rest[0].strip():
        rest = rest[1:]
    lines[:] = summary + (["", "::", ""] + ["    " + line for line in rest] + [""] if rest
                          else [""])


def _foreign(app, what, name, obj, skip, options):
    module = getattr(obj, "__module__", None)
    if what in ("class", "exception") and callable(obj) and module \
            and not module.startswith("manualnn"):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _plain)
    app.connect("autodoc-skip-member", _foreign)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
