"""Hadamard product, elementwise division and functions: diagonal Jacobians.

d vec(A ∘ B) = diag(vec B) d vec(A) + diag(vec A) d vec(B); an elementwise f has
d vec f(A) = diag(vec f'(A)) d vec(A)   (M&N ch. 3 and 9, the Hadamard product).

Adding an elementwise function is one :func:`elementwise` call below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...errors import JacliError
from ...expr import Expr, add, diag, neg, num, ones, smul, vec, zeros
from ...syntax.notation import Infix, Notation, Prec
from .registry import (
    Differentials,
    DomainRule,
    Op,
    Printer,
    Shape,
    ShapeOf,
    Unifier,
    bilinear,
    describe,
    plus,
    refuse_where,
    register,
    where,
)


def _ediv_shape(u: Unifier, node: Expr, a: Shape, b: Shape) -> Shape:
    def message() -> str:
        hint = " (for 1 ./ X write ones ./ X)" if u.is_one(a) or u.is_one(b) else ""
        return f"'./' needs equal shapes, got {u.show(a)} and {u.show(b)}{hint}"

    u.same(a[0], b[0], message)
    u.same(a[1], b[1], message)
    return a


def _had_shape(u: Unifier, node: Expr, a: Shape, b: Shape) -> Shape:
    def message() -> str:
        return f"'∘' needs equal shapes, got {u.show(a)} and {u.show(b)}"

    u.same(a[0], b[0], message)
    u.same(a[1], b[1], message)
    return a


def _ones_like(sh: ShapeOf, e: Expr) -> Expr:
    return ones(*sh(e))


def _d(e: Expr) -> Expr:
    return diag(vec(e))


def _had(a: Expr, b: Expr) -> Expr:
    return Expr("had", (a, b))


def _ediv(a: Expr, b: Expr) -> Expr:
    return Expr("ediv", (a, b))


def _ediv_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # d(A ./ B) = dA ./ B - (A ∘ dB) ./ (B ∘ B)   (the quotient rule, entry by entry)
    a, b = node.args
    return plus(
        None if d[0] is None else _ediv(d[0], b),
        None if d[1] is None else neg(_ediv(_had(a, d[1]), _had(b, b))),
    )


def _check_denominator(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
    b = args[1]
    if np.any(b == 0):
        raise JacliError(
            f"{describe(node)}: division by zero (entry {where(b == 0)} of the denominator)", column=node.col
        )


register(
    Op(
        "had",
        2,
        _had_shape,
        value=lambda node, a, b: a * b,
        kronecker=(lambda node, sh: _d(node.args[1]), lambda node, sh: _d(node.args[0])),
        adjoint=(lambda node, g, sh: _had(node.args[1], g), lambda node, g, sh: _had(node.args[0], g)),
        notation=Notation(Prec.HADAMARD, infix=Infix(" ∘ ", " .* ", r" \circ ", ("∘",))),
        differential=bilinear,
        cite="product rule; M&N ch. 8",
        python=lambda w, e: f"{w(e.args[0])} * {w(e.args[1])}",
    )
)
# d(A ./ B) = dA ./ B - (A ./ (B ∘ B)) ∘ dB   (the quotient rule, entry by entry; M&N ch. 9)
register(
    Op(
        "ediv",
        2,
        _ediv_shape,
        value=lambda node, a, b: a / b,
        domain=_check_denominator,
        random_hints=(None, "positive"),
        kronecker=(lambda node, sh: _d(_ediv(_ones_like(sh, node), node.args[1])), None),  # linear in A
        adjoint=(lambda node, g, sh: _ediv(g, node.args[1]), None),
        notation=Notation(Prec.HADAMARD, infix=Infix(" ./ ", " ./ ", r" \oslash ", ("./",))),
        differential=_ediv_differential,
        cite="quotient rule, entry by entry",
        python=lambda w, e: f"{w(e.args[0])} / {w(e.args[1])}",
    )
)


def _check_positive(fn: str) -> DomainRule:
    """log needs positive entries; sqrt non-negative ones, and positive where differentiated."""

    def check(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
        a = args[0]
        strict = fn == "log" or derivative_needed
        bad = (a <= 0) if strict else (a < 0)
        if np.any(bad):
            val = a[tuple(np.argwhere(bad)[0])]
            if val < 0:
                reason = f"is {val:.6g}, where {fn} is not defined (in real numbers)"
            elif fn == "sqrt":
                reason = "is 0, where the derivative of sqrt is infinite"
            else:
                reason = "is 0, where log is not defined"
            raise JacliError(f"{describe(node)}: entry {where(bad)} of the argument {reason}", column=node.col)

    return check


def _sqrt_text(p: Printer, e: Expr) -> str:
    return rf"\sqrt{{{p.show(e.args[0], 0)}}}" if p.latex else p.call(e)


def elementwise(
    fn: str,
    value: Callable[[np.ndarray], np.ndarray],
    derivative: Callable[[Expr, Expr, Any], Expr],
    *,
    domain: DomainRule | None = None,
    hint: str | None = None,
    latex: str | None = None,
    render: Any = None,
    aliases: tuple[str, ...] = (),
    analytic: bool = True,
    python: str | None = None,
) -> Op:
    """Register ``fn`` applied entry by entry: d f(A) = f'(A) ∘ dA, so that
    d vec f(A) = diag(vec f'(A)) d vec(A).

    ``derivative(node, argument, shapes)`` is f'(A) as an expression; ``hint`` what random
    values of the argument must be (``"positive"``, ``"interval"`` for (-1, 1));
    ``analytic`` False where the complex step would be wrong (abs, relu); ``python`` its
    NumPy code with ``{}`` for the argument (``np.<fn>({})`` unless given).
    """
    code = python or f"np.{fn}({{}})"

    def differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
        return None if d[0] is None else _had(derivative(node, node.args[0], sh), d[0])

    return register(
        Op(
            fn,
            1,
            lambda u, node, a: a,
            value=lambda node, a: value(a),
            domain=domain,
            random_hints=(hint,),
            differential=differential,
            notation=Notation(call=fn, latex=latex or rf"\operatorname{{{fn}}}", render=render, aliases=aliases),
            analytic=analytic,
            cite="chain rule, entry by entry; M&N ch. 8",
            python=lambda w, e: code.format(w(e.args[0])),
        )
    )


def _ew(fn: str, *args: Expr) -> Expr:
    return Expr(fn, args)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # 1 / (1 + exp(-a)), without overflow; complex-safe


def _softplus(a: np.ndarray) -> np.ndarray:
    # log(1 + exp(a)) without overflow for entries of ±1000; complex-safe for the complex step
    big = np.real(a) > 0
    with np.errstate(all="ignore"):
        return np.asarray(np.where(big, a + np.log1p(np.exp(-a)), np.log1p(np.exp(a))))


def _outside_unit(fn: str) -> DomainRule:
    """arcsin and arccos: defined on [-1, 1], differentiable inside."""
    value = refuse_where(fn, lambda a: np.abs(a) > 1, always=True, why=f"outside [-1, 1], where {fn} is defined")
    derivative = refuse_where(fn, lambda a: np.abs(a) == 1)

    def check(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
        value(node, args, derivative_needed)
        derivative(node, args, derivative_needed)

    return check


def _unit_derivative(sign: int) -> Callable[[Expr, Expr, Any], Expr]:
    """±1 ./ sqrt(1 - A ∘ A), the derivative of arcsin (+) and arccos (-)."""

    def rule(node: Expr, a: Expr, sh: ShapeOf) -> Expr:
        one = _ones_like(sh, a)
        d = _ediv(one, _ew("sqrt", add(one, neg(_had(a, a)))))
        return d if sign > 0 else neg(d)

    return rule


elementwise("exp", np.exp, lambda node, a, sh: node, latex=r"\exp")
elementwise(
    "log",
    np.log,
    lambda node, a, sh: _ediv(_ones_like(sh, a), a),
    domain=_check_positive("log"),
    hint="positive",
    latex=r"\log",
)
elementwise("sin", np.sin, lambda node, a, sh: Expr("cos", (a,)), latex=r"\sin")
elementwise("cos", np.cos, lambda node, a, sh: neg(Expr("sin", (a,))), latex=r"\cos")
elementwise("tan", np.tan, lambda node, a, sh: add(_ones_like(sh, a), _had(node, node)), latex=r"\tan")
elementwise(
    "arcsin", np.arcsin, _unit_derivative(1), domain=_outside_unit("arcsin"), hint="interval",
    latex=r"\arcsin", aliases=("asin",),
)  # fmt: skip
elementwise(
    "arccos", np.arccos, _unit_derivative(-1), domain=_outside_unit("arccos"), hint="interval",
    latex=r"\arccos", aliases=("acos",),
)  # fmt: skip
elementwise(
    "arctan",
    np.arctan,
    lambda node, a, sh: _ediv(_ones_like(sh, a), add(_ones_like(sh, a), _had(a, a))),
    latex=r"\arctan",
    aliases=("atan",),
)
elementwise("sinh", np.sinh, lambda node, a, sh: _ew("cosh", a), latex=r"\sinh")
elementwise("cosh", np.cosh, lambda node, a, sh: _ew("sinh", a), latex=r"\cosh")
elementwise("tanh", np.tanh, lambda node, a, sh: add(_ones_like(sh, a), neg(_had(node, node))), latex=r"\tanh")
elementwise(
    "sqrt",
    np.sqrt,
    lambda node, a, sh: smul(num(0.5), _ediv(_ones_like(sh, a), node)),
    domain=_check_positive("sqrt"),
    hint="positive",
    latex=r"\operatorname{sqrt}",
    render=_sqrt_text,
)
# sigmoid(x) = 1 / (1 + exp(-x)), sigmoid' = sigmoid (1 - sigmoid); softplus(x) = log(1 + exp(x)), softplus' = sigmoid
elementwise("sigmoid", _sigmoid, lambda node, a, sh: _had(node, add(_ones_like(sh, a), neg(node))),
            python="0.5 * (1.0 + np.tanh(0.5 * {}))")  # fmt: skip
elementwise("softplus", _softplus, lambda node, a, sh: _ew("sigmoid", a), python="np.logaddexp(0.0, {})")


# -- not analytic: kinks where the derivative does not exist ------------------------------------
def _at_zero(fn: str) -> DomainRule:
    return refuse_where(fn, lambda a: a == 0)


# |x|' = sign(x); sign' = step' = 0 and relu' = step away from 0, where none has a derivative
elementwise("abs", np.abs, lambda node, a, sh: _ew("sign", a), domain=_at_zero("abs"), analytic=False,
            render=lambda p, e: rf"\lvert {p.show(e.args[0], 0)} \rvert" if p.latex else p.call(e))  # fmt: skip
elementwise("sign", np.sign, lambda node, a, sh: zeros(*sh(a)), domain=_at_zero("sign"), analytic=False)
elementwise("step", lambda a: (np.real(a) > 0).astype(float), lambda node, a, sh: zeros(*sh(a)),
            domain=_at_zero("step"), analytic=False, python="np.heaviside({}, 0.0)")  # fmt: skip
elementwise("relu", lambda a: np.maximum(a, 0), lambda node, a, sh: _ew("step", a), domain=_at_zero("relu"),
            analytic=False, python="np.maximum({}, 0.0)")  # fmt: skip
