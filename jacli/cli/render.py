"""Rendering results for people (Rich, on a terminal) and for programs (plain, csv, json, latex).

Rich is imported only when a terminal rendering is asked for, so piped runs start fast.
Matrices are written a block of rows at a time (json too), so output takes little memory
beyond the matrix. On a stream whose encoding lacks jacli's notation (``PYTHONIOENCODING=ascii``)
formulas are printed in the ASCII notation (``kron(B', A)``), which reads back the same.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from ..api.derivation import Result, column_label, entry_label, formula_of, latex_line
from ..api.formats import chosen_line, lhs, markdown, python_source, shape_line
from ..errors import JacliError
from ..io.writers import format_rows
from ..sizes import shape_text
from ..syntax.printer import to_text
from .reporting import can_encode
from .terminal import console, is_terminal

if TYPE_CHECKING:  # the checking modules load only for check
    from typing_extensions import TypeIs  # typing.TypeIs from Python 3.13

    from ..api.checking import CheckResult
    from ..api.saving import Derived
    from ..api.sized_check import SizedCheck

EDGE = 3  # entries shown at each end of an abridged axis, as NumPy does


# how a derivative (J, a gradient, H) prints in one format, given the matrix it prints (or None)
View = Callable[[np.ndarray | None], object]


def show(fmt: str, matrix: np.ndarray | None, output: str | None, views: dict[str, View]) -> None:
    """Print a derivative in ``fmt`` (auto: a table on a terminal, plain text when piped) by its
    ``views``; the matrix where one was computed and ``-o`` does not take it (without
    --format); csv prints the matrix alone, and is refused without one."""
    chosen = fmt if fmt != "auto" else ("table" if is_terminal(sys.stdout) else "plain")
    printed = matrix if (output is None or fmt != "auto") else None
    if chosen != "csv":
        views[chosen](printed)
    elif printed is None:
        raise JacliError("--format csv prints the matrix: it needs values (not --symbolic)")
    else:
        write_csv(printed, sys.stdout)


def show_derived(d: Derived, fmt: str, *, output: str | None, symbolic: bool, gradient: bool) -> None:
    """What derive prints: J (or the gradient), its closed form and shape."""
    r, out = d.result, sys.stdout
    views: dict[str, View] = {
        "table": lambda m: write_table(r, console(), matrix=m, gradient=gradient, symbolic=symbolic),
        "plain": lambda m: write_plain(
            r, out, matrix=m, gradient=gradient, symbolic=symbolic or (m is None and output is None)
        ),
        "json": lambda m: write_json(r, m, out, gradient),
        "latex": lambda m: out.write(latex_line(r, gradient) + "\n"),
        "markdown": lambda m: out.write(markdown(r, gradient)),
        "python": lambda m: out.write(python_source(r, gradient)),
    }
    show(fmt, d.shown, output, views)


def json_sizes(shape: tuple[object, ...]) -> list[int | str]:
    return [x if isinstance(x, int) else str(x) for x in shape]


def ascii_only(out: Any) -> bool:
    """Whether ``out`` cannot print jacli's notation (⊗, ᵀ, ×, ∂): then it gets ASCII."""
    return not can_encode(out)


def in_ascii(result: Result) -> Result:
    """``result`` with its formulas and expression in jacli's ASCII notation."""
    blocks = tuple(b._replace(formula=to_text(b.expr, "ascii")) for b in result.blocks)
    expression = to_text(result.problem.expr, "ascii") if result.problem else result.expression
    return result._replace(formula=formula_of(blocks), expression=expression, blocks=blocks)


def ascii_formula(text: str) -> str:
    """A formula jacli printed (or a claimed one), in the ASCII notation when it reads."""
    from ..syntax.parser import parse_formula

    try:
        parts = [to_text(e, "ascii") for e in parse_formula(text)]
    except (JacliError, RecursionError):
        return text
    return parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"


def _gradient_text(result: Result, ascii: bool) -> str | None:
    b = result.blocks[0]
    if not ascii or result.f_shape != (1, 1) or len(result.blocks) != 1 or b.gradient_expr is None:
        return result.gradient_formula
    return to_text(b.gradient_expr, "ascii")


def gradient_lines(result: Result, ascii: bool = False) -> list[str]:
    b = result.blocks[0]
    g = _gradient_text(result, ascii)
    return [
        f"∂f/∂{b.var} = {g}"
        if g
        else f"∂f/∂{b.var}: no closed form found; the numbers are the row of J shaped like {b.var}"
    ]


