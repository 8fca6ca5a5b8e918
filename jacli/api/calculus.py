"""The API of the differential calculus: differentials, Jacobians as operators, compiled
problems, Hessians and derivations. Each loads its machinery when first called."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from . import pipeline
from .arguments import VECS, api_choice, api_max_bytes, api_request, derivation_request
from .guard import DERIVE, JACOBIAN, VEC_ONLY, api_errors
from .problem import DEFAULT_SEED

if TYPE_CHECKING:
    from .differentials import Compiled, Differential, JacobianOperator
    from .explaining import Explanation
    from .hessians import Hessian


def differential(source: str, bindings: Mapping[str, Any] | None = None, /, **names: Any) -> Differential:
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
    with api_errors():
        return pipeline.differential(api_request("differential", (), source, bindings, names)).differential


def operator(
    source: str,
    bindings: Mapping[str, Any] | None = None,
    /,
    *,
    vec: str = "col",
    max_bytes: float | str | None = None,
    **names: Any,
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
    max_bytes : float or str, optional
        What a product may hold in memory, the values included (as for :func:`jacli.derive`;
        by default half the available memory).

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

    with api_errors():
        vec_, limit = api_choice("vec", vec, VECS), api_max_bytes(max_bytes)
        problem = pipeline.problem(api_request("operator", ("vec", "max_bytes"), source, bindings, names))
        require_values(problem, list(problem.names))
        return JacobianOperator(problem, vec_, limit)


def compile(source: str, bindings: Mapping[str, Any] | None = None, /, *, vec: str = "col", **names: Any) -> Compiled:
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

    with api_errors():
        vec_ = api_choice("vec", vec, VECS)
        return Compiled(pipeline.problem(api_request("compile", VEC_ONLY, source, bindings, names)), vec_)


def derive_hessian(
    source: str,
    bindings: Mapping[str, Any] | None = None,
    /,
    *,
    vec: str = "col",
    random: bool = False,
    seed: int = DEFAULT_SEED,
    symbolic: bool = False,
    max_bytes: float | str | None = None,
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

    Raises
    ------
    JacliError
        As :func:`derive`.

    Examples
    --------
    >>> import jacli
    >>> jacli.derive_hessian("tr(X' A X) wrt X", A=(3, 3), X=(3, 2), symbolic=True).formula
    'I₂ ⊗ (A + Aᵀ)'
    """
    return _hessian("derive_hessian", DERIVE, source, bindings, names, vec, random, seed, symbolic, max_bytes)


def _hessian(
    function: str,
    options: tuple[str, ...],
    source: object,
    bindings: Mapping[str, Any] | None,
    names: dict[str, Any],
    vec: object,
    random: object,
    seed: object,
    symbolic: object,
    max_bytes: object,
) -> Hessian:
    with api_errors():
        request = derivation_request(function, options, source, bindings, names, vec, random, seed, symbolic, max_bytes)
        return pipeline.hessian(request).hessian


def hessian(source: str, bindings: Mapping[str, Any] | None = None, /, **kw: Any) -> np.ndarray:
    """The numeric Hessian of ``source`` as a float64 array (see :func:`derive_hessian`).

    Takes the arguments of :func:`derive_hessian`, but ``symbolic``.

    Examples
    --------
    >>> import numpy as np, jacli
    >>> jacli.hessian("x' A x wrt x", A=np.array([[1.0, 2.0], [0.0, 3.0]]), x=np.ones(2))
    array([[2., 2.],
           [2., 6.]])
    """
    options = {k: kw.pop(k) for k in JACOBIAN if k in kw}
    result = _hessian(
        "hessian",
        JACOBIAN,
        source,
        bindings,
        kw,
        options.get("vec", "col"),
        options.get("random", False),
        options.get("seed", DEFAULT_SEED),
        False,
        options.get("max_bytes"),
    )
    if result.matrix is None:  # evaluated unless asked for the formula alone
        raise RuntimeError("derive_hessian returned no matrix")
    return result.matrix


def explain(source: str, bindings: Mapping[str, Any] | None = None, /, **names: Any) -> Explanation:
    """The derivation of ``source``'s Jacobian step by step (as ``jacli explain`` prints it).

    Sizes nothing fixes get dimension names; no values are needed. The result's ``text()``,
    ``markdown()`` and ``latex()`` render it; a notebook displays it as Markdown.

    Examples
    --------
    >>> import jacli
    >>> x = jacli.explain("A X B wrt X")
    >>> x.steps[0].why, x.steps[-1].lhs
    ('d(A B) = dA B + A dB', 'J')
    """
    with api_errors():
        return pipeline.explain(api_request("explain", (), source, bindings, names))
