"""Structure: block matrices, a block taken, triangular masks. All linear (M&N ch. 2 and 3).

``[A, B]`` puts blocks side by side, ``[A; B]`` one above the other (``[A, B; C, D]`` is
both); ``G[r0:r1, c0:c1]`` is the block of rows r0..r1-1 and columns c0..c1-1 (from 0, as
jacli numbers entries; ``:`` is every row or column); ``tril(X, k)`` and ``triu(X, k)``
keep the entries on and below (above) the k-th diagonal, as NumPy's. The textbook rules of
matrix functions and decompositions are written with them: the Fréchet derivative of a
matrix function is a block of the function of a block matrix (Higham, *Functions of
Matrices*, Thm 3.6), the Cholesky factor's differential a triangular mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import sizes
from ...expr import Expr, T, diag, eye, kron, matmul, ones, vec, zeros
from ...syntax.notation import Notation
from .registry import CodeWriter, Differentials, Op, Printer, Shape, ShapeOf, Unifier, register


def hcat(a: Expr, b: Expr) -> Expr:
    return Expr("hcat", (a, b))


def vcat(a: Expr, b: Expr) -> Expr:
    return Expr("vcat", (a, b))


def block(g: Expr, r0: Any, r1: Any, c0: Any, c1: Any) -> Expr:
    """The block of rows r0..r1 and columns c0..c1 of g (r1 or c1 None: to the end)."""
    return Expr("sub", (g,), (r0, r1, c0, c1))


# -- printing ------------------------------------------------------------------------------
def _rows(e: Expr) -> list[Expr]:
    """The rows of a block matrix, left to right as it reads back (a left-nested chain)."""
    return [*_rows(e.args[0]), e.args[1]] if e.op == "vcat" else [e]


def _entries(e: Expr) -> list[Expr]:
    return [*_entries(e.args[0]), e.args[1]] if e.op == "hcat" else [e]


def _blocks_text(p: Printer, e: Expr) -> str:
    rows = [[p.show(x, 0) for x in _entries(r)] for r in _rows(e)]
    if p.latex:
        body = r" \\ ".join(" & ".join(r) for r in rows)
        return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"
    return "[" + "; ".join(", ".join(r) for r in rows) + "]"


def _bound(p: Printer, start: Any, stop: Any) -> str:
    if start == 0 and stop is None:
        return ":"
    return f"{p.size(start)}:{'' if stop is None else p.size(stop)}"


def _sub_text(p: Printer, e: Expr) -> str:
    r0, r1, c0, c1 = e.attr
    inner = f"{_bound(p, r0, r1)}, {_bound(p, c0, c1)}"
    base = p.show(e.args[0], 8)  # an atom: a name, a call, a bracket
    if p.latex:
        return rf"{base}_{{[{inner}]}}"
    return f"{base}[{inner}]"


# -- block matrices ------------------------------------------------------------------------
def _hcat_shape(u: Unifier, node: Expr, a: Shape, b: Shape) -> Shape:
    u.same(a[0], b[0], lambda: f"blocks side by side need equal rows, got {u.show(a)} and {u.show(b)}")
    return (a[0], u.add(a[1], b[1], node))


def _vcat_shape(u: Unifier, node: Expr, a: Shape, b: Shape) -> Shape:
    u.same(a[1], b[1], lambda: f"blocks one above the other need equal columns, got {u.show(a)} and {u.show(b)}")
    return (u.add(a[0], b[0], node), a[1])


def _concat(axis: int) -> Any:
    def value(node: Expr, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a = np.broadcast_to(a, batch + a.shape[-2:])
        b = np.broadcast_to(b, batch + b.shape[-2:])
        return np.concatenate((a, b), axis=axis)

    return value


def _blockwise(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    """d [A, B] = [dA, dB], a constant block's differential zero."""
    if all(x is None for x in d):
        return None
    args = tuple(x if x is not None else zeros(*sh(a)) for x, a in zip(d, node.args))
    return Expr(node.op, args)


def _hcat_kronecker(i: int) -> Any:
    # vec([A, B]) = [vec A; vec B]: d vec / d vec A = [I; 0], d vec / d vec B = [0; I]
    def rule(node: Expr, sh: ShapeOf) -> Expr:
        sa, sb = (sizes.mul(*sh(a)) for a in node.args)
        return vcat(eye(sa), zeros(sb, sa)) if i == 0 else vcat(zeros(sa, sb), eye(sb))

    return rule


def _vcat_kronecker(i: int) -> Any:
    # column j of [A; B] is [A e_j; B e_j]: d vec / d vec A = I_n ⊗ [I; 0]
    def rule(node: Expr, sh: ShapeOf) -> Expr:
        (ma, n), (mb, _) = sh(node.args[0]), sh(node.args[1])
        pick = vcat(eye(ma), zeros(mb, ma)) if i == 0 else vcat(zeros(ma, mb), eye(mb))
        return kron(eye(n), pick)

    return rule


def _hcat_adjoint(i: int) -> Any:
    def rule(node: Expr, g: Expr, sh: ShapeOf) -> Expr:
        n0 = sh(node.args[0])[1]
        return block(g, 0, None, 0, n0) if i == 0 else block(g, 0, None, n0, None)

    return rule


def _vcat_adjoint(i: int) -> Any:
    def rule(node: Expr, g: Expr, sh: ShapeOf) -> Expr:
        m0 = sh(node.args[0])[0]
        return block(g, 0, m0, 0, None) if i == 0 else block(g, m0, None, 0, None)

    return rule


