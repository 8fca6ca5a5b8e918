"""The simplifier's core: bottom-up rewriting with memory, scalars split off and rebuilt.

Each operator's rewrite is looked up in a table keyed by the operator (see
:mod:`jacli.calculus.simplify`); a rewrite receives the simplifier and a node whose
arguments are already simplified.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

from ...errors import JacliError
from ...expr import Expr, neg, num, smul, zeros
from ..shapes import Shapes

Rewrite = Callable[["Base", Expr], Expr]


class Base:
    """Simplifies expressions over the shapes ``shapes``; ``rewrites`` maps operators to rules."""

    rewrites: ClassVar[dict[str, Rewrite]] = {}

    def __init__(self, shapes: Shapes) -> None:
        self.shape = shapes
        self.memo: dict[Expr, Expr] = {}

    def __call__(self, e: Expr) -> Expr:
        got = self.memo.get(e)
        if got is None:
            args = tuple(self(a) for a in e.args)
            node = e if args == e.args else Expr(e.op, args, e.attr, e.col)
            rule = self.rewrites.get(node.op)
            got = rule(self, node) if rule else node
            self.memo[e] = got
            self.memo[got] = got
        return got

    # -- scalars ---------------------------------------------------------------------
    def split(self, e: Expr) -> tuple[float, list[Expr], Expr | None]:
        """(coefficient, scalar factors, body): e = coefficient · Π scalars · body."""
        if e.op == "num":
            return e.attr, [], None
        if e.op == "neg":
            c, s, b = self.split(e.args[0])
            return -c, s, b
        if e.op == "smul":
            c1, s1, b1 = self.split(e.args[0])
            c2, s2, b2 = self.split(e.args[1])
            scalars = s1 + ([b1] if b1 is not None else []) + s2
            return c1 * c2, scalars, b2
        return 1.0, [], e

    def build(self, c: float, scalars: list[Expr], body: Expr | None, shape: tuple | None = None) -> Expr:
        """The expression c · Π scalars · body (body None: the scalars alone)."""
        if not math.isfinite(c):
            raise JacliError("a number in the expression overflows (its product is not a finite float)")
        if c == 0:
            if shape is None:
                if body is None:
                    raise ValueError("a zero needs a shape")
                shape = self.shape(body)
            return zeros(*shape)
        if body is None:
            if not scalars:
                return num(c) if c >= 0 else neg(num(-c))
            body, scalars = scalars[-1], scalars[:-1]
        if body.op == "zeros":
            return body
        s = num(abs(c)) if abs(c) != 1 else None
        for x in scalars:
            s = x if s is None else smul(s, x)
        r = body if s is None else smul(s, body)
        return neg(r) if c < 0 else r

    def pull_scalars(self, e: Expr, wrap: Callable[[Expr], Expr]) -> Expr | None:
        """A linear operator commutes with scalars: op(c s B) = c s op(B). The rewritten e,
        the argument itself when it is a pure number, or None when there is nothing to pull."""
        c, s, b = self.split(e.args[0])
        if b is None:
            return e.args[0]
        if c != 1 or s:
            return self.build(c, s, self(wrap(b)), self.shape(e))
        return None
