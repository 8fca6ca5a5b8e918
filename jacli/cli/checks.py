"""check's report: plain lines (the terminal styles them), and a JSON record (batch's too)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..sizes import shape_text
from .spelling import ascii_formula, ascii_only, json_sizes

if TYPE_CHECKING:  # the checking modules load only for check
    from typing_extensions import TypeIs  # typing.TypeIs from Python 3.13

    from ..api.checking import CheckResult
    from ..api.sized_check import SizedCheck


def describe(result: CheckResult | SizedCheck, ascii: bool | None = None) -> list[str]:
    """The check's report as plain lines; formulas in the ASCII notation when ``ascii`` (by
    default: when stdout cannot print jacli's notation)."""
    if ascii is None:
        ascii = ascii_only(sys.stdout)
    shown = ascii_formula if ascii else _same
    if _sized(result):
        return _describe_sized(result, shown)
    return _describe(result, shown)


def _sized(result: CheckResult | SizedCheck) -> TypeIs[SizedCheck]:
    """Whether the check ran at assignments of the dimension names (told without importing
    the checking modules, which load only for check)."""
    return hasattr(result, "runs")


def _same(text: str) -> str:
    return text


def _sizes_text(a: dict[str, int]) -> str:
    return ", ".join(f"{n}={v}" for n, v in a.items())


def _describe_sized(result: SizedCheck, shown: Callable[[str], str] = _same) -> list[str]:
    """A check at size assignments: the verdict, each assignment in one line, then the
    first disagreement in full."""
    names = ", ".join(result.runs[0][0]) if result.runs else ""
    failing = result.failing
    where = f" at {_sizes_text(failing[0])}" if failing else f" at {len(result.runs)} assignments of {names}"
    lines = [f"{'agree' if failing is None else 'disagree'}: {shown(result.expression)} wrt {', '.join(result.wrt)} "
             f"(J {shape_text(result.shape)}){where}"]  # fmt: skip
    lines.append(f"  jacli's formula: {shown(result.formula)}")
    for a, r in result.runs:
        compared = [c for c in r.comparisons if not c.note and c.max_abs == c.max_abs]
        worst = max((c.max_abs for c in compared), default=0.0)
        labels = ", ".join(_verdict(c) for c in r.comparisons)
        lines.append(f"  sizes {_sizes_text(a)}: {labels}; max abs diff {worst:.3g}")
    if failing is not None:
        lines += [f"  at {_sizes_text(failing[0])}:"] + ["  " + line for line in _describe(failing[1], shown)[1:]]
    return lines


def _verdict(c: Any) -> str:
    """A comparison in a word or two: ``claim agrees``, ``claim has the wrong shape``."""
    if c.note.startswith("wrong shape"):
        return f"{c.label} has the wrong shape"
    if c.note:
        return f"{c.label} cannot be compared"
    return f"{c.label} {'agrees' if c.agree else 'DISAGREES'}"


def _describe(result: CheckResult, shown: Callable[[str], str] = _same) -> list[str]:
    verdict = "agree" if result.agree else "disagree"
    lines = [f"{verdict}: {shown(result.expression)} wrt {', '.join(result.wrt)} (J {shape_text(result.shape)})"]
    for c in result.comparisons:
        if c.note:
            lines.append(f"  {c.label} {shown(c.formula)}: {c.note}")
        else:
            lines.append(
                f"  {c.label} {shown(c.formula)}: {'agrees' if c.agree else 'DISAGREES'}, "
                f"max abs diff {c.max_abs:.3g}, max rel diff {c.max_rel:.3g}, at {c.where}"
            )
    if result.directions:
        rows, cols = result.shape
        lines.append(
            f"  numerical: {result.method} along {result.directions} random directions v "
            f"(J v row by row, uᵀ J v, and rows of J as derive writes them; J, {rows:,}×{cols:,}, "
            f"not formed), error estimate "
            f"{result.error_estimate:.2g}; tolerance {result.threshold:.3g} "
            f"(--tol {result.tol:g} × max(1, max|J v|))"
        )
    else:
        lines.append(
            f"  numerical: {result.method}, error estimate {result.error_estimate:.2g}; "
            f"tolerance {result.threshold:.3g} (--tol {result.tol:g} × max(1, max|J|))"
        )
    if result.randomized:
        lines.append(f"  random values for {', '.join(result.randomized)}")
    return lines


def check_record(result: CheckResult | SizedCheck) -> dict[str, Any]:
    """The check as a JSON object."""
    if _sized(result):
        sized: SizedCheck = result
        a, worst = sized.failing or sized.runs[-1]
        return {
            **_check_record(worst),
            "verdict": "agree" if sized.agree else "disagree",
            "shape": json_sizes(sized.shape),
            "formula": sized.formula,
            "sizes": a,
            "assignments": [{"sizes": a, **_check_record(r)} for a, r in sized.runs],
        }
    return _check_record(result)


def _check_record(result: CheckResult) -> dict[str, Any]:
    worst = max(result.comparisons, key=lambda c: (not c.agree, c.max_abs if c.max_abs == c.max_abs else 0))
    return {
        "verdict": "agree" if result.agree else "disagree",
        "expression": result.expression,
        "wrt": list(result.wrt),
        "shape": list(result.shape),
        "max_abs_diff": _num(worst.max_abs),
        "max_rel_diff": _num(worst.max_rel),
        "where": worst.where or None,
        "tol": result.tol,
        "threshold": result.threshold,
        "method": result.method,
        "directions": result.directions,
        "error_estimate": result.error_estimate,
        "comparisons": [
            {
                "label": c.label,
                "formula": c.formula,
                "agree": c.agree,
                "max_abs_diff": _num(c.max_abs),
                "max_rel_diff": _num(c.max_rel),
                "where": c.where or None,
                "note": c.note or None,
            }
            for c in result.comparisons
        ],
    }


def _num(x: float) -> float | None:
    return None if x != x else x
