"""What each command does, between the argument parsing of :mod:`jacli.cli` and the library.

``do_derive`` and ``do_check`` compute and save; ``run_*`` print. ``batch`` runs each line
through the same ``do_*`` functions, so a line means what it means on the command line.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from .bindings import parse_size, read_bindings
from .core import Problem, Result, derive_problem, evaluate_blocks, prepare, require_numbers
from .errors import ExitCode, JacliError
from .files import atomic_write, check_output_path, save_matrix
from .printer import to_text
from .render import is_terminal, latex_line, to_json, write_csv, write_plain, write_table


def _warn(problem: Problem) -> None:
    for w in problem.warnings:
        sys.stderr.write(f"jacli: warning: {w}\n")


def _console():
    """Rich on stdout; with NO_COLOR set, no styling escapes at all (bold and dim too)."""
    import os

    from rich.console import Console

    return Console(highlight=False, color_system=None if os.environ.get("NO_COLOR") else "auto")


# -- derive ------------------------------------------------------------------------------
@dataclass
class Derived:
    result: Result
    shown: np.ndarray | None  # the matrix (or gradient) computed in memory, if any
    wrote: str | None  # what was saved, as told to the user


def do_derive(expr, bindings, *, random=False, seed=0, output=None, fmt="auto", symbolic=False, vec="col",
              gradient=False, sparse=False, max_bytes=None) -> Derived:
    """Differentiate, evaluate what is needed, save ``output``; print nothing."""
    suffix = check_output_path(output) if output else None
    if sparse and suffix != ".npz":
        raise JacliError("--sparse saves a SciPy sparse matrix: give -o J.npz")
    if sparse and gradient:
        raise JacliError("--sparse and --gradient do not go together")
    if symbolic and suffix not in (None, ".tex"):
        raise JacliError(f"--symbolic gives the formula only: -o {output} would save numbers "
                         f"(save the formula with -o F.tex, or drop --symbolic)")
    problem = prepare(expr, bindings, random=random, seed=seed)
    _warn(problem)
    if gradient:
        if problem.shape != (1, 1):
            raise JacliError(f"--gradient needs a scalar (1×1) expression; {to_text(problem.expr)} is "
                             f"{problem.shape[0]}×{problem.shape[1]}")
        if len(problem.wrt) != 1:
            raise JacliError("--gradient takes one variable after wrt")
    result = derive_problem(problem, vec=vec, symbolic=True)
    matrix, wrote = None, output
    if not (symbolic or suffix == ".tex"):
        require_numbers(problem, result.blocks)
        if sparse:
            from .core import save_sparse

            stored = save_sparse(problem, result.blocks, output)
            rows, cols = result.shape
            wrote = f"{output} ({stored:,} stored entries of {rows:,}×{cols:,}, SciPy CSR)"
        elif suffix == ".npy" and fmt == "auto" and not gradient:
            from .core import save_streamed

            save_streamed(problem, result.blocks, output, max_bytes=max_bytes)
        else:
            hint = ("; drop --format to have -o J.npy written block by block"
                    if suffix == ".npy" else "")
            matrix = evaluate_blocks(problem, result.blocks, max_bytes=max_bytes, hint=hint)
            result.matrix = matrix
    shown = result.gradient if gradient and matrix is not None else matrix
    if suffix == ".tex":
        atomic_write(output, lambda f: f.write((latex_line(result, gradient) + "\n").encode()))
    elif output and shown is not None:
        save_matrix(output, shown, formula=result.formula, latex=result.latex,
                    comments=[f"J = {result.formula}", f"shape {shown.shape[0]}x{shown.shape[1]}"])
    return Derived(result, shown, wrote)


def run_derive(expr, bindings, *, fmt, output, symbolic, gradient, **options) -> None:
    d = do_derive(expr, bindings, fmt=fmt, output=output, symbolic=symbolic, gradient=gradient, **options)
    if d.wrote:
        sys.stderr.write(f"jacli: wrote {d.wrote}\n")
    result = d.result
    chosen = fmt if fmt != "auto" else ("table" if is_terminal(sys.stdout) else "plain")
    printed = d.shown if (output is None or fmt != "auto") else None
    if chosen == "table":
        write_table(result, _console(), matrix=printed, gradient=gradient, symbolic=symbolic)
    elif chosen == "plain":
        write_plain(result, sys.stdout, matrix=printed, gradient=gradient,
                    symbolic=symbolic or (printed is None and output is None))
    elif chosen == "csv":
        if printed is None:
            raise JacliError("--format csv prints the matrix: it needs values (not --symbolic)")
        write_csv(printed, sys.stdout)
    elif chosen == "json":
        sys.stdout.write(to_json(result, printed, gradient) + "\n")
    elif chosen == "latex":
        sys.stdout.write(latex_line(result, gradient) + "\n")


def run_parse(expr, bindings):
    from .parser import parse

    parsed = parse(expr, require_wrt=False)
    print(to_text(parsed.expr, "parens") + (f" wrt {', '.join(parsed.wrt)}" if parsed.wrt else ""))
    try:
        problem = prepare(expr, bindings, require_wrt=False)
    except JacliError as err:
        from .shapes import UNKNOWN

        if not err.message.startswith(UNKNOWN):
            raise
        print(f"shapes: not all known ({err.message})")
        return
    p, q = problem.shape
    names = ", ".join(f"{n} {r}×{c}" for n, (r, c) in problem.names.items())
    print(f"shape: {p}×{q}; {names}")


# -- check -------------------------------------------------------------------------------
def do_check(expr, bindings, *, against=None, tol=1e-8, seed=0, save_values=None, vec="col",
             method="complex", max_bytes=None):
    """Check, save the values used if asked; print nothing."""
    from .checking import check_problem

    if save_values and check_output_path(save_values) != ".npz":
        raise JacliError("--save-values writes a .npz file")
    problem = prepare(expr, bindings, random=True, seed=seed)
    _warn(problem)
    result = check_problem(problem, against=against, tol=tol, vec=vec, method=method, max_bytes=max_bytes)
    if save_values:
        atomic_write(save_values, lambda f: np.savez(f, **result.values))
    return result


def run_check(expr, bindings, *, fmt, **options) -> int:
    import json

    from .checking import describe

    result = do_check(expr, bindings, **options)
    if fmt == "json":
        sys.stdout.write(json.dumps(check_record(result)) + "\n")
    elif fmt == "table" or (fmt == "auto" and is_terminal(sys.stdout)):
        from rich.text import Text

        console = _console()
        lines = describe(result)
        console.print(Text(lines[0], style="bold green" if result.agree else "bold red"))
        for line in lines[1:]:
            console.print(Text(line, style="red" if "DISAGREES" in line or ": the claimed" in line else ""))
    else:
        sys.stdout.write("\n".join(describe(result)) + "\n")
    return ExitCode.OK if result.agree else ExitCode.DISAGREE


def check_record(result) -> dict:
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
        "error_estimate": result.error_estimate,
        "comparisons": [{"label": c.label, "formula": c.formula, "agree": c.agree, "max_abs_diff": _num(c.max_abs),
                         "max_rel_diff": _num(c.max_rel), "where": c.where or None, "note": c.note or None}
                        for c in result.comparisons],
    }


def _num(x: float):
    return None if x != x else x


# -- batch -------------------------------------------------------------------------------
def _plain(option):
    """An option's value as text, whether the parser gave the Enum member or its value."""
    return getattr(option, "value", option)