_BLOCKS = Notation(render=_blocks_text)
register(
    Op(
        "hcat",
        2,
        _hcat_shape,
        value=_concat(-1),
        differential=_blockwise,
        kronecker=(_hcat_kronecker(0), _hcat_kronecker(1)),
        adjoint=(_hcat_adjoint(0), _hcat_adjoint(1)),
        notation=_BLOCKS,
        transposed=lambda e: vcat(T(e.args[0]), T(e.args[1])),
        cite="linear; block matrices (M&N ch. 1)",
        python=lambda w, e: f"np.hstack(({w(e.args[0])}, {w(e.args[1])}))",
    )
)
register(
    Op(
        "vcat",
        2,
        _vcat_shape,
        value=_concat(-2),
        differential=_blockwise,
        kronecker=(_vcat_kronecker(0), _vcat_kronecker(1)),
        adjoint=(_vcat_adjoint(0), _vcat_adjoint(1)),
        notation=_BLOCKS,
        transposed=lambda e: hcat(T(e.args[0]), T(e.args[1])),
        cite="linear; block matrices (M&N ch. 1)",
        python=lambda w, e: f"np.vstack(({w(e.args[0])}, {w(e.args[1])}))",
    )
)


# -- a block taken ---------------------------------------------------------------------------
def _span(u: Unifier, start: Any, stop: Any, whole: Any, what: str) -> Any:
    total = u.known(whole)
    if total is None:
        u.defer(f"give the shape of the matrix a block is taken from ({what})")
        return None
    stop = total if stop is None else stop
    length = sizes.sub(stop, start)
    # stop ≤ total: by subtraction, or for every value of the names (1 ≤ n, n ≤ m n)
    inside = sizes.sub(total, stop) is not None or stop == 1 or sizes.div(total, stop) is not None
    if length in (None, 0) or not inside:
        u.fail(f"the {what} {sizes.text(start)}:{sizes.text(stop)} are not inside 0:{sizes.text(total)}")
    return length


def _sub_shape(u: Unifier, node: Expr, a: Shape) -> Shape:
    r0, r1, c0, c1 = node.attr
    return (_span(u, r0, r1, a[0], "rows"), _span(u, c0, c1, a[1], "columns"))


def _sub_value(node: Expr, a: np.ndarray) -> np.ndarray:
    r0, r1, c0, c1 = node.attr
    return a[..., r0:r1, c0:c1]


def _selection(n: Any, start: Any, stop: Any) -> Expr:
    """I(n)[start:stop, :]: the rows that pick entries start..stop of a column of n."""
    return block(eye(n), start, stop, 0, None)


def _sub_kronecker(node: Expr, sh: ShapeOf) -> Expr:
    # G[r, c] = S G Cᵀ with S = I[r, :] and C = I[c, :]: vec = (C ⊗ S) vec(G)
    r0, r1, c0, c1 = node.attr
    m, n = sh(node.args[0])
    return kron(_selection(n, c0, c1), _selection(m, r0, r1))


def _sub_adjoint(node: Expr, g: Expr, sh: ShapeOf) -> Expr:
    # Ḡ put back in its place among zeros: [0; [0, Ḡ, 0]; 0], blocks of the argument's size at
    # most; where a zero block's size is no size (m - 1 with names), Sᵀ Ḡ C by the selections
    r0, r1, c0, c1 = node.attr
    m, n = sh(node.args[0])
    rows = sh(node)[0]
    below = sizes.sub(m, r1) if r1 is not None else 0
    right = sizes.sub(n, c1) if c1 is not None else 0
    if below is None or right is None:
        return matmul(matmul(T(_selection(m, r0, r1)), g), _selection(n, c0, c1))
    row = _joined(hcat, [zeros(rows, c0) if c0 != 0 else None, g, zeros(rows, right) if right != 0 else None])
    return _joined(vcat, [zeros(r0, n) if r0 != 0 else None, row, zeros(below, n) if below != 0 else None])


def _joined(cat: Any, parts: list[Expr | None]) -> Expr:
    present = [x for x in parts if x is not None]
    out = present[0]
    for x in present[1:]:
        out = cat(out, x)
    return out


def _sub_code(w: CodeWriter, e: Expr) -> str:
    r0, r1, c0, c1 = e.attr

    def span(start: Any, stop: Any) -> str:
        return f"{w.size(start) if start else ''}:{'' if stop is None else w.size(stop)}"

    return f"{w(e.args[0])}[{span(r0, r1)}, {span(c0, c1)}]"


register(
    Op(
        "sub",
        1,
        _sub_shape,
        value=_sub_value,
        differential=lambda node, d, sh: None if d[0] is None else Expr("sub", (d[0],), node.attr),
        kronecker=(_sub_kronecker,),
        adjoint=(_sub_adjoint,),
        notation=Notation(render=_sub_text, attr="slice"),
        cite="linear; a block (M&N ch. 1)",
        python=_sub_code,
    )
)


# -- triangular masks ------------------------------------------------------------------------
def _mask(op: str) -> Op:
    keep = np.tril if op == "tril" else np.triu
    other = "triu" if op == "tril" else "tril"
    return Op(
        op,
        1,
        lambda u, node, a: a,
        value=lambda node, a: keep(a, node.attr),
        differential=lambda node, d, sh: None if d[0] is None else Expr(op, (d[0],), node.attr),
        # vec(tril(X)) = diag(vec(tril(1))) vec(X): a mask of the entries kept
        kronecker=(lambda node, sh: diag(vec(Expr(op, (ones(*sh(node)),), node.attr))),),
        adjoint=(lambda node, g, sh: Expr(op, (g,), node.attr),),
        notation=Notation(call=op, latex=rf"\operatorname{{{op}}}", attr="offset"),
        transposed=lambda e: Expr(other, (T(e.args[0]),), -e.attr),
        cite="linear; a triangular mask",
        python=lambda w, e: f"np.{op}({w(e.args[0])}, {e.attr})",
    )


register(_mask("tril"))
register(_mask("triu"))
