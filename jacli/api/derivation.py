"""From a problem to its Jacobian: the closed form of each block, and the numbers."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .. import sizes
from ..calculus.adjoint import gradient
from ..calculus.chain import jacobian_expr
from ..calculus.shapes import Shapes
from ..calculus.simplify import Simplifier
from ..errors import Hint, JacliError, Option
from ..expr import Expr, T, comm, matmul
from ..expr import vec as vec_of
from ..numeric.evaluate import Evaluator
from ..numeric.structured import Structured, assemble
from ..syntax.printer import latex_name, to_latex, to_text
from .problem import Problem

if TYPE_CHECKING:
    from ..calculus.ops.registry import Shape

VECS = ("col", "row")
Names = tuple[tuple[str, tuple[int, int]], ...]  # a problem's names and their shapes, hashable (a cache's key)


class Block(NamedTuple):
    """The Jacobian with respect to one variable."""

    var: str
    var_shape: tuple[int, int]
    expr: Expr
    formula: str
    latex: str
    gradient_expr: Expr | None = None


class Result(NamedTuple):
    """What ``jacli derive`` computes.

    Attributes
    ----------
    formula, latex : str
        The closed form of J = d vec(F) / d vec(X), in jacli's language and in LaTeX.
    shape : tuple of int
        J's shape: (entries of F, entries of the variables).
    blocks : tuple of Block
        One block of columns per variable after ``wrt``.
    expression : str
        F as jacli read it.
    f_shape : tuple of int
        F's shape.
    vec : {"col", "row"}
        How vec stacks.
    matrix : numpy.ndarray or None
        The numbers; None when only the formula was asked for.
    problem : Problem
        The expression, shapes and values it was computed from.

    Examples
    --------
    >>> import jacli
    >>> r = jacli.derive("W a wrt W", W=(3, 4), a=(4, 1), symbolic=True)
    >>> r.formula, r.shape, r.matrix is None
    ('aᵀ ⊗ I₃', (3, 12), True)
    """

    formula: str
    latex: str
    shape: Shape  # sizes: ints, or monomials in dimension names (jacli.sizes)
    blocks: tuple[Block, ...]
    expression: str
    f_shape: tuple[int, int]
    vec: str
    matrix: np.ndarray | None = None
    problem: Problem | None = None

    @property
    def gradient(self) -> np.ndarray | None:
        """For a scalar F and one variable X: ∂f/∂X shaped like X (the Matrix Cookbook's layout)."""
        if self.matrix is None or self.f_shape != (1, 1) or len(self.blocks) != 1:
            return None
        m, n = self.blocks[0].var_shape
        return self.matrix.reshape((m, n), order="C" if self.vec == "row" else "F")

    def parts(self) -> tuple[Result, ...]:
        """One result per variable after ``wrt``: its block, its columns of J (for a scalar f,
        the gradients, one name at a time)."""
        out, c0 = [], 0
        for b in self.blocks:
            n = sizes.mul(*b.var_shape)
            matrix = None
            if self.matrix is not None and isinstance(n, int):  # numbers: the sizes are too
                matrix, c0 = self.matrix[:, c0 : c0 + n], c0 + n
            out.append(
                self._replace(formula=b.formula, latex=b.latex, shape=(self.shape[0], n), blocks=(b,), matrix=matrix)
            )
        return tuple(out)

    @property
    def gradient_formula(self) -> str | None:
        """The closed form of the gradient, when there is one."""
        if self.f_shape != (1, 1) or len(self.blocks) != 1 or self.blocks[0].gradient_expr is None:
            return None
        return to_text(self.blocks[0].gradient_expr)

    def __repr__(self) -> str:
        wrt = ", ".join(b.var for b in self.blocks)
        numbers = "with its matrix" if self.matrix is not None else "formula only"
        return f"<Result J = {self.formula}: {sizes.shape_text(self.shape)}, {self.expression} wrt {wrt}; {numbers}>"

    def _repr_latex_(self) -> str:
        """How a notebook shows the result: the closed form as display math."""
        return f"$${latex_line(self)}$$"


def latex_line(result: Result, gradient: bool = False) -> str:
    """The formula as one LaTeX line, to paste between $$."""
    f = to_latex(result.problem.expr) if result.problem else result.expression
    g = result.blocks[0].gradient_expr if len(result.blocks) == 1 else None
    if gradient and g is not None:
        return rf"\frac{{\partial\, {f}}}{{\partial {latex_name(result.blocks[0].var)}}} = {to_latex(g)}"
    vec = r"\operatorname{vec}" if result.vec == "col" else r"\operatorname{vec}_{r}"
    vars_ = ", ".join(rf"{vec}({latex_name(b.var)})" for b in result.blocks)
    return rf"\frac{{\partial {vec}\left({f}\right)}}{{\partial {vars_}}} = {result.latex}"


def jacobian_blocks(problem: Problem, vec: str = "col") -> tuple[Block, ...]:
    """The closed form of the Jacobian with respect to each variable, simplified.

    For a scalar f the gradient G comes first, by reverse accumulation in the Matrix
    Cookbook's layout, and J = vec(G)ᵀ; otherwise J comes from the chain rule."""
    if vec not in VECS:
        raise JacliError((Option("vec"), f" is col or row, not {vec!r}"))
    return _blocks(problem.source, problem.expr, problem.wrt, tuple(problem.names.items()), vec)


@functools.lru_cache(maxsize=128)
def _blocks(source: str, expr: Expr, wrt: tuple[str, ...], names: Names, vec: str) -> tuple[Block, ...]:
    """The derivation, kept for the same expression (and source text: its nodes' columns
    are in messages), names, shapes and layout: a second call (jacli.jacobian in a loop, a
    Hessian's rows) evaluates without deriving again."""
    problem = _Derivable(expr, wrt, dict(names), Shapes(dict(names)))
    simp = Simplifier(problem.shapes)
    p, q = problem.shape
    blocks = []
    for var in problem.wrt:
        m, n = problem.names[var]
        grad = gradient(problem.expr, var, problem.shapes, simp) if (p, q) == (1, 1) else None
        if grad is not None:
            J = simp(T(vec_of(grad if vec == "col" else T(grad))))
        else:
            J = jacobian_expr(problem.expr, var, problem.shapes, simp)
            if vec == "row":
                # vec of rows: vecᵣ(F) = vec(Fᵀ) = K(p,q) vec(F) and vec(X) = K(n,m) vecᵣ(X)
                J = simp(matmul(matmul(comm(p, q), J), comm(n, m)))
        blocks.append(Block(var, (m, n), J, to_text(J), to_latex(J), grad))
    return tuple(blocks)


class _Derivable(NamedTuple):
    expr: Expr
    wrt: tuple[str, ...]
    names: dict[str, tuple[int, int]]
    shapes: Shapes

    @property
    def shape(self) -> tuple[int, int]:
        return self.shapes(self.expr)


def formula_of(blocks: tuple[Block, ...], latex: bool = False) -> str:
    """One formula for the blocks side by side: ``[J_X, J_Y]``."""
    parts = [b.latex if latex else b.formula for b in blocks]
    if len(parts) == 1:
        return parts[0]
    if latex:
        return r"\begin{bmatrix} " + " & ".join(parts) + r" \end{bmatrix}"
    return "[" + ", ".join(parts) + "]"


def needed_names(blocks: tuple[Block, ...]) -> list[str]:
    """The names whose values the blocks' numbers need."""
    seen: dict[str, None] = {}
    for b in blocks:
        for n in b.expr.names():
            seen.setdefault(n, None)
    return list(seen)


def result_of(problem: Problem, blocks: tuple[Block, ...], vec: str, matrix: np.ndarray | None) -> Result:
    p, q = problem.shape
    cols = sizes.total(sizes.mul(*b.var_shape) for b in blocks)
    return Result(
        formula_of(blocks),
        formula_of(blocks, latex=True),
        (sizes.mul(p, q), cols),
        blocks,
        to_text(problem.expr),
        (p, q),
        vec,
        matrix,
        problem,
    )


def entry_label(name: str, k: int, shape: tuple[int, int], vec: str) -> str:
    """The entry of a matrix that position k of its vec stands for."""
    r, c = shape
    i, j = (k % r, k // r) if vec == "col" else (k // c, k % c)
    return f"{name}[{i},{j}]"


def column_label(variables: dict[str, tuple[int, int]], k: int, vec: str) -> str:
    """The entry of the variables (side by side, in order) that column k of J stands for."""
    for var, shape in variables.items():
        size = shape[0] * shape[1]
        if k < size:
            return entry_label(var, k, shape, vec)
        k -= size
    raise IndexError(k)


# -- numbers ---------------------------------------------------------------------------
def jacobian_size(problem: Problem, blocks: tuple[Block, ...]) -> tuple[int, int]:
    rows = problem.shape[0] * problem.shape[1]
    return rows, sum(b.var_shape[0] * b.var_shape[1] for b in blocks)


def size_error(rows: int, cols: int, max_bytes: float, hint: str = "") -> JacliError:
    need = rows * cols * 8
    return JacliError(
        (
            f"the Jacobian is {rows:,}×{cols:,}: {need:,} bytes of float64, above the limit of "
            f"{int(max_bytes):,} bytes; ",
            Hint("larger"),
            hint,
        )
    )


def compiled(problem: Problem, blocks: tuple[Block, ...], max_bytes: float | None = None) -> list[Structured]:
    """Each block compiled for the structured evaluator, over the problem's values; every
    node evaluated densely is domain-checked there (an inverse once: the check is the value)."""
    ev = Evaluator(problem.values, check=True, shapes=problem.shapes, max_bytes=max_bytes)

    def dense(e: Expr) -> np.ndarray:
        a = ev(e)
        if not np.all(np.isfinite(a)):
            raise JacliError(f"{to_text(e)} has infinite or NaN entries for these values")
        return a

    with np.errstate(all="ignore"):
        return [Structured(b.expr, problem.shapes, dense, max_bytes) for b in blocks]


def evaluate_blocks(
    problem: Problem, blocks: tuple[Block, ...], *, max_bytes: float | None = None, hint: str = ""
) -> np.ndarray:
    """The numeric Jacobian, refused before allocation when it would exceed ``max_bytes``."""
    rows, cols = jacobian_size(problem, blocks)
    if max_bytes is not None and rows * cols * 8 > max_bytes:
        raise size_error(rows, cols, max_bytes, hint)
    parts = compiled(problem, blocks, max_bytes)
    with np.errstate(all="ignore"):
        J = assemble(parts)
    if any(p.may_overflow() for p in parts):
        require_finite(J)
    return J


def require_finite(J: np.ndarray) -> None:
    if not np.all(np.isfinite(J)):
        raise JacliError("the Jacobian has infinite or NaN entries for these values (overflow)")
