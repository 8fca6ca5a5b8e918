"""``jacli hessian`` and ``check --hessian``: the pipeline's Hessian, printed as derive prints a
Jacobian, and its check's report."""

from __future__ import annotations

import sys
from typing import Any, TextIO

import numpy as np

from ..api.derivation import entry_label
from ..api.hessians import Hessian, HessianCheck, Saved, hessian_latex, hessian_markdown, hessian_python, lhs
from ..api.hessians import shape_line as shape_line
from ..io.writers import format_rows
from ..sizes import shape_text
from ..syntax.printer import to_text
from .render import View, ascii_formula, ascii_only, json_sizes, show, write_document, write_lines
from .terminal import console


def show_hessian(saved: Saved, fmt: str, output: str | None, symbolic: bool) -> None:
    """What hessian prints, as derive prints J: H, its closed form and shape."""
    h, out = saved.hessian, sys.stdout
    if ascii_only(out) and fmt not in ("latex", "markdown", "python"):  # jacli's ASCII notation
        h = h._replace(formula=ascii_formula(h.formula))
    views: dict[str, View] = {
        "table": lambda m: write_table(h, m),
        "plain": lambda m: write_plain(h, out, m, symbolic=symbolic or (m is None and output is None)),
        "json": lambda m: write_document(json_head(h), "matrix", m, out),
        "latex": lambda m: out.write(hessian_latex(h) + "\n"),
        "markdown": lambda m: out.write(hessian_markdown(h)),
        "python": lambda m: out.write(hessian_python(h)),
    }
    show(fmt, saved.shown, output, views)


def write_plain(h: Hessian, out: TextIO, matrix: np.ndarray | None, *, symbolic: bool) -> None:
    if symbolic:
        out.write(h.formula + "\n")
        return
    out.write(f"# H = {lhs(h)} = {h.formula}\n")
    out.write(f"# shape: {shape_line(h)}\n")
    if matrix is not None:
        write_lines(format_rows(matrix), out)


def json_head(h: Hessian) -> dict[str, Any]:
    """The Hessian's JSON object but its matrix."""
    return {
        "expression": to_text(h.problem.expr),
        "wrt": list(h.problem.wrt),
        "hessian_formula": h.formula,
        "latex": h.latex,
        "blocks": [[b.formula for b in row] for row in h.rows],
        "shape": json_sizes(h.shape),
        "stacked": h.stacked,
        "vec": h.vec,
    }


def write_table(h: Hessian, matrix: np.ndarray | None) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    out.print(Text.assemble(("H", "bold"), f" = {lhs(h)} = ", (h.formula, "bold cyan")))
    out.print(Text(f"shape {shape_line(h)}", style="dim"))
    if h.problem.randomized:
        out.print(Text(f"random values for {', '.join(h.problem.randomized)} (--seed)", style="yellow"))
    if matrix is None:
        return
    labels = [entry_label(n, k, h.problem.names[n], h.vec) for n in h.problem.wrt for k in range(_size(h, n))]
    rows, cols = matrix.shape
    show_r = list(range(rows)) if rows <= 12 else [*range(3), None, *range(rows - 3, rows)]
    show_c = list(range(cols)) if cols <= 8 else [*range(3), None, *range(cols - 3, cols)]
    table = Table(show_edge=False, box=None, pad_edge=False, header_style="dim")
    table.add_column("", style="dim", no_wrap=True)
    for j in show_c:
        table.add_column("…" if j is None else labels[j], justify="right", no_wrap=True)
    for i in show_r:
        if i is None:
            table.add_row("⋮", *["⋮" for _ in show_c])
            continue
        label = labels[i % cols]
        if h.stacked:
            label = f"{entry_label('F', i // cols, h.problem.shape, h.vec)} {label}"
        table.add_row(label, *["…" if j is None else f"{matrix[i, j]:.6g}" for j in show_c])
    out.print(table)


def _size(h: Hessian, n: str) -> int:
    r, c = h.problem.names[n]
    return int(r) * int(c)


# -- check --hessian ---------------------------------------------------------------------------
def describe_check(c: HessianCheck) -> list[str]:
    """The report of ``check --hessian``: the verdict, the first derivative's check in one
    line, each row block's comparisons, the numerical method, the asymmetry."""
    from .render import describe

    h = c.hessian
    what = "stacked Hessian" if h.stacked else "Hessian"
    lines = [
        f"{'agree' if c.agree else 'disagree'}: the {what} of {to_text(h.problem.expr)} wrt "
        f"{', '.join(h.problem.wrt)} (H {shape_text(h.shape)})"
    ]
    first = describe(c.first)
    lines.append(f"  first derivative: {first[0].split(':')[0]}s with the numerical derivative of F ({c.first.method})")
    for var, row in zip(h.problem.wrt, c.rows, strict=False):
        body = describe(row)[1:]
        for line in body:
            if line.startswith("  random"):
                continue
            line = line.replace("  jacli ", "  jacli H = ", 1).replace("numerical: ", "numerical, of the gradient: ")
            lines.append(line if h.stacked else line.replace(" at dF[", f" at d(∂f/∂{var})["))
    if c.asymmetry is not None:
        lines.append(f"  asymmetry of jacli's H: max|H - Hᵀ| / max(1, max|H|) = {c.asymmetry:.2g}")
    if h.problem.randomized:
        lines.append(f"  random values for {', '.join(h.problem.randomized)}")
    return lines


def check_record(c: HessianCheck) -> dict[str, Any]:
    from .render import check_record as first_record

    parts = [first_record(c.first), *[first_record(r) for r in c.rows]]
    worst = next((r for r in parts if r["verdict"] != "agree"), parts[-1])
    return {
        "verdict": "agree" if c.agree else "disagree",
        "max_abs_diff": worst["max_abs_diff"],
        "max_rel_diff": worst["max_rel_diff"],
        "where": worst["where"],
        "comparisons": worst["comparisons"],
        "expression": to_text(c.hessian.problem.expr),
        "wrt": list(c.hessian.problem.wrt),
        "hessian_formula": c.hessian.formula,
        "shape": json_sizes(c.hessian.shape),
        "first_derivative": parts[0],
        "rows": parts[1:],
        "asymmetry": c.asymmetry,
    }
