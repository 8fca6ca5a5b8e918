"""``jacli batch``: many derive/check lines in one process, each parsed by the command
line's own parser and run through the same code as on the command line."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from ..api.hessians import HessianCheck
from ..errors import ExitCode, JacliError
from ..io.specs import parse_size, read_bindings
from ..syntax.printer import to_text
from .commands import do_check, do_derive
from .render import check_record, json_sizes
from .terminal import is_terminal

LineParser = Callable[[list[str]], tuple[str, dict]]


def _plain(option: Any) -> Any:
    """An option's value as text, whether the parser gave the Enum member or its value."""
    return getattr(option, "value", option)


def run_line(name: str, params: dict) -> dict:
    """One batch line, parsed by the command line's own parser: a record with its verdict."""
    max_bytes = parse_size(params.get("max_memory"))
    bindings = read_bindings(params.get("specs"), params.get("values"), max_bytes)
    if name == "check":
        result = do_check(
            params["expr"],
            bindings,
            against=params["against"],
            tol=params["tol"],
            seed=params["seed"],
            save_values=params.get("save_values"),
            vec=_plain(params["vec"]),
            method=_plain(params["method"]),
            max_bytes=max_bytes,
            hessian=params.get("hessian", False),
        )
        if isinstance(result, HessianCheck):
            from .hessians import check_record as hessian_record

            return hessian_record(result)
        return check_record(result)
    if name == "hessian":
        return _hessian_line(params, bindings, max_bytes)
    d = do_derive(
        params["expr"],
        bindings,
        random=params["random"],
        seed=params["seed"],
        output=params["output"],
        fmt=_plain(params["fmt"]),
        symbolic=params["symbolic"],
        vec=_plain(params["vec"]),
        gradient=params["gradient"],
        sparse=params["sparse"],
        max_bytes=max_bytes,
    )
    r = d.result
    record = {
        "verdict": "ok",
        "expression": r.expression,
        "wrt": [b.var for b in r.blocks],
        "formula": r.formula,
        "shape": json_sizes(r.shape),
        "output": d.wrote,
    }
    if params["gradient"]:
        record["gradient_formula"] = r.gradient_formula
    return record


def _hessian_line(params: dict, bindings: dict, max_bytes: float | None) -> dict:
    from ..api import prepare
    from ..api.hessians import hessian_request
    from ..api.saving import Request

    request = Request.checked(
        in_memory=_plain(params["fmt"]) != "auto", output=params["output"], symbolic=params["symbolic"],
        vec=_plain(params["vec"]), sparse=params["sparse"], max_bytes=max_bytes,
    )  # fmt: skip
    problem = prepare(params["expr"], bindings, random=params["random"], seed=params["seed"], symbolic=request.symbolic)
    h = hessian_request(problem, request).hessian
    return {"verdict": "ok", "kind": "hessian", "expression": to_text(problem.expr), "wrt": list(problem.wrt),
            "formula": h.formula, "shape": json_sizes(h.shape), "output": params["output"]}  # fmt: skip


def _record(number: int, line: str, parse_line: LineParser) -> tuple[dict, bool]:
    """The record of one line, and whether it hit a bug."""
    import shlex

    try:
        try:
            words = shlex.split(line)
        except ValueError as err:  # unbalanced quotes
            raise JacliError(f"cannot split the line: {err}") from None
        record = run_line(*parse_line(words))
        bug = False
    except JacliError as err:
        record, bug = {"verdict": "error", "error": err.message}, False
    except Exception as err:
        record, bug = {"verdict": "error", "error": f"internal error (a bug): {type(err).__name__}: {err}"}, True
    return {"line": number, "command": line, **record}, bug


def run_batch(path: str, *, fmt: str, parse_line: LineParser) -> int:
    """``parse_line(words) -> (command, params)`` is the command line's own parser."""
    import json

    text = sys.stdin.read() if path == "-" else _read_text(path)
    lines = [
        (i, line.strip())
        for i, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    as_json = fmt == "json"
    counts = {"agree": 0, "disagree": 0, "ok": 0, "error": 0}
    bugs = 0
    start = time.perf_counter()
    bar = progress_bar(len(lines)) if not as_json else None
    try:
        for number, line in lines:
            record, bug = _record(number, line, parse_line)
            bugs += bug
            counts[record["verdict"]] += 1
            sys.stdout.write((json.dumps(record, ensure_ascii=False) if as_json else _batch_line(record)) + "\n")
            if bar is not None:
                bar.advance()
    finally:
        if bar is not None:
            bar.stop()
    seconds = time.perf_counter() - start
    if as_json:
        sys.stdout.write(json.dumps({"summary": {"lines": len(lines), **counts, "seconds": round(seconds, 3)}}) + "\n")
    else:
        parts = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
        sys.stdout.write(f"{len(lines)} lines: {parts or 'nothing to do'} ({seconds:.2f} s)\n")
    if bugs:
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
        return f"{head}\n      {'H' if r.get('kind') == 'hessian' else 'J'} = {r['formula']}"
    where = f" at {r['where']}" if r.get("where") else ""
    notes = [c["note"] for c in r.get("comparisons", []) if c.get("note")]
    detail = notes[0] if notes else f"max abs diff {r['max_abs_diff']:.3g}, max rel diff {r['max_rel_diff']:.3g}{where}"
    return f"{head}\n      {detail}"


class Bar:
    """A Rich progress bar on stderr."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.task = self.bar.add_task("batch", total=total)
        self.bar.start()

    def advance(self) -> None:
        self.bar.advance(self.task)

    def stop(self) -> None:
        self.bar.stop()


def progress_bar(total: int) -> Bar | None:
    """A progress bar for long batches on a terminal; None otherwise."""
    if total < 20 or not is_terminal(sys.stderr):
        return None
    return Bar(total)
