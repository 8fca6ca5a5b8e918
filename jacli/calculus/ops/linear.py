"""Linear operators: d vec(f) is a fixed matrix times d vec(argument). M&N ch. 2, 3 and 9.

Sum, negation, transpose, vec and its inverse unvec, diag (both ways), trace and sum of
entries. Each gives its Kronecker form and its adjoint (the transposed map, in matrix form).
"""

from __future__ import annotations

import numpy as np

from ... import sizes
from ...expr import Expr, T, add, comm, diag, eye, kron, matmul, neg, ones, smul, vec
from ...syntax.notation import Notation, Prec
from .registry import (
    CodeWriter,
    Op,
    Printer,
    Shape,
    ShapeOf,
    Unifier,
    linear,
    plus,
    register,
    scalar,
    size,
    square,
    unary_same,
)


def _sum_text(p: Printer, e: Expr) -> str:
    a, b = e.args
    left = p.show(a, Prec.SUM)
    if b.op == "neg":
        return f"{left} - {p.show(b.args[0], Prec.NEG)}"
    return f"{left} + {p.show(b, Prec.NEG)}"


def _sum_code(w: CodeWriter, e: Expr) -> str:
    a, b = e.args
    return f"{w(a)} - {w(b.args[0])}" if b.op == "neg" else f"{w(a)} + {w(b)}"


def _neg_text(p: Printer, e: Expr) -> str:
    inner = e.args[0]
    if inner.op in ("kron", "had", "ediv") and not p.parens:  # -(X⁻ᵀ ⊗ X⁻¹), for the reader
        return "-" + p.wrap(p.render(inner))
    return "-" + p.show(inner, Prec.NEG)


def _neg_code(w: CodeWriter, e: Expr) -> str:
    a = e.args[0]
    return w.kron(a.args[0], a.args[1], sign="-") if a.op == "kron" else f"-{w(a)}"


def _add_shape(u: Unifier, node: Expr, a: Shape, b: Shape) -> Shape:
    def message() -> str:
        hint = ""
        if u.is_one(a) != u.is_one(b):  # X + 1
            hint = " (a number is not added to every entry: write X + ones for that, or X + I for the diagonal)"
        return f"cannot add {u.show(a)} and {u.show(b)}{hint}"

    u.same(a[0], b[0], message)
    u.same(a[1], b[1], message)
    return a


register(
    Op(
        "add",
        2,
        _add_shape,
        value=lambda node, a, b: a + b,
        kronecker=(lambda node, sh: eye(size(sh, node)), lambda node, sh: eye(size(sh, node))),
        adjoint=(lambda node, g, sh: g, lambda node, g, sh: g),
        notation=Notation(Prec.SUM, render=_sum_text),
        transposed=lambda e: add(T(e.args[0]), T(e.args[1])),
        structure=lambda c, e: c.compile(e.args[0]) + c.compile(e.args[1]),
        differential=lambda node, d, sh: plus(*d),
        cite="sum rule; M&N ch. 8",
        python=_sum_code,
    )
)
register(
    Op(
        "neg",
        1,
        unary_same,
        value=lambda node, a: -a,
        kronecker=(lambda node, sh: neg(eye(size(sh, node))),),
        adjoint=(lambda node, g, sh: neg(g),),
        notation=Notation(Prec.NEG, render=_neg_text),
        structure=lambda c, e: c.scaled(c.compile(e.args[0]), -1.0),
        differential=linear,
        cite="linear; M&N ch. 8",
        python=lambda w, e: _neg_code(w, e),
    )
)


def _transpose_shape(u: Unifier, node: Expr, a: Shape) -> Shape:
    return (a[1], a[0])


def _transpose_text(p: Printer, e: Expr) -> str:
    a = e.args[0]
    if a.op == "inv":
        return p.postfix(a.args[0], "-T")
    return p.postfix(a, "T")


