"""What each command does between the argument parsing of :mod:`jacli.cli.app` and the
output: its arguments (the command line's, or a batch line's, parsed by the same option
declarations) made into the pipeline's request, the service called, the result rendered.
Nothing is computed here."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..api import pipeline
from ..api.formats import FORMULA_FORMATS
from ..api.problem import Source
from ..api.request import Options, Request
from ..api.saving import Derived, save_text
from ..errors import ExitCode, JacliError
from ..io.specs import parse_size, read_bindings
from ..io.writers import format_rows
from ..sizes import shape_text
from ..syntax.printer import to_text
from .progress import LazyBar
from .render import check_record, describe, show_derived, write_lines
from .terminal import console, is_terminal, told, warning

if TYPE_CHECKING:  # the checking modules load only for check
    from ..api.checking import CheckResult
    from ..api.hessians import HessianCheck
    from ..api.sized_check import SizedCheck


def plain(option: Any) -> Any:
    """An option's value as text, whether the parser gave the Enum member or its value."""
    return getattr(option, "value", option)


def request_of(kind: str, params: dict[str, Any], share: int = 1) -> Request:
    """The arguments of the command ``kind`` as the pipeline's request: the memory limit
    (without --max-memory, the default's share of the ``share`` batch lines run at once),
    the expression read once, the bindings (within the limit; with --symbolic only files'
    shapes; of a --values file only the expression's names), the options."""
    given = params.get("max_memory")
    max_bytes = parse_size(given) if given is not None else parse_size(None) / max(1, share)
    if kind in ("explain", "parse"):  # shapes are what they read: a .npy's header, a text file within the limit
        source = Source.read(params["expr"])
        bindings = read_bindings(params.get("specs"), None, max_bytes, shapes_only=True)
        return Request(source, bindings, tell=warning)
    source = Source.read(params["expr"])
    symbolic = bool(params.get("symbolic"))
    bindings = read_bindings(
        params.get("specs"), params.get("values"), max_bytes, shapes_only=symbolic, only=source.names()
    )
    if kind == "eval":
        options = Options(random=params["random"], seed=params["seed"], max_bytes=max_bytes, output=params["output"])
        return Request(source, bindings, options, tell=warning)
    if kind == "check":
        against = params.get("against")
        options = Options(
            vec=plain(params["vec"]),
            seed=params["seed"],
            max_bytes=max_bytes,
            against=against.strip() if against is not None else None,  # the space that kept '-...' from Typer
            tol=params["tol"],
            method=plain(params["method"]),
            save_values=params.get("save_values"),
        )
        return Request(source, bindings, options, tell=warning)
    fmt = plain(params.get("fmt", "auto"))
    options = Options(
        vec=plain(params["vec"]),
        random=params["random"],
        seed=params["seed"],
        symbolic=symbolic,
        max_bytes=max_bytes,
        gradient=bool(params.get("gradient")),
        output=params["output"],
        sparse=params["sparse"],
        in_memory=fmt != "auto",
        formula=fmt in FORMULA_FORMATS,
        python=fmt == "python",
        directions=tuple(params.get("direction") or ()),
        save_values=params.get("save_values"),
        vech=bool(params.get("vech")),
    )
    return Request(source, bindings, options, tell=warning)


# -- derive, hessian ---------------------------------------------------------------------
def do_derive(request: Request) -> Derived:
    """derive's service: the gradient's with --gradient, else the Jacobian's."""
    return pipeline.gradient(request) if request.options.gradient else pipeline.derive(request)


