"""What each command does, between the argument parsing of :mod:`jacli.cli.app` and the
library: call the library, print the result. Nothing is computed here."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..api import prepare
from ..api.derivation import latex_line
from ..api.formats import FORMULA_FORMATS, markdown, python_source, writable_as_python
from ..api.hessians import HessianCheck
from ..api.problem import with_random
from ..api.saving import Derived, Request, derive_request
from ..calculus.shapes import UNKNOWN
from ..errors import ExitCode, JacliError
from ..io.specs import Binding
from ..io.writers import atomic_write, check_output_path
from ..sizes import shape_text
from ..syntax.parser import parse
from ..syntax.printer import to_text
from .progress import LazyBar
from .render import check_record, describe, write_csv, write_json, write_plain, write_table
from .terminal import console, is_terminal, warn

if TYPE_CHECKING:  # the checking modules load only for check
    from ..api.checking import CheckResult
    from ..api.sized_check import SizedCheck


# -- derive ------------------------------------------------------------------------------
def do_derive(
    expr: str, bindings: dict[str, Binding], *, random: bool = False, seed: int = 0, fmt: str = "auto", **options: Any
) -> Derived:
    """The library's derive for the command line: the request checked first, warnings told.
    A formula printed (``--format latex|markdown|python``) needs shapes only, unless ``-o``
    saves numbers too; no values are drawn for a formula alone."""
    request = Request.checked(in_memory=fmt != "auto", formula=fmt in FORMULA_FORMATS, **options)
    problem = prepare(
        expr,
        bindings,
        random=random and request.numbers,
        seed=seed,
        symbolic=request.symbolic,
        max_bytes=request.max_bytes,
    )
    warn(problem)
    if fmt == "python" and request.output:
        writable_as_python(problem, request.vec, request.gradient)  # refused before anything is saved
    return derive_request(problem, request)


def run_derive(
    expr: str,
    bindings: dict[str, Binding],
    *,
    fmt: str,
    output: str | None,
    symbolic: bool,
    gradient: bool,
    differential: bool = False,
    directions: list[str] | None = None,
    **options: Any,
) -> None:
    if differential or directions:
        from .differentials import run_differential

        if fmt == "python" or (directions and fmt == "markdown"):
            raise JacliError(
                f"--format {fmt} writes J or the gradient; --differential prints dF (as text, latex"
                f"{' or markdown' if not directions else ''}) and --direction its numbers"
            )
        if directions and output and check_output_path(output) in (".md", ".py"):
            raise JacliError(f"--direction saves numbers: -o {output} holds a formula (use .npy, .csv, .txt or .json)")
        return run_differential(
            expr, bindings, fmt=fmt, output=output, directions=directions or [], gradient=gradient, **options
        )
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
        write_json(result, printed, sys.stdout, gradient)
    elif chosen == "latex":
        sys.stdout.write(latex_line(result, gradient) + "\n")
    elif chosen == "markdown":
        sys.stdout.write(markdown(result, gradient))
    elif chosen == "python":
        sys.stdout.write(python_source(result, gradient))

    if d.wrote:  # after the formula, so that on a terminal the last line says where it went
        sys.stdout.flush()
        sys.stderr.write(f"jacli: wrote {d.wrote}\n")
    for w in d.warnings:
        sys.stderr.write(f"jacli: warning: {w}\n")


# -- explain -----------------------------------------------------------------------------
def run_explain(expr: str, bindings: dict[str, Binding], *, fmt: str) -> None:
    """The derivation, with every size that nothing fixes named."""
    from ..api.explaining import explain_problem

    problem = prepare(expr, bindings, symbolic=True)
    warn(problem)
    x = explain_problem(problem)
    sys.stdout.write({"text": x.text, "markdown": x.markdown, "latex": x.latex}[fmt]())


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
    names = ", ".join(f"{n} {shape_text(s)}" for n, s in problem.names.items())
    print(f"shape: {shape_text((p, q))}; {names}")


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
    hessian: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> CheckResult | SizedCheck | HessianCheck:
    """Check, save the values used if asked; print nothing but warnings."""
    from ..api.checking import check_problem

    if save_values is not None and check_output_path(save_values, "values.npz") != ".npz":
        raise JacliError("--save-values writes a .npz file")
    against = against.strip() if against is not None else None  # the space that kept '-...' from Typer
    problem = prepare(expr, bindings, seed=seed)
    warn(problem)
    if hessian:
        from ..api.hessians import check_hessian

        if problem.symbolic:
            raise JacliError("check --hessian needs numbers for the sizes (give shapes such as X=3x4)")
        checked = check_hessian(
            with_random(problem, seed, max_bytes=max_bytes), against=against, tol=tol, vec=vec, method=method,
            max_bytes=max_bytes,
        )  # fmt: skip
        if save_values is not None:
            atomic_write(save_values, lambda f: np.savez(f, **checked.first.values))  # type: ignore[arg-type]
        return checked
    if problem.symbolic:
        from ..api.sized_check import check_at_sizes

        if save_values is not None:
            raise JacliError("--save-values needs numbers for the sizes: the check draws several")
        return check_at_sizes(problem, against=against, tol=tol, vec=vec, method=method, max_bytes=max_bytes, seed=seed)
    result = check_problem(
        with_random(problem, seed, max_bytes=max_bytes),
        against=against,
        tol=tol,
        vec=vec,
        method=method,
        max_bytes=max_bytes,
        seed=seed,
        progress=progress,
    )
    if save_values is not None:
        atomic_write(save_values, lambda f: np.savez(f, **result.values))  # type: ignore[arg-type]
    return result


def run_check(expr: str, bindings: dict[str, Binding], *, fmt: str, **options: Any) -> int:
    """Check and print the report; the exit code is the verdict's, whether or not the report
    could be written (a reader gone, ``| true``, a full disk)."""
    import json

    with LazyBar("check") as bar:
        result = do_check(expr, bindings, progress=bar.update, **options)
    code = ExitCode.OK if result.agree else ExitCode.DISAGREE
    if isinstance(result, HessianCheck):
        from .hessians import check_record as hessian_record
        from .hessians import describe_check

        record, lines = hessian_record(result), describe_check(result)
    else:
        record, lines = check_record(result), describe(result)
    out = sys.stdout  # a reader gone or a full disk stops the printing (cli.reporting), not the verdict
    if fmt == "json":
        out.write(json.dumps(record) + "\n")
    elif fmt == "table" or (fmt == "auto" and is_terminal(sys.stdout)):
        from rich.text import Text

        terminal = console()
        terminal.print(Text(lines[0], style="bold green" if result.agree else "bold red"))
        for line in lines[1:]:
            terminal.print(Text(line, style="red" if "DISAGREES" in line or ": the claimed" in line else ""))
    else:
        out.write("\n".join(lines) + "\n")
    out.flush()
    return code
