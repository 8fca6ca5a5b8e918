"""Sizes: positive integers, or monomials in dimension names (``m``, ``3 n``, ``m n``, ``n²``).

A size with no names is a plain ``int``, so numeric shapes stay what they were; a size with
names is a :class:`Size`. ``mul`` and ``div`` keep that normal form, and ``Size`` supports
``*`` and ``==`` so that rules written for integers (``eye(m * n)``, ``r == 1``) hold for
names too: a name is never equal to 1, so a rule that needs a size of 1 applies only where
it is 1 whatever the names' values.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_NOT_NAMES = frozenset({"nan", "inf", "infinity"})  # read as numbers elsewhere
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


class Size:
    """``coef · Π name^power``, with at least one name; immutable.

    Sizes are interned: equal sizes are the same object, so comparing them (which the
    simplifier does all the time, ``shape == (1, 1)``) costs what comparing integers costs.
    """

    __slots__ = ("coef", "factors")
    coef: int
    factors: tuple[tuple[str, int], ...]  # sorted by name, powers ≥ 1

    def __new__(cls, coef: int, factors: tuple[tuple[str, int], ...]) -> Size:
        key = (coef, factors)
        got = _INTERNED.get(key)
        if got is None:
            got = object.__new__(cls)
            object.__setattr__(got, "coef", coef)
            object.__setattr__(got, "factors", factors)
            _INTERNED[key] = got
        return got

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError("Size is immutable")

    def __reduce__(self) -> tuple[type[Size], tuple[int, tuple[tuple[str, int], ...]]]:
        return (Size, (self.coef, self.factors))

    def __mul__(self, other: SizeLike) -> SizeLike:
        return mul(self, other)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"Size({text(self)!r})"

    def __str__(self) -> str:
        return text(self)


_INTERNED: dict[tuple[int, tuple[tuple[str, int], ...]], Size] = {}


SizeLike = int | Size


def is_dimension_name(word: str) -> bool:
    return bool(NAME.fullmatch(word)) and word.lower() not in _NOT_NAMES


def dim(name: str) -> Size:
    """The size named ``name``."""
    return Size(1, ((name, 1),))


def _make(coef: int, powers: Mapping[str, int]) -> SizeLike:
    factors = tuple(sorted((n, p) for n, p in powers.items() if p))
    return Size(coef, factors) if factors else coef


def _powers(s: SizeLike) -> tuple[int, dict[str, int]]:
    if isinstance(s, Size):
        return s.coef, dict(s.factors)
    return int(s), {}


def mul(a: SizeLike, b: SizeLike) -> SizeLike:
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    return _mul(a, b)


@functools.lru_cache(maxsize=4096)
def _mul(a: SizeLike, b: SizeLike) -> SizeLike:
    ca, pa = _powers(a)
    cb, pb = _powers(b)
    for n, p in pb.items():
        pa[n] = pa.get(n, 0) + p
    return _make(ca * cb, pa)


def div(a: SizeLike, b: SizeLike) -> SizeLike | None:
    """a / b when it is a size (a positive integer or a monomial), else None."""
    if isinstance(a, int) and isinstance(b, int):
        return a // b if a % b == 0 else None
    ca, pa = _powers(a)
    cb, pb = _powers(b)
    if ca % cb:
        return None
    for n, p in pb.items():
        if pa.get(n, 0) < p:
            return None
        pa[n] -= p
    return _make(ca // cb, pa)


def add(a: SizeLike, b: SizeLike) -> SizeLike | None:
    """a + b when it is a size: integers, or multiples of one monomial (n + 2 n = 3 n); else None."""
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    ca, pa = _powers(a)
    cb, pb = _powers(b)
    return _make(ca + cb, pa) if pa == pb else None


def sub(a: SizeLike, b: SizeLike) -> SizeLike | None:
    """a - b when it is a size or 0 (a block's length from its bounds); else None."""
    if b == 0:
        return a
    if isinstance(a, int) and isinstance(b, int):
        return a - b if a >= b else None
    ca, pa = _powers(a)
    cb, pb = _powers(b)
    if pa != pb or ca < cb:
        return None
    return _make(ca - cb, pa) if ca > cb else 0


def product(sizes: Iterable[SizeLike]) -> SizeLike:
    out: SizeLike = 1
    for s in sizes:
        out = mul(out, s)
    return out


def names(s: object) -> list[str]:
    """The dimension names in a size (or in a tuple of sizes), in order."""
    if isinstance(s, Size):
        return list(dict.fromkeys(_base(n) for n, _ in s.factors))
    if isinstance(s, tuple):
        return [n for x in s for n in names(x)]
    return []


def is_symbolic(s: object) -> bool:
    """Whether a size, or any size in a tuple of sizes, has a name."""
    return bool(names(s))


def tri(n: SizeLike) -> SizeLike:
    """n(n+1)/2, the number of entries on and below the diagonal of an n×n matrix: an int, or
    for a dimension name a size of its own, written ``n(n+1)/2``."""
    if isinstance(n, int):
        return n * (n + 1) // 2
    if n.coef != 1 or len(n.factors) != 1 or n.factors[0][1] != 1 or _TRI in n.factors[0][0]:
        raise ValueError(f"n(n+1)/2 of {text(n)}: give the size as one dimension name or a number")
    base = n.factors[0][0]
    return Size(1, ((f"{base}({base}{_TRI}", 1),))


_TRI = "+1)/2"  # the atom of n(n+1)/2 is the name "n(n+1)/2": no dimension name holds "("


def _base(n: str) -> str:
    """The dimension name behind a factor (n behind n(n+1)/2)."""
    return n.split("(")[0]


def _factor_value(n: str, assignment: Mapping[str, int]) -> int:
    if _TRI in n:
        b = assignment[_base(n)]
        return b * (b + 1) // 2
    return assignment[n]


def value(s: SizeLike, assignment: Mapping[str, int]) -> int:
    """The integer ``s`` is when its names take the values of ``assignment``."""
    if isinstance(s, int):
        return s
    out = s.coef
    for n, p in s.factors:
        out *= _factor_value(n, assignment) ** p
    return out


def text(s: SizeLike, style: str = "unicode") -> str:
    """``m n``, ``3 n``, ``n²`` (ASCII ``n^2``, LaTeX ``n^{2}``)."""
    if isinstance(s, int):
        return str(s)
    parts = [] if s.coef == 1 else [str(s.coef)]
    for n, p in s.factors:
        if _TRI in n:
            b = _base(n)
            n = rf"\frac{{{b}({b}+1)}}{{2}}" if style == "latex" else n
            n = n if p == 1 else f"({n})"
        if p == 1:
            parts.append(n)
        elif style == "latex":
            parts.append(f"{n}^{{{p}}}")
        elif style == "ascii":
            parts.append(f"{n}^{p}")
        else:
            parts.append(n + str(p).translate(_SUP))
    return " ".join(parts)


def is_product(s: SizeLike) -> bool:
    """Whether ``s`` is written with more than one factor (and so wants parentheses in a shape)."""
    return isinstance(s, Size) and (len(s.factors) + (s.coef != 1) > 1 or s.factors[0][1] > 1)


def shape_text(shape: tuple[SizeLike | str | None, ...], style: str = "unicode") -> str:
    """``3×4``, ``m×n``, ``(m n)×p``."""
    parts = []
    for s in shape:
        if s is None:
            parts.append("?")
        elif isinstance(s, Total):
            parts.append(f"({s})")
        elif isinstance(s, str):
            parts.append(s)
        else:
            t = text(s, style)
            parts.append(f"({t})" if is_product(s) and style != "latex" else t)
    return "×".join(parts)


class Total(str):
    """A sum of sizes that is not one monomial (``m n + p q``): for showing only."""


def total(parts: Iterable[SizeLike]) -> SizeLike | Total:
    """The sum of sizes: an int, a size, or a :class:`Total` to show."""
    parts = list(parts)
    ints = [p for p in parts if isinstance(p, int)]
    if len(ints) == len(parts):
        return sum(ints)
    if len(parts) == 1:
        return parts[0]
    return Total(" + ".join(text(p) for p in parts))


class _Node(Protocol):
    @property
    def attr(self) -> object: ...


class _Tree(Protocol):
    """An expression (:class:`jacli.expr.Expr`, which imports this module)."""

    def walk(self) -> Iterator[_Node]: ...


def in_expr(e: _Tree) -> bool:
    """Whether an expression (anything with ``walk()`` over nodes with ``attr``) has a size with a name."""
    return any(
        isinstance(node.attr, Size) or (isinstance(node.attr, tuple) and is_symbolic(node.attr)) for node in e.walk()
    )
