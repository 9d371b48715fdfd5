"""A class of hand-written submissions graded end to end by ``manualnn course grade``:
the expected verdicts and partial credit, grades.csv, the feedback files, and class.html
(as text, and in headless Chromium: its pictures decode, its console is clean)."""

import base64
import contextlib
import csv
import hashlib
import io
import json
import re
import shutil

import numpy as np
import pytest
from course_students import EXPECTED, FUNCTIONS, write_class

from cli_helpers import one_line
from manualnn.cli import main
from manualnn.learn.course import folder

pytest.importorskip("jinja2", reason="class.html needs the report extra (jinja2)")
pytest.importorskip("matplotlib", reason="class.html needs the report extra (matplotlib)")


def make_course(path, timeout=3):
    """A course of the class's four functions, weights 1, 1, 2, 4; ``timeout`` seconds a
    child (the endless loop of one student costs it once)."""
    assert main(["course", "new", str(path), "--functions", ",".join(FUNCTIONS)]) == 0
    # a fixed key, so the class's verdicts are known: with a random one, some variants hide
    # a mistake (a square theta, n = k, makes ivy's transpose a wrong value, not a shape
    # error), and the expected verdicts would hold for most keys but not all
    (path / "key").write_text(hashlib.sha256(b"manualnn course tests 1").hexdigest() + "\n")
    settings = json.loads((path / "course.json").read_text())
    settings.update(timeout=timeout, weights=dict(zip(FUNCTIONS, (1, 1, 2, 4))))
    (path / "course.json").write_text(json.dumps(settings))
    return folder.open_course(path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    course = make_course(root / "course")
    (root / "subs").mkdir()
    write_class(root / "subs")
    (root / "subs" / "README.txt").write_text("not a submission")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["course", "grade", str(root / "course"), str(root / "subs"), "--out",
                     str(root / "out"), "--jobs", "2"]) == 0
    (root / "printed.txt").write_text(out.getvalue() + "--\n" + err.getvalue())
    return course, root


def read_grades(out):
    with open(out / "grades.csv", newline="") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


def test_the_summary_line_and_the_files(graded):
    _, root = graded
    out = root / "out"
    printed, err = (root / "printed.txt").read_text().split("--\n")
    summary, where = printed.splitlines()
    assert re.fullmatch(r"graded 10 submissions in [\d.]+ s: 2 full marks, 7 partial, 1 not "
                        r"graded; mean [\d.]+ of 8 points", summary), summary
    assert where == (f"grades: {out}/grades.csv  feedback: {out}/feedback/  class page: "
                     f"{out}/class.html")
    assert err == "skipped (not submissions): README.txt\n"   # no progress bar: not a tty
    assert sorted(p.name for p in (out / "feedback").iterdir()) == sorted(
        f"{s}.md" for s in EXPECTED)
    assert (out / "class.html").stat().st_size > 10_000


def test_each_student_gets_the_expected_verdicts_and_partial_credit(graded):
    _, root = graded
    rows = read_grades(root / "out")
    assert list(rows) == sorted(EXPECTED)
    weights = dict(zip(FUNCTIONS, (1, 1, 2, 4)))
    for student, expected in EXPECTED.items():
        text = (root / "out" / "feedback" / f"{student}.md").read_text()
        row = rows[student]
        if expected == "refused":
            assert row["total"] == "0.00" and "refused: imports torch" in row["note"]
            continue
        for f in FUNCTIONS:
            verdict, mistake = expected.get(f, ("correct", None))
            assert f"## {f}: {verdict}" in text, (student, f, text)
            if verdict == "correct":
                assert float(row[f]) == weights[f], (student, f)
            else:
                assert float(row[f]) < weights[f], (student, f)
            if mistake:
                assert f"- mistake: {mistake}" in text and "- hint: " in text
        assert float(row["total"]) == pytest.approx(sum(float(row[f]) for f in FUNCTIONS),
                                                    abs=0.011)
        assert float(row["percent"]) == pytest.approx(100 * float(row["total"]) / 8, abs=0.1)
    # partial credit per probe: the probes passed, as the feedback says, times the weight
    dee = (root / "out" / "feedback" / "dee.md").read_text()
    passed, total = map(int, re.search(r"## softmax_loss: mistake\n\n- points: [\d.]+ of "
                                       r"1.00 \((\d+) of (\d+) probes passed\)", dee).groups())
    assert 0 < passed < total and float(rows["dee"]["softmax_loss"]) == pytest.approx(
        passed / total, abs=0.006)
    assert "did not finish within 3 s" in (root / "out" / "feedback" / "hal.md").read_text()


