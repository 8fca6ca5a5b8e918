"""From a problem to its Jacobian: the closed form of each block, and the numbers."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .. import sizes
from ..calculus.adjoint import gradient
from ..calculus.chain import jacobian_expr
from ..calculus.shapes import Shapes
from ..calculus.simplify import Simplifier
from ..errors import Hint, JacliError, Option
from ..expr import Expr, T, comm, matmul
from ..expr import vec as vec_of
from ..io.arrays import size_text
from ..numeric.evaluate import Budget, Evaluator
from ..numeric.mapped import Mapped, Selected, free_columns
from ..numeric.structured import Structured, assemble
from ..syntax.printer import latex_name, to_latex, to_text
from .problem import Problem, budget, held_bytes

if TYPE_CHECKING:
    from ..calculus.ops.registry import Shape

VECS = ("col", "row")
Names = tuple[tuple[str, tuple[int, int]], ...]  # a problem's names and their shapes, hashable (a cache's key)


class Block(NamedTuple):
    """The Jacobian with respect to one variable; for a variable declared symmetric, diagonal
    or triangular (``structure``), with respect to its free entries: ``expr`` is J_vec M
    (M = D(n), ...), ``vec_expr`` J_vec, and ``partials_expr`` the gradient's second form.
    For F = vech(G), ``expr`` is L(k) J_G M and ``vec_expr`` J_G, whose rows are selected."""

    var: str
    var_shape: tuple[int, int]
    expr: Expr
    formula: str
    latex: str
    gradient_expr: Expr | None = None
    structure: str | None = None
    vec_expr: Expr | None = None
    partials_expr: Expr | None = None
    vech_of: Any = None  # for F = vech(G), G k×k: k, and vec_expr is G's Jacobian (rows selected, L(k) never formed)

    @property
    def columns(self) -> Any:
        """How many columns J has for the variable: its entries, or its free entries."""
        n = self.var_shape[0]
        if self.structure is None:
            return sizes.mul(*self.var_shape)
        return n if self.structure == "diag" else sizes.tri(n)


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
        b = self.blocks[0]
        if b.structure is not None and b.gradient_expr is not None and self.problem is not None:
            # J holds the partials over the free entries; the gradient is the first convention's
            return np.asarray(Evaluator(self.problem.values)(b.gradient_expr), dtype=float).reshape(b.var_shape)
        m, n = b.var_shape
        return self.matrix.reshape((m, n), order="C" if self.vec == "row" else "F")

    def parts(self) -> tuple[Result, ...]:
        """One result per variable after ``wrt``: its block, its columns of J (for a scalar f,
        the gradients, one name at a time)."""
        out, c0 = [], 0
        for b in self.blocks:
            n = b.columns
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
    structures = tuple(sorted((v, problem.structures[v]) for v in problem.wrt if v in problem.structures))
    return _blocks(problem.source, problem.expr, problem.wrt, tuple(problem.names.items()), vec, structures)


@functools.lru_cache(maxsize=128)
def _blocks(
    source: str, expr: Expr, wrt: tuple[str, ...], names: Names, vec: str, structures: tuple[tuple[str, str], ...] = ()
) -> tuple[Block, ...]:
    """The derivation, kept for the same expression (and source text: its nodes' columns
    are in messages), names, shapes, layout and declared structures: a second call
    (jacli.jacobian in a loop, a Hessian's rows) evaluates without deriving again."""
    declared = dict(structures)
    shapes = Shapes(dict(names), frozenset(v for v, s in structures if s in ("sym", "diag")))
    problem = _Derivable(expr, wrt, dict(names), shapes)
    simp = Simplifier(problem.shapes)
    p, q = problem.shape
    inner = expr.args[0] if expr.op == "vech" and (p, q) != (1, 1) else None  # rows over vech(G)
    blocks = []
    for var in problem.wrt:
        m, n = problem.names[var]
        grad = gradient(problem.expr, var, problem.shapes, simp) if (p, q) == (1, 1) else None
        if grad is not None:
            J = simp(T(vec_of(grad if vec == "col" else T(grad))))
        elif inner is not None:  # vec(vech(G)) = L(k) vec(G): J_G, its rows selected where evaluated
            J = jacobian_expr(inner, var, problem.shapes, simp)
            J = simp(matmul(J, comm(n, m))) if vec == "row" else J
        else:
            J = jacobian_expr(problem.expr, var, problem.shapes, simp)
            if vec == "row":
                # vec of rows: vecᵣ(F) = vec(Fᵀ) = K(p,q) vec(F) and vec(X) = K(n,m) vecᵣ(X)
                J = simp(matmul(matmul(comm(p, q), J), comm(n, m)))
        structure = declared.get(var)
        if structure is None and inner is None:
            blocks.append(Block(var, (m, n), J, to_text(J), to_latex(J), grad))
            continue
        free = J if structure is None else simp(matmul(J, free_map(structure, m)))
        k = None if inner is None else problem.shapes(inner)[0]
        shown = free if k is None else simp(matmul(Expr("L", (), k), free))
        frobenius, partials = (None, None)
        if grad is not None and structure is not None:
            frobenius, partials = structured_gradients(grad, structure, simp)
        blocks.append(Block(var, (m, n), shown, to_text(shown), to_latex(shown), frobenius, structure, J, partials, k))
    return tuple(blocks)


def free_map(structure: str, n: Any) -> Expr:
    """M with vec(S) = M s, s the free entries of S: D(n) vech(S) for a symmetric S, L(n)ᵀ
    vech(S) for a lower triangular one, K(n,n) L(n)ᵀ vech(Sᵀ) for an upper one, and for a
    diagonal one the columns eᵢ ⊗ eᵢ of I(n) ⊙ I(n) times diag(S)."""
    if structure == "sym":
        return Expr("D", (), n)
    if structure == "lower":
        return T(Expr("L", (), n))
    if structure == "upper":
        return matmul(comm(n, n), T(Expr("L", (), n)))
    return Expr("khatrirao", (Expr("I", (), n), Expr("I", (), n)))


def structured_gradients(g: Expr, structure: str, simp: Simplifier) -> tuple[Expr, Expr]:
    """The gradient G of a scalar f in the two conventions for a structured S: the gradient in
    the Frobenius inner product on such matrices (the projection of G: sym(G) = (G + Gᵀ)/2 for
    a symmetric S), and the partial derivatives with respect to the free entries, shaped like
    S (G + Gᵀ - G ∘ I for a symmetric S, the Cookbook's 2G - G ∘ I where G is symmetric)."""
    n = simp.shape(g)[0]
    if structure == "sym":
        frobenius = simp(Expr("smul", (Expr("num", (), 0.5), Expr("add", (g, T(g))))))
        partials = simp(Expr("add", (Expr("add", (g, T(g))), Expr("neg", (Expr("had", (g, Expr("I", (), n))),)))))
        return frobenius, partials
    kept = {
        "diag": Expr("had", (g, Expr("I", (), n))),
        "lower": Expr("tril", (g,), 0),
        "upper": Expr("triu", (g,), 0),
    }[structure]
    return simp(kept), simp(kept)


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
    cols = sizes.total(b.columns for b in blocks)
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


def column_label(
    variables: dict[str, tuple[int, int]], k: int, vec: str, structures: Mapping[str, str] | None = None
) -> str:
    """The entry of the variables (side by side, in order) that column k of J stands for; of
    a structured variable, its free entries in order (vech's for a symmetric one)."""
    structures = structures or {}
    for var, shape in variables.items():
        structure = structures.get(var)
        if structure is None:
            size = shape[0] * shape[1]
            if k < size:
                return entry_label(var, k, shape, vec)
        else:
            first, _ = free_columns(structure, shape[0])
            size = first.size
            if k < size:
                return entry_label(var, int(first[k]), shape, "col")
        k -= size
    raise IndexError(k)


# -- numbers ---------------------------------------------------------------------------
def jacobian_size(problem: Problem, blocks: tuple[Block, ...]) -> tuple[int, int]:
    rows = problem.shape[0] * problem.shape[1]
    return rows, sum(int(b.columns) for b in blocks)


def byte_count(n: float) -> str:
    """A number of bytes in a message: exact up to 10 MB, else in units (``648.0 TB``), so
    that the advice after it still fits the line."""
    return f"{int(n):,} bytes" if n < 10**7 else size_text(int(n))


def size_error(rows: int, cols: int, max_bytes: float, hint: str = "", held: int = 0) -> JacliError:
    """The Jacobian above the limit (with the ``held`` bytes of the values), and what to do:
    ``hint`` where it is said better than the general advice (saving block by block)."""
    need = rows * cols * 8
    if held and need <= max_bytes:  # J alone would fit: the values take the rest
        what = f"{byte_count(need)}, and the values {byte_count(held)}:"
    else:
        what = f"{byte_count(need)} of float64,"
    return JacliError(
        (
            f"the Jacobian is {rows:,}×{cols:,}: {what} above the limit of {byte_count(max_bytes)}; ",
            hint or Hint("larger"),
        )
    )


def compiled(
    problem: Problem, blocks: tuple[Block, ...], max_bytes: float | None = None, reserved: int = 0
) -> list[Structured]:
    """Each block compiled for the structured evaluator, over the problem's values; every
    node evaluated densely is domain-checked there (an inverse once: the check is the value).
    The nodes and intermediates are refused before they would take, with the values and the
    ``reserved`` bytes (the output), more than ``max_bytes``."""
    budget = Budget(max_bytes, held_bytes(problem) + reserved)
    ev = Evaluator(problem.values, check=True, shapes=problem.shapes, max_bytes=budget)

    def dense(e: Expr) -> np.ndarray:
        a = ev(e)
        if not np.all(np.isfinite(a)):
            raise JacliError(f"{to_text(e)} has infinite or NaN entries for these values")
        return a

    def part(b: Block) -> Structured:
        if b.vec_expr is None:
            return Structured(b.expr, problem.shapes, dense, budget)
        out = Structured(b.vec_expr, problem.shapes, dense, budget)  # J_vec: its columns gathered, M never formed
        if b.structure is not None:
            out = Mapped(out, b.structure, int(b.var_shape[0]))
        return out if b.vech_of is None else Selected(out, int(b.vech_of))  # rows of vech(G): L(k) never formed

    with np.errstate(all="ignore"):
        return [part(b) for b in blocks]


def evaluate_blocks(
    problem: Problem, blocks: tuple[Block, ...], *, max_bytes: float | None = None, hint: str = ""
) -> np.ndarray:
    """The numeric Jacobian, refused before allocation when it would take, with the values
    and the parts computed on the way, more than ``max_bytes``."""
    rows, cols = jacobian_size(problem, blocks)
    left = budget(problem, max_bytes)
    if max_bytes is not None and left is not None and rows * cols * 8 > left:
        raise size_error(rows, cols, max_bytes, hint, held_bytes(problem))
    parts = compiled(problem, blocks, max_bytes, 2 * rows * cols * 8)  # J, and a copy of its size while written
    with np.errstate(all="ignore"):
        J = assemble(parts)
    if any(p.may_overflow() for p in parts):
        require_finite(J)
    return J


def require_finite(J: np.ndarray) -> None:
    if not np.all(np.isfinite(J)):
        raise JacliError("the Jacobian has infinite or NaN entries for these values (overflow)")
