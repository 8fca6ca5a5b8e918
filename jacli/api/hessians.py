"""Second derivatives: the Hessian is the Jacobian of the gradient.

For a scalar f, H = ∂²f / ∂vec(X) ∂vec(X)ᵀ is the Jacobian of vec(G) with G = ∂f/∂X the
gradient in matrix form, as Magnus & Neudecker identify it from d²f (ch. 10): the gradient
of tr(Xᵀ A X) is (A + Aᵀ) X, and its Jacobian is I ⊗ (A + Aᵀ). With several names after
wrt, row block i holds the Jacobian of G_i with respect to every name. For a p×q F, the
stacked Hessian HF(X) = D vec((DF(X))ᵀ) is the Jacobian of vec(Jᵀ), J = DF(X).

So a Hessian is a first derivative of a derived problem, whose F is G (or vec(Jᵀ)):
everything a Jacobian has (numbers, formats, files, checks) serves it unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .. import sizes
from ..calculus.adjoint import gradient
from ..calculus.shapes import Shapes
from ..calculus.simplify import Simplifier
from ..errors import JacliError, Option
from ..expr import Expr, T, matmul
from ..expr import vec as vec_of
from ..io.writers import save_matrix
from ..numeric.evaluate import domain_nodes
from ..sizes import shape_text
from ..syntax.printer import latex_name, to_text
from .derivation import VECS, Block, Names, evaluate_blocks, free_map, jacobian_blocks, needed_names, size_error
from .formats import FORMULA_SUFFIXES, note, sizes_note
from .problem import Problem, require_numbers
from .saving import Plan, Watch, save_large, save_text

if TYPE_CHECKING:  # the checking module loads only for check
    from ..calculus.ops.registry import Shape
    from .checking import CheckResult


class Hessian(NamedTuple):
    """The Hessian's closed form: one row of blocks per row problem.

    Attributes
    ----------
    formula, latex : str
        H in jacli's language and in LaTeX (a block matrix for several names).
    shape : tuple
        H's shape.
    rows : tuple of tuple of Block
        ``rows[i][j]`` is the block ∂ vec(G_i) / ∂ vec(X_j)ᵀ.
    problems : tuple of Problem
        The derived problems whose Jacobians are the rows (F = G_i, or vec(Jᵀ)).
    problem : Problem
        The problem H is the Hessian of.
    vec : {"col", "row"}
        How vec stacks.
    matrix : numpy.ndarray or None
        The numbers; None when only the formula was asked for.
    """

    formula: str
    latex: str
    shape: Shape
    rows: tuple[tuple[Block, ...], ...]
    problems: tuple[Problem, ...]
    problem: Problem
    vec: str
    matrix: np.ndarray | None = None

    @property
    def stacked(self) -> bool:
        """Whether F is a matrix and H the Hessians of its entries, stacked."""
        return self.problem.shape != (1, 1)

    def __repr__(self) -> str:
        numbers = "with its matrix" if self.matrix is not None else "formula only"
        of = f"{to_text(self.problem.expr)} wrt {', '.join(self.problem.wrt)}"
        return f"<Hessian H = {self.formula}: {shape_text(self.shape)}, {of}; {numbers}>"

    def _repr_latex_(self) -> str:
        """How a notebook shows the Hessian: its closed form as display math."""
        return f"$${hessian_latex(self)}$$"


def hessian_problems(problem: Problem, vec: str = "col") -> tuple[Problem, ...]:
    """The problems whose Jacobians are H's row blocks: F = G_i for a scalar f (one per name
    after wrt), or F = vec(Jᵀ) for a matrix F (one name)."""
    if vec not in VECS:
        raise JacliError((Option("vec"), f" is col or row, not {vec!r}"))
    if problem.shape != (1, 1) and len(problem.wrt) != 1:
        p, q = problem.shape
        raise JacliError(
            f"the Hessian of a {sizes.shape_text((p, q))} F stacks the Hessians of its entries with respect "
            f"to one name: give one name after wrt (or a scalar F, such as sum or tr of it)"
        )
    structures = tuple(sorted(problem.structures.items()))
    exprs = _row_exprs(problem.source, problem.expr, problem.wrt, tuple(problem.names.items()), vec, structures)
    return tuple(problem._replace(expr=e) for e in exprs)


@functools.lru_cache(maxsize=64)
def _row_exprs(
    source: str, expr: Expr, wrt: tuple[str, ...], names: Names, vec: str, structures: tuple[tuple[str, str], ...] = ()
) -> tuple[Expr, ...]:
    """The rows' F (kept, as the Jacobians' derivations are). For a variable declared
    symmetric (diagonal, triangular) the rows are over its free entries too: F = Mᵀ vec(G),
    so that H = Mᵀ H_vec M (D(n)ᵀ H D(n) for a symmetric S; M&N ch. 3)."""
    declared = dict(structures)
    shapes = Shapes(dict(names), frozenset(v for v, s in structures if s in ("sym", "diag")))
    problem = Problem(source, expr, wrt, dict(names), {}, shapes, structures=declared)
    simp = Simplifier(problem.shapes)
    if problem.shape == (1, 1):
        rows = []
        for v in wrt:
            g = gradient(expr, v, problem.shapes, simp)
            if v in declared:
                g = simp(matmul(T(free_map(declared[v], problem.names[v][0])), vec_of(g)))
            rows.append(g)
        return tuple(rows)
    (block,) = jacobian_blocks(problem, vec)
    return (simp(vec_of(T(block.expr))),)


def hessian_of(
    problem: Problem, vec: str = "col", *, symbolic: bool = False, max_bytes: float | None = None
) -> Hessian:
    """The Hessian's closed form and, unless ``symbolic``, its numbers."""
    problems = hessian_problems(problem, vec)
    rows = tuple(jacobian_blocks(p, vec) for p in problems)
    formula, latex = _formulas(rows)
    cols = sizes.total(b.columns for b in rows[0])
    shape = (sizes.total(sizes.mul(*p.shape) for p in problems), cols)
    matrix = None if symbolic else hessian_matrix(problem, problems, rows, max_bytes=max_bytes)
    return Hessian(formula, latex, shape, rows, problems, problem, vec, matrix)