def write_plain(
    result: Result, out: TextIO, *, matrix: np.ndarray | None, gradient: bool = False, symbolic: bool = False
) -> None:
    ascii = ascii_only(out)
    if ascii:
        result = in_ascii(result)
    chosen = chosen_line(result)
    if symbolic:
        out.write((gradient_lines(result, ascii)[0] if gradient else result.formula) + "\n")
        if chosen:
            out.write(f"# shape: {shape_line(result)}\n# {chosen}\n")
        return
    out.write(f"# J = {lhs(result)} = {result.formula}\n")
    out.write(f"# shape: {shape_line(result)}\n")
    if chosen:
        out.write(f"# {chosen}\n")
    if gradient:
        out.write(f"# {gradient_lines(result, ascii)[0]}\n")
    if matrix is not None:
        write_lines(format_rows(matrix), out)


def write_csv(matrix: np.ndarray, out: TextIO) -> None:
    write_lines(format_rows(matrix, sep=","), out)


CHUNK = 1 << 20  # characters written at a time


def write_lines(lines: Iterable[str], out: TextIO) -> None:
    """``lines`` written a megabyte at a time, until they end or the stream is lost (a reader
    that left, a full disk: :class:`jacli.cli.reporting.SafeStream`), when the rest is
    neither formatted nor written."""
    batch: list[str] = []
    size = 0
    for line in lines:
        batch.append(line)
        size += len(line)
        if size >= CHUNK:
            out.write("".join(batch))
            batch, size = [], 0
            if lost(out):
                return
    out.write("".join(batch))


def lost(out: TextIO) -> bool:
    """Whether ``out`` can no longer be written (a :class:`~jacli.cli.reporting.SafeStream` says)."""
    return getattr(out, "lost", None) is not None


def _json_head(result: Result, gradient: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "expression": result.expression,
        "wrt": [b.var for b in result.blocks],
        "formula": result.formula,
        "latex": result.latex,
        "blocks": [{"wrt": b.var, "formula": b.formula, "shape": json_sizes(b.var_shape)} for b in result.blocks],
        "shape": json_sizes(result.shape),
        "vec": result.vec,
    }
    if gradient:
        doc["gradient_formula"] = result.gradient_formula
    return doc


def _json_rows(matrix: np.ndarray) -> Iterator[str]:
    """The rows of ``matrix`` as JSON, a block of rows at a time: ``[1.0, 2.0], [3.0, 4.0]``."""
    import json

    rows, cols = matrix.shape
    step = max(1, (1 << 13) // max(cols, 1))
    for start in range(0, rows, step):
        yield ("" if start == 0 else ", ") + json.dumps((matrix[start : start + step] + 0.0).tolist())[1:-1]


def to_json(result: Result, matrix: np.ndarray | None, gradient: bool = False) -> str:
    """The result as one JSON object (the matrix under "matrix", or "gradient")."""
    import json

    doc = _json_head(result, gradient)
    if matrix is not None:
        doc["gradient" if gradient else "matrix"] = (matrix + 0.0).tolist()  # -0.0 as 0.0
    return json.dumps(doc, ensure_ascii=False)


def write_json(result: Result, matrix: np.ndarray | None, out: TextIO, gradient: bool = False) -> None:
    """:func:`to_json` and a newline written to ``out``, the matrix a block of rows at a time
    (the same text; memory beyond the matrix stays at one block)."""
    write_document(_json_head(result, gradient), "gradient" if gradient else "matrix", matrix, out)


def write_document(doc: dict[str, Any], key: str, matrix: np.ndarray | None, out: TextIO) -> None:
    """``doc`` as one JSON line with ``matrix`` (if any) last under ``key``, written a block
    of rows at a time."""
    import json

    head = json.dumps(doc, ensure_ascii=ascii_only(out))
    if matrix is None:
        out.write(head + "\n")
        return
    out.write(head[:-1] + f', "{key}": [')
    write_lines(_json_rows(np.asarray(matrix).reshape(matrix.shape[0], -1)), out)
    out.write("]}\n")


def write_table(
    result: Result, console: Any, *, matrix: np.ndarray | None, gradient: bool = False, symbolic: bool = False
) -> None:
    from rich.table import Table
    from rich.text import Text

    ascii = not can_encode(console.file)
    if ascii:
        result = in_ascii(result)
    console.print(Text.assemble(("J", "bold"), f" = {lhs(result)} = ", (result.formula, "bold cyan")))
    console.print(Text(f"shape {shape_line(result)}", style="dim"))
    chosen = chosen_line(result)
    if chosen:
        console.print(Text(chosen, style="dim"))
    if gradient:
        console.print(Text(gradient_lines(result, ascii)[0], style="bold"))
    if result.problem and result.problem.randomized:
        console.print(Text(f"random values for {', '.join(result.problem.randomized)} (--seed)", style="yellow"))
    if matrix is None or symbolic:
        return
    row_label: Callable[[int], str]
    col_label: Callable[[int], str]
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


def _abridge(n: int, edge: int) -> list[int | None]:
    if n <= 2 * edge + 1:
        return list(range(n))
    return list(range(edge)) + [None] + list(range(n - edge, n))


# -- check --------------------------------------------------------------------------------
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
