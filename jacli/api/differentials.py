"""The differential in matrix form, the Jacobian applied to a direction without forming it, the
Jacobian as a linear operator, and problems compiled once for many evaluations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np

from ..calculus.adjoint import adjoint, gradient
from ..calculus.differential import differential, differential_name
from ..calculus.shapes import Shapes
from ..calculus.simplify import Simplifier
from ..errors import JacliError
from ..expr import Expr, T, matmul, name
from ..io.arrays import as_matrix
from ..io.specs import Binding, structured
from ..numeric.evaluate import Budget, Evaluator, check_domains, domain_nodes
from ..numeric.mapped import free, free_columns, full
from ..numeric.program import Program
from ..syntax.notation import notation
from ..syntax.printer import to_latex, to_text
from .guard import api_errors
from .problem import Problem
from .structures import symmetric_names

if TYPE_CHECKING:
    from .hessians import Hessian

SEED = "F̄"  # the adjoint of F when J is applied from the left (not a name of the language)


class Differential(NamedTuple):
    """dF in matrix form; ``names`` maps each variable to its differential's name (dX)."""

    lhs: str
    expr: Expr
    names: dict[str, str]
    shapes: Shapes
    lhs_latex: str = ""  # d(F) in LaTeX

    @property
    def formula(self) -> str:
        return to_text(self.expr)

    @property
    def latex(self) -> str:
        marks = {d: v for v, d in self.names.items()}
        return to_latex(self.expr, differentials=marks)

    def text(self) -> str:
        """``d(A X B) = A dX B``."""
        return f"{self.lhs} = {self.formula}"

    def __repr__(self) -> str:
        return f"<Differential {self.text()}>"

    def _repr_latex_(self) -> str:
        """How a notebook shows it: dF = ... as display math."""
        lhs = self.lhs_latex or r"\mathrm{d}F"
        return f"$${lhs} = {self.latex}$$"


def _lhs(e: Expr, latex: bool = False) -> str:
    d = r"\mathrm{d}" if latex else "d"
    shown = to_latex(e) if latex else to_text(e)
    if e.op == "name":
        return f"{d}{shown}"
    if notation(e.op).call and e.op not in ("inv", "kron"):  # d tr(Xᵀ A X)
        return f"{d} {shown}" if not latex else rf"{d}\,{shown}"
    return rf"{d}\left({shown}\right)" if latex else f"{d}({shown})"


def _setup(problem: Problem, variables: tuple[str, ...]) -> tuple[dict[str, str], Shapes, Simplifier]:
    names = {v: differential_name(v, set(problem.names)) for v in variables}
    symmetric = symmetric_names(problem.structures)  # and their differentials: dS is symmetric too
    symmetric |= {names[v] for v in variables if v in symmetric}
    shapes = Shapes({**problem.names, **{names[v]: problem.names[v] for v in variables}}, symmetric)
    return names, shapes, Simplifier(shapes)


def differential_of(problem: Problem, variables: tuple[str, ...] | None = None) -> Differential:
    """dF with respect to ``variables`` (all after ``wrt`` by default), as M&N write it: for a
    scalar f, df = tr(Gᵀ dX) with G the gradient (gᵀ dx for a column x), else the
    differential of each operation, simplified (d(A X B) = A dX B)."""
    variables = problem.wrt if variables is None else variables
    names, shapes, simp = _setup(problem, variables)
    if problem.shape == (1, 1):
        terms = []
        for v in variables:
            g, dv = gradient(problem.expr, v, shapes, simp), name(names[v])
            r, c = problem.names[v]
            if (r, c) == (1, 1):
                terms.append(matmul(g, dv))
            elif c == 1:
                terms.append(matmul(T(g), dv))
            else:
                terms.append(Expr("tr", (matmul(T(g), dv),)))
        dF = terms[0]
        for t in terms[1:]:
            dF = Expr("add", (dF, t))
        dF = simp(dF)
    else:
        dF = differential(problem.expr, names, shapes, simp)
    return Differential(_lhs(problem.expr), dF, names, shapes, _lhs(problem.expr, latex=True))


def differential_latex(problem: Problem, d: Differential) -> str:
    return f"{_lhs(problem.expr, latex=True)} = {d.latex}"


