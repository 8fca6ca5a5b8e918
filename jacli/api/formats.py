"""A result where people use it: a Markdown note, a Python function on NumPy, and the lines
(the left-hand side, the shape, the sizes jacli chose) that every rendering shares.

None of these needs numbers: they are written from the closed form, so they work with
``--symbolic`` and with shapes only. The Python code comes from
:func:`jacli.numeric.pyfunction.function_source`, built from the closed form's expression tree.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import JacliError
from ..expr import Expr
from ..sizes import shape_text
from ..syntax.printer import to_text
from .derivation import Block, Result, jacobian_blocks, latex_line, result_of
from .problem import Problem

FORMULA_SUFFIXES = (".tex", ".md", ".py")  # outputs written from the formula, without numbers
FORMULA_FORMATS = ("latex", "markdown", "python")  # --format choices that print a formula only
_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>"})


def lhs(result: Result) -> str:
    """∂vec(F)/∂vec(X), or ∂vec(F)/∂[vec(X), vec(Y)] for several names; ∂vech(S) for a
    variable declared symmetric (its free entries)."""
    vec = "vec" if result.vec == "col" else "vecᵣ"
    rows = "vech" if result.blocks[0].vech_of is not None else vec
    vars_ = ", ".join(f"{_FREE_NAME.get(b.structure or '', vec)}({b.var})" for b in result.blocks)
    return f"∂{rows}(F)/∂{vars_}" if len(result.blocks) == 1 else f"∂{rows}(F)/∂[{vars_}]"


_FREE_NAME = {"sym": "vech", "lower": "vech", "upper": "vechᵀ", "diag": "diag"}


def shape_line(result: Result) -> str:
    """J's shape and what its rows and columns are."""
    f, expression = shape_text(result.f_shape), result.expression
    vec = rows = "vec" if result.vec == "col" else "vecᵣ"
    k = result.blocks[0].vech_of
    if k is not None and result.problem is not None:  # rows over vech(F): F is what vech is of
        f, expression, rows = shape_text((k, k)), to_text(result.problem.expr.args[0]), "vech"
    xs = ", ".join(_columns(b, vec) for b in result.blocks)
    return f"{shape_text(result.shape)} (rows: {rows} F, F = {expression} is {f}; columns: {xs})"


_FREE = {
    "sym": ("vech", "symmetric"),
    "lower": ("vech", "lower triangular"),
    "upper": ("vech of the transpose of", "upper triangular"),
    "diag": ("the diagonal of", "diagonal"),
}


def _columns(b: Block, vec: str) -> str:
    """What a block's columns are: vec X, or a structured variable's free entries."""
    if b.structure is None:
        return f"{vec} {b.var}, {b.var} {shape_text(b.var_shape)}"
    free, what = _FREE[b.structure]
    return f"{free} {b.var}, {b.var} {shape_text(b.var_shape)} {what}"


def chosen_line(result: Result) -> str | None:
    """Which sizes jacli named itself, and the shapes that makes: ``m, n, p, q (A p×m, X m×n, B n×q)``."""
    problem = result.problem
    if problem is None or not problem.chosen:
        return None
    shapes = ", ".join(f"{n} {shape_text(s)}" for n, s in problem.names.items())
    return f"sizes chosen by jacli: {', '.join(problem.chosen)} ({shapes})"


def _gradient(result: Result, gradient: bool) -> Expr | None:
    """The gradient's closed form, where the gradient was asked for and has one."""
    return result.blocks[0].gradient_expr if gradient and len(result.blocks) == 1 else None


def gradient_shape_line(result: Result) -> str:
    b = result.blocks[0]
    return f"{shape_text(b.var_shape)}, shaped like {b.var} (f = {result.expression} is 1×1)"


# -- Markdown ----------------------------------------------------------------------------
def note(latex: str, lines: Sequence[str]) -> str:
    """A formula in a ``$$`` block, then each line a paragraph of its own (Markdown-escaped)."""
    paragraphs = [f"$$\n{latex}\n$$"] + [line.translate(_MARKDOWN_SPECIAL) for line in lines]
    return "\n\n".join(paragraphs) + "\n"


def markdown(result: Result, gradient: bool = False) -> str:
    """The closed form in a ``$$`` block and the shape line, ready for a Markdown note.

    Parameters
    ----------
    result : Result
        What :func:`jacli.derive` returned (numbers are not needed: ``symbolic=True`` will do).
    gradient : bool
        The gradient's closed form (∂f/∂X shaped like X) instead of J's, for a scalar f.

    Returns
    -------
    str
        The note: the LaTeX of ``--format latex`` between ``$$`` lines, then the shape line
        and, where jacli named sizes, which.

    Examples
    --------
    >>> import jacli
    >>> print(markdown(jacli.derive("W a wrt W", W=(3, 4), a=(4, 1), symbolic=True)), end="")
    $$
    \\frac{\\partial \\operatorname{vec}\\left(W a\\right)}{\\partial \\operatorname{vec}(W)} = a^{\\top} \\otimes I_{3}
    $$
    <BLANKLINE>
    J is 3×12 (rows: vec F, F = W a is 3×1; columns: vec W, W 3×4)
    """
    if _gradient(result, gradient) is not None:
        lines = [f"∂f/∂{result.blocks[0].var} is {gradient_shape_line(result)}"]
    else:
        lines = [f"J is {shape_line(result)}"]
    chosen = chosen_line(result)
    return note(latex_line(result, gradient), lines + ([chosen] if chosen else []))


