"""Pages made of README sections, while README still holds the long text (phase A of
issue 27; in phase B the text moves here and README becomes a landing page).

A line ``% readme-section: TITLE`` in a page is replaced, when Sphinx reads the page, by
README's section of that heading (down to the next heading of its level or above),
re-levelled so that the section's heading is an H2; ``% readme-body: TITLE`` drops the
heading itself and lifts its subsections to H2 (for a page whose H1 is that section);
``% readme-intro`` is the text between README's title and its first section;
``% readme-skip: TITLE`` leaves that subsection out of the page's sections.  Links are
rewritten for the site: ``docs/X`` to ``X``, source files to download links
(``../src/...``), and ``#anchor`` of an included section to its page.  The README
examples stay checked by tests/test_readme.py, since the site shows the same text.

``% more-guides`` in index.md becomes the top-level pages of docs/ that no toctree of
index.md names: the pages other issues add (docs/learn.md, ...) appear without an edit.
"""

from __future__ import annotations

import pathlib
import re

HEADING = re.compile(r"^(#{1,6}) (.+?)\s*$")
MARKER = re.compile(r"^% (readme-section|readme-body): (.+?)\s*$|^% (readme-intro)\s*$",
                    re.MULTILINE)
SKIP = re.compile(r"^% readme-skip: (.+?)\s*$\n?", re.MULTILINE)


def _headings(lines):
    """(index, level, title) of each Markdown heading outside fenced code."""
    fence = None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            mark = stripped[:3]
            fence = None if fence == mark else fence or mark
            continue
        match = HEADING.match(line) if fence is None else None
        if match:
            yield i, len(match.group(1)), match.group(2)


def slug(title: str) -> str:
    """GitHub's anchor of a heading (and MyST's with myst_heading_anchors)."""
    text = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return text.replace(" ", "-")


def without(readme: str, titles) -> str:
    """README less the sections ``titles`` (each down to its next heading of its level)."""
    lines = readme.splitlines()
    heads, drop = list(_headings(lines)), set()
    for start, level, title in heads:
        if title in titles:
            end = next((i for i, lv, _ in heads if i > start and lv <= level), len(lines))
            drop.update(range(start, end))
    return "\n".join(line for i, line in enumerate(lines) if i not in drop) + "\n"


def section(readme: str, title: str, keep_heading: bool) -> tuple[str, list[str]]:
    """README's section ``title``, re-levelled, and the anchors of its headings."""
    lines = readme.splitlines()
    heads = list(_headings(lines))
    found = [(i, level) for i, level, t in heads if t == title]
    if not found:
        raise ValueError(f"README.md has no section {title!r}")
    start, level = found[0]
    end = next((i for i, lv, _ in heads if i > start and lv <= level), len(lines))
    shift = level - 2 if keep_heading else level - 1
    out = lines[start if keep_heading else start + 1:end]
    inner = {i - (start if keep_heading else start + 1) for i, _, _ in heads if start <= i < end}
    for j in inner:
        if 0 <= j < len(out):
            hashes, text = out[j].split(" ", 1)
            out[j] = "#" * max(1, len(hashes) - shift) + " " + text
    anchors = [slug(t) for i, _, t in heads if start <= i < end]
    return "\n".join(out) + "\n", anchors


def intro(readme: str) -> str:
    lines = readme.splitlines()
    heads = [i for i, level, _ in _headings(lines) if level <= 2]
    return "\n".join(lines[heads[0] + 1:heads[1]]) + "\n"


def rewrite_links(text: str, page_of_anchor: dict, here: str) -> str:
    """README's links as the page ``here`` (a docname) needs them."""
    up = "../" * here.count("/")   # from the page's folder back to docs/

    def link(match):
        target = match.group(1)
        if target.startswith("docs/"):
            target = up + target.removeprefix("docs/")
        elif target.startswith(("src/", "benchmarks/", "tests/")):
            target = up + "../" + target.split("#")[0]   # a download link to the file
        elif target.startswith("#") and target[1:] in page_of_anchor:
            page, whole = page_of_anchor[target[1:]]
            if page != here:
                target = f"{up}{page}.md" + ("" if whole else target)
        return f"]({target})"
    return re.sub(r"\]\(([^)\s]+)\)", link, text)


def _readme(app) -> str:
    return (pathlib.Path(app.srcdir).parent / "README.md").read_text(encoding="utf-8")


def _anchor_pages(app) -> dict:
    """Each README anchor included somewhere: (page, True when it is the page itself)."""
    pages = {}
    for path in sorted(pathlib.Path(app.srcdir).rglob("*.md")):
        page = path.relative_to(app.srcdir).with_suffix("").as_posix()
        text = path.read_text(encoding="utf-8")
        readme = without(_readme(app), SKIP.findall(text))
        for kind, title, _ in MARKER.findall(text):
            if title:
                _, anchors = section(readme, title, kind == "readme-section")
                pages.update({a: (page, n == 0 and kind == "readme-body")
                              for n, a in enumerate(anchors)})
    return pages


def _on_source_read(app, docname, source):
    if not MARKER.search(source[0]) and "% more-guides" not in source[0]:
        return
    readme = without(_readme(app), SKIP.findall(source[0]))
    app.env.note_dependency(str(pathlib.Path(app.srcdir).parent / "README.md"))
    pages = _anchor_pages(app)

    def expand(match):
        kind, title, is_intro = match.groups()
        text = intro(readme) if is_intro else section(readme, title, kind == "readme-section")[0]
        return rewrite_links(text, pages, docname)

    text = MARKER.sub(expand, SKIP.sub("", source[0]))
    if "% more-guides" in text:
        text = text.replace("% more-guides", "\n".join(_more_guides(app, text)))
    source[0] = text


def _more_guides(app, index_text: str) -> list[str]:
    named = set(re.findall(r"^([\w./-]+)$", index_text, re.MULTILINE))
    found = sorted(p.stem for p in pathlib.Path(app.srcdir).glob("*.md")
                   if p.stem != "index") + sorted(
        p.stem for p in pathlib.Path(app.srcdir).glob("*.ipynb"))
    return [name for name in found if name not in named]


def setup(app):
    app.connect("source-read", _on_source_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