def run_line(name: str, params: dict) -> dict:
    """One batch line, parsed by the command line's own parser: a record with its verdict."""
    max_bytes = parse_size(params.get("max_memory"))
    bindings = read_bindings(params.get("specs"), params.get("values"), max_bytes)
    if name == "check":
        result = do_check(params["expr"], bindings, against=params["against"], tol=params["tol"],
                          seed=params["seed"], save_values=params.get("save_values"), vec=_plain(params["vec"]),
                          method=_plain(params["method"]), max_bytes=max_bytes)
        return check_record(result)
    d = do_derive(params["expr"], bindings, random=params["random"], seed=params["seed"], output=params["output"],
                  fmt=_plain(params["fmt"]), symbolic=params["symbolic"], vec=_plain(params["vec"]),
                  gradient=params["gradient"], sparse=params["sparse"], max_bytes=max_bytes)
    r = d.result
    record = {"verdict": "ok", "expression": r.expression, "wrt": [b.var for b in r.blocks],
              "formula": r.formula, "shape": list(r.shape), "output": d.wrote}
    if params["gradient"]:
        record["gradient_formula"] = r.gradient_formula
    return record


def run_batch(path: str, *, fmt: str, parse_line) -> int:
    """``parse_line(words) -> (command, params)`` is the command line's own parser."""
    import json
    import shlex

    text = sys.stdin.read() if path == "-" else _read_text(path)
    lines = [(i, line.strip()) for i, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    as_json = fmt == "json"
    counts = {"agree": 0, "disagree": 0, "ok": 0, "error": 0}
    bug = False
    start = time.perf_counter()
    progress = _progress(len(lines)) if not as_json else None
    try:
        for number, line in lines:
            try:
                try:
                    words = shlex.split(line)
                except ValueError as err:  # unbalanced quotes
                    raise JacliError(f"cannot split the line: {err}") from None
                record = run_line(*parse_line(words))
            except JacliError as err:
                record = {"verdict": "error", "error": err.message}
            except Exception as err:  # noqa: BLE001 - a bug in one line must not stop the rest
                bug = True
                record = {"verdict": "error", "error": f"internal error (a bug): {type(err).__name__}: {err}"}
            counts[record["verdict"]] += 1
            record = {"line": number, "command": line, **record}
            if as_json:
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(_batch_line(record) + "\n")
            if progress:
                progress.advance()
    finally:
        if progress:
            progress.stop()
    seconds = time.perf_counter() - start
    summary = {"lines": len(lines), **counts, "seconds": round(seconds, 3)}
    if as_json:
        sys.stdout.write(json.dumps({"summary": summary}) + "\n")
    else:
        parts = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
        sys.stdout.write(f"{len(lines)} lines: {parts or 'nothing to do'} ({seconds:.2f} s)\n")
    if bug:
        return ExitCode.INTERNAL
    if counts["error"]:
        return ExitCode.BAD_INPUT
    return ExitCode.DISAGREE if counts["disagree"] else ExitCode.OK


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise JacliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise JacliError(f"{path}: is a directory") from None
    except (OSError, UnicodeDecodeError) as err:
        raise JacliError(f"{path}: cannot read ({getattr(err, 'strerror', None) or err})") from None


def _batch_line(r: dict) -> str:
    head = f"{r['line']:>4}  {r['verdict']:<8}  {r['command']}"
    if r["verdict"] == "error":
        return f"{head}\n      {r['error']}"
    if r["verdict"] == "ok":
        return f"{head}\n      J = {r['formula']}"
    where = f" at {r['where']}" if r.get("where") else ""
    notes = [c["note"] for c in r.get("comparisons", []) if c.get("note")]
    detail = notes[0] if notes else f"max abs diff {r['max_abs_diff']:.3g}, max rel diff {r['max_rel_diff']:.3g}{where}"
    return f"{head}\n      {detail}"


class _progress:
    """A Rich progress bar on stderr for long batches on a terminal; nothing otherwise."""

    def __new__(cls, total: int):
        if total < 20 or not is_terminal(sys.stderr):
            return None
        return super().__new__(cls)

    def __init__(self, total: int):
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.task = self.bar.add_task("batch", total=total)
        self.bar.start()

    def advance(self):
        self.bar.advance(self.task)

    def stop(self):
        self.bar.stop()
