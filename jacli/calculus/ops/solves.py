"""Linear equations: ``solve(A, B)`` (or ``A \\ B``), the Sylvester equation, the pseudo-inverse.

solve(A, B) = A⁻¹ B without forming A⁻¹ (one LU factorisation, which also estimates the
condition number): d solve(A, B) = solve(A, dB) - solve(A, dA solve(A, B)) (M&N ch. 8).
sylvester(A, B, C) is the Y with A Y + Y B = C (Bartels–Stewart, SciPy's solve_sylvester):
vec(Y) = (Bᵀ ⊕ A)⁻¹ vec(C), linear in C with the adjoint sylvester(Aᵀ, Bᵀ, Ḡ), and
dY = sylvester(A, B, dC - dA Y - Y dB); the square root's differential is one (Higham,
*Functions of Matrices*, ch. 6). pinv(X) is the Moore–Penrose inverse, differentiable where
X has full rank: dX⁺ = -X⁺ dX X⁺ + X⁺ X⁺ᵀ dXᵀ (I - X X⁺) + (I - X⁺ X) dXᵀ X⁺ᵀ X⁺
(Golub and Pereyra 1973).
"""

from __future__ import annotations

import numpy as np

from ...errors import JacliError
from ...expr import Expr, T, add, eye, matmul, neg
from ...syntax.notation import Infix, Notation, Prec
from ...syntax.printer import to_text
from .registry import CodeWriter, Differentials, Op, Shape, ShapeOf, Unifier, describe, plus, register

COND_LIMIT = 1e12  # as for inv
RANK_TOLERANCE = 1e-12  # a singular value below this times the largest is taken for zero


def each(fn: object) -> object:
    """A function of 2-D arrays applied over leading batch axes (the complex-step oracle's)."""

    def run(*arrays: np.ndarray) -> np.ndarray:
        batch = np.broadcast_shapes(*(a.shape[:-2] for a in arrays))
        if not batch:
            return np.asarray(fn(*arrays))  # type: ignore[operator]
        full = [np.broadcast_to(a, batch + a.shape[-2:]) for a in arrays]
        out = [np.asarray(fn(*(a[i] for a in full))) for i in np.ndindex(batch)]  # type: ignore[operator]
        return np.stack(out).reshape(batch + out[0].shape)

    return run


# -- solve(A, B) -------------------------------------------------------------------------------
def _solve_shape(u: Unifier, node: Expr, a: Shape, b: Shape) -> Shape:
    u.same(a[0], a[1], lambda: f"solve needs a square matrix A, got {u.show(a)}")
    u.same(a[1], b[0], lambda: f"cannot solve with {u.show(a)} for {u.show(b)}")
    return (a[1], b[1])


