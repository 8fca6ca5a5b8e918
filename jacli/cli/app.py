"""The command line: the commands' arguments and options, declared once (batch lines are parsed
by the same declarations); each command hands its parsed arguments (``ctx.params``) to
:mod:`jacli.cli.commands`, which makes the pipeline's request and renders its result."""

import functools
import os
from enum import Enum
from typing import Annotated, Any, Never

import typer

from ..errors import JacliError
from .reporting import Settings, reporting

app = typer.Typer(
    add_completion=True,  # costs nothing measurable at start-up: Typer imports its completion code anyway
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Jacobians of matrix expressions: d vec(F) / d vec(X), closed form and numbers.\n\n"
    "\b\nExamples:\n"
    '  jacli derive "A X B wrt X" --symbolic\n'
    '  jacli derive "inv(X) wrt X" X=3x3 --random\n'
    '  jacli check "A X B wrt X" A=2x3 B=4x5 --against "B\' ⊗ A"\n'
    '  jacli explain "tr(X\' A X) wrt X"\n'
    "  jacli derive --help",
)


class Format(str, Enum):
    auto = "auto"
    table = "table"
    plain = "plain"
    csv = "csv"
    json = "json"
    latex = "latex"
    markdown = "markdown"
    python = "python"


class CheckFormat(str, Enum):
    auto = "auto"
    table = "table"
    plain = "plain"
    json = "json"


class ValueFormat(str, Enum):
    auto = "auto"
    table = "table"
    plain = "plain"
    csv = "csv"
    json = "json"


class BatchFormat(str, Enum):
    auto = "auto"
    plain = "plain"
    json = "json"


class Method(str, Enum):
    complex = "complex"
    central = "central"


class Vec(str, Enum):
    col = "col"
    row = "row"


# -- commands ---------------------------------------------------------------------------
def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        print(f"jacli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error.")] = False,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True)
    ] = False,
) -> None:
    """jacli: Jacobians d vec(F)/d vec(X) of matrix expressions, closed form and numbers."""
    ctx.obj = Settings(debug=debug or bool(os.environ.get("JACLI_DEBUG")))


SpecArgs = Annotated[
    list[str] | None,
    typer.Argument(
        help="Bindings NAME=SPEC: a shape 3x4, 5 (a column), "
        "file.npy, file.npz[:key], file.csv, file.txt, or a JSON literal."
    ),
]


ValuesOption = Annotated[str | None, typer.Option("--values", help="A .npz file whose arrays bind names.")]
RandomOption = Annotated[bool, typer.Option("--random", help="Seeded random values for names bound by shape only.")]
SeedOption = Annotated[int, typer.Option("--seed", min=0, help="Seed for --random.")]
SymbolicOption = Annotated[
    bool,
    typer.Option(
        "--symbolic", help="The closed form only: no values needed; sizes nothing fixes get names (m, n, ...)."
    ),
]
VecOption = Annotated[
    Vec, typer.Option("--vec", help="col: vec stacks columns (default); row: stacks rows, as NumPy flattens.")
]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "-o",
        "--output",
        help="Save the matrix: .npy .npz .csv .txt .json; or the formula: .tex, .md (a Markdown note), "
        ".py (a Python function on NumPy).",
    ),
]
FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        help="How to print: auto is a table on a terminal, plain when piped; latex, markdown and python "
        "print the formula (shapes suffice).",
    ),
]


VechOption = Annotated[
    bool, typer.Option("--vech", help="For a symmetric F: rows over vech(F), its lower triangle (L(n) J).")
]
SaveValuesOption = Annotated[
    str | None,
    typer.Option("--save-values", help="Save the values used (given or drawn) to a .npz, to reproduce the run."),
]


# An expression may start with '-' ("-X wrt X"): unknown options are left to the arguments,
# where a word that is not NAME=SPEC is reported (read_bindings).
_ARGS = {"ignore_unknown_options": True}


