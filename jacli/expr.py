"""Expressions: plain frozen trees of operator name, arguments and an attribute.

One node type serves the user's input and jacli's answers. ``op`` is a key of the
operator registry (:mod:`jacli.calculus.ops`); ``attr`` carries what is not a sub-expression: a
name, a number, an integer power, the sizes of ``I(n)``, ``K(m,n)``, ``ones(m,n)``.
``col`` is the 1-based column in the source text, kept for messages and left out of
equality, so that ``parse(print(e)) == e``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .sizes import SizeLike


class Expr:
    """One node: ``op`` applied to ``args``, with ``attr`` and the source column ``col``."""

    __slots__ = ("_hash", "_names", "args", "attr", "col", "op")
    op: str
    args: tuple[Expr, ...]
    attr: Any
    col: int | None
    _hash: int
    _names: tuple[str, ...]  # set on first use of names()

    def __init__(self, op: str, args: tuple[Expr, ...] = (), attr: Any = None, col: int | None = None) -> None:
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "args", tuple(args))
        object.__setattr__(self, "attr", attr)
        object.__setattr__(self, "col", col)
        object.__setattr__(self, "_hash", hash((op, self.args, attr)))

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Expr is immutable")

    def __reduce__(self) -> tuple[type[Expr], tuple[str, tuple[Expr, ...], Any, int | None]]:
        return (Expr, (self.op, self.args, self.attr, self.col))  # pickled by what defines it

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Expr) or self._hash != other._hash:
            return False
        return self.op == other.op and self.attr == other.attr and self.args == other.args

    def __repr__(self) -> str:
        if self.op == "name":
            return f"name({self.attr!r})"
        inner = ", ".join([repr(a) for a in self.args] + ([] if self.attr is None else [repr(self.attr)]))
        return f"{self.op}({inner})"

    def walk(self) -> Iterator[Expr]:
        """Every node, children before parents."""
        for a in self.args:
            yield from a.walk()
        yield self

    def names(self) -> list[str]:
        """The matrix names in the order they first occur."""
        try:
            return list(self._names)
        except AttributeError:
            pass
        seen: dict[str, None] = {}
        for node in self.walk():
            if node.op == "name":
                seen.setdefault(node.attr, None)
        object.__setattr__(self, "_names", tuple(seen))  # kept: a node never changes
        return list(seen)


# Constructors used by the derivative rules and the simplifier. They build plain nodes;
# simplification lives in jacli.calculus.simplify.
def name(n: str) -> Expr:
    return Expr("name", (), n)


def num(x: float) -> Expr:
    return Expr("num", (), float(x))


def eye(n: SizeLike) -> Expr:
    return Expr("I", (), n)


def comm(m: SizeLike, n: SizeLike) -> Expr:
    return Expr("K", (), (m, n))


def ones(m: SizeLike, n: SizeLike) -> Expr:
    return Expr("ones", (), (m, n))


def zeros(m: SizeLike, n: SizeLike) -> Expr:
    return Expr("zeros", (), (m, n))


def T(a: Expr) -> Expr:
    return Expr("T", (a,))


def neg(a: Expr) -> Expr:
    return Expr("neg", (a,))


def add(a: Expr, b: Expr) -> Expr:
    return Expr("add", (a, b))


def matmul(a: Expr, b: Expr) -> Expr:
    return Expr("matmul", (a, b))


def smul(s: Expr, a: Expr) -> Expr:
    return Expr("smul", (s, a))


def kron(a: Expr, b: Expr) -> Expr:
    return Expr("kron", (a, b))


def vec(a: Expr) -> Expr:
    return Expr("vec", (a,))


def diag(a: Expr) -> Expr:
    """The diagonal matrix of a vector."""
    return Expr("diag", (a,))
