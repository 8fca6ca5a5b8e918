"""The unifiers that shape rules are written against.

A shape rule (in :mod:`jacli.calculus.ops`) takes a unifier ``u`` and says what must hold
(``u.same(a, b, message)``), what a size is (``u.known``, ``u.mul``) and when it cannot tell
yet (``u.defer``). :class:`Inference` works on union-find dimension variables, for the
user's expression; :class:`Concrete` on integers, for explicit expressions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Never

from .. import sizes
from ..errors import JacliError
from ..expr import Expr
from ..sizes import SizeLike

if TYPE_CHECKING:
    from .ops.registry import Shape

Dim = Any  # a dimension: an int, or a variable during inference
Message = Callable[[], str]  # a refusal, written only when needed

UNKNOWN = "cannot infer"  # how a shape error that more information would settle begins


class Fail(Exception):
    """A shape rule's refusal: the message says why."""


class Deferred(Exception):
    """A shape rule cannot tell yet: try again when more is known."""


class _Var:
    """A dimension not known yet; ``value`` once unification fixes it."""

    __slots__ = ("node", "parent", "value")

    def __init__(self, value: SizeLike | None = None, node: Expr | None = None) -> None:
        self.parent = self
        self.value = value
        self.node = node


def show_shape(shape: Shape) -> str:
    """``3×4``, ``m×n``, ``(m n)×p``."""
    return sizes.shape_text(shape)


class Inference:
    """The unifier of shape inference: dimensions are union-find variables.

    A size is an integer or a monomial in dimension names; the names a user gives are
    constants (``m`` is never ``p``), the variables jacli makes unify with anything.
    """

    inferring = True

    def __init__(self, given: dict[str, Shape]) -> None:
        self.names: dict[str, Shape] = {}  # dimensions: sizes or variables
        self.name_nodes: dict[str, Expr] = {}
        self.given = given
        self.products: list[tuple[_Var, Dim, Dim, Expr]] = []  # (d, a, b, node): d = a b
        self.builtins: list[tuple[Expr, _Var]] = []
        self.forced = False

    # union-find
    def find(self, d: Dim) -> Dim:
        if not isinstance(d, _Var):
            return d
        while d.parent is not d:
            d.parent = d.parent.parent
            d = d.parent
        return d

    def known(self, d: Dim) -> SizeLike | None:
        d = self.find(d)
        return d.value if isinstance(d, _Var) else d

    def same(self, a: Dim, b: Dim, message: Message) -> None:
        a, b = self.find(a), self.find(b)
        if a is b:
            return
        va = a.value if isinstance(a, _Var) else a
        vb = b.value if isinstance(b, _Var) else b
        if va is not None and vb is not None and va != vb:
            raise Fail(message())
        if not isinstance(a, _Var):
            if isinstance(b, _Var):
                b.value = a
        elif not isinstance(b, _Var):
            a.value = b
        else:
            a.parent = b
            if b.value is None:
                b.value = va

    def fresh(self, node: Expr | None = None) -> _Var:
        v = _Var(node=node)
        if node is not None and node.op in ("I", "ones", "vector", "matrix"):
            self.builtins.append((node, v))
        return v

    def mul(self, a: Dim, b: Dim, node: Expr) -> Dim:
        ka, kb = self.known(a), self.known(b)
        if ka is not None and kb is not None:
            return sizes.mul(ka, kb)
        d = _Var()
        self.products.append((d, a, b, node))
        return d

    def add(self, a: Dim, b: Dim, node: Expr) -> SizeLike | None:
        """The sum of two sizes, once both are known (the sizes of a block matrix)."""
        ka, kb = self.known(a), self.known(b)
        if ka is None or kb is None:
            self.defer("give the shapes of the blocks of a block matrix")
            return None
        return _sum(ka, kb)

    def is_one(self, shape: Shape) -> bool:
        return self.known(shape[0]) == 1 and self.known(shape[1]) == 1

    def maybe_one(self, shape: Shape) -> bool:
        return all(self.known(d) in (None, 1) for d in shape) and not self.is_one(shape)

    def defer(self, message: str | None = None) -> None:
        if not self.forced:
            raise Deferred()
        if message:
            raise Fail(message)

    def fail(self, message: str) -> Never:
        raise Fail(message)

    def show(self, shape: Shape) -> str:
        return sizes.shape_text(tuple(self.known(d) for d in shape))

    def name_shape(self, name: str, node: Expr) -> Shape:
        if name not in self.names:
            shape = self.given.get(name)
            if shape is None:
                self.names[name] = (_Var(node=node), _Var(node=node))
            else:
                self.names[name] = (shape[0], shape[1])
            self.name_nodes[name] = node
        return self.names[name]

    def propagate_products(self) -> bool:
        """Settle each product of sizes whose factors, or whose result and one factor, are known."""
        progress = False
        remaining = []
        for d, a, b, node in self.products:
            try:
                if not self._settle_product(d, a, b):
                    remaining.append((d, a, b, node))
                    continue
            except Fail as e:
                raise error(str(e), node) from None
            progress = True
        self.products = remaining
        return progress

    def _settle_product(self, d: Dim, a: Dim, b: Dim) -> bool:
        kd, ka, kb = self.known(d), self.known(a), self.known(b)
        if ka is not None and kb is not None:
            text = f"sizes do not fit: {sizes.text(kd) if kd is not None else '?'} is not {ka}×{kb}"
            self.same(d, sizes.mul(ka, kb), lambda: text)
            return True
        for whole, part, other in ((kd, ka, b), (kd, kb, a)):
            if whole is not None and part is not None:
                rest = sizes.div(whole, part)
                if rest is None:
                    raise Fail(f"sizes do not fit: {sizes.text(whole)} is not a multiple of {sizes.text(part)}")
                self.same(other, rest, lambda: "sizes do not fit")
                return True
        return False

    def columns_of_vectors(self, names: list[str]) -> bool:
        """A name that starts with a lowercase letter is a column vector, as in the Matrix
        Cookbook, where nothing fixes its number of columns: x in ``x' A x`` with A 3×3 is 3×1.
        Whether any was set."""
        changed = False
        for n in dict.fromkeys(names):
            if n[0].islower() and n in self.names and self.known(self.names[n][1]) is None:
                self.same(self.names[n][1], 1, lambda: "sizes do not fit")
                self.propagate_products()
                changed = True
        return changed

    def name_unknowns(self, order: list[str], avoid: set[str], chosen: list[str] | None = None) -> list[str]:
        """Give every dimension still unknown a name of jacli's choosing (m, n, p, q, ...),
        the names in ``order`` first, rows before columns; products follow. The names chosen
        (appended to ``chosen`` as they are, so that an error on the way can tell them)."""
        pool = (c for c in _POOL if c not in avoid)
        chosen = [] if chosen is None else chosen
        dims = [d for n in order if n in self.names for d in self.names[n]] + [v for _, v in self.builtins]
        for d in dims:
            self.propagate_products()
            if self.known(d) is None:
                name = next(pool)
                chosen.append(name)
                self.same(d, sizes.dim(name), lambda: "sizes do not fit")
        self.propagate_products()
        return chosen


