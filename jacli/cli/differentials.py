"""``derive --differential`` (dF in matrix form) and ``derive --direction NAME=SPEC`` (dF along
a direction, shaped like F, without forming J): the pipeline's, printed."""

from __future__ import annotations

import sys
from typing import Any

from ..api import pipeline
from ..api.formats import note
from ..api.request import Request
from ..errors import JacliError
from ..io.writers import check_output_path, format_rows
from ..syntax.printer import to_text
from .render import write_lines
from .terminal import console, is_terminal, told


def run_differential(request: Request, fmt: str) -> None:
    o = request.options
    if fmt == "python" or (o.directions and fmt == "markdown"):
        raise JacliError(
            f"--format {fmt} writes J or the gradient; --differential prints dF (as text, latex"
            f"{' or markdown' if not o.directions else ''}) and --direction its numbers"
        )
    if o.directions and o.output and check_output_path(o.output) in (".md", ".py"):
        raise JacliError(f"--direction saves numbers: -o {o.output} holds a formula (use .npy, .csv, .txt or .json)")
    if not o.directions:
        got = pipeline.differential(request)
        _print_differential(got.problem, got.differential, got.latex, fmt, o.output)
        told(got.wrote)
        return
    along = pipeline.direction(request)
    _print(along.matrix, along.head, along.differential, fmt, printed=o.output is None or fmt != "auto")
    told(along.wrote)


def _print(dF: Any, head: list[str], d: Any, fmt: str, printed: bool) -> None:
    chosen = fmt if fmt != "auto" else ("table" if is_terminal(sys.stdout) else "plain")
    if chosen == "json":
        import json

        doc = {"differential": d.formula, "latex": d.latex, "matrix": (dF + 0.0).tolist()}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    elif chosen == "latex":
        sys.stdout.write(d.latex + "\n")
    elif chosen == "csv":
        write_lines(format_rows(dF, ","), sys.stdout)
    elif chosen == "table":
        from rich.text import Text

        out = console()
        for line in head:
            out.print(Text(line))
        if printed:
            out.print(Text("\n".join(" ".join(f"{x:.4g}" for x in row) for row in dF.tolist())))
    else:
        sys.stdout.write("".join(f"# {line}\n" for line in head))
        if printed:
            write_lines(format_rows(dF), sys.stdout)


def _print_differential(problem: Any, d: Any, latex: str, fmt: str, output: str | None) -> None:
    """dF in ``fmt``: text, LaTeX, Markdown or JSON."""
    if fmt == "latex":
        sys.stdout.write(latex + "\n")
    elif fmt == "markdown":
        sys.stdout.write(note(latex, []))
    elif fmt == "json":
        import json

        doc = {
            "expression": to_text(problem.expr),
            "wrt": list(problem.wrt),
            "differential": d.formula,
            "latex": latex,
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    elif output is None or fmt != "auto":
        sys.stdout.write(d.text() + "\n")
