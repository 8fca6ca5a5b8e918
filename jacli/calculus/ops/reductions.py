"""Norms and the softmax family: norm1, norm2, softmax, logsumexp.

norm2(A) = sqrt(sum(A ∘ A)), the Euclidean norm of a vector and the Frobenius norm of a
matrix: d norm2(A) = tr(Aᵀ dA) / norm2(A). norm1(A) = sum(|A|): d norm1(A) = sum(sign(A) ∘ dA)
away from zero entries. softmax(A) = exp(A) / sum(exp(A)) over all entries (of a vector,
as usual): d s = s ∘ dA - s sum(s ∘ dA), J = diag(vec s) - vec(s) vec(s)ᵀ; logsumexp(A) =
log(sum(exp(A))) with d = sum(softmax(A) ∘ dA). Both are computed without overflow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import JacliError
from ...expr import Expr, add, neg
from ...syntax.notation import Notation
from .registry import (
    CodeWriter,
    Differentials,
    Op,
    Printer,
    ShapeOf,
    describe,
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
