"""Verdicts to points (partial credit per probe, the course's weights), grades.csv and the
feedback files."""

import csv
import io

import pytest

from manualnn.learn.course import folder, outputs
from manualnn.learn.course.feedback import feedback_text
from manualnn.learn.course.grades import from_verdicts, not_graded


@pytest.fixture
def course(tmp_path):
    c = folder.new_course(tmp_path / "c", ["softmax_loss", "backprop"])
    return folder.Course(c.path, c.functions, {"softmax_loss": 1.0, "backprop": 3.0},
                         c.timeout, c.memory_mb, c.key)


def verdict(function, verdict, passed, total, **more):
    return {"function": function, "verdict": verdict, "probes_passed": passed,
            "probes_total": total, "mistake": None, "layer": None, "message": "",
            "hint": "", **more}


def test_points_are_the_weight_times_the_probes_passed_visible_and_hidden(course):
    g = from_verdicts("s1", course,
                      [verdict("softmax_loss", "correct", 4, 4),
                       verdict("backprop", "mistake", 1, 4, mistake="missing_mean", layer=2,
                               hint="look at 1/m")],
                      [verdict("softmax_loss", "correct", 4, 4),
                       verdict("backprop", "mistake", 1, 4, mistake="missing_mean", layer=2)])
    sl, bp = g.functions
    assert sl.points == 1.0 and (sl.passed, sl.total) == (8, 8)
    assert bp.points == pytest.approx(3 * 2 / 8) and bp.mistake == "missing_mean"
    assert bp.layer == 2 and bp.hint == "look at 1/m"
    assert g.total == pytest.approx(1.75)


def test_a_mistake_only_the_hidden_probes_see_is_shown(course):
    g = from_verdicts("s1", course,
                      [verdict("backprop", "correct", 4, 4)],
                      [verdict("backprop", "mistake", 2, 4, mistake="double_mean", layer=1)])
    sl, bp = g.functions
    assert sl.verdict == "missing" and sl.points == 0 and "no function softmax_loss" in \
        sl.message
    assert bp.verdict == "mistake" and bp.mistake == "double_mean"
    assert bp.points == pytest.approx(3 * 6 / 8)


def test_grades_csv_and_feedback(course, tmp_path):
    grades = [from_verdicts("a1", course,
                            [verdict("softmax_loss", "correct", 3, 3),
                             verdict("backprop", "mistake", 0, 3, mistake="missing_transpose",
                                     layer=1, message="grad W_1 is wrong", hint="shapes")],
                            []),
              not_graded("b2", course, "refused", "refused: imports torch")]
    text = outputs.grades_csv(course, grades)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["id", "softmax_loss", "backprop", "total", "percent", "note"],
                    ["a1", "1.00", "0.00", "1.00", "25.0", ""],
                    ["b2", "0.00", "0.00", "0.00", "0.0", "refused: imports torch"]]
    fb = feedback_text(course, grades[0])
    for part in ("# Feedback for a1", "Total: 1.00 of 4.00 points (25.0%)",
                 "## backprop: mistake", "- mistake: missing_transpose (layer 1)",
                 "- grad W_1 is wrong", "- hint: shapes", "(0 of 3 probes passed)"):
        assert part in fb, part
    assert "Not graded: refused: imports torch" in feedback_text(course, grades[1])
    zh = feedback_text(course, grades[0], "zh")
    for part in ("# a1 的反馈", "总分：4.00 分中得 1.00 分（25.0%）", "## backprop: mistake",
                 "- 错误：missing_transpose（第 1 层）", "- 提示：shapes",
                 "（3 个探针中通过 0 个）"):
        assert part in zh, part
    with pytest.raises(ValueError, match="lang: expected one of en, zh, got 'fr'"):
        feedback_text(course, grades[0], "fr")


def test_the_summary_counts_full_partial_nothing_and_not_graded_apart(course):
    """A graded submission that earns no point is said as such, not as 'partial'; the
    line keeps its shorter form when there is none."""
    from manualnn.learn.course.pool import summary
    right = [verdict("softmax_loss", "correct", 3, 3), verdict("backprop", "correct", 3, 3)]
    part = [verdict("softmax_loss", "correct", 3, 3),
            verdict("backprop", "mistake", 1, 3, mistake="missing_mean")]
    zero = [verdict("softmax_loss", "error", 0, 3), verdict("backprop", "error", 0, 3)]
    grades = [from_verdicts("a", course, right, right), from_verdicts("b", course, part, []),
              from_verdicts("c", course, zero, []),
              not_graded("d", course, "refused", "refused: imports torch")]
    line = summary(course, grades, 1.0)
    assert ": 1 full marks, 1 partial, 1 with no points, 1 not graded;" in line, line
    assert ": 1 full marks, 1 partial, 1 not graded;" in summary(course, grades[:2] + grades[3:],
                                                                 1.0)
