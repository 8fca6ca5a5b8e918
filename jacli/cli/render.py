"""Rendering results for people (Rich, on a terminal) and for programs (plain, csv, json, latex).

Rich is imported only when a terminal rendering is asked for, so piped runs start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from ..api.derivation import Result, column_label, entry_label
from ..io.writers import format_rows

if TYPE_CHECKING:  # the checking module loads only for check
    from ..api.checking import CheckResult

EDGE = 3  # entries shown at each end of an abridged axis, as NumPy does


def lhs(result: Result) -> str:
    vec = "vec" if result.vec == "col" else "vecᵣ"
    vars_ = ", ".join(f"{vec}({b.var})" for b in result.blocks)
    return f"∂{vec}(F)/∂{vars_}" if len(result.blocks) == 1 else f"∂{vec}(F)/∂[{vars_}]"


def shape_line(result: Result) -> str:
    f = f"{result.f_shape[0]}×{result.f_shape[1]}"
    vec = "vec" if result.vec == "col" else "vecᵣ"
    xs = ", ".join(f"{vec} {b.var}, {b.var} {b.var_shape[0]}×{b.var_shape[1]}" for b in result.blocks)
    rows, cols = result.shape
    return f"{rows}×{cols} (rows: {vec} F, F = {result.expression} is {f}; columns: {xs})"


def gradient_lines(result: Result) -> list[str]:
    b = result.blocks[0]
    g = result.gradient_formula
    return [
        f"∂f/∂{b.var} = {g}"
        if g
        else f"∂f/∂{b.var}: no closed form found; the numbers are the row of J shaped like {b.var}"
    ]


def write_plain(
    result: Result, out: TextIO, *, matrix: np.ndarray | None, gradient: bool = False, symbolic: bool = False
) -> None:
    if symbolic:
        out.write((gradient_lines(result)[0] if gradient else result.formula) + "\n")
        return
    out.write(f"# J = {lhs(result)} = {result.formula}\n")
    out.write(f"# shape: {shape_line(result)}\n")
    if gradient:
        out.write(f"# {gradient_lines(result)[0]}\n")
    if matrix is not None:
        for line in format_rows(matrix):
            out.write(line)


def write_csv(matrix: np.ndarray, out: TextIO) -> None:
    for line in format_rows(matrix, sep=","):
        out.write(line)


def to_json(result: Result, matrix: np.ndarray | None, gradient: bool = False) -> str:
    import json

    doc: dict[str, Any] = {
        "expression": result.expression,
        "wrt": [b.var for b in result.blocks],
        "formula": result.formula,
        "latex": result.latex,
        "blocks": [{"wrt": b.var, "formula": b.formula, "shape": list(b.var_shape)} for b in result.blocks],
        "shape": list(result.shape),
        "vec": result.vec,
    }
    if gradient:
        doc["gradient_formula"] = result.gradient_formula
    if matrix is not None:
        doc["gradient" if gradient else "matrix"] = (matrix + 0.0).tolist()  # -0.0 as 0.0
    return json.dumps(doc, ensure_ascii=False)


def write_table(
    result: Result, console: Any, *, matrix: np.ndarray | None, gradient: bool = False, symbolic: bool = False
) -> None:
    from rich.table import Table
    from rich.text import Text

    console.print(Text.assemble(("J", "bold"), f" = {lhs(result)} = ", (result.formula, "bold cyan")))
    console.print(Text(f"shape {shape_line(result)}", style="dim"))
    if gradient:
        console.print(Text(gradient_lines(result)[0], style="bold"))
    if result.problem and result.problem.randomized:
        console.print(Text(f"random values for {', '.join(result.problem.randomized)} (--seed)", style="yellow"))
    if matrix is None or symbolic:
        return
    if gradient:
        b = result.blocks[0]
        row_label = lambda i: f"{b.var}[{i},·]"  # noqa: E731
        col_label = lambda j: f"[·,{j}]"  # noqa: E731
    else:
        row_label = lambda i: entry_label("F", i, result.f_shape, result.vec)  # noqa: E731
        variables = {b.var: b.var_shape for b in result.blocks}
        col_label = lambda j: column_label(variables, j, result.vec)  # noqa: E731
    rows, cols = matrix.shape
    width = max(console.width - 10, 40)
    fit = max(2, width // 10)
    big = matrix.size > 1000
    row_idx = _abridge(rows, EDGE if big else rows)
    col_idx = _abridge(cols, min(EDGE if big else cols, fit // 2) if cols > fit or big else cols)
    table = Table(show_edge=False, box=None, pad_edge=False, header_style="dim")
    table.add_column("", style="dim", no_wrap=True)
    for j in col_idx:
        table.add_column("…" if j is None else col_label(j), justify="right", no_wrap=True)
    for i in row_idx:
        if i is None:
            table.add_row("⋮", *["⋮" if j is not None else "⋱" for j in col_idx])
            continue
        cells: list[Any] = []
        for j in col_idx:
            if j is None:
                cells.append("…")
                continue
            v = matrix[i, j]
            cells.append(Text("0", style="dim") if v == 0 else Text(f"{v:.4g}"))
        table.add_row(row_label(i), *cells)
    console.print(table)


def _abridge(n: int, edge: int) -> list:
    if n <= 2 * edge + 1:
        return list(range(n))
    return list(range(edge)) + [None] + list(range(n - edge, n))


# -- check --------------------------------------------------------------------------------
def describe(result: CheckResult) -> list[str]:
    """The check's report as plain lines."""
    verdict = "agree" if result.agree else "disagree"
    lines = [f"{verdict}: {result.expression} wrt {', '.join(result.wrt)} (J {result.shape[0]}×{result.shape[1]})"]
    for c in result.comparisons:
        if c.note:
            lines.append(f"  {c.label} {c.formula}: {c.note}")
        else:
            lines.append(
                f"  {c.label} {c.formula}: {'agrees' if c.agree else 'DISAGREES'}, "
                f"max abs diff {c.max_abs:.3g}, max rel diff {c.max_rel:.3g}, at {c.where}"
            )
    if result.directions:
        rows, cols = result.shape
        lines.append(
            f"  numerical: {result.method} along {result.directions} random directions v "
            f"(J v row by row, and uᵀ J v; J, {rows:,}×{cols:,}, not formed), error estimate "
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


def check_record(result: CheckResult) -> dict:
    """The check as a JSON object."""
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
