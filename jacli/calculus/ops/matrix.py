"""Matrix functions: inverse, integer powers, determinant and log-determinant."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import JacliError
from ...expr import Expr, T, add, eye, kron, matmul, neg, smul, vec
from ...syntax.notation import Notation, Prec
from ...syntax.printer import to_text
from .registry import Op, describe, register, square

COND_LIMIT = 1e12
MAX_POWER = 64  # d(Xᵏ) is a sum of |k| Kronecker products


def check_invertible(node: Expr, args: list, derivative_needed: bool) -> None:
    """Refuse a singular or badly conditioned argument, naming its condition number."""
    a = args[0]
    if a.ndim > 2:
        return
    cond = np.linalg.cond(a)
    if not np.isfinite(cond) or cond > COND_LIMIT:
        shown = "inf" if not np.isfinite(cond) else f"{cond:.3g}"
        raise JacliError(
            f"{describe(node)}: {to_text(node.args[0])} is singular or badly conditioned "
            f"(condition number {shown}, limit {COND_LIMIT:.0e})",
            column=node.col,
        )


def _inv(a: Expr) -> Expr:
    return Expr("inv", (a,))


# d(X⁻¹) = -X⁻¹ (dX) X⁻¹, so d vec(X⁻¹) = -(X⁻ᵀ ⊗ X⁻¹) d vec(X)   (M&N ch. 8; Cookbook sec. 2.2)
register(
    Op(
        "inv",
        1,
        square("inv", "matrix"),
        value=lambda node, a: np.linalg.inv(a),
        domain=check_invertible,
        random_hints=("invertible",),
        partials=(lambda node, sh: neg(kron(T(node), node)),),
        notation=Notation(
            Prec.POSTFIX, call="inv", latex=r"\operatorname{inv}", render=lambda p, e: p.postfix(e.args[0], "-1")
        ),
    )
)


def _power(base: Expr, k: int, n: int) -> Expr:
    if k == 0:
        return eye(n)
    if k == 1:
        return base
    if k == -1:
        return _inv(base)
    return Expr("pow", (base,), k)


def _pow_partial(node: Expr, sh: Any) -> Expr | None:
    # d(Xᵏ) = Σ_{j<k} Xʲ (dX) X^(k-1-j)  ⇒  Σ_j (X^(k-1-j))ᵀ ⊗ Xʲ   (M&N ch. 8, powers)
    # X^-k = (X⁻¹)ᵏ, chained with d vec(X⁻¹) = -(X⁻ᵀ ⊗ X⁻¹) d vec(X).
    x, k = node.args[0], node.attr
    n = sh(x)[0]
    if abs(k) > MAX_POWER:
        raise JacliError(
            f"the derivative of a power above {MAX_POWER} is not supported (X^{k}); write it as a product of powers",
            column=node.col,
        )
    if k == 0:
        return None  # constant: no dependence
    sign, m = (1, k) if k > 0 else (-1, -k)
    terms = kron(T(_power(x, sign * (m - 1), n)), _power(x, 0, n))
    for j in range(1, m):
        terms = add(terms, kron(T(_power(x, sign * (m - 1 - j), n)), _power(x, sign * j, n)))
    if k > 0:
        return terms
    return matmul(terms, neg(kron(T(_inv(x)), _inv(x))))


def _pow_domain(node: Expr, args: list, derivative_needed: bool) -> None:
    if node.attr < 0:
        check_invertible(node, args, derivative_needed)


register(
    Op(
        "pow",
        1,
        square("a matrix power", "matrix"),
        value=lambda node, a: np.linalg.matrix_power(a, node.attr),
        domain=_pow_domain,
        random_hints=("invertible",),
        partials=(_pow_partial,),
        notation=Notation(Prec.POSTFIX, render=lambda p, e: p.postfix(e.args[0], str(e.attr))),
    )
)


def _det_value(node: Expr, a: np.ndarray) -> np.ndarray:
    return np.linalg.det(a)[..., None, None]


def _logdet_value(node: Expr, a: np.ndarray) -> np.ndarray:
    sign, logabs = np.linalg.slogdet(a)
    return (logabs + np.log(sign))[..., None, None]


def _check_det(node: Expr, args: list, derivative_needed: bool) -> None:
    # the rule det(X) vec(X⁻ᵀ)ᵀ needs X⁻¹: at a singular X (where the derivative is the
    # adjugate's transpose) it is refused rather than printed as 0 · vec(X⁻ᵀ)ᵀ
    if derivative_needed:
        check_invertible(node, args, derivative_needed)


def _check_logdet(node: Expr, args: list, derivative_needed: bool) -> None:
    check_invertible(node, args, derivative_needed)
    sign, _ = np.linalg.slogdet(args[0])
    if sign <= 0:
        d = np.linalg.det(args[0])
        raise JacliError(f"{describe(node)}: the determinant is {d:.6g}, not positive", column=node.col)


# d det(X) = det(X) tr(X⁻¹ dX) = det(X) vec(X⁻ᵀ)ᵀ d vec(X)   (M&N ch. 8; Cookbook sec. 2.1)
register(
    Op(
        "det",
        1,
        square("det", "scalar"),
        value=_det_value,
        domain=_check_det,
        random_hints=("invertible",),
        partials=(lambda node, sh: smul(node, T(vec(T(_inv(node.args[0]))))),),
        notation=Notation(call="det", latex=r"\det"),
    )
)
# d log det(X) = tr(X⁻¹ dX) = vec(X⁻ᵀ)ᵀ d vec(X)   (M&N ch. 8; Cookbook sec. 2.1)
register(
    Op(
        "logdet",
        1,
        square("logdet", "scalar"),
        value=_logdet_value,
        domain=_check_logdet,
        random_hints=("invertible",),
        partials=(lambda node, sh: T(vec(T(_inv(node.args[0])))),),
        notation=Notation(call="logdet", latex=r"\log\det"),
    )
)