def _sum(a: SizeLike, b: SizeLike) -> SizeLike:
    got = sizes.add(a, b)
    if got is None:
        raise Fail(f"the blocks' sizes {sizes.text(a)} and {sizes.text(b)} do not add up to one size")
    return got


_POOL = tuple("mnpqrstuvwkl") + tuple(f"n{i}" for i in range(1, 1000))


def error(message: str, node: Expr | None, source: str | None = None) -> JacliError:
    col = node.col if node is not None else None
    where = f" at column {col}" if col else ""
    return JacliError(f"{message}{where}", column=col, source=source)


class Concrete:
    """The unifier for explicit expressions: every dimension is a known size."""

    inferring = False

    def __init__(self, names: dict[str, Shape]) -> None:
        self.names = names

    def known(self, d: SizeLike) -> SizeLike:
        return d

    def same(self, a: SizeLike, b: SizeLike, message: Message) -> None:
        if a != b:
            raise Fail(message())

    def mul(self, a: SizeLike, b: SizeLike, node: Expr) -> SizeLike:
        return sizes.mul(a, b)

    def add(self, a: SizeLike, b: SizeLike, node: Expr) -> SizeLike:
        return _sum(a, b)

    def is_one(self, shape: Shape) -> bool:
        return tuple(shape) == (1, 1)

    def maybe_one(self, shape: Shape) -> bool:
        return False

    def defer(self, message: str | None = None) -> Never:
        raise Fail(message or "ambiguous shape")

    def fail(self, message: str) -> Never:
        raise Fail(message)

    def show(self, shape: Shape) -> str:
        return show_shape(shape)

    def fresh(self, node: Expr | None = None) -> Never:
        raise Fail("a bare I or ones needs its size here")

    def name_shape(self, name: str, node: Expr) -> Shape:
        try:
            return self.names[name]
        except KeyError:
            raise Fail(f"unknown name '{name}'") from None
