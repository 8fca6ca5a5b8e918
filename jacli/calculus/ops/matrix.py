"""Matrix functions: inverse, integer powers, determinant and log-determinant (the adjugate,
which d det is written with, and its derivatives are in :mod:`.adjugate`)."""

from __future__ import annotations

import numpy as np

from ...errors import JacliError
from ...expr import Expr, eye, matmul, neg
from ...syntax.notation import Notation, Prec
from ...syntax.printer import to_text
from .registry import CodeWriter, Differentials, Op, ShapeOf, describe, plus, register, square

COND_LIMIT = 1e12
MAX_POWER = 64  # d(Xᵏ) is a sum of |k| Kronecker products


def check_invertible(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> np.ndarray | None:
    """Refuse a singular or badly conditioned argument, naming its condition number.

    The condition number is ‖A‖₁ ‖A⁻¹‖₁, from the inverse itself: the check costs one
    inversion (no SVD), and for ``inv`` that inverse is the value, returned for reuse."""
    a = args[0]
    if a.ndim > 2:
        return None
    try:
        inverse = np.linalg.inv(a)
        cond = float(np.linalg.norm(a, 1) * np.linalg.norm(inverse, 1))
    except np.linalg.LinAlgError:
        inverse, cond = None, np.inf
    if not np.isfinite(cond) or cond > COND_LIMIT:
        shown = "inf" if not np.isfinite(cond) else f"{cond:.3g}"
        raise JacliError(
            f"{describe(node)}: {to_text(node.args[0])} is singular or badly conditioned "
            f"(condition number {shown}, limit {COND_LIMIT:.0e})",
            column=node.col,
        )
    return inverse if node.op == "inv" else None


def _inv(a: Expr) -> Expr:
    return Expr("inv", (a,))


def _adj(a: Expr) -> Expr:
    return Expr("adj", (a,))


# d(X⁻¹) = -X⁻¹ (dX) X⁻¹, so d vec(X⁻¹) = -(X⁻ᵀ ⊗ X⁻¹) d vec(X)   (M&N ch. 8; Cookbook sec. 2.2)
register(
    Op(
        "inv",
        1,
        square("inv", "matrix"),
        value=lambda node, a: np.linalg.inv(a),
        domain=check_invertible,
        random_hints=("invertible",),
        notation=Notation(
            Prec.POSTFIX, call="inv", latex=r"\operatorname{inv}", render=lambda p, e: p.postfix(e.args[0], "-1")
        ),
        differential=lambda node, d, sh: None if d[0] is None else neg(matmul(matmul(node, d[0]), node)),
        cite="M&N ch. 8, Cookbook sec. 2.1",
        python=lambda w, e: f"np.linalg.inv({w(e.args[0])})",
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


def _pow_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # d(Xᵏ) = Σ_{j<k} Xʲ dX X^(k-1-j); for k < 0, X^k = (X⁻¹)^|k| and d(X⁻¹) = -X⁻¹ dX X⁻¹,
    # so d(X^k) = -Σ_{j<|k|} X^-(j+1) dX X^-(|k|-j)   (M&N ch. 8, powers)
    x, k = node.args[0], node.attr
    if d[0] is None or k == 0:
        return None
    if abs(k) > MAX_POWER:
        raise JacliError(
            f"the derivative of a power above {MAX_POWER} is not supported (X^{k}); write it as a product of powers",
            column=node.col,
        )
    n = sh(x)[0]
    if k > 0:
        terms = [matmul(matmul(_power(x, j, n), d[0]), _power(x, k - 1 - j, n)) for j in range(k)]
    else:
        terms = [neg(matmul(matmul(_power(x, -(j + 1), n), d[0]), _power(x, -(-k - j), n))) for j in range(-k)]
    return plus(*terms)


def _pow_domain(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
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
        notation=Notation(Prec.POSTFIX, render=lambda p, e: p.postfix(e.args[0], str(e.attr))),
        differential=_pow_differential,
        cite="product rule for powers; M&N ch. 8",
        python=lambda w, e: f"np.linalg.matrix_power({w(e.args[0])}, {e.attr})",
    )
)


def _det_value(node: Expr, a: np.ndarray) -> np.ndarray:
    return np.asarray(np.linalg.det(a))[..., None, None]


def _logdet_value(node: Expr, a: np.ndarray) -> np.ndarray:
    sign, logabs = np.linalg.slogdet(a)
    return np.asarray(logabs + np.log(sign))[..., None, None]


def _check_logdet(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
    # a positive determinant; the derivative's X⁻¹ is checked where it is evaluated
    sign, _ = np.linalg.slogdet(args[0])
    if sign <= 0:
        d = np.linalg.det(args[0])
        raise JacliError(f"{describe(node)}: the determinant is {d:.6g}, not positive", column=node.col)


def _logdet_code(w: CodeWriter, e: Expr) -> str:
    # from slogdet, without overflow; NaN where the determinant is not positive
    sign, logabs = w.let(f"np.linalg.slogdet({w(e.args[0])})", 2).split(", ")
    return f"(np.log({sign}) + {logabs}).reshape(1, 1)"


# d det(X) = tr(adj(X) dX) = vec(adj(X)ᵀ)ᵀ d vec(X), adj(X) = det(X) X⁻¹ where X is invertible
# and defined everywhere   (M&N ch. 8, the adjoint matrix X#; Cookbook sec. 2.1, (49))
register(
    Op(
        "det",
        1,
        square("det", "scalar"),
        value=_det_value,
        differential=lambda node, d, sh: None if d[0] is None else Expr("tr", (matmul(_adj(node.args[0]), d[0]),)),
        notation=Notation(call="det", latex=r"\det"),
        cite="M&N ch. 8, Cookbook sec. 2.1",
        python=lambda w, e: f"np.linalg.det({w(e.args[0])}).reshape(1, 1)",
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
        notation=Notation(call="logdet", latex=r"\log\det"),
        differential=lambda node, d, sh: None if d[0] is None else Expr("tr", (matmul(_inv(node.args[0]), d[0]),)),
        cite="M&N ch. 8, Cookbook sec. 2.1",
        python=_logdet_code,
    )
)
