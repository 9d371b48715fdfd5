"""The documentation site: ``make docs``'s strict build (warnings are errors, every link
and reference resolves), every page README links built and every section README once
held reachable in it, the notebook rendered
with its stored outputs, and the front page and the API reference in headless Chromium
with no console error and no broken picture."""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

pytest.importorskip("sphinx", reason="the docs extra (sphinx) is not installed")
pytest.importorskip("myst_nb", reason="the docs extra (myst-nb) is not installed")
pytest.importorskip("furo", reason="the docs extra (furo) is not installed")

import more_guides

from test_readme import LINK, OLD_SECTIONS, slug


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built as ``make docs`` builds it, from a copy of docs/ (autosummary writes
    its pages into the source folder) beside the changelog and the sources."""
    tree = tmp_path_factory.mktemp("site")
    shutil.copytree(DOCS, tree / "docs", ignore=shutil.ignore_patterns(
        "_build", "generated", "jupyter_execute", "__pycache__"))
    shutil.copy(ROOT / "CHANGELOG.md", tree / "CHANGELOG.md")
    (tree / "src").symlink_to(ROOT / "src")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-n", "-q",
         "-j", "1", str(tree / "docs"), str(tree / "html")],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    return tree / "html", result


def test_make_docs_builds_without_a_warning(site):
    html, result = site
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.strip() == "", result.stderr[-3000:]
    for page in ("index", "guide/getting-started", "guide/learners", "guide/teachers", "guide/cli",
                 "guide/performance", "guide/safety", "changelog", "api/index", "lecture"):
        assert (html / f"{page}.html").is_file(), page


def test_every_page_readme_links_is_in_the_site(site):
    html, _ = site
    readme = (ROOT / "README.md").read_text()
    pages = {t.partition("#")[0] for t in LINK.findall(readme) if t.startswith("docs/")}
    assert len(pages) >= 10
    for page in pages:
        built = html / pathlib.Path(page).relative_to("docs").with_suffix(".html")
        assert built.is_file(), f"README links {page}, which the site does not build"


def test_every_section_readme_once_held_is_reachable_in_the_site(site):
    html, _ = site
    pages = "".join(p.read_text() for p in html.rglob("*.html")
                    if "generated" not in p.parts)
    for title in OLD_SECTIONS:
        assert f'id="{slug(title)}"' in pages, title


def test_the_api_reference_has_the_public_names_with_their_types(site):
    html, _ = site
    import manualnn
    api = (html / "api" / "index.html").read_text()
    for name in manualnn.__all__:
        if name != "__version__":
            assert f">{name}<" in api or f"manualnn.{name}" in api, name
    network = (html / "api" / "generated" / "manualnn.core.network.html").read_text()
    text = re.sub(r"<[^>]+>", "", network)
    assert "Parameters" in text and "layers (" in text   # types from the annotations


def test_the_notebook_is_rendered_with_its_stored_outputs(site):
    html, _ = site
    page = (html / "lecture.html").read_text()
    assert page.count("cell_output") >= 5
    assert re.search(r'<img[^>]+src="_images/', page)


@pytest.fixture(scope="module")
def browser():
    from browser import chromium
    yield from chromium()


@pytest.mark.parametrize("page", ["index.html", "api/index.html",
                                  "api/generated/manualnn.core.network.html",
                                  "guide/getting-started.html"])
def test_pages_open_in_chromium_without_errors_or_broken_pictures(site, browser, page):
    from browser import broken_images, console_errors
    html, result = site
    assert result.returncode == 0
    browser.get((html / page).as_uri())
    assert browser.title.endswith("manualnn 0.1.0 documentation") or "manualnn" in browser.title
    assert browser.execute_script("return document.body.innerText.length;") > 200
    assert broken_images(browser) == []
    assert console_errors(browser) == []


def test_a_page_another_issue_adds_to_docs_is_listed_without_an_edit(tmp_path):
    for name in ("index.md", "learn.md", "course.md", "array_api.md", "lecture.ipynb"):
        (tmp_path / name).write_text("# x\n")
    index = "```{toctree}\narray_api\nlecture\n```\n% more-guides\n"
    assert more_guides.more_guides(str(tmp_path), index) == ["course", "learn"]
