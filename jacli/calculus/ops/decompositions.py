"""Decompositions: eigenvalues and eigenvectors, singular values and vectors, the Cholesky
factor, the nuclear and spectral norms.

``eigh`` and ``svd`` are nodes with several outputs (:mod:`.outputs`): ``eigvals(S)`` and
``eigvecs(S)`` are parts of one ``eigh(S)``, computed once. Their differentials are written
with each other, as the books write them:

* eigh (of the symmetric part, as JAX and PyTorch take it): dλᵢ = uᵢᵀ dS uᵢ, so
  dλ = diag(Uᵀ dS U), and dU = U (gaps(λ) ∘ (Uᵀ sym(dS) U)), gaps(λ)ᵢⱼ = 1/(λⱼ - λᵢ) off the
  diagonal (M&N ch. 8, the eigenvalues and eigenvectors of a symmetric matrix).
* svd (thin, descending): dσ = diag(Uᵀ dX V), dU = U (F ∘ (dP Σ + Σ dPᵀ)) + (I - U Uᵀ) dX V Σ⁻¹,
  dV = V (F ∘ (Σ dP + dPᵀ Σ)) + (I - V Vᵀ) dXᵀ U Σ⁻¹ with dP = Uᵀ dX V and F = gaps(σ ∘ σ)
  (Townsend 2016; Giles 2008).

Eigenvectors and singular vectors are unique up to sign: each column's entry of largest
magnitude (the first among equals) is made positive.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import sizes
from ...errors import JacliError
from ...expr import Expr, T, add, eye, matmul, neg, num, ones, smul
from ...syntax.notation import Notation
from ...syntax.printer import to_text
from .outputs import Output, decomposition, part, several
from .registry import CodeWriter, Differentials, DomainRule, Op, Printer, Shape, ShapeOf, Unifier, describe, register


def sym(a: Expr) -> Expr:
    """(A + Aᵀ) / 2."""
    return smul(num(0.5), add(a, T(a)))


GAP_TOLERANCE = 1e-9  # eigenvalues (singular values) closer than this, relative, are repeated


# -- gaps(v): the reciprocal gaps of a vector ------------------------------------------------
def _gaps_shape(u: Unifier, node: Expr, a: Shape) -> Shape:
    u.same(a[1], 1, lambda: f"gaps needs a column, got {u.show(a)}")
    return (a[0], a[0])


def _gaps_value(node: Expr, v: np.ndarray) -> np.ndarray:
    w = v[..., :, 0]
    diff = w[..., None, :] - w[..., :, None]
    off = ~np.eye(w.shape[-1], dtype=bool)
    return np.where(off, 1.0 / np.where(off, diff, 1.0), 0.0)


def _repeated(values: np.ndarray) -> tuple[int, int] | None:
    """The first pair of values closer than the tolerance allows, or None."""
    w = np.real(np.asarray(values)).reshape(-1)
    scale = max(1.0, float(np.max(np.abs(w), initial=0.0)))
    order = np.argsort(w, kind="stable")
    gaps = np.diff(w[order])
    close = np.flatnonzero(np.abs(gaps) <= GAP_TOLERANCE * scale)
    return None if close.size == 0 else (int(order[close[0]]), int(order[close[0] + 1]))


def _gaps_domain(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
    v = args[0]
    if v.ndim > 2:
        return
    pair = _repeated(v)
    if pair is not None:
        i, j = pair
        raise JacliError(
            f"{describe(node)}: entries {i} and {j} of the argument are equal ({float(np.real(v[i, 0])):.6g}): "
            "their reciprocal gap is infinite",
            column=node.col,
        )


def _gaps_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # Fᵢⱼ = 1/(vⱼ - vᵢ): dFᵢⱼ = -Fᵢⱼ² (dvⱼ - dvᵢ), so dF = -(F ∘ F) ∘ (1 dvᵀ - dv 1ᵀ)
    if d[0] is None:
        return None
    n = sh(node)[0]
    spread = add(matmul(ones(n, 1), T(d[0])), neg(matmul(d[0], ones(1, n))))
    return neg(Expr("had", (Expr("had", (node, node)), spread)))


def _gaps_code(w: CodeWriter, e: Expr) -> str:
    v = w.let(f"{w(e.args[0])}.reshape(-1)")
    diff = w.let(f"{v}[None, :] - {v}[:, None] + np.eye({v}.size)")
    return f"(1.0 / {diff}) * (1.0 - np.eye({v}.size))"


register(
    Op(
        "gaps",
        1,
        _gaps_shape,
        value=_gaps_value,
        differential=_gaps_differential,
        domain=_gaps_domain,
        notation=Notation(call="gaps", latex=r"\operatorname{gaps}"),
        cite="the divided differences of eigenvectors; M&N ch. 8",
        python=_gaps_code,
    )
)


# -- eigh: eigenvalues and eigenvectors of the symmetric part --------------------------------
def _square_shape(what: str) -> Any:
    def rule(u: Unifier, node: Expr, a: Shape) -> Shape:
        u.same(a[0], a[1], lambda: f"{what} needs a square matrix, got {u.show(a)}")
        return a

    return rule


def _signs_fixed(v: np.ndarray) -> np.ndarray:
    """Each column times the sign of its entry of largest magnitude (the first among equals)."""
    idx = np.argmax(np.abs(v), axis=-2)  # (..., k)
    top = np.take_along_axis(v, idx[..., None, :], axis=-2)
    return np.asarray(v * np.where(np.real(top) < 0, -1.0, 1.0))


def _eigh_value(node: Expr, s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(0.5 * (s + np.swapaxes(s, -1, -2)))
    return several(w[..., :, None], _signs_fixed(v))


def _eigen_domain(what: str) -> DomainRule:
    def check(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
        if not derivative_needed or args[0][0].ndim > 2:
            return
        w = args[0][0]
        pair = _repeated(w)
        if pair is not None:
            value = float(np.real(w[pair[0], 0]))
            raise JacliError(
                f"{describe(node)}: the eigenvalue {value:.6g} is repeated (eigenvalues {pair[0]} and {pair[1]}), "
                f"where {what} has no derivative",
                column=node.col,
            )
        return None

    return check


def _eigh_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    if d[0] is None:
        return None
    lam, u = part(node, 0), part(node, 1)
    m = matmul(matmul(T(u), d[0]), u)
    dlam = Expr("diagonal", (m,)) if sh(node)[0] != 1 else m
    du = matmul(u, Expr("had", (Expr("gaps", (lam,)), matmul(matmul(T(u), sym(d[0])), u))))
    return Expr("outputs", (dlam, du))


def _eigh_code(w: CodeWriter, e: Expr) -> str:
    s = w(e.args[0])
    lam, v = w.let(f"np.linalg.eigh(0.5 * ({s} + {s}.T))", 2).split(", ")
    top = f"{v}[np.abs({v}).argmax(axis=0), np.arange({v}.shape[1])]"
    return f"({lam}.reshape(-1, 1), {v} * np.where({top} < 0, -1.0, 1.0))"


decomposition(
    Op(
        "eigh",
        1,
        _square_shape("eigh"),
        value=_eigh_value,
        differential=_eigh_differential,
        random_hints=("spd",),
        analytic=False,  # LAPACK's symmetric eigensolver: not complex-step safe
        notation=Notation(render=lambda p, e: f"eigh({p.show(e.args[0], 0)})"),
        cite="M&N ch. 8, the eigenvalues and eigenvectors of a symmetric matrix",
        python=_eigh_code,
    ),
    (
        Output("eigvals", lambda u, a: (a[0], 1), _eigen_domain("the ordered eigenvalues have")),
        Output("eigvecs", lambda u, a: a, _eigen_domain("eigvecs")),
    ),
)


# -- svd: singular values and vectors (thin) ---------------------------------------------------
def _smaller(u: Unifier, a: Shape) -> Any:
    m, n = u.known(a[0]), u.known(a[1])
    if m is None or n is None:
        u.defer("give the shape of the matrix whose singular values are taken")
        return None
    if m == n:
        return m
    if isinstance(m, int) and isinstance(n, int):
        return min(m, n)
    if sizes.sub(m, n) is not None:
        return n
    if sizes.sub(n, m) is not None:
        return m
    u.fail(f"the singular values of an {sizes.text(m)}×{sizes.text(n)} matrix: give sizes whose smaller is known")
    return None


def _svd_value(node: Expr, x: np.ndarray) -> np.ndarray:
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    idx = np.argmax(np.abs(u), axis=-2)
    top = np.take_along_axis(u, idx[..., None, :], axis=-2)
    flip = np.where(np.real(top) < 0, -1.0, 1.0)  # the same sign on uᵢ and vᵢ
    return several(u * flip, s[..., :, None], np.swapaxes(vh, -1, -2) * flip)


def _singular_domain(what: str, largest_only: bool = False) -> DomainRule:
    def check(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
        if not derivative_needed or args[0][1].ndim > 2:
            return
        s = args[0][1][:, 0]
        singular_values(node, s, what, largest_only)

    return check


def singular_values(node: Expr, s: np.ndarray, what: str, largest_only: bool = False) -> None:
    """Refuse singular values where ``what`` has no derivative: zero or repeated ones (the
    largest alone where ``largest_only``)."""
    scale = max(float(s[0]) if s.size else 0.0, np.finfo(float).tiny)
    if largest_only:
        if s.size > 1 and s[0] - s[1] <= GAP_TOLERANCE * scale:
            raise JacliError(
                f"{describe(node)}: the largest singular value {s[0]:.6g} is repeated, where {what} has no derivative",
                column=node.col,
            )
        return
    if s.size and s[-1] <= GAP_TOLERANCE * scale:
        raise JacliError(
            f"{describe(node)}: {to_text(_argument(node))} has the singular value {s[-1]:.3g} (rank below "
            f"{s.size}), where {what} has no derivative",
            column=node.col,
        )
    pair = _repeated(s)
    if pair is not None:
        raise JacliError(
            f"{describe(node)}: the singular value {s[pair[0]]:.6g} is repeated, where {what} has no derivative",
            column=node.col,
        )


def _argument(node: Expr) -> Expr:
    return node.args[0].args[0] if node.op == "part" else node.args[0]


def _svd_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    if d[0] is None:
        return None
    x, dx = node.args[0], d[0]
    u, s, v = part(node, 0), part(node, 1), part(node, 2)
    m, n = sh(x)
    dp = matmul(matmul(T(u), dx), v)
    big_s, f = Expr("diag", (s,)), Expr("gaps", (Expr("had", (s, s)),))
    sinv = Expr("inv", (big_s,))
    k = sh(s)[0]
    ds = Expr("diagonal", (dp,)) if k != 1 else dp
    du = add(
        matmul(u, Expr("had", (f, add(matmul(dp, big_s), matmul(big_s, T(dp)))))),
        matmul(matmul(matmul(add(eye(m), neg(matmul(u, T(u)))), dx), v), sinv),
    )
    dv = add(
        matmul(v, Expr("had", (f, add(matmul(big_s, dp), matmul(T(dp), big_s))))),
        matmul(matmul(matmul(add(eye(n), neg(matmul(v, T(v)))), T(dx)), u), sinv),
    )
    return Expr("outputs", (du, ds, dv))


def _svd_code(w: CodeWriter, e: Expr) -> str:
    x = w(e.args[0])
    u, s, vh = w.let(f"np.linalg.svd({x}, full_matrices=False)", 3).split(", ")
    top = f"{u}[np.abs({u}).argmax(axis=0), np.arange({u}.shape[1])]"
    flip = w.let(f"np.where({top} < 0, -1.0, 1.0)")
    return f"({u} * {flip}, {s}.reshape(-1, 1), {vh}.T * {flip})"


decomposition(
    Op(
        "svd",
        1,
        lambda u, node, a: a,
        value=_svd_value,
        differential=_svd_differential,
        random_hints=("separated",),
        analytic=False,
        notation=Notation(render=lambda p, e: f"svd({p.show(e.args[0], 0)})"),
        cite="Townsend 2016, Giles 2008: the singular value decomposition's differentials",
        python=_svd_code,
    ),
    (
        Output("svdu", lambda u, a: (a[0], _smaller(u, a)), _singular_domain("svdu")),
        Output("svdvals", lambda u, a: (_smaller(u, a), 1), _singular_domain("svdvals")),
        Output("svdv", lambda u, a: (a[1], _smaller(u, a)), _singular_domain("svdv")),
    ),
)


# -- the Cholesky factor -----------------------------------------------------------------------
def _chol_value(node: Expr, s: np.ndarray) -> np.ndarray:
    return np.asarray(np.linalg.cholesky(0.5 * (s + np.swapaxes(s, -1, -2))))


def _chol_domain(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
    s = args[0]
    if s.ndim > 2:
        return
    sym_s = 0.5 * (s + s.T)
    try:
        np.linalg.cholesky(sym_s)
    except np.linalg.LinAlgError:
        low = float(np.linalg.eigvalsh(sym_s)[0])
        raise JacliError(
            f"{describe(node)}: {to_text(node.args[0])} is not positive definite (its symmetric part's smallest "
            f"eigenvalue is {low:.6g})",
            column=node.col,
        ) from None


def _chol_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # S = L Lᵀ: dL = L Φ(L⁻¹ sym(dS) L⁻ᵀ), Φ the lower triangle with its diagonal halved
    if d[0] is None:
        return None
    n = sh(node)[0]
    li = Expr("inv", (node,))
    m = matmul(matmul(li, sym(d[0])), T(li))
    phi = add(Expr("tril", (m,), -1), smul(num(0.5), Expr("had", (m, eye(n)))))
    return matmul(node, phi)


register(
    Op(
        "chol",
        1,
        _square_shape("chol"),
        value=_chol_value,
        differential=_chol_differential,
        domain=_chol_domain,
        random_hints=("spd",),
        analytic=False,  # LAPACK's Cholesky conjugates complex entries
        notation=Notation(call="chol", latex=r"\operatorname{chol}"),
        cite="Murray 2016, Giles 2008: the Cholesky factor's differential",
        python=lambda w, e: f"np.linalg.cholesky(0.5 * ({w(e.args[0])} + {w(e.args[0])}.T))",
    )
)


# -- the nuclear and spectral norms ------------------------------------------------------------
def _norm_shape(u: Unifier, node: Expr, a: Shape) -> Shape:
    _smaller(u, a)  # its derivative needs the thin SVD: the smaller size known
    return (1, 1)


def _norm_domain(largest_only: bool, what: str) -> DomainRule:
    def check(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
        x = args[0]
        if x.ndim > 2 or not derivative_needed:
            return
        singular_values(node, np.linalg.svd(x, compute_uv=False), what, largest_only)

    return check


def _svd_parts(x: Expr) -> tuple[Expr, Expr]:
    whole = Expr("svd", (x,))
    return part(whole, 0), part(whole, 2)


def _nucnorm_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # ‖X‖* = Σ σᵢ: d‖X‖* = Σ uᵢᵀ dX vᵢ = tr(Uᵀ dX V)
    if d[0] is None:
        return None
    u, v = _svd_parts(node.args[0])
    return Expr("tr", (matmul(matmul(T(u), d[0]), v),))


def _specnorm_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # ‖X‖₂ = σ₁: dσ₁ = u₁ᵀ dX v₁, the first singular vectors
    if d[0] is None:
        return None
    u, v = _svd_parts(node.args[0])
    first = (0, None, 0, 1)
    return matmul(matmul(T(Expr("sub", (u,), first)), d[0]), Expr("sub", (v,), first))


def _norm_text(k: str) -> Any:
    def render(p: Printer, e: Expr) -> str:
        return rf"\lVert {p.show(e.args[0], 0)} \rVert_{{{k}}}" if p.latex else p.call(e)

    return render


register(
    Op(
        "nucnorm",
        1,
        _norm_shape,
        value=lambda node, x: np.linalg.svd(x, compute_uv=False).sum(axis=-1)[..., None, None],
        differential=_nucnorm_differential,
        domain=_norm_domain(False, "the nuclear norm"),
        random_hints=("separated",),
        analytic=False,
        notation=Notation(call="nucnorm", latex=r"\operatorname{nucnorm}", render=_norm_text("*")),
        cite="the nuclear norm: its gradient U Vᵀ (Giles 2008)",
        python=lambda w, e: f"np.linalg.svd({w(e.args[0])}, compute_uv=False).sum().reshape(1, 1)",
    )
)
register(
    Op(
        "specnorm",
        1,
        _norm_shape,
        value=lambda node, x: np.linalg.svd(x, compute_uv=False)[..., :1, None],
        differential=_specnorm_differential,
        domain=_norm_domain(True, "the spectral norm"),
        random_hints=("separated",),
        analytic=False,
        notation=Notation(call="specnorm", latex=r"\operatorname{specnorm}", render=_norm_text("2")),
        cite="the spectral norm: its gradient u₁ v₁ᵀ (M&N ch. 8)",
        python=lambda w, e: f"np.linalg.norm({w(e.args[0])}, 2).reshape(1, 1)",
    )
)
