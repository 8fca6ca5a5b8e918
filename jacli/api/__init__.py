"""The library: from an expression and bindings to a closed form, numbers and checks.

Data flow, assembled once in :mod:`jacli.api.pipeline`: a request (the expression parsed
once, bindings of names to shapes or arrays, options) → shapes (every node's shape, inferred
once) → chain rule (Jacobian as an expression) → simplifier → printer (text, LaTeX) and
evaluators (numbers). The functions here check their arguments in the API's words
(:mod:`jacli.api.arguments`), call the pipeline's services and return their results; the
command line (:mod:`jacli.cli`) and ``jacli batch`` call the same services.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from . import pipeline
from .arguments import check_request, derivation_request
from .calculus import compile, derive_hessian, differential, explain, hessian, operator
from .derivation import Block, Result
from .guard import CHECK, DERIVE, JACOBIAN, api_errors
from .problem import DEFAULT_SEED, Problem, prepare
from .structures import diag, lower, sym, upper

if TYPE_CHECKING:
    from .checking import CheckResult, Comparison
    from .sized_check import SizedCheck


def __getattr__(name: str) -> Any:  # the checking modules load when first asked for: derive starts faster
    if name in ("CheckResult", "Comparison"):
        from . import checking

        return getattr(checking, name)
    if name == "SizedCheck":
        from .sized_check import SizedCheck

        return SizedCheck
    raise AttributeError(f"module 'jacli.api' has no attribute {name!r}")


__all__ = [
    "Block",
    "CheckResult",
    "Comparison",
    "Problem",
    "Result",
    "SizedCheck",
    "check",
    "compile",
    "derive",
    "derive_hessian",
    "diag",
    "differential",
    "explain",
    "hessian",
    "jacobian",
    "lower",
    "operator",
    "prepare",
    "sym",
    "upper",
]


def derive(
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
) -> Result:
    """Differentiate ``source`` (``"EXPR wrt X"``) and, unless ``symbolic``, evaluate.

    Parameters
    ----------
    source : str
        An expression in jacli's language followed by ``wrt`` and one or more names.
    bindings : dict, optional
        Names to arrays or shape tuples; keyword arguments do the same. Names of the dict
        that are not in the expression are ignored (a keyword's are an error).
    vec : {"col", "row"}
        "col" stacks columns (Magnus & Neudecker); "row" stacks rows, as NumPy, JAX and
        PyTorch flatten.
    random : bool
        Fill every name that has no values with seeded random values (``seed``), valid
        for the expression.
    seed : int
        The seed of ``random``.
    symbolic : bool
        The closed form only; shapes suffice (no values are drawn).
    max_bytes : float or str, optional
        Refuse, before any work, what would take more memory than this: the Jacobian,
        random values. A number of bytes (``math.inf``: no limit) or a size such as
        ``"2GB"``; by default half the available memory.
    **names
        Bindings by name: an array (a masked array needs every entry; a PyTorch tensor is
        read detached), or a shape tuple such as ``(3, 4)`` (a tuple is always a shape). A
        keyword that is not a name in the expression is an error; bind a name that is also
        an option's (``seed``) through ``bindings``.

    Returns
    -------
    Result
        ``formula``, ``latex``, ``shape``, ``matrix`` (None when symbolic), ``blocks``.

    Raises
    ------
    JacliError
        Bad input: a bad argument, parse or shape error, missing values, undefined values,
        or a request above ``max_bytes``.

    Examples
    --------
    >>> import numpy as np, jacli
    >>> r = jacli.derive("A X B wrt X", A=np.ones((2, 3)), B=np.ones((4, 5)))
    >>> r.formula, r.shape
    ('Bᵀ ⊗ A', (10, 12))
    """
    return _derive("derive", DERIVE, source, bindings, names, vec, random, seed, symbolic, max_bytes)


def _derive(
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
) -> Result:
    with api_errors():
        request = derivation_request(function, options, source, bindings, names, vec, random, seed, symbolic, max_bytes)
        return pipeline.derive(request).result


def jacobian(source: str, bindings: Mapping[str, Any] | None = None, /, **kw: Any) -> np.ndarray:
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
        keyword binds a name of the expression.

    Returns
    -------
    numpy.ndarray
        The Jacobian, one row per entry of vec(F), one column per entry of vec(X).

    Raises
    ------
    JacliError
        As :func:`derive`.

    Examples
    --------
    >>> import numpy as np, jacli
    >>> J = jacli.jacobian("A X B wrt X", A=np.eye(2), B=np.eye(3), X=(2, 3))
    >>> J.shape
    (6, 6)
    """
    options = {k: kw.pop(k) for k in JACOBIAN if k in kw}
    result = _derive(
        "jacobian",
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
    if result.matrix is None:  # derive evaluates unless asked for the formula alone
        raise RuntimeError("derive returned no matrix")
    return result.matrix


def check(
    source: str,
    bindings: Mapping[str, Any] | None = None,
    /,
    *,
    against: str | None = None,
    tol: float = 1e-8,
    seed: int = DEFAULT_SEED,
    vec: str = "col",
    method: str = "complex",
    max_bytes: float | str | None = None,
    **names: Any,
) -> CheckResult | SizedCheck:
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
        The numerical derivative: complex step (central differences where an operator
        is not analytic, such as abs or relu), or central differences.
    max_bytes : float or str, optional
        As for :func:`derive`: the random values and the Jacobian within it.
    **names
        Bindings by name, as for :func:`derive`.

    Returns
    -------
    CheckResult or SizedCheck
        Both have ``agree`` (the verdict), ``expression``, ``wrt``, ``shape`` and a Markdown
        display. A :class:`~jacli.api.checking.CheckResult` where every size is a number:
        ``comparisons`` hold the differences. Where shapes have dimension names, a
        :class:`~jacli.api.sized_check.SizedCheck`: the check at several assignments of the
        names (all 1, then seeded draws), ``runs`` holding each assignment and its
        ``CheckResult``.

    Raises
    ------
    JacliError
        As :func:`derive`.

    Examples
    --------
    >>> import jacli
    >>> jacli.check("A X B wrt X", A=(2, 3), B=(4, 5), against="B' ⊗ A").agree
    True
    """
    with api_errors():
        request = check_request(source, bindings, names, against, tol, seed, vec, method, max_bytes, CHECK)
        return pipeline.check(request)