def test_class_html_counts_the_mistakes_and_verdicts(graded):
    _, root = graded
    html = (root / "out" / "class.html").read_text()
    assert "<script" not in html.lower() and not re.search(r'(src|href)="(?!data:)', html)
    mistakes = dict(re.findall(r"<tr><td>\w+</td><td><code>(\w+)</code></td>"
                               r"<td class=\"num\">(\d+)</td>", html))
    assert mistakes == {"sigma_prime_of_output": "1", "missing_mean": "1",
                        "no_max_subtraction": "1", "gradient_ascent": "1"}
    rows = {m[0]: [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', m[1])]
            for m in re.findall(r"<tr><td>(\w+)</td><td class=\"num\">[\d.]+</td>(.*?)</tr>",
                                html)}
    # correct, mistake, unknown, error, refused, missing: students per function
    assert rows["backprop"] == [7, 1, 1, 0, 1, 0]
    assert rows["nn_epoch"] == [7, 1, 0, 1, 1, 0]
    assert rows["softmax_regression_epoch"] == [7, 1, 0, 1, 1, 0]
    assert rows["softmax_loss"] == [8, 1, 0, 0, 1, 0]
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)
    assert len(sources) == 3
    from PIL import Image
    for src in sources:
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as img:
            assert img.format == "PNG" and img.width > 100


def test_regrading_with_other_blas_threads_and_jobs_gives_the_same_grades(graded, tmp_path):
    """The children run one BLAS thread; here the grader's own reference runs on one
    thread (and the submissions one at a time) instead of the default, on the subset with
    a verdict of each kind that takes no time limit."""
    _, root = graded
    subset = tmp_path / "subs"
    subset.mkdir()
    for s in ("ada", "bo", "dee", "fay", "jo"):
        shutil.copy(root / "subs" / f"{s}.py", subset)
    assert main(["course", "grade", str(root / "course"), str(subset), "--out",
                 str(tmp_path / "out"), "--jobs", "1", "--threads", "1", "--quiet"]) == 0
    again = read_grades(tmp_path / "out")
    first = read_grades(root / "out")
    assert again == {s: first[s] for s in again}


def test_grade_refuses_bad_arguments_in_one_line(graded, tmp_path, capsys):
    _, root = graded
    course, subs = str(root / "course"), str(root / "subs")
    for argv, said in (
            ([course, subs, "--out", str(tmp_path / "o"), "--jobs", "0"], "--jobs"),
            ([course, str(tmp_path / "none"), "--out", str(tmp_path / "o")], "submissions"),
            ([str(tmp_path), subs, "--out", str(tmp_path / "o")], "not a course folder"),
            ([course, subs, "--out", str(root / "subs" / "graded")], "inside the submissions"),
            ([course, subs, "--out", str(root / "course" / "key")], "not a folder")):
        assert main(["course", "grade", *argv]) == 2
        assert said in one_line(capsys)


def test_the_class_page_template_ships_with_the_package():
    import pathlib

    import tomllib
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folder_ = ROOT / "src" / "manualnn" / "io"
    assert any((folder_ / "templates" / "class.html.j2") in folder_.glob(p)
               for p in data["package-data"]["manualnn.io"])
    assert pathlib.Path(folder_ / "templates" / "class.html.j2").is_file()


# -- in a real browser -----------------------------------------------------------------
def test_class_html_renders_in_chromium(graded):
    from browser import console_errors, headless_chromium
    _, root = graded
    with headless_chromium() as browser:
        browser.get((root / "out" / "class.html").as_uri())
        assert browser.title.startswith("manualnn Class report: course")
        sizes = browser.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, "
            "i.naturalHeight]);")
        assert len(sizes) == 3 and all(done and w > 0 and h > 0 for done, w, h in sizes)
        assert console_errors(browser) == []
        from PIL import Image
        shot = np.asarray(Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("L"))
        assert shot.std() > 10 and (shot < 100).mean() > 0.005


# -- the checker's own hand-written learners, as a class ---------------------------------
def test_the_checkers_learners_graded_as_a_class_get_their_mistakes(tmp_path):
    """tests/learn/learners/: right ones in two styles, one file a mistake per function
    (all 16 catalogued ids between them), one outside the catalogue; each student's verdicts
    are those the file declares, whatever the student's variant, and class.html counts
    every mistake once per student who made it."""
    import collections
    import importlib.util
    import pathlib
    spec = importlib.util.spec_from_file_location(
        "learner_files", pathlib.Path(__file__).parents[1] / "learner_files.py")
    learners = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(learners)
    FILES, expected, load = learners.FILES, learners.expected, learners.load
    from manualnn.learn.course import outputs, pool
    from manualnn.learn.course.page import mistake_counts
    from manualnn.learn.course.submissions import find_submissions
    course = folder.new_course(tmp_path / "course")
    (tmp_path / "subs").mkdir()
    wanted, counts = {}, collections.Counter()
    for path in FILES:
        shutil.copy(path, tmp_path / "subs")
        wanted[path.stem] = {f: want for f, want, _ in expected(load(path))}
        counts.update((f, w) for f, w in wanted[path.stem].items()
                      if w not in ("correct", "unknown"))
    subs, _ = find_submissions(tmp_path / "subs")
    grades = pool.grade_class(course, subs, jobs=2, progress=False)
    for g in grades:
        for f in g.functions:
            want = wanted[g.student].get(f.function)
            got = f.mistake or f.verdict
            if want is None:
                assert f.verdict == "error" and "not defined" in f.message
            else:
                assert got == want, (g.student, f.function, f.verdict, f.message)
                assert (f.points == f.weight) == (want == "correct")
    assert mistake_counts(grades) == counts
    html = outputs.write_outputs(tmp_path / "out", course, grades)["class.html"]
    with open(html) as f:
        text = f.read()
    for (function, mistake), n in counts.items():
        assert f"<tr><td>{function}</td><td><code>{mistake}</code></td><td class=\"num\">{n}" \
               f"</td>" in text


