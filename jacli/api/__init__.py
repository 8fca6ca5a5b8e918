"""The library: from an expression and bindings to a closed form, numbers and checks.

Data flow, assembled here once: bindings (names to shapes or arrays) → parser
(expression, wrt) → shapes (every node's shape) → chain rule (Jacobian as an expression)
→ simplifier → printer (text, LaTeX) and evaluators (numbers). The command line
(:mod:`jacli.cli`) is a thin layer over this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .derivation import Block, Result, derive_problem
from .problem import DEFAULT_SEED, Problem, bindings_of, prepare

if TYPE_CHECKING:
    from .checking import CheckResult, Comparison


def __getattr__(name: str) -> Any:  # the checking module loads when first asked for: derive starts faster
    if name in ("CheckResult", "Comparison"):
        from . import checking

        return getattr(checking, name)
    raise AttributeError(f"module 'jacli.api' has no attribute {name!r}")


__all__ = ["Block", "CheckResult", "Comparison", "Problem", "Result", "check", "derive", "jacobian", "prepare"]


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
    problem = prepare(source, bindings_of(bindings, names), random=random, seed=seed)
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
        Agreement means max |J − J_num| ≤ tol · max(1, max |J_num|); for a J too large to
        compare whole (over 2**20 entries), max |J v − (J v)_num| ≤ tol · max(1, max |(J v)_num|)
        along 8 random directions v (``CheckResult.directions``), J never formed.
    seed : int
        The seed of the random values.
    vec : {"col", "row"}
        How vec stacks (see :func:`derive`).
    method : {"complex", "central"}
        The numerical derivative: complex step, or central differences.
    **names
        Bindings by name.

    Returns
    -------
    CheckResult
        ``agree`` is the verdict; ``comparisons`` hold the differences.

    Examples
    --------
    >>> import jacli
    >>> jacli.check("A X B wrt X", A=(2, 3), B=(4, 5), against="B' ⊗ A").agree
    True
    """
    from .checking import check_problem

    problem = prepare(source, bindings_of(bindings, names), random=True, seed=seed)
    return check_problem(problem, against=against, tol=tol, vec=vec, method=method, seed=seed)