@app.command(context_settings=_ARGS)
def derive(
    ctx: typer.Context,
    expr: Annotated[str, typer.Argument(help='The expression, as in "A X B wrt X".')],
    specs: SpecArgs = None,
    values: ValuesOption = None,
    random: RandomOption = False,
    seed: SeedOption = 0,
    output: OutputOption = None,
    fmt: FormatOption = Format.auto,
    symbolic: SymbolicOption = False,
    vec: VecOption = Vec.col,
    vech: VechOption = False,
    gradient: Annotated[bool, typer.Option("--gradient", help="For a scalar F: ∂f/∂X shaped like X.")] = False,
    differential: Annotated[
        bool, typer.Option("--differential", help="The differential dF in matrix form, as Magnus & Neudecker write it.")
    ] = False,
    direction: Annotated[
        list[str] | None,
        typer.Option("--direction", help="NAME=SPEC: dF along dNAME = SPEC (J times it), without forming J."),
    ] = None,
    sparse: Annotated[bool, typer.Option("--sparse", help="Save a SciPy sparse .npz (-o J.npz).")] = False,
    max_memory: Annotated[
        str | None,
        typer.Option(
            "--max-memory", help="Largest dense Jacobian to build in memory (default: half the available memory)."
        ),
    ] = None,
    save_values: SaveValuesOption = None,
) -> None:
    """Differentiate: print the closed form, the Jacobian's shape and the matrix.

    \b
    Examples:
      jacli derive "A X B wrt X" --symbolic
      jacli derive "A X B wrt X" A=2x3 B=4x5 --random
      jacli derive "inv(X) wrt X" X=samples/X.npy -o J.npy
      jacli derive "sum(exp(W x)) wrt W" W=2x3 x=3 --random --gradient
      jacli derive "tr(X' A X) wrt X" --differential
    """
    with reporting(ctx):
        from .commands import run_derive

        run_derive(ctx.params)


@app.command(context_settings=_ARGS)
def hessian(
    ctx: typer.Context,
    expr: Annotated[str, typer.Argument(help='The expression, as in "tr(X\' A X) wrt X".')],
    specs: SpecArgs = None,
    values: ValuesOption = None,
    random: RandomOption = False,
    seed: SeedOption = 0,
    output: OutputOption = None,
    fmt: FormatOption = Format.auto,
    symbolic: SymbolicOption = False,
    vec: VecOption = Vec.col,
    vech: VechOption = False,
    sparse: Annotated[bool, typer.Option("--sparse", help="Save a SciPy sparse .npz (-o H.npz).")] = False,
    max_memory: Annotated[
        str | None,
        typer.Option(
            "--max-memory", help="Largest dense Hessian to build in memory (default: half the available memory)."
        ),
    ] = None,
) -> None:
    """The Hessian ∂²f/∂vec(X)∂vec(X)ᵀ (for a matrix F, its entries' Hessians stacked).

    \b
    Examples:
      jacli hessian "tr(X' A X) wrt X" --symbolic
      jacli hessian "logdet(X) wrt X" X=3x3 --random
      jacli hessian "norm2(A x - b)^2 wrt x" A=4x3 b=4 --random -o H.npy
    """
    with reporting(ctx):
        from .commands import run_hessian

        run_hessian(ctx.params)


@app.command(context_settings=_ARGS)
def check(
    ctx: typer.Context,
    expr: Annotated[str, typer.Argument(help='The expression, as in "A X B wrt X".')],
    specs: SpecArgs = None,
    against: Annotated[str | None, typer.Option("--against", help='A claimed closed form, e.g. "B\' ⊗ A".')] = None,
    tol: Annotated[
        float,
        typer.Option(
            "--tol", help="Largest accepted difference, relative to the Jacobian's largest entry (at least 1)."
        ),
    ] = 1e-8,
    values: ValuesOption = None,
    random: Annotated[
        bool,
        typer.Option(
            "--random", help="Accepted for symmetry with derive: names bound by shape only always get random values."
        ),
    ] = False,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed for the random values.")] = 0,
    save_values: SaveValuesOption = None,
    vec: Annotated[Vec, typer.Option("--vec", help="col (default) or row.")] = Vec.col,
    method: Annotated[
        Method,
        typer.Option(
            "--method",
            help="The numerical derivative: complex step (default; central differences where an operator "
            "is not analytic, such as abs or relu), or central differences.",
        ),
    ] = Method.complex,
    fmt: Annotated[
        CheckFormat, typer.Option("--format", help="auto is a report on a terminal, plain when piped; json.")
    ] = CheckFormat.auto,
    max_memory: Annotated[
        str | None, typer.Option("--max-memory", help="Largest dense Jacobian to build in memory.")
    ] = None,
    hessian: Annotated[
        bool,
        typer.Option("--hessian", help="Check the Hessian (the gradient first, then H against its differences)."),
    ] = False,
) -> Never:
    """Compare jacli's Jacobian with a numerical derivative, and with a claimed closed form.

    \b
    Examples:
      jacli check "A X B wrt X" A=2x3 B=4x5 --against "B' ⊗ A"
      jacli check "kron(A, B) wrt A" A=m×n B=p×q
      jacli check "inv(X) wrt X" X=3x3 --against J.npy
      jacli check "logdet(X) wrt X" X=3x3 --hessian
    """
    with reporting(ctx):
        from .commands import run_check

        code = run_check(ctx.params)
    raise typer.Exit(code)


