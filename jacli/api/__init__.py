"""The library: from an expression and bindings to a closed form, numbers and checks.

Data flow, assembled here once: bindings (names to shapes or arrays) → parser
(expression, wrt) → shapes (every node's shape) → chain rule (Jacobian as an expression)
→ simplifier → printer (text, LaTeX) and evaluators (numbers). The command line
(:mod:`jacli.cli`) is a thin layer over this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import JacliError
from .derivation import Block, Result, derive_problem
from .problem import DEFAULT_SEED, Problem, bindings_of, prepare, with_random

if TYPE_CHECKING:
    from .checking import CheckResult, Comparison
    from .differentials import Compiled, Differential, JacobianOperator
    from .hessians import Hessian


def __getattr__(name: str) -> Any:  # the checking module loads when first asked for: derive starts faster
    if name in ("CheckResult", "Comparison"):
        from . import checking

        return getattr(checking, name)
    raise AttributeError(f"module 'jacli.api' has no attribute {name!r}")


__all__ = [
    "Block",
    "CheckResult",
    "Comparison",
    "Problem",
    "Result",
    "check",
    "compile",
    "derive",
    "derive_hessian",
    "differential",
    "hessian",
    "jacobian",
    "operator",
    "prepare",
]


def derive(
    source: str,
    bindings: dict[str, Any] | None = None,
    /,
    *,
    vec: str = "col",
    random: bool = False,
    seed: int = DEFAULT_SEED,
    symbolic: bool = False,
    max_bytes: float | None = None,
    **names: Any,
) -> Result:
    """Differentiate ``source`` (``"EXPR wrt X"``) and, unless ``symbolic``, evaluate.

    Parameters
    ----------
    source : str
        An expression in jacli's language followed by ``wrt`` and one or more names.
    bindings : dict, optional
        Names to arrays or shape tuples; keyword arguments do the same.
    vec : {"col", "row"}
        "col" stacks columns (Magnus & Neudecker); "row" stacks rows, as NumPy, JAX and
        PyTorch flatten.
    random : bool
        Fill every name that has no values with seeded random values (``seed``), valid
        for the expression.
    seed : int
        The seed of ``random``.
    symbolic : bool
        The closed form only; shapes suffice.
    max_bytes : float, optional
        Refuse a dense Jacobian larger than this.
    **names
        Bindings by name: an array, or a shape tuple such as ``(3, 4)``.

    Returns
    -------
    Result
        ``formula``, ``latex``, ``shape``, ``matrix`` (None when symbolic), ``blocks``.

    Raises
    ------
    JacliError
        Bad input: parse or shape error, missing values, undefined values.

    Examples
    --------
    >>> import numpy as np, jacli
    >>> r = jacli.derive("A X B wrt X", A=np.ones((2, 3)), B=np.ones((4, 5)))
    >>> r.formula, r.shape
    ('Bᵀ ⊗ A', (10, 12))
    """
    problem = prepare(source, bindings_of(bindings, names), random=random, seed=seed, symbolic=symbolic)
    return derive_problem(problem, vec=vec, symbolic=symbolic, max_bytes=max_bytes)


def jacobian(source: str, bindings: dict[str, Any] | None = None, /, **kw: Any) -> np.ndarray:
    """The numeric Jacobian d vec(F) / d vec(X) of ``source`` as a float64 array.

    Takes the same arguments as :func:`derive`, but ``symbolic``.

    Parameters
    ----------
    source : str
        An expression followed by ``wrt`` and one or more names.
    bindings : dict, optional
        Names to arrays or shape tuples; keyword arguments do the same.
    **kw
        ``vec``, ``random``, ``seed``, ``max_bytes`` as for :func:`derive`; any other
        keyword binds a name.

    Returns
    -------
    numpy.ndarray
        The Jacobian, one row per entry of vec(F), one column per entry of vec(X).

    Examples
    --------
    >>> import numpy as np, jacli
    >>> J = jacli.jacobian("A X B wrt X", A=np.eye(2), B=np.eye(3), X=(2, 3))
    >>> J.shape
    (6, 6)
    """
    options = {k: kw.pop(k) for k in ("vec", "random", "seed", "max_bytes") if k in kw}
    matrix = derive(source, bindings_of(bindings, kw), **options).matrix
    if matrix is None:  # derive evaluates unless asked for the formula alone
        raise RuntimeError("derive returned no matrix")
    return matrix


def check(
    source: str,
    bindings: dict[str, Any] | None = None,
    /,
    *,
    against: str | None = None,
    tol: float = 1e-8,
    seed: int = DEFAULT_SEED,
    vec: str = "col",
    method: str = "complex",
    **names: Any,
) -> CheckResult:
    """Compare jacli's Jacobian of ``source`` with a numerical derivative (and ``against``).

    Names bound by shape only, or not bound, get seeded random values valid for the
    expression.

    Parameters
    ----------
    source : str
        An expression followed by ``wrt`` and one or more names.
    bindings : dict, optional
        Names to arrays or shape tuples; keyword arguments do the same.
    against : str, optional
        A claimed closed form, such as ``"B' ⊗ A"``.
    tol : float
        Agreement means max |J − J_num| ≤ tol · max(1, max |J_num|).
    seed : int
        The seed of the random values.
    vec : {"col", "row"}
        How vec stacks (see :func:`derive`).
    method : {"complex", "central"}
        The numerical derivative: complex step (central differences where an operator
        is not analytic, such as abs or relu), or central differences.
    **names
        Bindings by name.

    Returns
    -------
    CheckResult
        ``agree`` is the verdict; ``comparisons`` hold the differences. Where shapes have
        dimension names, a :class:`jacli.api.sized_check.SizedCheck`: the check at several
        assignments of the names (all 1, then seeded draws), ``runs`` holding each.

    Examples
    --------
    >>> import jacli
    >>> jacli.check("A X B wrt X", A=(2, 3), B=(4, 5), against="B' ⊗ A").agree
    True
    """
    from .checking import check_problem

    problem = prepare(source, bindings_of(bindings, names), seed=seed)
    if problem.symbolic:
        from .sized_check import check_at_sizes

        return check_at_sizes(problem, against=against, tol=tol, vec=vec, method=method, seed=seed)  # type: ignore[return-value]
    return check_problem(with_random(problem, seed), against=against, tol=tol, vec=vec, method=method)


def differential(source: str, bindings: dict[str, Any] | None = None, /, **names: Any) -> Differential:
    """The differential dF in matrix form, as Magnus & Neudecker write it.

    Parameters
    ----------
    source : str
        An expression followed by ``wrt`` and one or more names.
    bindings : dict, optional
        Names to arrays or shape tuples (sizes may be dimension names); keyword arguments do
        the same. Sizes nothing fixes get names.

    Returns
    -------
    Differential
        ``text()`` (``d(A X B) = A dX B``), ``formula``, ``latex``, ``expr``.

    Examples
    --------
    >>> import jacli
    >>> jacli.differential("inv(X) wrt X").text()
    'd(X⁻¹) = -X⁻¹ dX X⁻¹'
    >>> jacli.differential("tr(X' A X) wrt X").text()
    'd tr(Xᵀ A X) = tr(Xᵀ (A + Aᵀ) dX)'
    """
    from .differentials import differential_of

    return differential_of(prepare(source, bindings_of(bindings, names), symbolic=True))


def operator(
    source: str, bindings: dict[str, Any] | None = None, /, *, vec: str = "col", **names: Any
) -> JacobianOperator:
    """J = d vec(F) / d vec(X) as a linear operator, never formed.

    ``matvec(v)`` is J v, evaluated from the differential (dF at dX = v); ``rmatvec(u)`` is
    Jᵀ u, from the adjoints. ``scipy.sparse.linalg.aslinearoperator`` accepts it.

    Parameters
    ----------
    source : str
        An expression followed by ``wrt`` and one or more names.
    bindings : dict, optional
        Names to arrays; keyword arguments do the same. Every name needs values.
    vec : {"col", "row"}
        How the vectors v and u stack F's and X's entries.

    Returns
    -------
    JacobianOperator
        With ``shape``, ``dtype``, ``matvec``, ``rmatvec``, ``matmat``, ``rmatmat``.

    Examples
    --------
    >>> import numpy as np, jacli
    >>> A, B, X = np.eye(2), 2 * np.eye(3), np.ones((2, 3))
    >>> J = jacli.operator("A X B wrt X", A=A, B=B, X=X)
    >>> J.shape, J.matvec(np.ones(6))
    ((6, 6), array([2., 2., 2., 2., 2., 2.]))
    """
    from .differentials import JacobianOperator
    from .problem import require_values

    problem = prepare(source, bindings_of(bindings, names))
    require_values(problem, list(problem.names))
    return JacobianOperator(problem, vec)


def compile(source: str, bindings: dict[str, Any] | None = None, /, *, vec: str = "col", **names: Any) -> Compiled:
    """Derive once, evaluate many times: the closed forms for these shapes, kept.

    Parameters
    ----------
    source : str
        An expression followed by ``wrt`` and one or more names.
    bindings : dict, optional
        Names to shape tuples (or arrays, which then stay bound); keyword arguments do the same.
    vec : {"col", "row"}
        How vec stacks.

    Returns
    -------
    Compiled
        ``gradient(**values)`` (for a scalar f, from its matrix form) and ``jacobian(**values)``.

    Examples
    --------
    >>> import numpy as np, jacli
    >>> f = jacli.compile("tr(X' A X) wrt X", A=(2, 2), X=(2, 2))
    >>> f.gradient(A=np.eye(2), X=np.ones((2, 2)))
    array([[2., 2.],
           [2., 2.]])
    """
    from .differentials import Compiled

    return Compiled(prepare(source, bindings_of(bindings, names)), vec)


def derive_hessian(
    source: str,
    bindings: dict[str, Any] | None = None,
    /,
    *,
    vec: str = "col",
    random: bool = False,
    seed: int = DEFAULT_SEED,
    symbolic: bool = False,
    max_bytes: float | None = None,
    **names: Any,
) -> Hessian:
    """The Hessian of ``source``: its closed form and, unless ``symbolic``, its numbers.

    For a scalar f, H = ∂²f / ∂vec(X) ∂vec(X)ᵀ (the block matrix over all names after
    ``wrt``); for a p×q F and one name, the Hessians of the entries of vec(F) stacked,
    (p q m n) × (m n). Takes the arguments of :func:`derive`.

    Returns
    -------
    Hessian
        ``formula``, ``latex``, ``shape``, ``matrix`` (None when symbolic), ``rows``.

    Examples
    --------
    >>> import jacli
    >>> jacli.derive_hessian("tr(X' A X) wrt X", A=(3, 3), X=(3, 2), symbolic=True).formula
    'I₂ ⊗ (A + Aᵀ)'
    """
    from .hessians import hessian_of

    problem = prepare(source, bindings_of(bindings, names), random=random, seed=seed, symbolic=symbolic)
    return hessian_of(problem, vec, symbolic=symbolic, max_bytes=max_bytes)


def hessian(source: str, bindings: dict[str, Any] | None = None, /, **kw: Any) -> np.ndarray:
    """The numeric Hessian of ``source`` as a float64 array (see :func:`derive_hessian`).

    Examples
    --------
    >>> import numpy as np, jacli
    >>> jacli.hessian("x' A x wrt x", A=np.array([[1.0, 2.0], [0.0, 3.0]]), x=np.ones(2))
    array([[2., 2.],
           [2., 6.]])
    """
    if kw.get("symbolic"):
        raise JacliError("hessian returns numbers: use derive_hessian(..., symbolic=True) for the formula alone")
    matrix = derive_hessian(source, bindings, **kw).matrix
    assert matrix is not None
    return matrix
