"""The library: from an expression and bindings to a closed form, numbers and checks.

Data flow, assembled here once: bindings (names to shapes or arrays) → parser
(expression, wrt) → shapes (every node's shape) → chain rule (Jacobian as an expression)
→ simplifier → printer (text, LaTeX) and evaluators (numbers). The command line
(:mod:`jacli.cli`) is a thin layer over this package.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import JacliError
from .derivation import Block, Result, derive_problem
from .problem import (
    DEFAULT_SEED,
    METHODS,
    VECS,
    Problem,
    api_choice,
    api_flag,
    api_max_bytes,
    api_number,
    api_problem,
    api_seed,
    prepare,
    with_random,
)

if TYPE_CHECKING:
    from .checking import CheckResult, Comparison
    from .differentials import Compiled, Differential, JacobianOperator
    from .explaining import Explanation
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
    "explain",
    "hessian",
    "jacobian",
    "operator",
    "prepare",
]


# The command line's words in shared messages, and the API's.
_API_WORDS = [
    (
        r"; save it with -o J\.npy \(written block by block\) or --sparse -o J\.npz, or raise --max-memory",
        "; raise max_bytes (the command line saves larger ones block by block: jacli derive ... -o J.npy)",
    ),
    (r"\(e\.g\. (\w+)=\1\.npy\)", r"(e.g. \1=numpy.ones(...))"),
    (r"\(e\.g\. (\w+)=file\.npy\)", r"(e.g. \1=numpy.ones(...))"),
    (r"use --random", "use random=True"),
    (r"--symbolic", "symbolic=True"),
    (r"--max-memory", "max_bytes"),
    (r"--(seed|tol|vec|method|against)\b", r"\1"),
]


def api_words(message: str) -> str:
    """A message of the shared pipeline in the API's words (no command-line flags)."""
    for pattern, repl in _API_WORDS:
        message = re.sub(pattern, repl, message)
    return message


@contextmanager
def api_errors() -> Iterator[None]:
    """Every failure of bad input is a JacliError in the API's words."""
    try:
        yield
    except JacliError as err:
        raise JacliError(api_words(err.message), column=err.column, source=err.source) from None
    except RecursionError:
        raise JacliError("the expression is nested too deeply or is too long for jacli") from None
    except MemoryError:
        raise JacliError("out of memory: lower max_bytes") from None
    except ValueError as err:
        if "integer string conversion" not in str(err):
            raise
        raise JacliError("a size has more digits than Python prints (sys.get_int_max_str_digits())") from None


_DERIVE = ("vec", "random", "seed", "symbolic", "max_bytes")
_JACOBIAN = ("vec", "random", "seed", "max_bytes")
_CHECK = ("against", "tol", "seed", "vec", "method", "max_bytes")
_VEC_ONLY = ("vec",)


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
    return _derive("derive", _DERIVE, source, bindings, names, vec, random, seed, symbolic, max_bytes)


def _derive(
    function: str,
    options: tuple[str, ...],
    source: object,
    bindings: Mapping | None,
    names: dict[str, Any],
    vec: object,
    random: object,
    seed: object,
    symbolic: object,
    max_bytes: object,
) -> Result:
    with api_errors():
        vec_ = api_choice("vec", vec, VECS)
        random_, symbolic_ = api_flag("random", random), api_flag("symbolic", symbolic)
        seed_, limit = api_seed(seed), api_max_bytes(max_bytes)
        problem = api_problem(
            function,
            options,
            source,
            bindings,
            names,
            random=random_ and not symbolic_,
            seed=seed_,
            symbolic=symbolic_,
            max_bytes=limit,
        )
        return derive_problem(problem, vec=vec_, symbolic=symbolic_, max_bytes=limit)


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
    options = {k: kw.pop(k) for k in _JACOBIAN if k in kw}
    result = _derive(
        "jacobian",
        _JACOBIAN,
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
    max_bytes : float or str, optional
        As for :func:`derive`: the random values and the Jacobian within it.
    **names
        Bindings by name, as for :func:`derive`.

    Returns
    -------
    CheckResult
        ``agree`` is the verdict; ``comparisons`` hold the differences. Where shapes have
        dimension names, a :class:`jacli.api.sized_check.SizedCheck`: the check at several
        assignments of the names (all 1, then seeded draws), ``runs`` holding each.

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
        if against is not None and not isinstance(against, str):
            raise JacliError(f'against is a formula (a str) such as "B\' ⊗ A", not {type(against).__name__}')
        tol_, seed_, limit = api_number("tol", tol), api_seed(seed), api_max_bytes(max_bytes)
        vec_, method_ = api_choice("vec", vec, VECS), api_choice("method", method, METHODS)
        from .checking import check_problem

        problem = api_problem("check", _CHECK, source, bindings, names, seed=seed_)
        if problem.symbolic:
            from .sized_check import check_at_sizes

            return check_at_sizes(  # type: ignore[return-value]
                problem, against=against, tol=tol_, vec=vec_, method=method_, max_bytes=limit, seed=seed_
            )
        problem = with_random(problem, seed_, max_bytes=limit)
        return check_problem(problem, against=against, tol=tol_, vec=vec_, method=method_, max_bytes=limit)


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
    from .differentials import differential_of

    with api_errors():
        return differential_of(api_problem("differential", (), source, bindings, names, symbolic=True))


def operator(
    source: str, bindings: Mapping[str, Any] | None = None, /, *, vec: str = "col", **names: Any
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

    with api_errors():
        vec_ = api_choice("vec", vec, VECS)
        problem = api_problem("operator", _VEC_ONLY, source, bindings, names)
        require_values(problem, list(problem.names))
        return JacobianOperator(problem, vec_)


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
        return Compiled(api_problem("compile", _VEC_ONLY, source, bindings, names), vec_)


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
    return _hessian("derive_hessian", _DERIVE, source, bindings, names, vec, random, seed, symbolic, max_bytes)


def _hessian(
    function: str,
    options: tuple[str, ...],
    source: object,
    bindings: Mapping | None,
    names: dict[str, Any],
    vec: object,
    random: object,
    seed: object,
    symbolic: object,
    max_bytes: object,
) -> Hessian:
    from .hessians import hessian_of

    with api_errors():
        vec_ = api_choice("vec", vec, VECS)
        random_, symbolic_ = api_flag("random", random), api_flag("symbolic", symbolic)
        seed_, limit = api_seed(seed), api_max_bytes(max_bytes)
        problem = api_problem(
            function,
            options,
            source,
            bindings,
            names,
            random=random_ and not symbolic_,
            seed=seed_,
            symbolic=symbolic_,
            max_bytes=limit,
        )
        return hessian_of(problem, vec_, symbolic=symbolic_, max_bytes=limit)


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
    options = {k: kw.pop(k) for k in _JACOBIAN if k in kw}
    result = _hessian(
        "hessian",
        _JACOBIAN,
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
    from .explaining import explain_problem

    with api_errors():
        return explain_problem(api_problem("explain", (), source, bindings, names, symbolic=True))
