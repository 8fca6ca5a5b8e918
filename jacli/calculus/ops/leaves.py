"""Leaves: names, numbers, and the builtins I(n), K(m,n), ones(m,n), zeros(m,n)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...expr import Expr
from ...sizes import Size, is_product
from ...syntax.notation import Builtin, Notation
from .registry import CodeWriter, Op, Printer, Shape, Unifier, register

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _name_shape(u: Unifier, node: Expr) -> Shape:
    return u.name_shape(node.attr, node)


register(
    Op(
        "name",
        0,
        _name_shape,
        notation=Notation(render=lambda p, e: p.name(e.attr)),
        python=lambda w, e: w.name(e.attr),
    )
)


def _d_text(p: Printer, e: Expr) -> str:
    inner = p.show(e.args[0], 0)
    return rf"\mathrm{{d}}\left({inner}\right)" if p.latex else f"d({inner})"


# d(F): the differential of F not yet expanded, as a derivation writes it (jacli explain);
# it has no value: a step that holds one is evaluated along a direction
register(Op("d", 1, lambda u, node, a: a, notation=Notation(render=_d_text)))

register(
    Op(
        "num",
        0,
        lambda u, node: (1, 1),
        value=lambda node: np.array([[node.attr]]),
        notation=Notation(render=lambda p, e: p.number(e.attr)),
        python=lambda w, e: f"np.full((1, 1), {float(e.attr)!r})",
    )
)


def _sized_shape(u: Unifier, node: Expr) -> Shape:
    if node.attr is None:
        return (u.fresh(node), u.fresh(node))
    return (node.attr[0], node.attr[1])


def _eye_shape(u: Unifier, node: Expr) -> Shape:
    if node.attr is None:
        n = u.fresh(node)
        return (n, n)
    return (node.attr, node.attr)


def _eye_text(p: Printer, e: Expr) -> str:
    if e.attr is None:
        return "I"
    if p.latex:
        return f"I_{{{p.size(e.attr)}}}"
    if p.ascii or isinstance(e.attr, Size):
        return f"I({p.size(e.attr)})"
    return "I" + str(e.attr).translate(_SUB)


register(
    Op(
        "I",
        0,
        _eye_shape,
        value=lambda node: np.eye(node.attr),
        transposed=lambda e: e,
        notation=Notation(builtin=Builtin(True, (1,), "I(3)"), render=_eye_text),
        structure=lambda c, e: c.identity(e.attr),
        python=lambda w, e: f"np.eye({w.size(e.attr)})",
    )
)


def _comm_value(node: Expr) -> np.ndarray:
    m, n = node.attr
    p = np.zeros((m * n, m * n))
    i, j = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
    p[(j + n * i).ravel(), (i + m * j).ravel()] = 1.0  # K vec(A) = vec(A') for A m×n
    return p


def _sized_text(latex: str) -> Callable[[Any, Expr], str]:
    def render(p: Printer, e: Expr) -> str:
        if e.attr is None:
            return r"\mathbf{1}" if p.latex and e.op == "ones" else e.op
        m, n = (p.size(x) for x in e.attr)
        if not p.latex:
            return f"{e.op}({m},{n})"
        # K_{q m} as the seeds write it; a comma where a number or a product would run together
        plain = all(isinstance(x, Size) and not is_product(x) for x in e.attr)
        return latex.format(m=m, n=n, sep=" " if plain else ",")

    return render


# K(m,n) vec(A) = vec(Aᵀ) for A m×n (M&N ch. 3, the commutation matrix); Kᵀ = K(n,m); K without
# sizes is a name, so that a matrix called K (attention's keys) keeps working
register(
    Op(
        "K",
        0,
        lambda u, node: (node.attr[0] * node.attr[1],) * 2,
        value=_comm_value,
        transposed=lambda e: Expr("K", (), (e.attr[1], e.attr[0])),
        notation=Notation(builtin=Builtin(False, (2,), "K(2,3)", named=True), render=_sized_text("K_{{{m}{sep}{n}}}")),
        structure=lambda c, e: c.commutation(*e.attr),
        python=lambda w, e: w.commutation(*e.attr),  # the identity's rows permuted
    )
)


def _sized_code(w: CodeWriter, fn: str, e: Expr) -> str:
    return f"{fn}(({w.size(e.attr[0])}, {w.size(e.attr[1])}))"


def _swapped(e: Expr) -> Expr:
    r, c = e.attr
    return Expr(e.op, (), (c, r))


register(
    Op(
        "ones",
        0,
        _sized_shape,
        value=lambda node: np.ones(node.attr),
        transposed=_swapped,
        notation=Notation(
            builtin=Builtin(True, (1, 2), "ones(2,3)"), render=_sized_text(r"\mathbf{{1}}_{{{m}\times {n}}}")
        ),
        structure=lambda c, e: c.constant(*e.attr),
        python=lambda w, e: _sized_code(w, "np.ones", e),
    )
)
register(
    Op(
        "zeros",
        0,
        _sized_shape,
        value=lambda node: np.zeros(node.attr),
        transposed=_swapped,
        notation=Notation(builtin=Builtin(False, (1, 2), "zeros(2,3)"), render=_sized_text(r"0_{{{m}\times {n}}}")),
        structure=lambda c, e: [],
        python=lambda w, e: _sized_code(w, "np.zeros", e),
    )
)


def _constant_text(p: Printer, e: Expr) -> str:
    return f"{e.op}({p.number(e.attr)})"


# vector(c), matrix(c): every entry c, sized by where they stand (matrixcalculus.org's notation);
# inference makes them c ones(n,1) and c ones(m,n)
register(
    Op(
        "vector",
        0,
        lambda u, node: (u.fresh(node), 1),
        notation=Notation(builtin=Builtin(False, (), "vector(1)", constant=True), render=_constant_text),
    )
)
register(
    Op(
        "matrix",
        0,
        lambda u, node: (u.fresh(node), u.fresh(node)),
        notation=Notation(builtin=Builtin(False, (), "matrix(1)", constant=True), render=_constant_text),
    )
)