def hessian_matrix(
    problem: Problem,
    problems: tuple[Problem, ...],
    rows: tuple[tuple[Block, ...], ...],
    *,
    max_bytes: float | None = None,
) -> np.ndarray:
    """H's numbers, row block by row block; f's own domain is checked first (the gradient
    of logdet(X) is defined where det X < 0, logdet is not)."""
    require_h_numbers(problem, rows)
    cols = sum(int(b.columns) for b in rows[0])
    total = sum(p.shape[0] * p.shape[1] for p in problems)
    if max_bytes is not None and total * cols * 8 > max_bytes:
        raise size_error(total, cols, max_bytes)
    parts = []
    for p, blocks in zip(problems, rows, strict=True):
        require_numbers(p, needed_names(blocks))
        parts.append(evaluate_blocks(p, blocks, max_bytes=max_bytes))
    return parts[0] if len(parts) == 1 else np.vstack(parts)


def require_h_numbers(problem: Problem, rows: tuple[tuple[Block, ...], ...]) -> None:
    """The values H's numbers need, and those of f's domain, which is checked there: H of
    x' A x is A + Aᵀ, whatever x; H of logdet(X) needs det X > 0."""
    needed = {n: None for blocks in rows for n in needed_names(blocks)}
    for _, names in domain_nodes(problem.expr):
        needed.update(dict.fromkeys(names))
    require_numbers(problem, list(needed))


class Saved(NamedTuple):
    hessian: Hessian
    shown: np.ndarray | None  # H computed in memory, if any
    wrote: str | None  # what was saved, as told to the user
    warnings: tuple[str, ...] = ()  # what the user should know about it (a dense --sparse)