@app.command()
def batch(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(help="A file of lines, each what would follow `jacli` (derive or check); - for stdin.")
    ],
    fmt: Annotated[
        BatchFormat, typer.Option("--format", help="auto (plain), plain, or json (JSON Lines).")
    ] = BatchFormat.auto,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes for the lines (0: one per core), in order.")] = 1,
) -> Never:
    """Run many derive/check lines; exit 1 if any disagreed, 2 if any was bad input.

    \b
    Examples:
      jacli batch samples/identities.txt
      jacli batch lines.txt --jobs 2 --format json
      echo 'check "A X wrt X" A=2x3 X=3x2' | jacli batch -
    """
    with reporting(ctx):
        from .batch import run_batch

        code = run_batch(file, fmt=fmt.value, parse_line=parse_line, jobs=jobs)
    raise typer.Exit(code)


def protect_expressions(args: list[str]) -> list[str]:
    """An expression starting with '-' ("-cos(X) wrt X") would be read as short options (-c -o ...):
    a word that starts with a single '-' and holds a space is an expression, given a leading space
    (which the expression parser skips)."""
    return [" " + a if a.startswith("-") and not a.startswith("--") and " " in a else a for a in args]


@functools.lru_cache(maxsize=1)
def _group() -> Any:
    import typer.main

    return typer.main.get_command(app)


def parse_line(words: list[str]) -> tuple[str, dict[str, Any]]:
    """A batch line's words, parsed by the derive, hessian or check command's own option
    declarations: (name, params), the params the command itself gets (``ctx.params``)."""
    name = words[0] if words else ""
    if name not in ("derive", "check", "hessian"):
        raise JacliError(f"a batch line starts with derive, hessian or check, not {name!r}")
    if "--help" in words:
        raise JacliError("--help is not a batch line")
    try:
        ctx = _group().commands[name].make_context(name, protect_expressions(list(words[1:])))
    except Exception as err:  # the parser's usage errors
        message = err.format_message() if hasattr(err, "format_message") else str(err)
        raise JacliError(f"{name}: {message}") from None
    return name, ctx.params


READING_LIMIT = "Most memory the files read may take (default: half the available memory); .npy and .npz: headers only."


class ExplainFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    latex = "latex"


@app.command(context_settings=_ARGS)
def explain(
    ctx: typer.Context,
    expr: Annotated[str, typer.Argument(help='The expression, as in "A X B wrt X".')],
    specs: SpecArgs = None,
    fmt: Annotated[
        ExplainFormat,
        typer.Option("--format", help="text (default), markdown (a note with $$ blocks) or latex (align*)."),
    ] = ExplainFormat.text,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Save the note: .md (Markdown), .tex (LaTeX), .txt (text).")
    ] = None,
    max_memory: Annotated[str | None, typer.Option("--max-memory", help=READING_LIMIT)] = None,
) -> None:
    """The derivation step by step: each rule and where it is written, the simplifications, the result.

    \b
    Examples:
      jacli explain "tr(X' A X) wrt X"
      jacli explain "A X B wrt X" --format markdown -o note.md
    """
    with reporting(ctx):
        from .commands import run_explain

        run_explain(ctx.params)


@app.command("parse", context_settings=_ARGS)
def parse_cmd(
    ctx: typer.Context,
    expr: Annotated[str, typer.Argument(help="An expression, with or without wrt.")],
    specs: SpecArgs = None,
    max_memory: Annotated[str | None, typer.Option("--max-memory", help=READING_LIMIT)] = None,
) -> None:
    """Show how jacli reads an expression: fully parenthesised, with shapes when they are known.

    \b
    Examples:
      jacli parse "A X ⊗ B"
      jacli parse "a^{T} \\otimes I_m"
    """
    with reporting(ctx):
        from .commands import run_parse

        run_parse(ctx.params)


@app.command("eval", context_settings=_ARGS)
def eval_cmd(
    ctx: typer.Context,
    expr: Annotated[str, typer.Argument(help='An expression, as in "A X B" (a wrt tail is ignored).')],
    specs: SpecArgs = None,
    values: ValuesOption = None,
    random: RandomOption = False,
    seed: SeedOption = 0,
    output: Annotated[str | None, typer.Option("-o", "--output", help="Save F: .npy .npz .csv .txt .json.")] = None,
    fmt: Annotated[
        ValueFormat, typer.Option("--format", help="auto is a table on a terminal, plain when piped; csv, json.")
    ] = ValueFormat.auto,
) -> None:
    """Evaluate an expression: F's value at the values given (or drawn with --random).

    \b
    Examples:
      jacli eval "A X B" A=samples/A.npy B=samples/B.npy X=3x4 --random
      jacli eval "softmax_rows(Q K' / 2)" Q=4x3 K=5x3 --random --format json
    """
    with reporting(ctx):
        from .commands import run_eval

        run_eval(ctx.params)
