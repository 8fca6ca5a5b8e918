"""Matrix functions: inverse, integer powers, determinant and log-determinant."""

from __future__ import annotations

import numpy as np

from ...errors import JacliError
from ...expr import Expr, eye, matmul, neg, smul
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


MINORS_UP_TO = 16  # sizes whose adjugate is built from its cofactors (n² determinants)


def _adj_value(node: Expr, a: np.ndarray) -> np.ndarray:
    """The adjugate, X adj(X) = det(X) I, also where X is singular: from the cofactors up to
    16×16 (exact for small integer matrices), above from the SVD X = U S Vᴴ:
    adj(X) = det(U) det(Vᴴ) V adj(S) Uᴴ with adj(S)ᵢᵢ = Π_{j≠i} sⱼ."""
    n = a.shape[-1]
    if n == 1:
        return np.ones_like(a)
    if n <= MINORS_UP_TO:
        keep = np.array([[k for k in range(n) if k != i] for i in range(n)])  # (n, n-1)
        minors = a[..., keep[:, None, :, None], keep[None, :, None, :]]  # (..., i, j, n-1, n-1)
        signs = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
        return np.swapaxes(signs * np.linalg.det(minors), -1, -2)
    u, s, vh = np.linalg.svd(a)
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], axis=-1)
    scale = (np.linalg.det(u) * np.linalg.det(vh))[..., None, None]
    return np.asarray(scale * np.swapaxes(vh, -1, -2).conj() @ (others[..., :, None] * np.swapaxes(u, -1, -2).conj()))


def _adj_code(w: CodeWriter, e: Expr) -> str:
    # from the SVD, as _adj_value above does past 16×16: defined where X is singular too
    u, s, vh = w.let(f"np.linalg.svd({w(e.args[0])})", 3).split(", ")
    others = f"np.prod(np.where(np.eye({s}.size, dtype=bool), 1.0, {s}), axis=1)"  # Π_{j≠i} sⱼ
    return f"np.linalg.det({u}) * np.linalg.det({vh}) * ({vh}.T * {others}) @ {u}.T"


def _adj_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    x = node.args[0]
    if d[0] is None:
        return None
    return Expr("add", (smul(Expr("tr", (matmul(node, d[0]),)), _inv(x)), neg(matmul(matmul(_inv(x), d[0]), node))))


def _check_adj(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
    # adj is defined everywhere; its derivative rule needs X⁻¹
    if derivative_needed and args[0].shape[-1] > 1:
        check_invertible(node, args, derivative_needed)


register(
    Op(
        "adj",
        1,
        square("adj", "matrix"),
        value=_adj_value,
        domain=_check_adj,
        random_hints=("invertible",),
        differential=_adj_differential,
        notation=Notation(call="adj", latex=r"\operatorname{adj}"),
        cite="the adjugate; M&N ch. 8",
        python=_adj_code,
    )
)
