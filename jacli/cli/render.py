"""Rendering results for people (Rich, on a terminal) and for programs (plain, csv, json, latex).

Rich is imported only when a terminal rendering is asked for, so piped runs start fast.
Matrices are written a block of rows at a time (json too), so output takes little memory
beyond the matrix. On a stream whose encoding lacks jacli's notation (``PYTHONIOENCODING=ascii``)
formulas are printed in the ASCII notation (``kron(B', A)``), which reads back the same.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from ..api.derivation import Result, column_label, entry_label, formula_of, latex_line
from ..api.formats import chosen_line, lhs, markdown, python_source, shape_line
from ..errors import JacliError
from ..io.writers import format_rows, json_rows
from ..numeric.mapped import free_columns
from ..syntax.printer import to_text
from .checks import check_record as check_record
from .checks import describe as describe
from .reporting import can_encode
from .spelling import ascii_formula as ascii_formula
from .spelling import ascii_only as ascii_only
from .spelling import json_sizes as json_sizes
from .terminal import console, is_terminal

if TYPE_CHECKING:
    from ..api.saving import Derived

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
    if gradient and len(r.blocks) > 1:
        return _show_gradients(d, fmt, output=output, symbolic=symbolic)
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


def _show_gradients(d: Derived, fmt: str, *, output: str | None, symbolic: bool) -> None:
    """The gradients of several names, one after the other as each alone prints (JSON: one
    object with the list of them)."""
    if fmt == "csv":
        raise JacliError("--format csv prints one matrix: give one name after wrt, or use --format plain")
    if fmt == "python":
        raise JacliError("--format python writes the gradient of one name: give one name after wrt")
    if fmt == "json":
        import json

        parts = d.result.parts()
        doc = {**_json_head(d.result, False), "gradients": [_json_gradient(p, d.shown is not None) for p in parts]}
        sys.stdout.write(json.dumps(doc, ensure_ascii=ascii_only(sys.stdout)) + "\n")
        return
    for k, part in enumerate(d.result.parts()):
        if k and fmt == "markdown":
            sys.stdout.write("\n")  # a blank line between the notes
        shown = part.gradient if d.shown is not None else None
        show_derived(d._replace(result=part, shown=shown), fmt, output=output, symbolic=symbolic, gradient=True)


def _json_gradient(part: Result, numbers: bool) -> dict[str, Any]:
    got = part.gradient if numbers else None
    doc: dict[str, Any] = {"wrt": part.blocks[0].var, "gradient_formula": part.gradient_formula}
    return doc if got is None else {**doc, "gradient": (got + 0.0).tolist()}


def in_ascii(result: Result) -> Result:
    """``result`` with its formulas and expression in jacli's ASCII notation."""
    blocks = tuple(b._replace(formula=to_text(b.expr, "ascii")) for b in result.blocks)
    expression = to_text(result.problem.expr, "ascii") if result.problem else result.expression
    return result._replace(formula=formula_of(blocks), expression=expression, blocks=blocks)


def _gradient_text(result: Result, ascii: bool) -> str | None:
    b = result.blocks[0]
    if not ascii or result.f_shape != (1, 1) or len(result.blocks) != 1 or b.gradient_expr is None:
        return result.gradient_formula
    return to_text(b.gradient_expr, "ascii")


def gradient_lines(result: Result, ascii: bool = False) -> list[str]:
    """``∂f/∂X = G``; for a symmetric S, the two conventions, each with what it is."""
    b = result.blocks[0]
    g = _gradient_text(result, ascii)
    if not g:
        return [f"∂f/∂{b.var}: no closed form found; the numbers are the row of J shaped like {b.var}"]
    if b.structure != "sym" or b.partials_expr is None:
        return [f"∂f/∂{b.var} = {g}"]
    partials = to_text(b.partials_expr, "ascii" if ascii else "unicode")
    return [
        f"∂f/∂{b.var} = {g}",
        "(the gradient in the Frobenius inner product on symmetric matrices, sym(G) = (G + Gᵀ)/2 for G the "
        "gradient over all entries; the numbers and -o are this one)",
        f"∂f/∂vech({b.var}) = {partials}",
        f"(the partial derivatives with respect to the free entries vech({b.var}), shaped like {b.var}: "
        f"D(n)ᵀ vec(G), the Matrix Cookbook's 2G - G ∘ I)",
    ]