# -- the worked examples of docs/course.md and docs/guide/teachers.md stay true ----------
ROOT = __import__("pathlib").Path(__file__).resolve().parents[3]


def doc_blocks(name):
    text = (ROOT / name).read_text()
    return [body for _, body in re.findall(r"^```(\w*)\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)]


def printed(block, command):
    """The lines a block shows after ``$ command`` up to the next ``$``."""
    lines = block.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"$ {command}"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("$ ")),
               len(lines))
    return lines[start + 1:end]


def masked(text):
    return re.sub(r"\d+(\.\d+)?", "#", text)


@pytest.mark.parametrize("doc", ["docs/course.md", "docs/guide/teachers.md"])
def test_the_documented_grading_is_what_grading_prints(graded, doc):
    """The same class graded here (another key, so other variants): the same summary
    and grades.csv but for the numbers a variant moves (partial credit), the same
    full-marks cells; and in docs/course.md, bo's feedback but for its numbers."""
    _, root = graded
    block = next(b for b in doc_blocks(doc) if "$ manualnn course grade" in b)
    summary, where = printed(block, "manualnn course grade")
    ours = (root / "printed.txt").read_text().splitlines()
    assert masked(summary).replace("in # s", "") == masked(ours[0]).replace("in # s", "")
    assert where == re.sub(r"/\S*/out/", "graded/", ours[1])
    shown = {row["id"]: row for row in csv.DictReader(printed(block, "cat graded/grades.csv"))}
    again = read_grades(root / "out")
    assert list(shown) == list(again)
    weights = dict(zip(FUNCTIONS, (1, 1, 2, 4)))
    for student, row in shown.items():
        assert row["note"] == again[student]["note"]
        assert float(row["total"]) == pytest.approx(sum(float(row[f]) for f in FUNCTIONS),
                                                    abs=0.011)
        for f in FUNCTIONS:
            assert (float(row[f]) == weights[f]) == (float(again[student][f]) == weights[f])
    if doc == "docs/course.md":
        feedback = "\n".join(printed(block, "cat graded/feedback/bo.md"))
        ours = (root / "out" / "feedback" / "bo.md").read_text()
        assert masked(feedback).strip() == masked(ours).strip()


def test_feedback_and_handouts_in_chinese(graded, tmp_path):
    """--lang zh: the checker's words (what is wrong, the hint), the feedback's own and the
    handout's are Chinese; a forbidden import is still the verdict 'refused'."""
    from manualnn.learn.catalogue import MISTAKES
    _, root = graded
    subset = tmp_path / "subs"
    subset.mkdir()
    for s in ("bo", "gus"):
        shutil.copy(root / "subs" / f"{s}.py", subset)
    assert main(["course", "grade", str(root / "course"), str(subset), "--out",
                 str(tmp_path / "out"), "--lang", "zh", "--quiet"]) == 0
    bo = (tmp_path / "out" / "feedback" / "bo.md").read_text()
    mistake = MISTAKES["sigma_prime_of_output"]
    for part in ("# bo 的反馈", "## backprop: mistake", "- 错误：sigma_prime_of_output（第 ",
                 f"- {mistake.description['zh']}", f"- 提示：{mistake.hint['zh']}"):
        assert part in bo, part
    block = next(b for b in doc_blocks("docs/course.md") if "--lang zh" in b)
    shown = "\n".join(printed(block, "sed -n"))   # docs/course.md's example, but its numbers
    assert masked(shown).strip() == masked(bo[bo.index("## backprop"):]).strip()
    gus = read_grades(tmp_path / "out")["gus"]
    assert gus["total"] == "0.00" and "torch" in gus["note"] and "拒绝" in gus["note"]
    (tmp_path / "roster.csv").write_text("id\nbo\n")
    assert main(["course", "handout", str(root / "course"), "--roster",
                 str(tmp_path / "roster.csv"), "--out", str(tmp_path / "h"), "--lang", "zh"]) == 0
    assert "的练习" in (tmp_path / "h" / "bo.py").read_text()