def directional(
    problem: Problem, directions: dict[str, np.ndarray], max_bytes: float | None = None
) -> tuple[Differential, np.ndarray]:
    """dF along dX = V for each variable given (the others held): J vec(V), shaped like F,
    from the differential; J is never formed. Every node computed on the way, and dF, are
    refused before they would take, with the values, more than ``max_bytes``."""
    for v, value in directions.items():
        if v not in problem.wrt:
            raise JacliError(f"--direction {v}: {v} is not named after wrt")
        if value.shape != problem.names[v]:
            raise JacliError(f"--direction {v}: the direction is {value.shape[0]}×{value.shape[1]}, {v} is "
                             f"{problem.names[v][0]}×{problem.names[v][1]}")  # fmt: skip
        structure = problem.structures.get(v)
        if structure is not None:  # a direction of a structured variable has its structure
            b = structured(f"--direction {v}", Binding(value.shape, value, v), structure)
            directions = {**directions, v: value if b.value is None else b.value}
    variables = tuple(v for v in problem.wrt if v in directions)
    names, shapes, simp = _setup(problem, variables)
    d = Differential(
        _lhs(problem.expr), differential(problem.expr, names, shapes, simp), names, shapes, _lhs(problem.expr, True)
    )
    values = {**problem.values, **{names[v]: directions[v] for v in variables}}
    held = sum(v.nbytes for v in values.values()) + 8 * problem.shape[0] * problem.shape[1]  # and dF's copy
    ev = Evaluator(values, check=True, variables=problem.wrt, shapes=shapes, max_bytes=Budget(max_bytes, held))
    out = check_domains(problem.expr, problem.values, problem.wrt, ev)(d.expr)  # F's nodes evaluated once
    if not np.all(np.isfinite(out)):
        raise JacliError("the directional derivative has infinite or NaN entries for these values (overflow)")
    return d, np.broadcast_to(out, problem.shape).copy()


