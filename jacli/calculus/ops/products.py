"""Products: the matrix product, the scalar multiple and the Kronecker product.

The parser reads every product as ``mul``; shape inference makes it a matrix product
(``matmul``) or, where a factor is 1×1, a scalar multiple (``smul``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ... import sizes
from ...expr import Expr, T, comm, eye, kron, matmul, ones, smul, vec, zeros
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
    return _perm((m, n), (p, q)), (m, n, p, q)


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
    """⟨Ḡ, A ⊗ B⟩ = ⟨blockdot(Ḡ, B), A⟩ = ⟨blocksum(Ḡ, A), B⟩: a reshape and a contraction."""
    if i == 0:
        return lambda node, g, sh: Expr("blockdot", (g, node.args[1]))
    return lambda node, g, sh: Expr("blocksum", (g, node.args[0]))


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


# -- the adjoints of the Kronecker product -------------------------------------------------
# G (m p)×(n q) is an m×n grid of p×q blocks G_ij. blockdot(G, B) is the m×n matrix of the
# inner products ⟨G_ij, B⟩ and blocksum(G, A) the p×q sum Σ A_ij G_ij, so that
# ⟨G, A ⊗ B⟩ = ⟨blockdot(G, B), A⟩ = ⟨blocksum(G, A), B⟩: each is linear in both arguments,
# its value G reshaped to (m, p, n, q) and contracted. With R(G) the rearrangement of Van Loan
# and Pitsianis, vec(blockdot(G, B)) = R(G) vec(B) and vec(blocksum(G, A)) = R(G)ᵀ vec(A),
# where ⟨G, A ⊗ B⟩ = vec(G)ᵀ P (vec(A) ⊗ vec(B)) gives R(G)ᵀ = unvec(Pᵀ vec(G), p q).
def _grid(u: Unifier, node: Expr, g: Shape, part: Shape, what: str) -> tuple[Any, Any]:
    """The other factor's shape: G's rows and columns divided by ``part``'s."""
    out = []
    for whole, by in zip(g, part, strict=True):
        kw, kb = u.known(whole), u.known(by)
        if kw is None or kb is None:
            u.defer(f"cannot infer the shapes of {what}: give the shapes of its arguments")
            return (u.fresh(), u.fresh())
        got = sizes.div(kw, kb)
        if got is None:
            u.fail(f"{what} needs a matrix of whole blocks of {u.show(part)}, got {u.show(g)}")
        out.append(got)
    return out[0], out[1]


