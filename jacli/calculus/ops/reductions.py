"""Norms, the softmax family and the mean: norm1, norm2, softmax, logsumexp (of all entries,
of each row, of each column), mean.

norm2(A) = sqrt(sum(A ∘ A)), the Euclidean norm of a vector and the Frobenius norm of a
matrix: d norm2(A) = tr(Aᵀ dA) / norm2(A). norm1(A) = sum(|A|): d norm1(A) = sum(sign(A) ∘ dA)
away from zero entries. softmax(A) = exp(A) / sum(exp(A)) over all entries (of a vector,
as usual): d s = s ∘ dA - s sum(s ∘ dA), J = diag(vec s) - vec(s) vec(s)ᵀ; logsumexp(A) =
log(sum(exp(A))) with d = sum(softmax(A) ∘ dA). Both are computed without overflow.

Machine learning's softmax is row by row: softmax_rows(A) (each row of A, as in attention,
softmax_rows(Q Kᵀ / s) V), with d S = S ∘ dA - ((S ∘ dA) 1 1ᵀ) ∘ S, and logsumexp_rows(A) the
column of each row's log-sum-exp, d = (softmax_rows(A) ∘ dA) 1; softmax_cols and logsumexp_cols
the same by columns. mean(A) = sum(A) / (m n) is linear: J = vec(1)ᵀ / (m n).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import JacliError
from ...expr import Expr, T, add, matmul, neg, num, ones, smul, vec
from ...syntax.notation import Notation
from .registry import (
    CodeWriter,
    Differentials,
    Op,
    Printer,
    Shape,
    ShapeOf,
    Unifier,
    describe,
    linear,
    refuse_where,
    register,
    scalar,
    unary_same,
)


def _sum(a: np.ndarray) -> np.ndarray:
    return np.asarray(a.sum(axis=(-2, -1), keepdims=True))


def _div(a: Expr, s: Expr) -> Expr:
    return Expr("div", (a, s))


def _norm_text(k: int) -> Any:
    def render(p: Printer, e: Expr) -> str:
        return rf"\lVert {p.show(e.args[0], 0)} \rVert_{k}" if p.latex else p.call(e)

    return render


def _check_norm2(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
    a = args[0]
    if derivative_needed and a.ndim == 2 and not np.any(a):
        raise JacliError(f"{describe(node)}: the argument is 0, where norm2 has no derivative", column=node.col)


register(
    Op(
        "norm1",
        1,
        scalar,
        value=lambda node, a: _sum(np.abs(a)),
        differential=lambda node, d, sh: (
            None if d[0] is None else Expr("sum", (Expr("had", (Expr("sign", node.args), d[0])),))
        ),
        domain=refuse_where("norm1", lambda a: a == 0),
        notation=Notation(call="norm1", latex=r"\operatorname{norm1}", render=_norm_text(1)),
        analytic=False,
        cite="entry by entry",
        python=lambda w, e: f"np.abs({w(e.args[0])}).sum(keepdims=True)",
    )
)
register(
    Op(
        "norm2",
        1,
        scalar,
        value=lambda node, a: np.sqrt(_sum(a * a)),
        differential=lambda node, d, sh: (
            None if d[0] is None else _div(Expr("sum", (Expr("had", (node.args[0], d[0])),)), node)
        ),
        domain=_check_norm2,
        notation=Notation(call="norm2", latex=r"\operatorname{norm2}", render=_norm_text(2)),
        cite="chain rule",
        python=lambda w, e: f"np.linalg.norm({w(e.args[0])}).reshape(1, 1)",
    )
)


def _softmax_value(node: Expr, a: np.ndarray) -> np.ndarray:
    e = np.exp(a - np.max(np.real(a), axis=(-2, -1), keepdims=True))
    return np.asarray(e / _sum(e))


def _logsumexp_value(node: Expr, a: np.ndarray) -> np.ndarray:
    m = np.max(np.real(a), axis=(-2, -1), keepdims=True)
    return np.asarray(m + np.log(_sum(np.exp(a - m))))


def _softmax_code(w: CodeWriter, e: Expr) -> str:
    a = w(e.args[0])
    shifted = w.let(f"np.exp({a} - {a}.max())")  # no overflow, as _softmax_value
    return f"{shifted} / {shifted}.sum()"


def _logsumexp_code(w: CodeWriter, e: Expr) -> str:
    a = w(e.args[0])
    top = w.let(f"{a}.max()")
    return f"{top} + np.log(np.exp({a} - {top}).sum(keepdims=True))"


def _softmax_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    if d[0] is None:
        return None
    sd = Expr("had", (node, d[0]))
    return add(sd, neg(Expr("smul", (Expr("sum", (sd,)), node))))


register(
    Op(
        "softmax",
        1,
        unary_same,
        value=_softmax_value,
        differential=_softmax_differential,
        notation=Notation(call="softmax", latex=r"\operatorname{softmax}"),
        cite="quotient rule",
        python=_softmax_code,
    )
)
register(
    Op(
        "logsumexp",
        1,
        scalar,
        value=_logsumexp_value,
        differential=lambda node, d, sh: (
            None if d[0] is None else Expr("sum", (Expr("had", (Expr("softmax", node.args), d[0])),))
        ),
        notation=Notation(call="logsumexp", latex=r"\operatorname{logsumexp}"),
        cite="chain rule",
        python=_logsumexp_code,
    )
)


# -- row by row and column by column ------------------------------------------------------
# axis -1 runs along a row (softmax of each row), axis -2 along a column
_AXIS = {"rows": -1, "cols": -2}


def _softmax_along(axis: int) -> Any:
    def value(node: Expr, a: np.ndarray) -> np.ndarray:
        e = np.exp(a - np.max(np.real(a), axis=axis, keepdims=True))
        return np.asarray(e / e.sum(axis=axis, keepdims=True))

    return value


def _logsumexp_along(axis: int) -> Any:
    def value(node: Expr, a: np.ndarray) -> np.ndarray:
        m = np.max(np.real(a), axis=axis, keepdims=True)
        return np.asarray(m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True)))

    return value


def _summed(by: str, a: Expr, sh: ShapeOf) -> Expr:
    """The sums of each row of ``a`` (a column, a 1) or of each column (a row, 1ᵀ a)."""
    rows, cols = sh(a)
    return matmul(a, ones(cols, 1)) if by == "rows" else matmul(ones(1, rows), a)


def _spread(by: str, s: Expr, sh: ShapeOf, like: Expr) -> Expr:
    """The sums ``s`` spread over the shape of ``like``: s 1ᵀ (rows) or 1 s (columns)."""
    rows, cols = sh(like)
    return matmul(s, ones(1, cols)) if by == "rows" else matmul(ones(rows, 1), s)


def _softmax_along_differential(by: str) -> Any:
    def rule(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
        if d[0] is None:
            return None
        sd = Expr("had", (node, d[0]))  # d S = S ∘ dA - (the sums of S ∘ dA, spread) ∘ S
        return add(sd, neg(Expr("had", (_spread(by, _summed(by, sd, sh), sh, node), node))))

    return rule


def _logsumexp_along_differential(by: str) -> Any:
    def rule(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
        if d[0] is None:
            return None
        return _summed(by, Expr("had", (Expr(f"softmax_{by}", node.args), d[0])), sh)

    return rule


def _along_code(fn: str, axis: int) -> Any:
    def code(w: CodeWriter, e: Expr) -> str:
        a = w(e.args[0])
        if fn == "softmax":
            shifted = w.let(f"np.exp({a} - {a}.max(axis={axis}, keepdims=True))")
            return f"{shifted} / {shifted}.sum(axis={axis}, keepdims=True)"
        top = w.let(f"{a}.max(axis={axis}, keepdims=True)")
        return f"{top} + np.log(np.exp({a} - {top}).sum(axis={axis}, keepdims=True))"

    return code


def _logsumexp_shape(by: str) -> Any:
    def rule(u: Unifier, node: Expr, a: Shape) -> Shape:
        return (a[0], 1) if by == "rows" else (1, a[1])

    return rule


for _by, _axis in _AXIS.items():
    register(
        Op(
            f"softmax_{_by}",
            1,
            unary_same,
            value=_softmax_along(_axis),
            differential=_softmax_along_differential(_by),
            notation=Notation(call=f"softmax_{_by}", latex=rf"\operatorname{{softmax}}_{{\mathrm{{{_by}}}}}"),
            cite="quotient rule, each " + _by[:-1],
            python=_along_code("softmax", _axis),
        )
    )
    register(
        Op(
            f"logsumexp_{_by}",
            1,
            _logsumexp_shape(_by),
            value=_logsumexp_along(_axis),
            differential=_logsumexp_along_differential(_by),
            notation=Notation(call=f"logsumexp_{_by}", latex=rf"\operatorname{{logsumexp}}_{{\mathrm{{{_by}}}}}"),
            cite="chain rule, each " + _by[:-1],
            python=_along_code("logsumexp", _axis),
        )
    )


def _count(sh: ShapeOf, a: Expr) -> Expr:
    """The number of entries of ``a`` as a 1×1 expression: a number, or sum(ones(m,n)) for
    sizes with dimension names."""
    rows, cols = sh(a)
    if isinstance(rows, int) and isinstance(cols, int):
        return num(rows * cols)
    return Expr("sum", (ones(rows, cols),))


# mean(A) = sum(A) / (m n): linear, d mean(A) = mean(dA), J = vec(ones(m,n))ᵀ / (m n)
register(
    Op(
        "mean",
        1,
        scalar,
        value=lambda node, a: a.mean(axis=(-2, -1), keepdims=True),
        kronecker=(lambda node, sh: _div(T(vec(ones(*sh(node.args[0])))), _count(sh, node.args[0])),),
        adjoint=(lambda node, g, sh: _div(smul(g, ones(*sh(node.args[0]))), _count(sh, node.args[0])),),
        notation=Notation(call="mean", latex=r"\operatorname{mean}"),
        differential=linear,
        cite="linear",
        python=lambda w, e: f"{w(e.args[0])}.mean(keepdims=True)",
    )
)