class JacobianOperator:
    """J = d vec(F) / d vec(X) as a linear operator: ``matvec`` (J v) from the differential,
    ``rmatvec`` (Jᵀ u) from the adjoints, neither forming J. ``scipy.sparse.linalg``'s
    ``aslinearoperator`` takes it, so J can go into ``lsqr``, ``gmres``, ``eigs``.
    ``vec="row"`` stacks rows instead of columns, as NumPy flattens."""

    dtype = np.dtype(np.float64)

    def __init__(self, problem: Problem, vec: str = "col", max_bytes: float | None = None) -> None:
        if vec not in ("col", "row"):
            raise JacliError(f"vec is col or row, not {vec!r}")
        self.problem = problem
        self.max_bytes = max_bytes  # what a product may hold: the values, the kept parts, the new ones
        self.order: Literal["C", "F"] = "F" if vec == "col" else "C"
        self.names, shapes, simp = _setup(problem, problem.wrt)
        self.dF = differential(problem.expr, self.names, shapes, simp)
        seed_shapes = Shapes({**problem.names, SEED: problem.shape})
        self._shapes = Shapes(
            {**problem.names, **{d: problem.names[v] for v, d in self.names.items()}, SEED: problem.shape}
        )
        seed_simp = Simplifier(seed_shapes)
        self.adjoints = [adjoint(problem.expr, v, name(SEED), seed_shapes, seed_simp) for v in problem.wrt]
        p, q = problem.shape
        self.structures = [problem.structures.get(v) for v in problem.wrt]  # a declared one: its free entries
        self.sizes = [
            r * c if s is None else free_columns(s, r)[0].size
            for (r, c), s in zip((problem.names[v] for v in problem.wrt), self.structures, strict=True)
        ]
        self.shape = (p * q, sum(self.sizes))
        check_domains(problem.expr, problem.values, problem.wrt)
        self._held: dict[Expr, np.ndarray] = {}  # values that depend on no direction: inv(X), A X ...
        self._moving: set[Expr] = set()

    def _evaluate(self, exprs: list[Expr], extra: dict[str, np.ndarray]) -> list[np.ndarray]:
        """``exprs`` over the problem's values and ``extra``, reusing what depends on none of ``extra``;
        every new part refused before it would take, with what is held, more than ``max_bytes``."""
        values = {**self.problem.values, **extra}
        held = sum(v.nbytes for v in values.values()) + sum(v.nbytes for v in self._held.values())
        ev = Evaluator(values, shapes=self._shapes, max_bytes=Budget(self.max_bytes, held))
        ev.memo.update(self._held)
        out = [ev(e) for e in exprs]
        for node, value in ev.memo.items():
            if node in self._held or node in self._moving:
                continue
            if all(n in self.problem.values for n in node.names()):
                self._held[node] = value
            else:
                self._moving.add(node)
        return out

    def _vector(self, v: Any, n: int, what: str, label: str) -> np.ndarray:
        """``v`` as a vector of n entries: 1-D, or a column or row, of real finite numbers as a
        binding's values are (a masked array with no masked entry, a tensor); a matrix is
        refused (its flattening order would be a guess)."""
        m = as_matrix(label, v)  # NaN, inf, complex, masked entries, text: refused as for bindings
        if 1 not in m.shape:
            order = "'F'" if self.order == "F" else "'C'"
            raise JacliError(
                f"{what} takes a vector of {n} entries, not a {m.shape[0]}×{m.shape[1]} array: "
                f"for a direction shaped like a matrix V pass V.reshape(-1, order={order})"
            )
        flat = m.reshape(-1)
        if flat.shape[0] != n:
            raise JacliError(f"{what} takes a vector of {n} entries, not {flat.shape[0]}")
        return flat

    def _split(self, v: np.ndarray) -> list[np.ndarray]:
        v = self._vector(v, self.shape[1], "matvec", "v")
        parts, start = [], 0
        for var, k, structure in zip(self.problem.wrt, self.sizes, self.structures, strict=True):
            shape = self.problem.names[var]
            part = v[start : start + k]
            parts.append(part.reshape(shape, order=self.order) if structure is None else full(part, structure, shape))
            start += k
        return parts

    def matvec(self, v: Any) -> np.ndarray:
        """J v: the directional derivative along v (the variables' entries, in vec order)."""
        with api_errors():
            parts = {self.names[var]: part for var, part in zip(self.problem.wrt, self._split(v), strict=True)}
            (dF,) = self._evaluate([self.dF], parts)
            return finite(np.broadcast_to(dF, self.problem.shape).flatten(order=self.order), "J v")

    def rmatvec(self, u: Any) -> np.ndarray:
        """Jᵀ u: the adjoints of the variables when F's is u (in vec order)."""
        with api_errors():
            u = self._vector(u, self.shape[0], "rmatvec", "u")
            seed = {SEED: u.reshape(self.problem.shape, order=self.order)}
            adjoints = self._evaluate(self.adjoints, seed)
            parts = []
            for var, a, structure in zip(self.problem.wrt, adjoints, self.structures, strict=True):
                a = np.broadcast_to(a, self.problem.names[var])
                parts.append(a.reshape(-1, order=self.order) if structure is None else free(a, structure))
            return finite(np.concatenate(parts), "Jᵀ u")

    def matmat(self, V: Any) -> np.ndarray:
        with api_errors():
            return np.column_stack([self.matvec(col) for col in as_matrix("V", V).T])

    def rmatmat(self, U: Any) -> np.ndarray:
        with api_errors():
            return np.column_stack([self.rmatvec(col) for col in as_matrix("U", U).T])

    def __repr__(self) -> str:
        return f"<JacobianOperator {self.shape[0]}×{self.shape[1]} of {to_text(self.problem.expr)}>"