def _solve_domain(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> np.ndarray | None:
    """One LU factorisation: refuse a singular or badly conditioned A (LAPACK's estimate of
    its condition number), else the solution, which is the node's value."""
    import scipy.linalg

    a, b = args
    if a.ndim > 2:
        return None
    lu, piv = scipy.linalg.lu_factor(a, check_finite=False)
    norm = float(np.linalg.norm(a, 1))
    gecon = scipy.linalg.get_lapack_funcs("gecon", (lu,))
    rcond, _ = gecon(lu, norm, norm="1")
    cond = np.inf if rcond == 0 or not np.isfinite(rcond) else 1.0 / rcond
    if not cond <= COND_LIMIT:
        shown = "inf" if not np.isfinite(cond) else f"{cond:.3g}"
        raise JacliError(
            f"{describe(node)}: {to_text(node.args[0])} is singular or badly conditioned "
            f"(condition number {shown}, limit {COND_LIMIT:.0e})",
            column=node.col,
        )
    return np.asarray(scipy.linalg.lu_solve((lu, piv), b, check_finite=False))


def _solve(a: Expr, b: Expr) -> Expr:
    return Expr("solve", (a, b))


def _solve_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # d(A⁻¹ B) = A⁻¹ dB - A⁻¹ dA A⁻¹ B   (M&N ch. 8)
    a, _ = node.args
    return plus(
        None if d[1] is None else _solve(a, d[1]),
        None if d[0] is None else neg(_solve(a, matmul(d[0], node))),
    )


register(
    Op(
        "solve",
        2,
        _solve_shape,
        value=lambda node, a, b: np.linalg.solve(a, b),
        differential=_solve_differential,
        kronecker=(None, lambda node, sh: Expr("kron", (eye(sh(node)[1]), Expr("inv", (node.args[0],))))),
        adjoint=(None, lambda node, g, sh: _solve(T(node.args[0]), g)),  # ⟨Ḡ, A⁻¹ dB⟩ = ⟨A⁻ᵀ Ḡ, dB⟩
        domain=_solve_domain,
        random_hints=("invertible", None),
        notation=Notation(call="solve", latex=r"\operatorname{solve}"),
        cite="M&N ch. 8 (the inverse's differential); LAPACK's LU",
        python=lambda w, e: f"np.linalg.solve({w(e.args[0])}, {w(e.args[1])})",
    )
)
# A \ B: read as solve(A, B) once shapes are known (as MATLAB writes it)
register(
    Op(
        "ldiv",
        2,
        _solve_shape,
        notation=Notation(Prec.PRODUCT, infix=Infix(" \\ ", " \\ ", r" \backslash ", ("\\",))),
    )
)


# -- the Sylvester equation ------------------------------------------------------------------
def _sylvester_shape(u: Unifier, node: Expr, a: Shape, b: Shape, c: Shape) -> Shape:
    u.same(a[0], a[1], lambda: f"sylvester needs a square A, got {u.show(a)}")
    u.same(b[0], b[1], lambda: f"sylvester needs a square B, got {u.show(b)}")
    u.same(c[0], a[0], lambda: f"sylvester: C is {u.show(c)}, A {u.show(a)}")
    u.same(c[1], b[0], lambda: f"sylvester: C is {u.show(c)}, B {u.show(b)}")
    return c


def _sylvester_value(node: Expr, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    import scipy.linalg

    return each(scipy.linalg.solve_sylvester)(a, b, c)  # type: ignore[operator,no-any-return]


def _sylvester_domain(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
    """A Y + Y B = C has one solution where no eigenvalue of A is minus one of B."""
    a, b, _ = args
    if a.ndim > 2:
        return
    la, lb = np.linalg.eigvals(a), np.linalg.eigvals(b)
    gap = float(np.min(np.abs(la[:, None] + lb[None, :])))
    scale = max(1.0, float(np.max(np.abs(la))), float(np.max(np.abs(lb))))
    if gap <= 1e-12 * scale:
        raise JacliError(
            f"{describe(node)}: A and -B share an eigenvalue (closest pair {gap:.3g} apart): "
            "the Sylvester equation has no unique solution",
            column=node.col,
        )


def _sylvester_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # A Y + Y B = C: A dY + dY B = dC - dA Y - Y dB
    a, b, _ = node.args
    rhs = plus(
        d[2],
        None if d[0] is None else neg(matmul(d[0], node)),
        None if d[1] is None else neg(matmul(node, d[1])),
    )
    return None if rhs is None else Expr("sylvester", (a, b, rhs))


def _sylvester_code(w: CodeWriter, e: Expr) -> str:
    a, b, c = (w(x) for x in e.args)
    return f"{w.module('scipy.linalg')}.solve_sylvester({a}, {b}, {c})"


register(
    Op(
        "sylvester",
        3,
        _sylvester_shape,
        value=_sylvester_value,
        differential=_sylvester_differential,
        # vec(A Y + Y B) = (Bᵀ ⊕ A) vec(Y), so vec(Y) = (Bᵀ ⊕ A)⁻¹ vec(C)
        kronecker=(
            None,
            None,
            lambda node, sh: Expr("inv", (Expr("kronsum", (T(node.args[1]), node.args[0])),)),
        ),
        adjoint=(None, None, lambda node, g, sh: Expr("sylvester", (T(node.args[0]), T(node.args[1]), g))),
        domain=_sylvester_domain,
        analytic=False,  # Bartels–Stewart: a Schur decomposition, not complex-step safe
        notation=Notation(call="sylvester", latex=r"\operatorname{sylvester}"),
        cite="the Sylvester equation; M&N ch. 2, Higham, Functions of Matrices, ch. 6",
        python=_sylvester_code,
    )
)


# -- the pseudo-inverse ----------------------------------------------------------------------
def _pinv_shape(u: Unifier, node: Expr, a: Shape) -> Shape:
    return (a[1], a[0])


def _pinv_domain(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
    """Where X loses rank, X⁺ jumps: it has a derivative only at full rank (min(m, n))."""
    x = args[0]
    if x.ndim > 2 or not derivative_needed:
        return
    s = np.linalg.svd(x, compute_uv=False)
    if s.size and not s[-1] > RANK_TOLERANCE * max(s[0], np.finfo(float).tiny):
        rank = int(np.sum(s > RANK_TOLERANCE * s[0])) if s[0] > 0 else 0
        raise JacliError(
            f"{describe(node)}: {to_text(node.args[0])} has rank {rank}, not {min(x.shape)} (its smallest singular "
            f"value is {s[-1]:.3g}): the pseudo-inverse has no derivative where the rank drops",
            column=node.col,
        )


def _pinv_value(node: Expr, x: np.ndarray) -> np.ndarray:
    """X⁺ from the SVD; for complex entries (the complex-step oracle's) the analytic formula at
    full rank, (Xᵀ X)⁻¹ Xᵀ or Xᵀ (X Xᵀ)⁻¹, where NumPy's would conjugate."""
    if not np.iscomplexobj(x):
        return np.asarray(np.linalg.pinv(x))
    xt = np.swapaxes(x, -1, -2)
    m, n = x.shape[-2:]
    return np.asarray(np.linalg.solve(xt @ x, xt) if m >= n else xt @ np.linalg.inv(x @ xt))


def _pinv_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # dX⁺ = -X⁺ dX X⁺ + X⁺ X⁺ᵀ dXᵀ (I - X X⁺) + (I - X⁺ X) dXᵀ X⁺ᵀ X⁺   (Golub and Pereyra)
    if d[0] is None:
        return None
    x, dx, p = node.args[0], d[0], node
    m, n = sh(x)
    left = add(eye(m), neg(matmul(x, p)))  # I - X X⁺ (m×m): zero when X has full row rank
    right = add(eye(n), neg(matmul(p, x)))  # I - X⁺ X (n×n): zero when X has full column rank
    return plus(
        neg(matmul(matmul(p, dx), p)),
        matmul(matmul(matmul(p, T(p)), T(dx)), left),
        matmul(matmul(right, T(dx)), matmul(T(p), p)),
    )


register(
    Op(
        "pinv",
        1,
        _pinv_shape,
        value=_pinv_value,
        differential=_pinv_differential,
        random_hints=("invertible",),  # well conditioned where square (1×1 included)
        domain=_pinv_domain,
        notation=Notation(call="pinv", latex=r"\operatorname{pinv}"),
        cite="Golub and Pereyra 1973; M&N ch. 8",
        python=lambda w, e: f"np.linalg.pinv({w(e.args[0])})",
    )
)
