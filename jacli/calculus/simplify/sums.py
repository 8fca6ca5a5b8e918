"""Sums: equal terms merge, ``vec(A)ᵀ + vec(B)ᵀ`` becomes ``vec(A + B)ᵀ``, and common
Kronecker and product factors are taken out (``A X + Aᵀ X`` becomes ``(A + Aᵀ) X``)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ...expr import Expr, T, add, neg, vec, zeros
from ...syntax.printer import format_number
from .base import Base
from .local import chain, flatten

if TYPE_CHECKING:
    from ..ops.registry import Shape

Term = list[Any]  # [coefficient, scalar factors, body], the coefficient summed in place


def total(s: Base, e: Expr) -> Expr:
    """The add rewrite."""
    shape = s.shape(e)
    terms: list[Term] = []
    index: dict[tuple[tuple[Expr, ...], Expr | None], int] = {}  # (scalars, body) -> its term
    for c, sc, b in _terms(s, e):
        if b is not None and b.op == "zeros":
            continue
        key = (tuple(sc), b)
        if key in index:
            terms[index[key]][0] += c
        else:
            index[key] = len(terms)
            terms.append([c, sc, b])
    terms = [t for t in terms if t[0] != 0]
    if not terms:
        return zeros(*shape)
    if len(terms) > 1:
        merged = _merge(s, terms, shape)
        if merged is not None:
            return merged
        common = _common_coefficient(terms)
        if common != 1:  # 2 A x - 2 b = 2 (A x - b)
            inner = sum_of(s, [[c / common, sc, b] for c, sc, b in terms], shape)
            return s.build(common, [], inner, shape)
    return sum_of(s, terms, shape)


def _common_coefficient(terms: list[Term]) -> Fraction:
    """The first term's coefficient (its sign kept positive), where taking it out of every
    term writes fewer digits: 2 A + 2 B = 2 (A + B), 0.1 A + 0.001 B = 0.1 (A + 0.01 B)."""
    c = Fraction(terms[0][0])
    if len({abs(Fraction(t[0])) for t in terms}) == 1:  # -A - B = -(A + B), 2 A + 2 B = 2 (A + B)
        return c
    if c == 0 or abs(c) == 1:
        return Fraction(1)
    before = sum(_digits(Fraction(t[0])) for t in terms)
    after = _digits(c) + sum(_digits(Fraction(t[0]) / c) for t in terms)
    return c if after < before else Fraction(1)


def _digits(c: Fraction) -> int:
    """How many characters the coefficient prints with (none for ±1)."""
    c = abs(c)
    return 0 if c == 1 else len(format_number(float(c)))


def _terms(s: Base, e: Expr, c0: Fraction | int = 1) -> list[Term]:
    """The terms of a sum, each (coefficient, scalars, body), sums inside multiplied out by a
    number: A - (A + B) has the terms A, -A, -B (which then cancel)."""
    out: list[Term] = []
    for t in flatten(e, "add"):
        c, sc, b = s.split(t)
        if b is not None and b.op == "add" and not sc:
            out += _terms(s, b, c0 * c)
        else:
            out.append([c0 * c, sc, b])
    return out


def sum_of(s: Base, terms: list[Term], shape: Shape) -> Expr:
    out = None
    for c, sc, b in terms:
        if out is None:
            out = s.build(c, sc, b, shape)
        elif c < 0:
            out = add(out, neg(s.build(-c, sc, b, shape)))
        else:
            out = add(out, s.build(c, sc, b, shape))
    if out is None:
        raise ValueError("a sum of no terms")
    return out


# vec(A)ᵀ + vec(B)ᵀ = vec(A + B)ᵀ, and likewise vec(·) and diag(vec(·)):
# (is a term of this form, its inside, how the summed inside is wrapped again)
_WRAPPED: list[tuple[Callable[[Expr], bool], Callable[[Expr], Expr], Callable[[Expr], Expr]]] = [
    (lambda b: b.op == "T" and b.args[0].op == "vec", lambda b: b.args[0].args[0], lambda x: T(vec(x))),
    (lambda b: b.op == "vec", lambda b: b.args[0], vec),
    (
        lambda b: b.op == "diag" and b.args[0].op == "vec",
        lambda b: b.args[0].args[0],
        lambda x: Expr("diag", (vec(x),)),
    ),
    (lambda b: b.op == "diag", lambda b: b.args[0], lambda x: Expr("diag", (x,))),  # diag(a) - diag(b) = diag(a - b)
]


def _merge(s: Base, terms: list[Term], shape: Shape) -> Expr | None:
    bodies = [b for _, _, b in terms]
    if not all(b is not None for b in bodies):
        return None
    for test, inner, wrap in _WRAPPED:
        if all(test(b) for b in bodies):
            shapes = {s.shape(inner(b)) for b in bodies}
            if len(shapes) == 1:
                summed = sum_of(s, [[c, sc, inner(b)] for c, sc, b in terms], shapes.pop())
                return s(wrap(s(summed)))
    for op in ("kron", "matmul", "had"):
        for side in (1, 0):
            got = _common_factor(s, terms, op, side, shape)
            if got is not None:
                return got
    return None


def _common_factor(s: Base, terms: list[Term], op: str, side: int, shape: Shape) -> Expr | None:
    """c1 (A ⊗ C) + c2 (B ⊗ C) = (c1 A + c2 B) ⊗ C; likewise for products, either side."""
    groups: dict[Expr, list[int]] = {}
    for i, (_, _, b) in enumerate(terms):
        if b.op == op:
            parts = flatten(b, op)
            groups.setdefault(parts[-1] if side == 1 else parts[0], []).append(i)
    for key, idx in groups.items():
        if len(idx) < 2:
            continue
        rests = []
        for i in idx:
            c, sc, b = terms[i]
            parts = flatten(b, op)
            rests.append([c, sc, chain(parts[:-1] if side == 1 else parts[1:], op)])
        rest_shapes = {s.shape(r) for _, _, r in rests}
        if len(rest_shapes) != 1:
            continue
        if len(rests) == 2 and rests[0][2] == Expr("T", (rests[1][2],)):
            rests.reverse()  # A + Aᵀ, as the books write it
        inner = s(sum_of(s, rests, rest_shapes.pop()))
        new = s(Expr(op, (inner, key) if side == 1 else (key, inner)))
        others = [terms[i] for i in range(len(terms)) if i not in idx]
        if not others:
            return new
        return s(sum_of(s, [[1.0, [], new], *others], shape))
    return None