class Compiled:
    """A problem derived once, evaluated at many values: ``gradient`` from its matrix form
    (``(A + Aᵀ) X``: one sum, one product), ``jacobian`` and ``hessian`` from the structured
    evaluator. A gradient is shaped like the values given for its variable: a 1-D array
    gives a 1-D gradient, as ``scipy.optimize`` wants ``jac`` to be."""

    def __init__(self, problem: Problem, vec: str = "col") -> None:
        from .derivation import jacobian_blocks

        self.problem = problem
        self.vec = vec
        self.blocks = jacobian_blocks(problem, vec)
        self._programs: dict[frozenset[str], Program] = {}  # by the names that have values
        self._hessian: Hessian | None = None

    def __repr__(self) -> str:
        p = self.problem
        return f"<Compiled {to_text(p.expr)} wrt {', '.join(p.wrt)}: gradient, jacobian, hessian>"

    def _values(self, values: dict[str, Any]) -> dict[str, np.ndarray]:
        """The compiled values with ``values`` validated and put over them."""
        from .problem import to_binding

        given = dict(self.problem.values)
        for n, v in values.items():
            shape = self.problem.names.get(n)
            if shape is None:
                raise JacliError(f"{n} does not occur in {to_text(self.problem.expr)}")
            if _plain(v, shape):
                given[n] = v  # already what validation would make of it
                continue
            b = to_binding(n, v)
            if b.value is None or b.shape != shape:
                raise JacliError(f"{n} needs values of the compiled shape {shape[0]}×{shape[1]}")
            given[n] = b.value
        return given

    def _problem(self, values: dict[str, Any]) -> Problem:
        return self.problem._replace(values=self._values(values))

    def gradient(self, bindings: Mapping[str, Any] | None = None, /, **values: Any) -> np.ndarray | list[np.ndarray]:
        """∂f/∂X shaped like X (a list for several variables) at ``values`` (and ``bindings``,
        a dict, for names such as ``self``)."""
        with api_errors():
            return self._gradient(merged(bindings, values))

    def _gradient(self, values: dict[str, Any]) -> np.ndarray | list[np.ndarray]:
        if self.problem.shape != (1, 1):
            raise JacliError("a gradient needs a scalar (1×1) expression")
        given = self._values(values)
        valued = frozenset(given)
        program = self._programs.get(valued)
        if program is None:  # the steps for the gradients and the checks, made once
            gradients = [b.gradient_expr for b in self.blocks if b.gradient_expr is not None]
            if len(gradients) != len(self.blocks):
                raise RuntimeError("a scalar expression without a gradient")
            checked = [node for node, names in domain_nodes(self.problem.expr) if valued.issuperset(names)]
            program = self._programs[valued] = Program(gradients, checked, self.problem.wrt)
        out = []
        with np.errstate(all="ignore"):
            for g, b in zip(program.run(given), self.blocks, strict=True):
                g = finite(g, "the gradient")
                g = np.array(g) if g.shape == b.var_shape else np.broadcast_to(g, b.var_shape).copy()
                given_as = values.get(b.var)  # a 1-D (or 0-D) x gives its gradient in that shape
                out.append(g.reshape(np.shape(given_as)) if given_as is not None and np.ndim(given_as) < 2 else g)
        return out[0] if len(out) == 1 else out

    def hessian(
        self, bindings: Mapping[str, Any] | None = None, /, *, max_bytes: object = None, **values: Any
    ) -> np.ndarray:
        """H = ∂²f / ∂vec(X) ∂vec(X)ᵀ at ``values`` (and ``bindings``), its closed form derived
        on first use."""
        from .arguments import api_max_bytes
        from .hessians import hessian_matrix, hessian_of

        with api_errors():
            limit = api_max_bytes(max_bytes)
            if self._hessian is None:
                self._hessian = hessian_of(self.problem, self.vec, symbolic=True)
            h = self._hessian
            problem = self._problem(merged(bindings, values))
            problems = tuple(
                p._replace(values={**p.values, **{n: v for n, v in problem.values.items() if n in p.names}})
                for p in h.problems
            )
            return hessian_matrix(problem, problems, h.rows, max_bytes=limit)

    def jacobian(
        self, bindings: Mapping[str, Any] | None = None, /, *, max_bytes: object = None, **values: Any
    ) -> np.ndarray:
        """J at ``values`` (and ``bindings``, a dict, for names such as ``self`` or
        ``max_bytes``), refused before allocation above ``max_bytes`` (as for
        :func:`jacli.jacobian`: by default half the available memory)."""
        from .arguments import api_max_bytes
        from .derivation import evaluate_blocks, needed_names
        from .problem import require_numbers

        with api_errors():
            limit = api_max_bytes(max_bytes)
            problem = self._problem(merged(bindings, values))
            require_numbers(problem, needed_names(self.blocks))
            return evaluate_blocks(problem, self.blocks, max_bytes=limit)


def merged(bindings: Mapping[str, Any] | None, values: dict[str, Any]) -> dict[str, Any]:
    """A compiled problem's values: a dict's and the keywords'."""
    if bindings is not None and not isinstance(bindings, Mapping):
        raise JacliError(f"values are a dict of names to arrays, not {type(bindings).__name__}")
    return {**(bindings or {}), **values}


def finite(a: np.ndarray, what: str) -> np.ndarray:
    """``a``, refused when an entry overflowed (as derive refuses it)."""
    if not np.all(np.isfinite(a)):
        raise JacliError(f"{what} has infinite or NaN entries for these values (overflow)")
    return a


def _plain(v: Any, shape: tuple[int, int]) -> bool:
    """Whether ``v`` is a finite float64 array of ``shape``, as validation would leave it (not
    a masked array, whose masked entries validation refuses)."""
    return type(v) is np.ndarray and v.dtype == np.float64 and v.shape == shape and bool(np.isfinite(v).all())