def write_plain(
    result: Result, out: TextIO, *, matrix: np.ndarray | None, gradient: bool = False, symbolic: bool = False
) -> None:
    ascii = ascii_only(out)
    if ascii:
        result = in_ascii(result)
    chosen = chosen_line(result)
    if symbolic:
        lines = gradient_lines(result, ascii) if gradient else [result.formula]
        out.write("".join(line + "\n" if i % 2 == 0 else f"# {line}\n" for i, line in enumerate(lines)))
        if chosen:
            out.write(f"# shape: {shape_line(result)}\n# {chosen}\n")
        return
    out.write(f"# J = {lhs(result)} = {result.formula}\n")
    out.write(f"# shape: {shape_line(result)}\n")
    if chosen:
        out.write(f"# {chosen}\n")
    if gradient:
        out.write("".join(f"# {line}\n" for line in gradient_lines(result, ascii)))
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
        b = result.blocks[0]
        if b.structure == "sym" and b.partials_expr is not None:
            doc["partials_formula"] = to_text(b.partials_expr)  # over vech(S), shaped like S
    return doc


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
    write_lines(json_rows(np.asarray(matrix).reshape(matrix.shape[0], -1)), out)
    out.write("]}\n")


def write_table(
    result: Result, console: Any, *, matrix: np.ndarray | None, gradient: bool = False, symbolic: bool = False
) -> None:
    from rich.measure import Measurement
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
        for k, line in enumerate(gradient_lines(result, ascii)):
            console.print(Text(line, style="bold" if k % 2 == 0 else "dim"))
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
        k = result.blocks[0].vech_of
        if k is not None:  # rows over vech(F): F's lower triangle
            lower, _ = free_columns("lower", int(k))
            row_label = lambda i: entry_label("F", int(lower[i]), (int(k), int(k)), "col")  # noqa: E731
        variables = {b.var: b.var_shape for b in result.blocks}
        structures = result.problem.structures if result.problem is not None else None
        col_label = lambda j: column_label(variables, j, result.vec, structures)  # noqa: E731
    rows, cols = matrix.shape
    big = matrix.size > 1000
    row_idx = _abridge(rows, EDGE if big else rows)

    def table_of(col_idx: list[int | None]) -> Any:
        table = Table(show_edge=False, box=None, pad_edge=False, header_style="dim")
        table.add_column("", style="dim", no_wrap=True)
        for j in col_idx:
            table.add_column("…" if j is None else col_label(j), justify="right", no_wrap=True)
        for i in row_idx:
            if i is None:
                table.add_row("⋮", *["⋮" if j is not None else "⋱" for j in col_idx])
                continue
            cells = [
                "…" if j is None else Text("0", style="dim") if matrix[i, j] == 0 else Text(f"{matrix[i, j]:.4g}")
                for j in col_idx
            ]
            table.add_row(row_label(i), *cells)
        return table

    whole = None if big else table_of(list(range(cols)))  # every column, where the terminal is wide enough
    wide = console.options.update_width(1 << 20)  # measured unclamped (Rich clamps to the width it is given)
    if whole is not None and Measurement.get(console, wide, whole).maximum <= console.width:
        console.print(whole)
        return
    fit = max(2, max(console.width - 10, 40) // 10)
    console.print(table_of(_abridge(cols, min(EDGE if big else cols, fit // 2) if cols > fit or big else cols)))


def _abridge(n: int, edge: int) -> list[int | None]:
    if n <= 2 * edge + 1:
        return list(range(n))
    return list(range(edge)) + [None] + list(range(n - edge, n))
