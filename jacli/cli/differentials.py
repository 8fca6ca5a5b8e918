"""``derive --differential`` (dF in matrix form) and ``derive --direction NAME=SPEC`` (dF along
a direction, shaped like F, without forming J)."""

from __future__ import annotations

import sys
from typing import Any, BinaryIO

from ..api import prepare
from ..api.differentials import differential_latex, differential_of, directional
from ..api.formats import note
from ..errors import JacliError
from ..io.specs import Binding, parse_spec
from ..io.writers import atomic_write, check_output_path, format_rows, save_matrix
from ..sizes import shape_text
from ..syntax.printer import to_text
from .terminal import console, is_terminal, warn


def run_differential(
    expr: str,
    bindings: dict[str, Binding],
    *,
    fmt: str,
    output: str | None,
    directions: list[str],
    gradient: bool = False,
    random: bool = False,
    seed: int = 0,
    sparse: bool = False,
    max_bytes: float | None = None,
    vec: str = "col",
) -> None:
    if gradient or sparse:
        raise JacliError("--differential and --direction go without --gradient and --sparse")
    suffix = check_output_path(output) if output else None
    if not directions:
        if suffix not in (None, ".tex", ".md"):
            raise JacliError(
                f"--differential prints a formula: -o {output} would save numbers (use -o dF.tex or dF.md)"
            )
        problem = prepare(expr, bindings, random=random, seed=seed, symbolic=True)
        warn(problem)
        d = differential_of(problem)
        latex = differential_latex(problem, d)
        if output:
            payload = (note(latex, []) if suffix == ".md" else latex + "\n").encode()

            def write(f: BinaryIO) -> None:
                f.write(payload)

            atomic_write(output, write)
        _print_differential(problem, d, latex, fmt, output)
        if output:  # after what is printed, as derive says it
            sys.stdout.flush()
            sys.stderr.write(f"jacli: wrote {output}\n")
        return
    given = {}
    for spec in directions:
        name, eq, text = spec.partition("=")
        if not eq:
            raise JacliError(f"--direction {spec!r}: write NAME=SPEC, as in --direction X=V.npy")
        b = parse_spec(name.strip(), text, max_bytes=int(max_bytes) if max_bytes else None)
        if b.value is None:
            raise JacliError(f"--direction {spec}: a direction needs values (a file or a literal), not a shape")
        given[name.strip()] = b.value
    problem = prepare(expr, bindings, random=random, seed=seed)
    warn(problem)
    d, dF = directional(problem, given)
    along = ", ".join(f"d{v} = {given_source(directions, v)}" for v in given)
    head = [f"{d.text()}, along {along}", f"shape: {shape_text(dF.shape)}, F's (F = {to_text(problem.expr)})"]
    if output:
        save_matrix(output, dF, formula=d.formula, comments=head)
    _print(dF, head, d, fmt, printed=output is None or fmt != "auto")
    if output:  # after what is printed, as derive says it
        sys.stdout.flush()
        sys.stderr.write(f"jacli: wrote {output}\n")


def given_source(directions: list[str], var: str) -> str:
    return next(s.partition("=")[2] for s in directions if s.partition("=")[0].strip() == var)


def _print(dF: Any, head: list[str], d: Any, fmt: str, printed: bool) -> None:
    chosen = fmt if fmt != "auto" else ("table" if is_terminal(sys.stdout) else "plain")
    if chosen == "json":
        import json

        doc = {"differential": d.formula, "latex": d.latex, "matrix": (dF + 0.0).tolist()}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    elif chosen == "latex":
        sys.stdout.write(d.latex + "\n")
    elif chosen == "csv":
        sys.stdout.writelines(format_rows(dF, ","))
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
            sys.stdout.writelines(format_rows(dF))


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
