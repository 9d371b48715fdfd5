"""A student's feedback file (OUT/feedback/ID.md), in English or Chinese.

Per function: the verdict, the points and the probes passed, the mistake by its catalogue
id and its layer, what is wrong, and the hint.  No expected number appears (nothing to
copy).  The checker's own words (what is wrong, the hint) come in the language the
grading asked of it; the course's own notes (a missing or refused submission) are English.
"""

from __future__ import annotations

TEXTS = {
    "en": {"title": "# Feedback for {id}",
           "total": "Total: {points} of {max} points ({percent:.1f}%)",
           "not_graded": "Not graded: {note}",
           "points": "- points: {points} of {weight}",
           "probes": " ({passed} of {total} probes passed)",
           "mistake": "- mistake: {id}", "layer": " (layer {layer})", "hint": "- hint: {hint}"},
    "zh": {"title": "# {id} 的反馈",
           "total": "总分：{max} 分中得 {points} 分（{percent:.1f}%）",
           "not_graded": "未评分：{note}",
           "points": "- 得分：{weight} 分中得 {points} 分",
           "probes": "（{total} 个探针中通过 {passed} 个）",
           "mistake": "- 错误：{id}", "layer": "（第 {layer} 层）", "hint": "- 提示：{hint}"},
}
LANGS = tuple(TEXTS)


def points_text(x: float) -> str:
    """Points as grades.csv and the feedback show them: two decimals."""
    return f"{x:.2f}"


def feedback_text(course, g, lang: str = "en") -> str:
    """The Markdown text of StudentGrade ``g``'s feedback in ``lang`` (en or zh)."""
    if lang not in TEXTS:
        raise ValueError(f"lang: expected one of {', '.join(LANGS)}, got {lang!r}")
    t = TEXTS[lang]
    percent = 100 * g.total / course.max_points
    lines = [t["title"].format(id=g.student), "",
             t["total"].format(points=points_text(g.total), max=points_text(course.max_points),
                               percent=percent), ""]
    if g.note:
        lines += [t["not_graded"].format(note=g.note), ""]
    for f in g.functions:
        lines += [f"## {f.function}: {f.verdict}", "",
                  t["points"].format(points=points_text(f.points), weight=points_text(f.weight))
                  + (t["probes"].format(passed=f.passed, total=f.total) if f.total else "")]
        if f.mistake:
            where = t["layer"].format(layer=f.layer) if f.layer is not None else ""
            lines.append(t["mistake"].format(id=f.mistake) + where)
        if f.message and f.message != g.note and f.verdict != "correct":
            lines.append(f"- {f.message}")
        if f.hint:
            lines.append(t["hint"].format(hint=f.hint))
        lines.append("")
    return "\n".join(lines)
