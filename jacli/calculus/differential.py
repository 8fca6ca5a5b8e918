"""Differentials and adjoints, as Magnus & Neudecker compute them.

:func:`differential` applies each record's differential rule forward: d(A X B) = A dX B,
d(X⁻¹) = -X⁻¹ dX X⁻¹. The differential of a variable X is the name ``dX`` (X's shape), so a
differential is an ordinary expression of the language: it prints, reads back, and evaluated
with dX = V it is the directional derivative J vec(V), without J.

:func:`adjoint` accumulates backwards: from the adjoint F̄ of the result, the adjoint of each
argument, Ā with vec(Ā) = Pᵀ vec(F̄) for the argument's Kronecker partial P, in matrix form
after simplification (for A B: Ā = F̄ Bᵀ, B̄ = Aᵀ F̄). With F̄ = 1 for a scalar f it is the
gradient in the Matrix Cookbook's layout, df = tr(Gᵀ dX); with F̄ a name it is uᵀ J.
"""

from __future__ import annotations

from ..errors import JacliError
from ..expr import Expr, T, add, eye, kron, matmul, name, vec, zeros
from .chain import partial
from .ops import REGISTRY
from .shapes import Shapes
from .simplify import Simplifier
from .simplify.products import unvec


def differential_name(var: str, taken: set[str]) -> str:
    """``dX``, or ``d_X`` where the expression already has a name ``dX``."""
    return f"d{var}" if f"d{var}" not in taken else f"d_{var}"


def differential(expr: Expr, names: dict[str, str], shapes: Shapes, simp: Simplifier) -> Expr:
    """d(expr), where ``names`` maps each variable to the name of its differential (whose
    shapes ``shapes`` knows); simplified, zeros where expr does not depend on them."""
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
    return zeros(*shapes(expr)) if out is None else simp(out)


def adjoint(expr: Expr, var: str, seed: Expr, shapes: Shapes, simp: Simplifier) -> Expr:
    """The adjoint of the variable ``var`` when ``expr``'s adjoint is ``seed`` (same shape as
    expr): X̄ with ⟨seed, dF⟩ = ⟨X̄, dX⟩. Simplified; zeros where expr does not depend on var."""
    order = _post_order(expr)
    depends: dict[Expr, bool] = {}
    for node in order:
        depends[node] = (node.op == "name" and node.attr == var) or any(depends[a] for a in node.args)
    bars: dict[Expr, Expr] = {expr: seed}
    for node in reversed(order):
        bar = bars.get(node)
        if bar is None or node.op == "name":
            continue
        bar = simp(bar)
        for i, a in enumerate(node.args):
            if not depends[a]:
                continue
            p = partial(node, i, shapes)
            if p is None:
                continue
            contribution = matrix_of(simp(matmul(T(p), vec(bar))), shapes(a), simp)
            bars[a] = contribution if a not in bars else add(bars[a], contribution)
    got = bars.get(name(var))
    return zeros(*shapes.names[var]) if got is None else simp(got)


def matrix_of(v: Expr, shape: tuple, simp: Simplifier) -> Expr:
    """M of ``shape`` with vec(M) = v: read off where v is vec(M) up to scalars, else
    (vec(I_n)ᵀ ⊗ I_m)(I_n ⊗ v), which is M for M m×n."""
    c, scalars, body = simp.split(v)
    if body is not None:
        m = unvec(simp, body, shape)
        if m is not None:
            return simp.build(c, scalars, m, shape)
    rows, cols = shape
    return simp(matmul(kron(T(vec(eye(cols))), eye(rows)), kron(eye(cols), v)))


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


__all__ = ["adjoint", "differential", "differential_name", "gradient", "matrix_of"]
