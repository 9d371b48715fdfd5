"""``manualnn course handout``: one skeleton per student, on the student's own variant,
with the self-check command for it and no reference number."""

import re

from manualnn.cli import main
from manualnn.learn import reference
from manualnn.learn.course import folder, variants
from manualnn.learn.probes import build


def test_each_student_gets_a_skeleton_on_their_own_variant(tmp_path, capsys):
    course = folder.new_course(tmp_path / "course", ["softmax_loss", "nn_epoch", "backprop"])
    (tmp_path / "roster.csv").write_text("name,student\nAda,ada\nBo,bo\nCy,cy\n")
    assert main(["course", "handout", course.path, "--roster", str(tmp_path / "roster.csv"),
                 "--id-column", "student", "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out == f"wrote 3 handouts in {tmp_path / 'out'}\n"
    texts = {}
    for student in ("ada", "bo", "cy"):
        text = (tmp_path / "out" / f"{student}.py").read_text()
        texts[student] = text
        v = variants.variant_for(course.key, student)
        assert f"--seed {v.seed}" in text and f"manualnn check {student}.py" in text
        assert f"n_(L+1) = {v.widths}" in text and f"sigma = {v.activation}" in text
        assert [f for f in re.findall(r"^def (\w+)\(", text, re.MULTILINE)] == list(course.functions)
        compile(text, f"{student}.py", "exec")   # a file the student can start from
        # no reference number: no decimal but the course's default lr in the signatures,
        # and not the answer on the student's own probes in any usual rounding
        assert not re.search(r"\d\.\d", text.replace("lr=0.1,", ""))
        for name, (arrays, _) in build(v, ("softmax_loss",))["softmax_loss"].items():
            loss = float(reference.softmax_loss(arrays["Z"], arrays["y"]))
            for shown in (f"{loss:.3f}", f"{loss:.4g}", repr(loss)[:6]):
                assert shown not in text, (name, shown)
    assert len(set(texts.values())) == 3   # three students, three variants
    # the same key and roster give the same handouts
    assert main(["course", "handout", course.path, "--roster", str(tmp_path / "roster.csv"),
                 "--id-column", "student", "--out", str(tmp_path / "again")]) == 0
    assert all((tmp_path / "again" / f"{s}.py").read_text() == t for s, t in texts.items())


def test_the_documented_handout_is_what_handout_writes(tmp_path):
    """docs/course.md's `head -12 handouts/bo.py`, but for the variant's own values."""
    import pathlib
    doc = (pathlib.Path(__file__).resolve().parents[3] / "docs" / "course.md").read_text()
    shown = doc.split("$ head -12 handouts/bo.py\n", 1)[1].split("```", 1)[0].splitlines()
    course = folder.new_course(tmp_path / "course", ["softmax_loss", "softmax_regression_epoch",
                                                     "nn_epoch", "backprop"])
    (tmp_path / "roster.csv").write_text("id\nbo\n")
    assert main(["course", "handout", course.path, "--roster", str(tmp_path / "roster.csv"),
                 "--out", str(tmp_path / "out")]) == 0
    ours = (tmp_path / "out" / "bo.py").read_text().splitlines()[:len(shown)]
    variable = re.compile(r"\s+manualnn check bo\.py( --widths [\d,]+)?( --batch \d+)?"
                          r"( --activation \w+)? --seed \d+|Your backprop is checked .*|"
                          r"the epoch functions with batch = \d+\.")
    assert len(shown) == 11
    for a, b in zip(shown, ours):
        assert a == b or (variable.fullmatch(a) and variable.fullmatch(b)), (a, b)