# vec(Aᵀ) = K(r,c) vec(A) for A r×c (M&N ch. 3, the commutation matrix).
register(
    Op(
        "T",
        1,
        _transpose_shape,
        value=lambda node, a: np.swapaxes(a, -1, -2),
        kronecker=(lambda node, sh: comm(*sh(node.args[0])),),
        adjoint=(lambda node, g, sh: T(g),),
        notation=Notation(Prec.POSTFIX, render=_transpose_text),
        transposed=lambda e: e.args[0],
        structure=lambda c, e: c.transposed(c.compile(e.args[0])),
        differential=linear,
        cite="linear; M&N ch. 8",
        python=lambda w, e: f"{w(e.args[0])}.T",
    )
)


def _vec_shape(u: Unifier, node: Expr, a: Shape) -> Shape:
    return (u.mul(a[0], a[1], node), 1)


def _vec_value(node: Expr, a: np.ndarray) -> np.ndarray:
    r, c = a.shape[-2:]
    return np.swapaxes(a, -1, -2).reshape(a.shape[:-2] + (r * c, 1))


register(
    Op(
        "vec",
        1,
        _vec_shape,
        value=_vec_value,
        kronecker=(lambda node, sh: eye(size(sh, node)),),
        adjoint=(lambda node, g, sh: unvec(g, sh(node.args[0])[0]),),
        notation=Notation(call="vec", latex=r"\operatorname{vec}"),
        structure=lambda c, e: c.vec(c.compile(e.args[0])),
        differential=linear,
        cite="linear; M&N ch. 8",
        python=lambda w, e: f"{w(e.args[0])}.reshape(-1, 1, order='F')",  # stacks columns
    )
)


def _diag_shape(u: Unifier, node: Expr, a: Shape) -> Shape | None:
    """diag of a vector is the diagonal matrix; diag of a square matrix its diagonal, a column."""
    if u.is_one(a):
        return (1, 1)
    r, c = u.known(a[0]), u.known(a[1])
    if c == 1:
        return (a[0], a[0])
    if r == 1:
        return (a[1], a[1])
    if r is not None and c is not None:
        if r == c and u.inferring:
            return (a[0], 1)
        u.fail(f"diag needs a vector or a square matrix, got {u.show(a)}")
    u.defer("cannot tell whether the argument of diag is a vector or a square matrix; give its shape")
    return None


def _diag_value(node: Expr, a: np.ndarray) -> np.ndarray:
    n = max(a.shape[-2:])
    v = a.reshape(a.shape[:-2] + (n,))
    return v[..., :, None] * np.eye(n)


def _diag_partial(node: Expr, sh: ShapeOf) -> Expr:
    # vec(diag(v)) = diag(vec(Iₙ)) (1ₙ ⊗ Iₙ) v : n copies of v, masked to the diagonal;
    # linear in v, so this is its Jacobian (M&N ch. 9, identification of linear maps).
    n = sh(node)[0]
    return matmul(diag(vec(eye(n))), kron(ones(n, 1), eye(n)))


def _diagonal_partial(node: Expr, sh: ShapeOf) -> Expr:
    # diag(X) = (X ∘ I) 1ₙ, so d diag(X) = (1ₙᵀ ⊗ Iₙ) diag(vec(Iₙ)) d vec(X)   (linear; M&N ch. 9)
    n = sh(node)[0]
    return matmul(kron(ones(1, n), eye(n)), diag(vec(eye(n))))


def _diag_adjoint(node: Expr, g: Expr, sh: ShapeOf) -> Expr:
    # ⟨Ḡ, diag(dv)⟩ = ⟨diag(Ḡ), dv⟩: the diagonal of Ḡ, shaped like v (a column, a row or 1×1)
    r, c = sh(node.args[0])
    if (r, c) == (1, 1):
        return g
    d = Expr("diagonal", (g,))
    return d if c == 1 else T(d)


def _diagonal_shape(u: Unifier, node: Expr, a: Shape) -> Shape:
    u.same(a[0], a[1], lambda: f"diag needs a vector or a square matrix, got {u.show(a)}")
    return (a[0], 1)


