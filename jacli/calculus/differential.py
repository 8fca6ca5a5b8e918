"""Differentials, as Magnus & Neudecker compute them.

:func:`differential` applies each record's differential rule forward: d(A X B) = A dX B,
d(X⁻¹) = -X⁻¹ dX X⁻¹. The differential of a variable X is the name ``dX`` (X's shape), so a
differential is an ordinary expression of the language: it prints, reads back, and evaluated
with dX = V it is the directional derivative J vec(V), without J. The Jacobian is identified
from it (:mod:`.chain`), the gradient is it transposed (:mod:`.adjoint`).
"""

from __future__ import annotations

from ..errors import JacliError
from ..expr import Expr, name, zeros
from .ops import REGISTRY
from .shapes import Shapes
from .simplify import Simplifier


def differential_name(var: str, taken: set[str]) -> str:
    """``dX``, or ``d_X`` where the expression already has a name ``dX``."""
    return f"d{var}" if f"d{var}" not in taken else f"d_{var}"


def differential(
    expr: Expr, names: dict[str, str], shapes: Shapes, simp: Simplifier, *, simplified: bool = True
) -> Expr:
    """d(expr), where ``names`` maps each variable to the name of its differential (whose
    shapes ``shapes`` knows); zeros where expr does not depend on them. ``simplified``
    False: each record's rule as written, node for node (the tree of expr, its operators
    replaced by their differentials), as the chain rule walks it."""
    memo: dict[Expr, Expr | None] = {}

    def d(e: Expr) -> Expr | None:
        if e in memo:
            return memo[e]
        if e.op == "name":
            got = name(names[e.attr]) if e.attr in names else None
        else:
            ds = tuple(d(a) for a in e.args)
            if all(x is None for x in ds):
                got = None
            else:
                rule = REGISTRY[e.op].differential
                if rule is None:
                    raise JacliError(f"no differential rule for {REGISTRY[e.op].notation.name or e.op}")
                got = rule(e, ds, shapes)
        memo[e] = got
        return got

    out = d(expr)
    if out is None:
        return zeros(*shapes(expr))
    return simp(out) if simplified else out


__all__ = ["differential", "differential_name"]