def _blockdot_value(node: Expr, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    (r, c), (p, q) = g.shape[-2:], b.shape[-2:]
    return np.asarray(np.einsum("...ipjq,...pq->...ij", g.reshape(g.shape[:-2] + (r // p, p, c // q, q)), b))


def _blocksum_value(node: Expr, g: np.ndarray, a: np.ndarray) -> np.ndarray:
    (r, c), (m, n) = g.shape[-2:], a.shape[-2:]
    return np.asarray(np.einsum("...ipjq,...ij->...pq", g.reshape(g.shape[:-2] + (m, r // m, n, c // n)), a))


def _perm(a: Shape, b: Shape) -> Expr:
    """P = I_n ⊗ K(q,m) ⊗ I_p, vec(A ⊗ B) = P (vec(A) ⊗ vec(B)), for shapes A m×n, B p×q."""
    (m, n), (p, q) = a, b
    return kron(kron(eye(n), comm(q, m)), eye(p))


def _rearranged_t(g: Expr, a: Shape, b: Shape) -> Expr:
    """R(G)ᵀ = unvec(Pᵀ vec(G), p q)."""
    return unvec(matmul(T(_perm(a, b)), vec(g)), b[0] * b[1])


def _contraction_code(spec: str, outer: bool) -> Callable[[CodeWriter, Expr], str]:
    def code(w: CodeWriter, e: Expr) -> str:
        g, x = w(e.args[0]), w(e.args[1])
        if outer:  # x is A: the grid is x's shape
            dims = f"{x}.shape[0], {g}.shape[0] // {x}.shape[0], {x}.shape[1], {g}.shape[1] // {x}.shape[1]"
        else:  # x is B: the blocks are x's shape
            dims = f"{g}.shape[0] // {x}.shape[0], {x}.shape[0], {g}.shape[1] // {x}.shape[1], {x}.shape[1]"
        return f"np.einsum('{spec}', {g}.reshape({dims}), {x})"

    return code


register(
    Op(
        "blockdot",
        2,
        lambda u, node, g, b: _grid(u, node, g, b, "blockdot"),
        value=_blockdot_value,
        kronecker=(  # vec(blockdot(G, B)) = (I_mn ⊗ vec(B))ᵀ Pᵀ vec(G) = R(G) vec(B)
            lambda node, sh: matmul(
                kron(eye(size(sh, node)), T(vec(node.args[1]))), T(_perm(sh(node), sh(node.args[1])))
            ),
            lambda node, sh: T(_rearranged_t(node.args[0], sh(node), sh(node.args[1]))),
        ),
        adjoint=(  # ⟨Ā, blockdot(G, B)⟩ = ⟨Ā ⊗ B, G⟩ = ⟨blocksum(G, Ā), B⟩
            lambda node, g, sh: kron(g, node.args[1]),
            lambda node, g, sh: Expr("blocksum", (node.args[0], g)),
        ),
        notation=Notation(call="blockdot", latex=r"\operatorname{blockdot}"),
        transposed=lambda e: Expr("blockdot", (T(e.args[0]), T(e.args[1]))),
        differential=bilinear,
        cite="the adjoint of A ↦ A ⊗ B: a reshape and a contraction (Van Loan and Pitsianis' rearrangement)",
        python=_contraction_code("ipjq,pq->ij", outer=False),
    )
)
register(
    Op(
        "blocksum",
        2,
        lambda u, node, g, a: _grid(u, node, g, a, "blocksum"),
        value=_blocksum_value,
        kronecker=(  # vec(blocksum(G, A)) = (vec(A) ⊗ I_pq)ᵀ Pᵀ vec(G) = R(G)ᵀ vec(A)
            lambda node, sh: matmul(
                kron(T(vec(node.args[1])), eye(size(sh, node))), T(_perm(sh(node.args[1]), sh(node)))
            ),
            lambda node, sh: _rearranged_t(node.args[0], sh(node.args[1]), sh(node)),
        ),
        adjoint=(  # ⟨B̄, blocksum(G, A)⟩ = ⟨A ⊗ B̄, G⟩ = ⟨blockdot(G, B̄), A⟩
            lambda node, g, sh: kron(node.args[1], g),
            lambda node, g, sh: Expr("blockdot", (node.args[0], g)),
        ),
        notation=Notation(call="blocksum", latex=r"\operatorname{blocksum}"),
        transposed=lambda e: Expr("blocksum", (T(e.args[0]), T(e.args[1]))),
        differential=bilinear,
        cite="the adjoint of B ↦ A ⊗ B: a reshape and a contraction (Van Loan and Pitsianis' rearrangement)",
        python=_contraction_code("ipjq,ij->pq", outer=True),
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
    # ⟨Ḡ, A ⊙ B⟩ = Σⱼ ⟨ḡⱼ, aⱼ ⊗ bⱼ⟩: Āᵢⱼ = ⟨Ḡ's rows i p..i p+p-1 of column j, bⱼ⟩ and
    # B̄ = Σᵢ (those rows) Aᵢⱼ, contractions over Ḡ ∘ (1 ⊗ B) and Ḡ ∘ (A ⊗ 1), never I ⊙ I
    def rule(node: Expr, g: Expr, sh: ShapeOf) -> Expr:
        a, b = node.args
        (m, _), (p, _) = sh(a), sh(b)
        if i == 0:
            return Expr("blockdot", (Expr("had", (g, kron(ones(m, 1), b))), ones(p, 1)))
        return Expr("blocksum", (Expr("had", (g, kron(a, ones(p, 1)))), ones(m, 1)))

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