_DIAG = Notation(call="diag", latex=r"\operatorname{diag}")
register(
    Op(
        "diag",
        1,
        _diag_shape,
        value=_diag_value,
        kronecker=(_diag_partial,),
        adjoint=(_diag_adjoint,),
        notation=_DIAG,
        transposed=lambda e: e,
        structure=lambda c, e: c.diag(c.compile(e.args[0])),
        differential=linear,
        cite="linear",
        python=lambda w, e: f"np.diagflat({w(e.args[0])})",
    )
)
# diag of a square matrix: what inference makes of diag(X) for X n×n, n > 1
register(
    Op(
        "diagonal",
        1,
        _diagonal_shape,
        kronecker=(_diagonal_partial,),
        adjoint=(lambda node, g, sh: diag(g),),
        value=lambda node, a: np.diagonal(a, axis1=-2, axis2=-1)[..., :, None].copy(),
        notation=Notation(text="diag", latex=r"\operatorname{diag}"),
        structure=lambda c, e: c.diagonal(c.compile(e.args[0])),
        differential=linear,
        cite="linear",
        python=lambda w, e: f"np.diagonal({w(e.args[0])}).reshape(-1, 1)",
    )
)

# d tr(X) = tr(dX) = vec(I)ᵀ d vec(X)   (M&N ch. 9; Cookbook sec. 2.5)
register(
    Op(
        "tr",
        1,
        square("tr", "scalar"),
        value=lambda node, a: np.trace(a, axis1=-2, axis2=-1)[..., None, None],
        kronecker=(lambda node, sh: T(vec(eye(sh(node.args[0])[0]))),),
        adjoint=(lambda node, g, sh: smul(g, eye(sh(node.args[0])[0])),),
        notation=Notation(call="tr", latex=r"\operatorname{tr}"),
        differential=linear,
        cite="linear; M&N ch. 8, Cookbook sec. 2.1",
        python=lambda w, e: f"np.trace({w(e.args[0])}).reshape(1, 1)",
    )
)
# d sum(X) = 1ᵀ d vec(X), sum(X) being 1ᵀ vec(X)   (M&N ch. 9, linear forms)
register(
    Op(
        "sum",
        1,
        scalar,
        value=lambda node, a: a.sum(axis=(-2, -1), keepdims=True),
        kronecker=(lambda node, sh: T(vec(ones(*sh(node.args[0])))),),
        adjoint=(lambda node, g, sh: smul(g, ones(*sh(node.args[0]))),),
        notation=Notation(call="sum", latex=r"\operatorname{sum}"),
        differential=linear,
        cite="linear",
        python=lambda w, e: f"{w(e.args[0])}.sum(keepdims=True)",
    )
)


def unvec(v: Expr, rows: object) -> Expr:
    """The matrix of ``rows`` rows whose vec is the column ``v``."""
    return Expr("unvec", (v,), rows)


def _unvec_shape(u: Unifier, node: Expr, a: Shape) -> Shape | None:
    m = node.attr
    u.same(a[1], 1, lambda: f"unvec needs a column, got {u.show(a)}")
    k = u.known(a[0])
    if k is None:
        u.defer()
        return None
    n = sizes.div(k, m)
    if n is None:
        u.fail(f"unvec: {sizes.text(k)} entries do not make {sizes.text(m)} rows of equal length")
    return (m, n)


def _unvec_value(node: Expr, a: np.ndarray) -> np.ndarray:
    m = node.attr
    return np.swapaxes(a.reshape(a.shape[:-2] + (-1, m)), -1, -2)  # columns of m entries


# unvec(v, m): the m×n matrix M with vec(M) = v, the inverse of vec (a reshape); its adjoint is vec
register(
    Op(
        "unvec",
        1,
        _unvec_shape,
        value=_unvec_value,
        kronecker=(lambda node, sh: eye(size(sh, node)),),
        adjoint=(lambda node, g, sh: vec(g),),
        notation=Notation(call="unvec", latex=r"\operatorname{unvec}", attr="size"),
        differential=linear,
        cite="linear; the inverse of vec",
        python=lambda w, e: f"{w(e.args[0])}.reshape({w.size(e.attr)}, -1, order='F')",
    )
)
