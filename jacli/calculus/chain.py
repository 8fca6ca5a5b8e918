"""The chain rule: d vec(F) / d vec(X) as an expression, from the registry's partials.

For a node f(a₁, …, aₖ), J_f = Σᵢ (∂ vec f / ∂ vec aᵢ) J_aᵢ; a leaf is the identity if it
is the variable and does not depend on it otherwise. A rule that is missing is refused,
never taken as zero.
"""

from __future__ import annotations

from ..errors import JacliError
from ..expr import Expr, add, eye, matmul, zeros
from .ops import REGISTRY
from .shapes import Shapes
from .simplify import Simplifier


def jacobian_expr(expr: Expr, var: str, shapes: Shapes, simplifier: Simplifier | None = None) -> Expr:
    """d vec(expr) / d vec(var), simplified."""
    simp = simplifier or Simplifier(shapes)
    memo: dict[Expr, Expr | None] = {}

    def d(e: Expr) -> Expr | None:
        if e in memo:
            return memo[e]
        if e.op == "name":
            r, c = shapes(e)
            result = eye(r * c) if e.attr == var else None
        else:
            total = None
            for i, arg in enumerate(e.args):
                da = d(arg)
                if da is None:
                    continue
                p = partial(e, i, shapes)
                if p is None:
                    continue
                term = simp(matmul(simp(p), da))
                total = term if total is None else simp(add(total, term))
            result = total
        memo[e] = result
        return result

    J = d(expr)
    if J is None or J.op == "zeros":
        (r, c), (m, n) = shapes(expr), shapes.names[var]
        return zeros(r * c, m * n)
    return J


def partial(node: Expr, i: int, shapes: Shapes) -> Expr | None:
    """The record's Kronecker partial of ``node`` with respect to its argument i (None: 0)."""
    op = REGISTRY[node.op]
    rule = op.partials[i] if i < len(op.partials) else None
    if rule is None:
        raise JacliError(f"no derivative rule for {op.notation.name or op.name} with respect to its argument {i + 1}")
    return rule(node, shapes)
