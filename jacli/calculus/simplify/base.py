"""The simplifier's core: bottom-up rewriting with memory, scalars split off and rebuilt.

Each operator's rewrite is looked up in a table keyed by the operator (see
:mod:`jacli.calculus.simplify`); a rewrite receives the simplifier and a node whose
arguments are already simplified.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Self

from ...errors import JacliError
from ...expr import Expr, neg, num, smul, zeros
from ..shapes import Shapes

if TYPE_CHECKING:
    from ..ops.registry import Shape

Rewrite = Callable[["Base", Expr], Expr]


class Base:
    """Simplifies expressions over the shapes ``shapes``; ``rewrites`` maps operators to rules."""

    rewrites: ClassVar[dict[str, Rewrite]] = {}

    names: ClassVar[dict[str, str]] = {}  # operator -> what its rewrite is called (jacli explain)

    def __init__(self, shapes: Shapes, trace: list[str] | None = None) -> None:
        self.shape = shapes
        self.memo: dict[Expr, Expr] = {}
        self.trace = trace  # where given, the names of the rewrites that changed something

    def extended(self, shapes: Shapes) -> Self:
        """This simplifier over ``shapes``, an extension of its own (new names only): what it
        has simplified stays simplified."""
        if shapes is self.shape:
            return self
        out = type(self)(shapes, self.trace)
        out.memo = self.memo
        return out

    def note(self, what: str) -> None:
        if self.trace is not None and what not in self.trace:
            self.trace.append(what)

    def __call__(self, e: Expr) -> Expr:
        got = self.memo.get(e)
        if got is None:
            args = tuple(self(a) for a in e.args)
            node = e if args == e.args else Expr(e.op, args, e.attr, e.col)
            rule = self.rewrites.get(node.op)
            got = rule(self, node) if rule else node
            if self.trace is not None and got != node and node.op in self.names:
                self.note(self.names[node.op])
            self.memo[e] = got
            self.memo[got] = got
        return got

    # -- scalars ---------------------------------------------------------------------
    def split(self, e: Expr) -> tuple[Fraction, list[Expr], Expr | None]:
        """(coefficient, scalar factors, body): e = coefficient · Π scalars · body.

        Coefficients are exact fractions of the numbers as written (0.1 is 1/10), so that
        (0.1 X)³ prints 0.001, not 0.0010000000000000002."""
        if e.op == "num":
            return exact(e.attr), [], None
        if e.op == "neg":
            c, s, b = self.split(e.args[0])
            return -c, s, b
        if e.op == "smul":
            c1, s1, b1 = self.split(e.args[0])
            c2, s2, b2 = self.split(e.args[1])
            scalars = s1 + ([b1] if b1 is not None else []) + s2
            return c1 * c2, scalars, b2
        if e.op == "div":  # A / s: the scalars of A, and the reciprocals of s's
            c1, s1, b1 = self.split(e.args[0])
            c2, s2, b2 = self.split(e.args[1])
            if c2 == 0:
                return c1, [*s1, Expr("inv", (e.args[1],))], b1
            recips = [Expr("inv", (x,)) for x in [*s2, *([b2] if b2 is not None else [])]]
            return c1 / c2, [*s1, *recips], b1
        if e.op == "matmul":  # a product carries its scalars on its first factor: 2 Aᵀ (A x - b)
            c, s, b = self.split(e.args[0])
            if b is not None and (c != 1 or s):
                return c, s, Expr("matmul", (b, e.args[1]))
        return ONE, [], e

    def build(self, c: Fraction | float, scalars: list[Expr], body: Expr | None, shape: Shape | None = None) -> Expr:
        """The expression c · Π scalars · body (body None: the scalars alone). Powers of one
        scalar merge (s s⁻¹ = 1, s⁻¹ s⁻¹ = s⁻²), and det(M)⁻¹ adj(M) is M⁻¹."""
        if c == 0:
            if shape is None:
                if body is None:
                    raise ValueError("a zero needs a shape")
                shape = self.shape(body)
            return zeros(*shape)
        if body is not None and scalars and self.shape(body) == (1, 1):  # a 1×1 body is one more scalar
            scalars, body = [*scalars, body], None
        if any(x.op == "zeros" for x in scalars):  # a zero scalar factor
            return zeros(*(shape or (self.shape(body) if body is not None else (1, 1))))
        scalars = merge_powers(scalars)
        if body is not None:
            scalars, body = self.absorb_adjugates(scalars, body)
        if body is None:
            if not scalars:
                return number(c)
            ups = [k for k, x in enumerate(scalars) if power_of(x)[1] > 0]
            k = ups[-1] if ups else len(scalars) - 1  # a / b rather than a b⁻¹
            body, scalars = scalars[k], scalars[:k] + scalars[k + 1 :]
        if body.op == "zeros":
            return body
        magnitude = -c if c < 0 else c
        up = [x for x in scalars if power_of(x)[1] > 0]
        down = [x for x in scalars if power_of(x)[1] < 0]
        s = number(magnitude) if magnitude != 1 else None
        for x in up if down else scalars:
            s = x if s is None else smul(s, x)
        r = body if s is None else _scaled(s, body)
        if down:  # reciprocals as a division: xᵀ / norm2(x), I / s - x xᵀ / s³
            factors = [base if k == -1 else Expr("pow", (base,), -k) for base, k in map(power_of, down)]
            denominator = factors[0]
            for f in factors[1:]:
                denominator = smul(denominator, f)
            r = Expr("div", (r, denominator))
        return neg(r) if c < 0 else r

    def absorb_adjugates(self, scalars: list[Expr], body: Expr) -> tuple[list[Expr], Expr]:
        """det(M)⁻¹ adj(M) = M⁻¹ (where det(M) ≠ 0, which the scalar det(M)⁻¹ needs anyway)."""
        factors = flatten_product(body)
        changed = False
        for i, f in enumerate(factors):
            t = f.op == "T"
            g = f.args[0] if t else f
            if g.op != "adj":
                continue
            det = Expr("det", g.args)
            k = next((k for k, x in enumerate(scalars) if power_of(x)[0] == det and power_of(x)[1] < 0), None)
            if k is not None:
                scalars = merge_powers([*scalars[:k], *scalars[k + 1 :], *_powers(det, power_of(scalars[k])[1] + 1)])
                inverse = Expr("inv", g.args)
                factors[i] = Expr("T", (inverse,)) if t else inverse
                changed = True
        if not changed:
            return scalars, body
        out = factors[0]
        for f in factors[1:]:
            out = Expr("matmul", (out, f))
        return scalars, self(out)

    def pull_scalars(self, e: Expr, wrap: Callable[[Expr], Expr]) -> Expr | None:
        """A linear operator commutes with scalars: op(c s B) = c s op(B). The rewritten e,
        the argument itself when it is a pure number, or None when there is nothing to pull."""
        c, s, b = self.split(e.args[0])
        if b is None:
            return e.args[0]
        if c != 1 or s:
            return self.build(c, s, self(wrap(b)), self.shape(e))
        return None


ONE = Fraction(1)


def exact(x: float) -> Fraction:
    """The number as written: the shortest decimal that reads back to the float."""
    if x == int(x):
        return Fraction(int(x))
    return Fraction(repr(float(x)))


def number(c: Fraction | float) -> Expr:
    """A coefficient as a number of the language (negative ones as a negation)."""
    try:
        x = float(c)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x):
        raise JacliError("a number in the expression overflows (its product is not a finite float)")
    return num(x) if x >= 0 else neg(num(-x))


def merge_powers(scalars: list[Expr]) -> list[Expr]:
    """Scalars with powers of one base merged: s s⁻¹ = 1, s s = s², in order of first appearance."""
    if len(scalars) < 2:
        return scalars
    powers: dict[Expr, int] = {}
    for x in scalars:
        base, k = power_of(x)
        powers[base] = powers.get(base, 0) + k
    if len(powers) == len(scalars):
        return scalars
    out = []
    for base, k in powers.items():
        if k == 1:
            out.append(base)
        elif k == -1:
            out.append(Expr("inv", (base,)))
        elif k:
            out.append(Expr("pow", (base,), k))
    return out


def power_of(x: Expr) -> tuple[Expr, int]:
    """(base, exponent) of a scalar: s⁻¹, sᵏ, (sᵏ)⁻¹ and (s⁻¹)ᵏ on one base s."""
    if x.op == "inv":
        base, k = power_of(x.args[0])
        return base, -k
    if x.op == "pow":
        base, k = power_of(x.args[0])
        return base, k * x.attr
    return x, 1


def _scaled(s: Expr, body: Expr) -> Expr:
    """s · body, the scalar on the first factor of a product (which prints 2 A B and reads back so)."""
    if body.op == "matmul":
        return Expr("matmul", (_scaled(s, body.args[0]), body.args[1]))
    return smul(s, body)


def _powers(base: Expr, k: int) -> list[Expr]:
    """base^k as a list of scalar factors (none for k = 0)."""
    if k == 0:
        return []
    return [base if k == 1 else Expr("inv", (base,)) if k == -1 else Expr("pow", (base,), k)]


def flatten_product(e: Expr) -> list[Expr]:
    if e.op != "matmul":
        return [e]
    return flatten_product(e.args[0]) + flatten_product(e.args[1])
