"""Adjoints: the differential transposed, as reverse mode is the JVP transposed.

From the adjoint Ḡ of F, each linear operator of dF gives its arguments' adjoints by its
adjoint rule (for A dX B: Aᵀ Ḡ Bᵀ), accumulated backwards down to dX: X̄ with
⟨Ḡ, dF⟩ = ⟨X̄, dX⟩. With Ḡ = 1 for a scalar f it is the gradient in the Matrix Cookbook's
layout, df = tr(Gᵀ dX); with Ḡ a name it is uᵀ J (jacli.operator's rmatvec).
"""

from __future__ import annotations

from ..errors import JacliError
from ..expr import Expr, add, name, zeros
from .differential import differential, differential_name
from .ops import REGISTRY
from .shapes import Shapes
from .simplify import Simplifier


def adjoint(expr: Expr, var: str, seed: Expr, shapes: Shapes, simp: Simplifier) -> Expr:
    """The adjoint of the variable ``var`` when ``expr``'s adjoint is ``seed`` (same shape as
    expr): X̄ with ⟨seed, dF⟩ = ⟨X̄, dX⟩. Simplified; zeros where expr does not depend on var."""
    dvar = differential_name(var, set(shapes.names) | set(seed.names()))
    sh = shapes.extended({dvar: shapes.names[var]})
    s = simp.extended(sh)
    return transpose(differential(expr, {var: dvar}, sh, s), dvar, seed, sh, s)


def transpose(dF: Expr, dvar: str, seed: Expr, shapes: Shapes, simp: Simplifier) -> Expr:
    """The adjoint of ``dvar`` in the linear expression ``dF`` whose adjoint is ``seed``."""
    order = _post_order(dF)
    depends: dict[Expr, bool] = {}
    for node in order:
        depends[node] = (node.op == "name" and node.attr == dvar) or any(depends[a] for a in node.args)
    bars: dict[Expr, Expr] = {dF: seed}
    for node in reversed(order):
        bar = bars.get(node)
        if bar is None or node.op == "name":
            continue
        bar = simp(bar)
        op = REGISTRY[node.op]
        for i, a in enumerate(node.args):
            if not depends[a]:
                continue
            rule = op.adjoint[i] if i < len(op.adjoint) else None
            if rule is None:
                raise JacliError(f"a differential holds dX under {op.notation.name or op.name}, which has no adjoint")
            contribution = simp(rule(node, bar, shapes))
            bars[a] = contribution if a not in bars else add(bars[a], contribution)
    got = bars.get(name(dvar))
    return zeros(*shapes.names[dvar]) if got is None else simp(got)


def _post_order(expr: Expr) -> list[Expr]:
    """Every distinct node once, arguments before the nodes that use them."""
    seen: dict[Expr, None] = {}

    def visit(e: Expr) -> None:
        if e in seen:
            return
        for a in e.args:
            visit(a)
        seen[e] = None

    visit(expr)
    return list(seen)


def gradient(expr: Expr, var: str, shapes: Shapes, simp: Simplifier) -> Expr:
    """∂f/∂X shaped like X (the Matrix Cookbook's layout) for a scalar f."""
    return adjoint(expr, var, Expr("num", (), 1.0), shapes, simp)


__all__ = ["adjoint", "gradient", "transpose"]
