"""The Jacobian identified from the differential: vec(dF) = J vec(dX) (M&N ch. 9).

dF is linear in dX and built from linear operators, each of which gives its Kronecker form
(vec(A dX B) = (Bᵀ ⊗ A) vec(dX)): J is the chain of those forms along every path from dF
down to dX, simplified. A node that holds dX under an operator with no Kronecker form there
is a fault of a differential rule, refused, never taken as zero.
"""

from __future__ import annotations

from ..errors import JacliError
from ..expr import Expr, add, eye, matmul, zeros
from .differential import differential, differential_name
from .ops import REGISTRY
from .shapes import Shapes
from .simplify import Simplifier


def jacobian_expr(expr: Expr, var: str, shapes: Shapes, simplifier: Simplifier | None = None) -> Expr:
    """d vec(expr) / d vec(var), simplified: identified from the differential d(expr)."""
    dvar = differential_name(var, set(shapes.names))
    sh = shapes.extended({dvar: shapes.names[var]})
    simp = (simplifier or Simplifier(shapes)).extended(sh)
    dF = differential(expr, {var: dvar}, sh, simp, simplified=False)
    return identify(dF, dvar, sh, simp)


def identify(dF: Expr, dvar: str, shapes: Shapes, simp: Simplifier) -> Expr:
    """J with vec(dF) = J vec(dvar), from the Kronecker forms of dF's linear operators."""
    memo: dict[Expr, Expr | None] = {}

    def d(e: Expr) -> Expr | None:
        if e in memo:
            return memo[e]
        if e.op == "name":
            r, c = shapes(e)
            result = eye(r * c) if e.attr == dvar else None
        else:
            total = None
            for i, arg in enumerate(e.args):
                da = d(arg)
                if da is None:
                    continue
                term = simp(matmul(simp(kronecker(e, i, shapes)), da))
                total = term if total is None else simp(add(total, term))
            result = total
        memo[e] = result
        return result

    J = d(dF)
    if J is None or J.op == "zeros":
        (r, c), (m, n) = shapes(dF), shapes.names[dvar]
        return zeros(r * c, m * n)
    return J


def kronecker(node: Expr, i: int, shapes: Shapes) -> Expr:
    """The Kronecker form of ``node`` in its argument i, where it is linear there."""
    op = REGISTRY[node.op]
    rule = op.kronecker[i] if op.linear_in(i) else None
    if rule is None:
        name = op.notation.name or op.name
        raise JacliError(f"a differential holds dX under {name}, which is not linear in its argument {i + 1}")
    return rule(node, shapes)