def hessian_plan(
    problem: Problem,
    plan: Plan,
    ready: Callable[[Hessian], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Saved:
    """``jacli hessian``: the closed form, the numbers where asked for, the output saved.
    With one row block (one name, or a matrix F), ``-o H.npy`` is written block by block and
    ``--sparse -o H.npz`` from the structure, by the code that saves a Jacobian (``ready``
    given the closed form first, ``progress`` the rows written)."""
    if plan.gradient:
        raise JacliError("--gradient is an option of derive; hessian gives the second derivative")
    h = hessian_of(problem, plan.vec, symbolic=True)
    output, suffix = plan.output, plan.suffix
    if plan.numbers and len(h.problems) == 1 and output and (plan.sparse or plan.streamed):
        (p,), (blocks,) = h.problems, h.rows
        require_h_numbers(problem, h.rows)
        require_numbers(p, needed_names(blocks))
        watch = Watch(None if ready is None else (lambda: ready(h)), progress)
        wrote, warnings = save_large(p, blocks, plan, "Hessian", watch)
        return Saved(h, None, wrote, warnings)
    if plan.sparse:
        raise JacliError("--sparse saves the Hessian with respect to one name; give one name after wrt")
    if plan.numbers:
        h = h._replace(matrix=hessian_matrix(problem, h.problems, h.rows, max_bytes=plan.max_bytes))
    if output and suffix in FORMULA_SUFFIXES:
        save_text(output, {".md": hessian_markdown, ".py": hessian_python}.get(suffix, _latex_file)(h))
    elif output and h.matrix is not None:
        comments = [f"H = {h.formula}", f"shape {h.matrix.shape[0]}x{h.matrix.shape[1]}"]
        save_matrix(output, h.matrix, formula=h.formula, latex=h.latex, comments=comments)
    return Saved(h, h.matrix, output)


class HessianCheck(NamedTuple):
    """``jacli check --hessian``: the first derivative against the numerical derivative of
    f, then each row block of H against the numerical derivative of the (checked) gradient,
    and the asymmetry of jacli's H (for a scalar f; None where H is too large to form)."""

    first: CheckResult
    rows: tuple[CheckResult, ...]
    hessian: Hessian
    asymmetry: float | None

    @property
    def agree(self) -> bool:
        return self.first.agree and all(r.agree for r in self.rows)

    def __repr__(self) -> str:
        verdict = "agree" if self.agree else "disagree"
        return f"<HessianCheck {verdict}: H = {self.hessian.formula}, {len(self.rows)} row block(s) checked>"


ASYMMETRY_BYTES = 64 * 2**20  # H is formed for its asymmetry up to this size


def check_hessian(
    problem: Problem,
    *,
    against: str | None = None,
    tol: float = 1e-8,
    vec: str = "col",
    method: str = "complex",
    max_bytes: float | None = None,
) -> HessianCheck:
    """Check the Hessian as the Jacobian of the gradient: the gradient (or J) first, against
    differences of f; then H against differences of that gradient; ``against`` is a claimed
    closed form of H (one name after wrt)."""
    from .checking import check_problem

    h = hessian_of(problem, vec, symbolic=True)
    if against is not None and len(h.problems) > 1:
        raise JacliError(
            (Option("against"), " with ", Option("hessian"), " takes one name after wrt (the claim is H's closed form)")
        )
    first = check_problem(problem, tol=tol, vec=vec, method=method, max_bytes=max_bytes)
    if not h.stacked and not problem.structures:  # H's rows are the Jacobians of the very gradients checked
        grads = [b.gradient_expr for b in jacobian_blocks(problem, vec)]
        if grads != [p.expr for p in h.problems]:
            raise RuntimeError("the Hessian's rows are not the checked gradients")
    rows = tuple(
        check_problem(p, against=against, tol=tol, vec=vec, method=method, max_bytes=max_bytes) for p in h.problems
    )
    asym = None
    rows_n, cols_n = (int(x) for x in h.shape)
    if not h.stacked and rows_n * cols_n * 8 <= min(ASYMMETRY_BYTES, max_bytes or ASYMMETRY_BYTES):
        asym = asymmetry(hessian_matrix(problem, h.problems, h.rows, max_bytes=max_bytes))
    return HessianCheck(first, rows, h, asym)


def lhs(h: Hessian, latex: bool = False) -> str:
    """∂²f/∂vec(X)∂vec(X)ᵀ, or D vec((DF)ᵀ) for a matrix F."""
    vec = "vec" if h.vec == "col" else "vecᵣ"
    names = h.problem.wrt
    if latex:
        v = r"\operatorname{vec}" if h.vec == "col" else r"\operatorname{vec}_{r}"
        if h.stacked:
            return rf"\mathsf{{D}} {v}\left(\left(\mathsf{{D}} F\right)^{{\mathsf{{T}}}}\right)"
        xs = ", ".join(
            rf"\operatorname{{{free_name(h.problem, n, 'vech')}}}({latex_name(n)})"
            if n in h.problem.structures
            else rf"{v}({latex_name(n)})"
            for n in names
        )
        return rf"\frac{{\partial^2 f}}{{\partial {xs}\, \partial ({xs})^{{\mathsf{{T}}}}}}"
    if h.stacked:
        return f"D {vec}((DF)ᵀ)"
    xs = ", ".join(f"{free_name(h.problem, n, vec)}({n})" for n in names)
    return f"∂²f/∂{xs}∂{xs}ᵀ" if len(names) == 1 else f"∂²f/∂[{xs}]∂[{xs}]ᵀ"


def free_name(problem: Problem, n: str, vec: str) -> str:
    """How a variable's entries are stacked: vec, or vech for a structured one (its free entries)."""
    structure = problem.structures.get(n)
    return vec if structure is None else {"sym": "vech", "lower": "vech", "upper": "vechᵀ", "diag": "diag"}[structure]


def hessian_latex(h: Hessian) -> str:
    """The Hessian as one LaTeX line, to paste between $$."""
    return f"{lhs(h, latex=True)} = {h.latex}"


def shape_line(h: Hessian) -> str:
    vec = "vec" if h.vec == "col" else "vecᵣ"
    xs = ", ".join(f"{free_name(h.problem, n, vec)} {n}, {n} {shape_text(h.problem.names[n])}" for n in h.problem.wrt)
    f = to_text(h.problem.expr)
    if h.stacked:
        return (
            f"{shape_text(h.shape)} (the Hessians of the entries of {vec} F stacked, "
            f"F = {f} is {shape_text(h.problem.shape)}; rows within each and columns: {xs})"
        )
    return f"{shape_text(h.shape)} (f = {f} is 1×1; rows and columns: {xs})"


def hessian_markdown(h: Hessian) -> str:
    """The Hessian's closed form in a ``$$`` block and its shape line, for a Markdown note."""
    return note(hessian_latex(h), [f"H is {shape_line(h)}"])


def hessian_python(h: Hessian) -> str:
    """A Python module on NumPy whose function ``hessian`` returns H, taking the inputs by name
    (as :func:`jacli.api.formats.python_source` writes a Jacobian's).

    Examples
    --------
    >>> import jacli, numpy as np
    >>> space = {}
    >>> exec(hessian_python(jacli.derive_hessian("x' A x wrt x", symbolic=True)), space)
    >>> space["hessian"](A=np.array([[1.0, 2.0], [0.0, 1.0]]))
    array([[2., 2.],
           [2., 2.]])
    """
    from ..numeric.pyfunction import function_source

    p = h.problem
    title = f"The Hessian H = {lhs(h)} of {'F' if h.stacked else 'f'} = {to_text(p.expr)}, as jacli derived it."
    doc = f"{title}\n\n    H = {h.formula}\n\nH is {shape_line(h)}.\n{sizes_note(p)}"
    rows = [[b.expr for b in row] for row in h.rows]
    return function_source("hessian", rows, shapes=p.shapes, names=p.names, doc=doc, prefer=p.wrt)


def _latex_file(h: Hessian) -> str:
    return hessian_latex(h) + "\n"


def _formulas(rows: tuple[tuple[Block, ...], ...]) -> tuple[str, str]:
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0].formula, rows[0][0].latex
    text = "[" + "; ".join(", ".join(b.formula for b in row) for row in rows) + "]"
    latex = r"\begin{bmatrix} " + r" \\ ".join(" & ".join(b.latex for b in row) for row in rows) + r" \end{bmatrix}"
    return text, latex


def asymmetry(H: np.ndarray) -> float:
    """max |H - Hᵀ| / max(1, max |H|): zero in exact arithmetic for a scalar f."""
    return float(np.max(np.abs(H - H.T), initial=0.0) / max(1.0, float(np.max(np.abs(H), initial=0.0))))


__all__ = [
    "Hessian",
    "HessianCheck",
    "Saved",
    "asymmetry",
    "check_hessian",
    "hessian_latex",
    "hessian_markdown",
    "hessian_matrix",
    "hessian_of",
    "hessian_plan",
    "hessian_problems",
    "hessian_python",
    "lhs",
    "shape_line",
]
