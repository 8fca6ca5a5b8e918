"""Products: the matrix product, the scalar multiple and the Kronecker product.

The parser reads every product as ``mul``; shape inference makes it a matrix product
(``matmul``) or, where a factor is 1×1, a scalar multiple (``smul``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...expr import Expr, T, comm, eye, kron, matmul, smul, vec, zeros
from ...syntax.notation import Infix, Notation, Prec
from .linear import unvec
from .registry import AdjointRule, CodeWriter, KroneckerRule, Op, Shape, ShapeOf, Unifier, bilinear, register, size

_JUXTAPOSED = Notation(Prec.PRODUCT, infix=Infix(" ", " ", " ", ()))


def _mul_shape(u: Unifier, node: Expr, a: Shape, b: Shape) -> Shape:
    if u.is_one(a):
        return b
    if u.is_one(b):
        return a
    if u.maybe_one(a) or u.maybe_one(b):
        u.defer()
    return _matmul_shape(u, node, a, b)


def _matmul_shape(u: Unifier, node: Expr, a: Shape, b: Shape) -> Shape:
    u.same(a[1], b[0], lambda: f"cannot multiply {u.show(a)} by {u.show(b)}")
    return (a[0], b[1])


register(Op("mul", 2, _mul_shape, notation=Notation(Prec.PRODUCT, infix=Infix(" ", " ", " ", ("*", "@")))))

# vec(A B) = (Bᵀ ⊗ I) vec(A) = (I ⊗ A) vec(B)   (M&N ch. 2, vec(ABC) = (Cᵀ ⊗ A) vec(B))
register(
    Op(
        "matmul",
        2,
        _matmul_shape,
        value=lambda node, a, b: a @ b,
        notation=_JUXTAPOSED,
        kronecker=(
            lambda node, sh: kron(T(node.args[1]), eye(sh(node.args[0])[0])),
            lambda node, sh: kron(eye(sh(node.args[1])[1]), node.args[0]),
        ),
        adjoint=(  # ⟨Ḡ, dA B⟩ = ⟨Ḡ Bᵀ, dA⟩, ⟨Ḡ, A dB⟩ = ⟨Aᵀ Ḡ, dB⟩
            lambda node, g, sh: matmul(g, T(node.args[1])),
            lambda node, g, sh: matmul(T(node.args[0]), g),
        ),
        transposed=lambda e: matmul(T(e.args[1]), T(e.args[0])),
        structure=lambda c, e: c.product(c.compile(e.args[0]), c.compile(e.args[1])),
        differential=bilinear,
        cite="product rule; M&N ch. 8, Cookbook sec. 2.1",
        python=lambda w, e: w.product(*e.args),  # I dropped, K a permutation, diag(v) a broadcast
    )
)


def _smul_shape(u: Unifier, node: Expr, s: Shape, a: Shape) -> Shape:
    u.same(s[0], 1, lambda: f"a scalar multiple needs a 1×1 factor, got {u.show(s)}")
    u.same(s[1], 1, lambda: f"a scalar multiple needs a 1×1 factor, got {u.show(s)}")
    return a


# d vec(s M) = vec(M) ds + s d vec(M)
register(
    Op(
        "smul",
        2,
        _smul_shape,
        value=lambda node, s, a: s * a,
        notation=_JUXTAPOSED,
        kronecker=(lambda node, sh: vec(node.args[1]), lambda node, sh: smul(node.args[0], eye(size(sh, node)))),
        adjoint=(  # ⟨Ḡ, ds M⟩ = vec(M)ᵀ vec(Ḡ) ds, ⟨Ḡ, s dM⟩ = ⟨s Ḡ, dM⟩
            lambda node, g, sh: matmul(T(vec(node.args[1])), vec(g)),
            lambda node, g, sh: smul(node.args[0], g),
        ),
        structure=lambda c, e: c.scalar_multiple(e.args[0], c.compile(e.args[1])),
        differential=bilinear,
        cite="product rule; M&N ch. 8",
        python=lambda w, e: f"{w.scalar(e.args[0])} * {w(e.args[1])}",
    )
)


def _kron_shape(u: Unifier, node: Expr, a: Shape, b: Shape) -> Shape:
    return (u.mul(a[0], b[0], node), u.mul(a[1], b[1], node))


def _kron_value(node: Expr, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    (r1, c1), (r2, c2) = a.shape[-2:], b.shape[-2:]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    out = a[..., :, None, :, None] * b[..., None, :, None, :]
    return np.asarray(out.reshape(batch + (r1 * r2, c1 * c2)))


def _kron_common(node: Expr, sh: ShapeOf) -> tuple[Expr, tuple[int, int, int, int]]:
    (m, n), (p, q) = sh(node.args[0]), sh(node.args[1])
    return kron(kron(eye(n), comm(q, m)), eye(p)), (m, n, p, q)


def _kron_wrt_left(node: Expr, sh: ShapeOf) -> Expr:
    # vec(A ⊗ B) = (I_n ⊗ K(q,m) ⊗ I_p)(vec A ⊗ vec B) for A m×n, B p×q  (M&N ch. 3,
    # the theorem on vec of a Kronecker product), and vec A ⊗ vec B = (I_mn ⊗ vec B) vec A.
    perm, (m, n, _p, _q) = _kron_common(node, sh)
    return matmul(perm, kron(eye(m * n), vec(node.args[1])))


def _kron_wrt_right(node: Expr, sh: ShapeOf) -> Expr:
    # ... and vec A ⊗ vec B = (vec A ⊗ I_pq) vec B.
    perm, (_m, _n, p, q) = _kron_common(node, sh)
    return matmul(perm, kron(vec(node.args[0]), eye(p * q)))


def _kron_adjoint(i: int) -> Callable[[Expr, Expr, ShapeOf], Expr]:
    """The adjoint from the Kronecker form P: vec(Ā) = Pᵀ vec(Ḡ)."""
    form = (_kron_wrt_left, _kron_wrt_right)[i]

    def rule(node: Expr, g: Expr, sh: ShapeOf) -> Expr:
        return unvec(matmul(T(form(node, sh)), vec(g)), sh(node.args[i])[0])

    return rule


register(
    Op(
        "kron",
        2,
        _kron_shape,
        value=_kron_value,
        kronecker=(_kron_wrt_left, _kron_wrt_right),
        adjoint=(_kron_adjoint(0), _kron_adjoint(1)),
        notation=Notation(Prec.KRON, call="kron", infix=Infix(" ⊗ ", None, r" \otimes ", ("⊗",))),
        transposed=lambda e: kron(T(e.args[0]), T(e.args[1])),
        structure=lambda c, e: c.kron(c.compile(e.args[0]), c.compile(e.args[1])),
        differential=bilinear,
        cite="product rule; M&N ch. 8",
        python=lambda w, e: w.kron(e.args[0], e.args[1]),
    )
)


def _kronsum_shape(u: Unifier, node: Expr, a: Shape, b: Shape) -> Shape:
    for x in (a, b):
        u.same(x[0], x[1], lambda: f"a Kronecker sum needs square matrices, got {u.show(a)} and {u.show(b)}")
    n = u.mul(a[0], b[0], node)
    return (n, n)


def _kronsum_parts(node: Expr, sh: ShapeOf) -> tuple[Expr, Expr]:
    """A ⊕ B = A ⊗ I + I ⊗ B, its two Kronecker products."""
    a, b = node.args
    return kron(a, eye(sh(b)[0])), kron(eye(sh(a)[0]), b)


def _kronsum_kronecker(i: int) -> KroneckerRule:
    # linear: d(A ⊕ B) = dA ⊕ dB, each part a Kronecker product with an identity
    def rule(node: Expr, sh: ShapeOf) -> Expr:
        part = _kronsum_parts(node, sh)[i]
        return (_kron_wrt_left, _kron_wrt_right)[i](part, sh)

    return rule


def _kronsum_adjoint(i: int) -> AdjointRule:
    def rule(node: Expr, g: Expr, sh: ShapeOf) -> Expr:
        return _kron_adjoint(i)(_kronsum_parts(node, sh)[i], g, sh)

    return rule


def _kronsum_code(w: CodeWriter, e: Expr) -> str:
    a, b = (w(x) for x in e.args)
    return f"np.kron({a}, np.eye({b}.shape[0])) + np.kron(np.eye({a}.shape[0]), {b})"


# A ⊕ B = A ⊗ I + I ⊗ B (M&N ch. 2, the Kronecker sum): vec(A Y + Y Bᵀ) = (B ⊕ A) vec(Y)
register(
    Op(
        "kronsum",
        2,
        _kronsum_shape,
        value=lambda node, a, b: _kron_value(node, a, np.eye(b.shape[-1])) + _kron_value(node, np.eye(a.shape[-1]), b),
        differential=lambda node, d, sh: (
            None
            if d[0] is None and d[1] is None
            else Expr("kronsum", tuple(x if x is not None else zeros(*sh(a)) for x, a in zip(d, node.args)))
        ),
        kronecker=(_kronsum_kronecker(0), _kronsum_kronecker(1)),
        adjoint=(_kronsum_adjoint(0), _kronsum_adjoint(1)),
        notation=Notation(Prec.KRON, call="kronsum", infix=Infix(" ⊕ ", None, r" \oplus ", ("⊕",))),
        transposed=lambda e: Expr("kronsum", (T(e.args[0]), T(e.args[1]))),
        cite="linear; the Kronecker sum (M&N ch. 2)",
        python=_kronsum_code,
    )
)


# -- the Khatri–Rao product (columnwise Kronecker): (A ⊙ B)[:, j] = a_j ⊗ b_j -----------------
def _khatrirao_shape(u: Unifier, node: Expr, a: Shape, b: Shape) -> Shape:
    u.same(a[1], b[1], lambda: f"a Khatri–Rao product needs equal columns, got {u.show(a)} and {u.show(b)}")
    return (u.mul(a[0], b[0], node), a[1])


def _khatrirao_value(node: Expr, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = a[..., :, None, :] * b[..., None, :, :]  # (..., m, p, k)
    return np.asarray(out.reshape(out.shape[:-3] + (out.shape[-3] * out.shape[-2], out.shape[-1])))


def _selector(node: Expr, sh: ShapeOf) -> Expr:
    """S with A ⊙ B = (A ⊗ B) S: the columns j k + j of I(k²), that is I(k) ⊙ I(k)."""
    k = sh(node)[1]
    return Expr("khatrirao", (eye(k), eye(k)))


def _khatrirao_kronecker(i: int) -> KroneckerRule:
    # vec(A ⊙ B) = vec((A ⊗ B) S) = (Sᵀ ⊗ I) vec(A ⊗ B)
    def rule(node: Expr, sh: ShapeOf) -> Expr:
        whole = kron(*node.args)
        form = (_kron_wrt_left, _kron_wrt_right)[i](whole, sh)
        return matmul(kron(T(_selector(node, sh)), eye(sh(node)[0])), form)

    return rule


def _khatrirao_adjoint(i: int) -> AdjointRule:
    def rule(node: Expr, g: Expr, sh: ShapeOf) -> Expr:
        return _kron_adjoint(i)(kron(*node.args), matmul(g, T(_selector(node, sh))), sh)

    return rule


def _khatrirao_code(w: CodeWriter, e: Expr) -> str:
    a, b = w(e.args[0]), w(e.args[1])
    return f"np.einsum('ik,jk->ijk', {a}, {b}).reshape(-1, {a}.shape[1])"


register(
    Op(
        "khatrirao",
        2,
        _khatrirao_shape,
        value=_khatrirao_value,
        differential=bilinear,
        kronecker=(_khatrirao_kronecker(0), _khatrirao_kronecker(1)),
        adjoint=(_khatrirao_adjoint(0), _khatrirao_adjoint(1)),
        notation=Notation(call="khatrirao", latex=r"\operatorname{khatrirao}"),
        cite="product rule; the Khatri–Rao product (M&N ch. 3)",
        python=lambda w, e: (
            f"np.einsum('ik,jk->ijk', {w(e.args[0])}, {w(e.args[1])}).reshape(-1, {w(e.args[0])}.shape[1])"
        ),
    )
)
