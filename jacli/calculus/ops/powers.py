"""Division by a scalar and real powers: ``A / s``, ``s ^ p`` (a 1×1 base), ``A .^ p``.

d(A / s) = dA / s - A ds / s²; d(s^p) = p s^(p-1) ds + s^p log(s) dp; d(A .^ p) =
p A .^ (p - 1) ∘ dA + (A .^ p ∘ log(A)) dp. A real power of a negative number is undefined
(an integer power, written as a number, is fine), and a power below 1 has no derivative at 0.
"""

from __future__ import annotations

import numpy as np

from ...errors import JacliError
from ...expr import Expr, add, eye, neg, num, smul
from ...syntax.notation import Infix, Notation, Prec
from .registry import Op, Printer, Shape, Unifier, describe, plus, register, size, where


def _one_by_one(what: str, u: Unifier, s: Shape) -> None:
    u.same(s[0], 1, lambda: f"{what} needs a 1×1 {'exponent' if 'power' in what else 'divisor'}, got {u.show(s)}")
    u.same(s[1], 1, lambda: f"{what} needs a 1×1 {'exponent' if 'power' in what else 'divisor'}, got {u.show(s)}")


def _div_shape(u: Unifier, node: Expr, a: Shape, s: Shape) -> Shape:
    _one_by_one("'/'", u, s)
    return a


def _check_divisor(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
    if np.any(args[1] == 0):
        raise JacliError(f"{describe(node)}: division by zero", column=node.col)


def _div_text(p: Printer, e: Expr) -> str:
    if p.latex:
        return rf"\frac{{{p.show(e.args[0], 0)}}}{{{p.show(e.args[1], 0)}}}"
    return p.infix(e)


def _div(a: Expr, s: Expr) -> Expr:
    return Expr("div", (a, s))


def _square(s: Expr) -> Expr:
    return Expr("pow", (s,), 2)


register(
    Op(
        "div",
        2,
        _div_shape,
        value=lambda node, a, s: a / s,
        kronecker=(lambda node, sh: _div(eye(size(sh, node)), node.args[1]), None),  # linear in A
        adjoint=(lambda node, g, sh: _div(g, node.args[1]), None),
        differential=lambda node, d, sh: plus(
            None if d[0] is None else _div(d[0], node.args[1]),
            None if d[1] is None else neg(_div(smul(d[1], node.args[0]), _square(node.args[1]))),
        ),
        domain=_check_divisor,
        random_hints=(None, "positive"),
        python=lambda w, e: f"{w(e.args[0])} / {w.scalar(e.args[1])}",
        notation=Notation(Prec.PRODUCT, infix=Infix(" / ", " / ", " / ", ("/",)), render=_div_text),
        cite="quotient rule",
    )
)


def _integer(p: np.ndarray) -> np.ndarray:
    return np.asarray(np.real(p) == np.round(np.real(p)))


def _check_power(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
    """A real power of a negative entry is undefined; below 1, a power of 0 has no derivative;
    with the exponent differentiated, the base must be positive (its derivative has log(base))."""
    a, p = args
    if a.ndim > 2:
        return
    p = np.broadcast_to(p, a.shape)
    bad = (np.real(a) < 0) & ~_integer(p)
    if np.any(bad):
        raise JacliError(
            f"{describe(node)}: entry {where(bad)} of the base is {np.real(a[bad][0]):.6g}, "
            f"and a real power of a negative number is not defined",
            column=node.col,
        )
    if derivative_needed:
        bad = (a == 0) & (np.real(p) < 1) & ~((p == 0) | (_integer(p) & (np.real(p) > 0)))
        if np.any(bad):
            raise JacliError(
                f"{describe(node)}: entry {where(bad)} of the base is 0, where a power below 1 has no derivative",
                column=node.col,
            )


def _base_then_exponent(p: Printer, e: Expr, op: str) -> str:
    base, exponent = e.args
    if p.latex:
        mark = r"\circ " if op == ".^" else ""
        return f"{{{p.show(base, Prec.ATOM)}}}^{{{mark}{p.show(exponent, 0)}}}"
    return f"{p.show(base, Prec.ATOM)}{op}{p.show(exponent, Prec.ATOM)}"


def _minus_one(p: Expr) -> Expr:
    return add(p, neg(num(1.0)))


def _spow_shape(u: Unifier, node: Expr, s: Shape, p: Shape) -> Shape:
    _one_by_one("a real power", u, p)
    u.same(s[0], 1, lambda: f"a real power needs a 1×1 base (a matrix power an integer exponent), got {u.show(s)}")
    u.same(s[1], 1, lambda: f"a real power needs a 1×1 base (a matrix power an integer exponent), got {u.show(s)}")
    return s


def _epow_shape(u: Unifier, node: Expr, a: Shape, p: Shape) -> Shape:
    _one_by_one("'.^' (an elementwise power)", u, p)
    return a


def _log(a: Expr) -> Expr:
    return Expr("log", (a,))


def _spow_slope(node: Expr) -> Expr:
    """p s^(p-1), the derivative of s^p in s."""
    s, p = node.args
    return smul(p, Expr("spow", (s, _minus_one(p))))


# s ^ p for a 1×1 base: the real power
register(
    Op(
        "spow",
        2,
        _spow_shape,
        value=lambda node, s, p: np.power(s, p),
        differential=lambda node, d, sh: plus(
            None
            if d[0] is None
            else smul(smul(node.args[1], Expr("spow", (node.args[0], _minus_one(node.args[1])))), d[0]),
            None if d[1] is None else smul(smul(node, _log(node.args[0])), d[1]),
        ),
        domain=_check_power,
        random_hints=("positive", None),
        notation=Notation(Prec.POSTFIX, render=lambda p, e: _base_then_exponent(p, e, "^")),
        cite="power rule",
        python=lambda w, e: f"np.power({w(e.args[0])}, {w.scalar(e.args[1])})",
    )
)


register(
    Op(
        "epow",
        2,
        _epow_shape,
        value=lambda node, a, p: np.power(a, p),
        differential=lambda node, d, sh: plus(
            None
            if d[0] is None
            else Expr("had", (smul(node.args[1], Expr("epow", (node.args[0], _minus_one(node.args[1])))), d[0])),
            None if d[1] is None else smul(d[1], Expr("had", (node, _log(node.args[0])))),
        ),
        domain=_check_power,
        random_hints=("positive", None),
        notation=Notation(Prec.POSTFIX, render=lambda p, e: _base_then_exponent(p, e, ".^")),
        cite="power rule, entry by entry",
        python=lambda w, e: f"np.power({w(e.args[0])}, {w.scalar(e.args[1])})",
    )
)