class Writing:
    """A large output (``-o J.npy`` block by block, ``--sparse``): its closed form shown once
    it is known, then a progress bar (on a terminal, after a second) while it is written."""

    def __init__(self, output: str | None, show: Callable[[Any], None]) -> None:
        self.output = output
        self.show = show
        self.shown = False
        self.bar: LazyBar | None = None

    def ready(self, derived: Any) -> None:
        self.show(derived)
        sys.stdout.flush()
        self.shown = True
        self.bar = LazyBar(f"writing {self.output}")

    def progress(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(done, total)

    def __enter__(self) -> Writing:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def run_derive(params: dict[str, Any]) -> None:
    request = request_of("derive", params)
    fmt, o = plain(params["fmt"]), request.options
    if params.get("differential") or o.directions:
        from .differentials import run_differential

        return run_differential(request, fmt)

    def show(result: Any) -> None:
        show_derived(Derived(result, None, None), fmt, output=o.output, symbolic=o.symbolic, gradient=o.gradient)

    with Writing(o.output, show) as writing:
        d = do_derive(request._replace(ready=writing.ready, progress=writing.progress))
    if not writing.shown:
        show_derived(d, fmt, output=o.output, symbolic=o.symbolic, gradient=o.gradient)
    told(d.wrote, d.warnings)
    told(o.save_values)


def run_hessian(params: dict[str, Any]) -> None:
    from ..api.hessians import Saved
    from .hessians import show_hessian

    request = request_of("hessian", params)
    fmt, o = plain(params["fmt"]), request.options

    def show(h: Any) -> None:
        show_hessian(Saved(h, None, None), fmt, o.output, o.symbolic)

    with Writing(o.output, show) as writing:
        saved = pipeline.hessian(request._replace(ready=writing.ready, progress=writing.progress))
    if not writing.shown:
        show_hessian(saved, fmt, o.output, o.symbolic)
    told(saved.wrote, saved.warnings)


# -- explain, parse ----------------------------------------------------------------------
def run_explain(params: dict[str, Any]) -> None:
    """The derivation, with every size that nothing fixes named; ``-o`` saves it as the
    suffix says (.md, .tex, .txt) instead of printing it."""
    from ..io.writers import check_output_path

    output = params.get("output")
    kinds = {".md": "markdown", ".tex": "latex", ".txt": "text"}
    if output is not None and (suffix := check_output_path(output, "note.md")) not in kinds:
        raise JacliError(f"explain -o saves a note: note.md, note.tex or note.txt, not a {suffix} file")
    x = pipeline.explain(request_of("explain", params))
    text = {"text": x.text, "markdown": x.markdown, "latex": x.latex}
    if output is None:
        sys.stdout.write(text[plain(params["fmt"])]())
        return
    save_text(output, text[kinds[check_output_path(output)]]())
    told(output)


def run_parse(params: dict[str, Any]) -> None:
    got = pipeline.parse(request_of("parse", params))
    parsed = got.parsed
    print(to_text(parsed.expr, "parens") + (f" wrt {', '.join(parsed.wrt)}" if parsed.wrt else ""))
    if got.error is not None:
        raise got.error
    if got.problem is None:
        print(f"shapes: not all known ({got.unknown})")
        return
    p, q = got.problem.shape
    names = ", ".join(f"{n} {shape_text(s)}" for n, s in got.problem.names.items())
    print(f"shape: {shape_text((p, q))}; {names}")


# -- check -------------------------------------------------------------------------------
def do_check(request: Request, hessian: bool = False) -> CheckResult | SizedCheck | HessianCheck:
    """check's service: the Hessian's with --hessian, else the Jacobian's."""
    return pipeline.check_hessian(request) if hessian else pipeline.check(request)


def run_check(params: dict[str, Any]) -> int:
    """Check and print the report; the exit code is the verdict's, whether or not the report
    could be written (a reader gone, ``| true``, a full disk)."""
    import json

    from ..api.hessians import HessianCheck

    request = request_of("check", params)
    with LazyBar("check") as bar:
        result = do_check(request._replace(progress=bar.update), bool(params.get("hessian")))
    code = ExitCode.OK if result.agree else ExitCode.DISAGREE
    if isinstance(result, HessianCheck):
        from .hessians import check_record as hessian_record
        from .hessians import describe_check

        record, lines = hessian_record(result), describe_check(result)
    else:
        record, lines = check_record(result), describe(result)
    out = sys.stdout  # a reader gone or a full disk stops the printing (cli.reporting), not the verdict
    fmt = plain(params["fmt"])
    if fmt == "json":
        out.write(json.dumps(record) + "\n")
    elif fmt == "table" or (fmt == "auto" and is_terminal(sys.stdout)):
        from rich.text import Text

        terminal = console()
        terminal.print(Text(lines[0], style="bold green" if result.agree else "bold red"))
        for line in lines[1:]:
            terminal.print(Text(line, style="red" if "DISAGREES" in line or "wrong shape" in line else ""))
    else:
        out.write("\n".join(lines) + "\n")
    out.flush()
    return code


# -- eval --------------------------------------------------------------------------------
def run_eval(params: dict[str, Any]) -> None:
    """F's value: a table on a terminal, plain rows when piped, csv or json; ``-o`` saves it
    (printed too only with --format)."""
    import json

    import numpy as np

    got = pipeline.evaluate(request_of("eval", params))
    fmt = plain(params["fmt"])
    chosen = fmt if fmt != "auto" else ("table" if is_terminal(sys.stdout) else "plain")
    value = got.value if got.wrote is None or fmt != "auto" else None
    what = to_text(got.problem.expr)
    if chosen == "json":
        doc = {
            "expression": what,
            "shape": list(got.value.shape),
            **({} if value is None else {"value": value.tolist()}),
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    elif chosen == "csv" and value is not None:
        write_lines(format_rows(value, ","), sys.stdout)
    elif chosen == "table":
        from rich.text import Text

        terminal = console()
        terminal.print(Text.assemble(("F", "bold"), " = ", (what, "bold cyan")))
        terminal.print(Text(f"shape {shape_text(got.value.shape)}", style="dim"))
        if value is not None:
            terminal.print(np.array2string(value, precision=4, max_line_width=terminal.width, threshold=400))
    elif chosen != "csv":
        sys.stdout.write(f"# F = {what}\n# shape: {shape_text(got.value.shape)}\n")
        if value is not None:
            write_lines(format_rows(value), sys.stdout)
    told(got.wrote)
