"""class.html: the class at a glance, one self-contained page (``manualnn[report]``).

How many students made each catalogued mistake, per function; the verdicts per function;
the distribution of totals; every student's row.  The pictures are matplotlib figures
carried inline as PNG data URIs and the page has no script, like a run's report
(io/report.py renders both from io/templates/).
"""

from __future__ import annotations

import collections
import os

import numpy as np

from manualnn.io import report
from manualnn.learn.course.grades import VERDICTS

TEMPLATE = "class.html.j2"
COLOURS = {"correct": "#4caf50", "mistake": "#e53935", "unknown": "#ffb300",
           "error": "#8e24aa", "refused": "#546e7a", "missing": "#bdbdbd"}


def mistake_counts(grades: list) -> collections.Counter:
    """{(function, mistake id): number of students whose verdict named it}."""
    return collections.Counter((f.function, f.mistake) for g in grades for f in g.functions
                               if f.mistake)


def verdict_counts(course, grades: list) -> dict:
    """{function: {verdict: number of students}}, every verdict present (0 if none)."""
    counts = {name: dict.fromkeys(VERDICTS, 0) for name in course.functions}
    for g in grades:
        for f in g.functions:
            counts[f.function][f.verdict] += 1
    return counts


def class_page(course, grades: list) -> str:
    """The HTML text of class.html for ``grades`` (StudentGrade list, sorted by id)."""
    from manualnn.learn.course.adapter import describe_mistake
    percents = np.array([100 * g.total / course.max_points for g in grades])
    verdicts = verdict_counts(course, grades)
    mistakes = mistake_counts(grades)
    page = {
        "title": f"Class report: {os.path.basename(os.path.abspath(course.path))}",
        "cards": _cards(grades, percents),
        "functions": [{"name": name, "weight": f"{course.weights[name]:g}",
                       "counts": [verdicts[name][v] for v in VERDICTS],
                       "mean": f"{np.mean([_points(g, name) for g in grades]):.2f}"}
                      for name in course.functions],
        "verdict_names": VERDICTS,
        "verdicts_picture": _verdicts_figure(course, verdicts),
        "mistakes": [{"function": fn, "id": mid, "count": n, "text": describe_mistake(mid)}
                     for (fn, mid), n in sorted(mistakes.items(), key=lambda kv: (-kv[1], kv[0]))],
        "mistakes_picture": _mistakes_figure(mistakes) if mistakes else None,
        "totals_picture": _totals_figure(percents),
        "students": [{"id": g.student, "points": [f"{f.points:.2f}" for f in g.functions],
                      "total": f"{g.total:.2f}", "percent": f"{p:.1f}", "note": g.note}
                     for g, p in zip(grades, percents)],
        "function_names": course.functions,
        "max_points": f"{course.max_points:g}",
    }
    return report.render(page, TEMPLATE)


def _points(g, name: str) -> float:
    return next(f.points for f in g.functions if f.function == name)


def _cards(grades, percents) -> list:
    graded = [g for g in grades if not g.note]
    full = sum(1 for p in percents if p >= 100 - 1e-9)
    cards = [("students", len(grades)), ("graded", len(graded)),
             ("mean total", f"{percents.mean():.1f}%" if len(percents) else "-"),
             ("median total", f"{np.median(percents):.1f}%" if len(percents) else "-"),
             ("full marks", full)]
    return [{"value": v, "label": label} for label, v in cards]


def _verdicts_figure(course, verdicts) -> str:
    """Stacked horizontal bars: per function, how many students got each verdict."""
    _, plt = report.require()
    names = list(course.functions)
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(names) + 1.2))
    left = np.zeros(len(names))
    for v in VERDICTS:
        counts = np.array([verdicts[n][v] for n in names])
        if counts.any():
            ax.barh(names, counts, left=left, color=COLOURS[v], label=v)
            left += counts
    ax.invert_yaxis()
    ax.set_xlabel("students")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    fig.tight_layout()
    return report.figure_uri(fig)


def _mistakes_figure(mistakes) -> str:
    """Horizontal bars: the students who made each catalogued mistake, most common first."""
    _, plt = report.require()
    items = sorted(mistakes.items(), key=lambda kv: (-kv[1], kv[0]))
    labels = [f"{fn}: {mid}" for (fn, mid), _ in items]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(items) + 1.2))
    ax.barh(labels, [n for _, n in items], color=COLOURS["mistake"])
    ax.invert_yaxis()
    ax.set_xlabel("students")
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    return report.figure_uri(fig)


def _totals_figure(percents) -> str:
    """The distribution of totals, in percent of the course's points, 10-point bins."""
    _, plt = report.require()
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.hist(percents, bins=np.linspace(0, 100, 11), color="#4a90d9", edgecolor="white")
    ax.set_xlabel("total (% of the course's points)")
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    return report.figure_uri(fig)
