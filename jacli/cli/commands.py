"""What each command does, between the argument parsing of :mod:`jacli.cli.app` and the
library: call the library, print the result. Nothing is computed here."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..api import Problem, prepare
from ..api.saving import Derived, Request, derive_request, latex_line
from ..calculus.shapes import UNKNOWN
from ..errors import ExitCode, JacliError
from ..io.specs import Binding
from ..io.writers import atomic_write, check_output_path
from ..syntax.parser import parse
from ..syntax.printer import to_text
from .progress import LazyBar
from .render import check_record, describe, to_json, write_csv, write_plain, write_table
from .terminal import is_terminal

if TYPE_CHECKING:  # the checking module loads only for check
    from ..api.checking import CheckResult


def warn(problem: Problem) -> None:
    for w in problem.warnings:
        sys.stderr.write(f"jacli: warning: {w}\n")


def console() -> Any:
    """Rich on stdout; with NO_COLOR set, no styling escapes at all (bold and dim too)."""
    from rich.console import Console

    return Console(highlight=False, color_system=None if os.environ.get("NO_COLOR") else "auto")


# -- derive ------------------------------------------------------------------------------
def do_derive(
    expr: str, bindings: dict[str, Binding], *, random: bool = False, seed: int = 0, fmt: str = "auto", **options: Any
) -> Derived:
    """The library's derive for the command line: the request checked first, warnings told.
    ``--format latex`` prints the formula only: without ``-o`` (or with ``-o F.tex``) it
    needs shapes only, as ``--symbolic`` does."""
    output = options.get("output")
    if fmt == "latex" and (not output or output.lower().endswith(".tex")):
        options["symbolic"] = True
    request = Request.checked(in_memory=fmt not in ("auto", "latex"), **options)
    problem = prepare(expr, bindings, random=random, seed=seed)
    warn(problem)
    return derive_request(problem, request)


def run_derive(
    expr: str,
    bindings: dict[str, Binding],
    *,
    fmt: str,
    output: str | None,
    symbolic: bool,
    gradient: bool,
    **options: Any,
) -> None:
    d = do_derive(expr, bindings, fmt=fmt, output=output, symbolic=symbolic, gradient=gradient, **options)
    result = d.result
    chosen = fmt if fmt != "auto" else ("table" if is_terminal(sys.stdout) else "plain")
    printed = d.shown if (output is None or fmt != "auto") else None
    if chosen == "table":
        write_table(result, console(), matrix=printed, gradient=gradient, symbolic=symbolic)
    elif chosen == "plain":
        write_plain(
            result,
            sys.stdout,
            matrix=printed,
            gradient=gradient,
            symbolic=symbolic or (printed is None and output is None),
        )
    elif chosen == "csv":
        if printed is None:
            raise JacliError("--format csv prints the matrix: it needs values (not --symbolic)")
        write_csv(printed, sys.stdout)
    elif chosen == "json":
        sys.stdout.write(to_json(result, printed, gradient) + "\n")
    elif chosen == "latex":
        sys.stdout.write(latex_line(result, gradient) + "\n")
    if d.wrote:  # after the formula, so that on a terminal the last line says where it went
        sys.stdout.flush()
        sys.stderr.write(f"jacli: wrote {d.wrote}\n")
    for w in d.warnings:
        sys.stderr.write(f"jacli: warning: {w}\n")


# -- parse -------------------------------------------------------------------------------
def run_parse(expr: str, bindings: dict[str, Binding]) -> None:
    parsed = parse(expr, require_wrt=False)
    print(to_text(parsed.expr, "parens") + (f" wrt {', '.join(parsed.wrt)}" if parsed.wrt else ""))
    try:
        problem = prepare(expr, bindings, require_wrt=False)
    except JacliError as err:
        if not err.message.startswith(UNKNOWN):
            raise
        print(f"shapes: not all known ({err.message})")
        return
    p, q = problem.shape
    names = ", ".join(f"{n} {r}×{c}" for n, (r, c) in problem.names.items())
    print(f"shape: {p}×{q}; {names}")


# -- check -------------------------------------------------------------------------------
def do_check(
    expr: str,
    bindings: dict[str, Binding],
    *,
    against: str | None = None,
    tol: float = 1e-8,
    seed: int = 0,
    save_values: str | None = None,
    vec: str = "col",
    method: str = "complex",
    max_bytes: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CheckResult:
    """Check, save the values used if asked; print nothing but warnings."""
    from ..api.checking import check_problem

    if save_values and check_output_path(save_values) != ".npz":
        raise JacliError("--save-values writes a .npz file")
    problem = prepare(expr, bindings, random=True, seed=seed)
    warn(problem)
    result = check_problem(
        problem,
        against=against.strip() if against is not None else None,
        tol=tol,
        vec=vec,
        method=method,
        max_bytes=max_bytes,
        seed=seed,
        progress=progress,
    )
    if save_values:
        atomic_write(save_values, lambda f: np.savez(f, **result.values))  # type: ignore[arg-type]
    return result


def run_check(expr: str, bindings: dict[str, Binding], *, fmt: str, **options: Any) -> int:
    """Check and print the report; the exit code is the verdict's, whether or not the report
    could be written (a reader gone, ``| true``, a full disk)."""
    import json

    from .output import Output

    with LazyBar("check") as bar:
        result = do_check(expr, bindings, progress=bar.update, **options)
    code = ExitCode.OK if result.agree else ExitCode.DISAGREE
    out = Output()
    lines = describe(result)
    if fmt == "json":
        out.write(json.dumps(check_record(result)) + "\n")
    elif fmt == "table" or (fmt == "auto" and is_terminal(sys.stdout)):
        from rich.text import Text

        terminal = console()
        try:
            terminal.print(Text(lines[0], style="bold green" if result.agree else "bold red"))
            for line in lines[1:]:
                terminal.print(Text(line, style="red" if "DISAGREES" in line or ": the claimed" in line else ""))
        except OSError as err:
            out.gone(err)
    else:
        out.write("\n".join(lines) + "\n")
    out.flush()
    return code