# -- Python ------------------------------------------------------------------------------
def derived_for(problem: Problem) -> str:
    """``A 2×3, B 4×5, X 3×4``: the shapes a function was derived for."""
    return ", ".join(f"{n} {shape_text(s)}" for n, s in problem.names.items())


def sizes_note(problem: Problem) -> str:
    """How the generated function's sizes hold: fixed, or read from the inputs."""
    if not problem.symbolic:
        return f"Derived for {derived_for(problem)}."
    chosen = f" (sizes chosen by jacli: {', '.join(problem.chosen)})" if problem.chosen else ""
    return f"Derived for {derived_for(problem)}{chosen}: for every size, read from the inputs' shapes."


def python_source(result: Result, gradient: bool = False) -> str:
    """A Python module on NumPy whose function returns J (``jacobian``) or, with ``gradient``,
    ∂f/∂X shaped like X (``gradient``), taking the inputs by name; the closed form in its
    docstring.

    Parameters
    ----------
    result : Result
        What :func:`jacli.derive` returned (``symbolic=True`` will do). Where its sizes are
        dimension names, the function reads them from its inputs' shapes.
    gradient : bool
        Write the gradient, for a scalar f and one name.

    Returns
    -------
    str
        The module's text: ``import numpy as np``, the function, and a small helper that
        makes each input a float matrix and checks its shape.

    Raises
    ------
    JacliError
        A name that a Python function cannot take (a keyword, ``np``), or a size the code
        needs that no input's shape holds.

    Examples
    --------
    >>> import jacli, numpy as np
    >>> code = python_source(jacli.derive("A X B wrt X", A=(2, 3), B=(4, 5), symbolic=True))
    >>> space = {}
    >>> exec(code, space)
    >>> space["jacobian"](A=np.ones((2, 3)), B=np.eye(4, 5)).shape
    (10, 12)
    """
    problem = result.problem
    if problem is None:
        raise ValueError("a result without its problem has no names to take")
    from ..numeric.pyfunction import function_source

    vec = "columns (Magnus & Neudecker)" if result.vec == "col" else "rows (as NumPy's ravel)"
    if gradient and len(result.blocks) > 1:
        raise JacliError("--format python writes the gradient of one name: give one name after wrt")
    g = _gradient(result, gradient)
    if gradient:
        b = result.blocks[0]
        if g is not None:
            title, formula = f"The gradient ∂f/∂{b.var} of f = {result.expression}", f"∂f/∂{b.var} = {to_text(g)}"
        else:
            title, formula = f"The gradient ∂f/∂{b.var} of f = {result.expression}", f"vec(∂f/∂{b.var})ᵀ = {b.formula}"
        shape = f"∂f/∂{b.var} is {gradient_shape_line(result)}."
        rows = [[g if g is not None else b.expr]]
        order = "F" if result.vec == "col" else "C"
        reshape = None if g is not None else (b.var_shape[0], b.var_shape[1], order)
    else:
        title, formula = f"The Jacobian J = {lhs(result)} of F = {result.expression}", f"J = {result.formula}"
        shape = f"J is {shape_line(result)}; vec stacks {vec}."
        rows, reshape = [[b.expr for b in result.blocks]], None
    doc = f"{title}, as jacli derived it.\n\n    {formula}\n\n{shape}\n{sizes_note(problem)}"
    name = "gradient" if gradient else "jacobian"
    return function_source(
        name, rows, shapes=problem.shapes, names=problem.names, doc=doc, prefer=problem.wrt, reshape=reshape
    )


def writable_as_python(problem: Problem, vec: str = "col", gradient: bool = False) -> None:
    """Refuse, before anything is saved, a problem whose Python code cannot be written."""
    if gradient and problem.shape != (1, 1):
        return  # refused as a gradient first
    blocks = jacobian_blocks(problem, vec)
    python_source(result_of(problem, blocks, vec, None), gradient)


def formula_file(result: Result, suffix: str, gradient: bool = False) -> str:
    if gradient and len(result.blocks) > 1:  # the gradients one after the other
        parts = [_formula_file(p, suffix, gradient) for p in result.parts()]
        return "\n".join(parts) if suffix == ".md" else "".join(parts)
    return _formula_file(result, suffix, gradient)


def _formula_file(result: Result, suffix: str, gradient: bool = False) -> str:
    """What ``-o`` writes for a formula suffix: LaTeX (.tex), a Markdown note (.md), Python (.py)."""
    if suffix == ".md":
        return markdown(result, gradient)
    if suffix == ".py":
        return python_source(result, gradient)
    return latex_line(result, gradient) + "\n"
