"""The unifiers that shape rules are written against.

A shape rule (in :mod:`jacli.calculus.ops`) takes a unifier ``u`` and says what must hold
(``u.same(a, b, message)``), what a size is (``u.known``, ``u.mul``) and when it cannot tell
yet (``u.defer``). :class:`Inference` works on union-find dimension variables, for the
user's expression; :class:`Concrete` on integers, for explicit expressions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Never

from ..errors import JacliError
from ..expr import Expr

Dim = Any  # a dimension: an int, or a variable during inference
Message = Callable[[], str]  # a refusal, written only when needed

UNKNOWN = "cannot infer"  # how a shape error that more information would settle begins


class Fail(Exception):
    """A shape rule's refusal: the message says why."""


class Deferred(Exception):
    """A shape rule cannot tell yet: try again when more is known."""


class _Var:
    __slots__ = ("node", "parent", "value")

    def __init__(self, value: int | None = None, node: Expr | None = None) -> None:
        self.parent = self
        self.value = value
        self.node = node


def show_shape(shape: tuple) -> str:
    return f"{shape[0]}×{shape[1]}"


class Inference:
    """The unifier of shape inference: dimensions are union-find variables."""

    inferring = True

    def __init__(self, given: dict[str, tuple[int, int]]) -> None:
        self.names: dict[str, tuple[Any, Any]] = {}  # dimensions: ints or variables
        self.name_nodes: dict[str, Expr] = {}
        self.given = given
        self.products: list[tuple] = []
        self.builtins: list[tuple[Expr, _Var]] = []
        self.forced = False

    # union-find
    def find(self, d: Dim) -> Dim:
        if isinstance(d, int):
            return d
        while d.parent is not d:
            d.parent = d.parent.parent
            d = d.parent
        return d

    def known(self, d: Dim) -> int | None:
        d = self.find(d)
        return d if isinstance(d, int) else d.value

    def same(self, a: Dim, b: Dim, message: Message) -> None:
        a, b = self.find(a), self.find(b)
        if a is b:
            return
        va = a if isinstance(a, int) else a.value
        vb = b if isinstance(b, int) else b.value
        if va is not None and vb is not None and va != vb:
            raise Fail(message())
        if isinstance(a, int):
            if isinstance(b, _Var):
                b.value = a
        elif isinstance(b, int):
            a.value = b
        else:
            a.parent = b
            if b.value is None:
                b.value = va

    def fresh(self, node: Expr | None = None) -> _Var:
        v = _Var(node=node)
        if node is not None and node.op in ("I", "ones"):
            self.builtins.append((node, v))
        return v

    def mul(self, a: Dim, b: Dim, node: Expr) -> Dim:
        ka, kb = self.known(a), self.known(b)
        if ka is not None and kb is not None:
            return ka * kb
        d = _Var()
        self.products.append((d, a, b, node))
        return d

    def is_one(self, shape: tuple) -> bool:
        return self.known(shape[0]) == 1 and self.known(shape[1]) == 1

    def maybe_one(self, shape: tuple) -> bool:
        return all(self.known(d) in (None, 1) for d in shape) and not self.is_one(shape)

    def defer(self, message: str | None = None) -> None:
        if not self.forced:
            raise Deferred()
        if message:
            raise Fail(message)

    def fail(self, message: str) -> Never:
        raise Fail(message)

    def show(self, shape: tuple) -> str:
        return "×".join("?" if self.known(d) is None else str(self.known(d)) for d in shape)

    def name_shape(self, name: str, node: Expr) -> tuple:
        if name not in self.names:
            shape = self.given.get(name)
            if shape is None:
                self.names[name] = (_Var(node=node), _Var(node=node))
            else:
                self.names[name] = (shape[0], shape[1])
            self.name_nodes[name] = node
        return self.names[name]

    def propagate_products(self) -> bool:
        progress = False
        remaining = []
        for d, a, b, node in self.products:
            kd, ka, kb = self.known(d), self.known(a), self.known(b)
            try:
                if ka is not None and kb is not None:
                    text = f"sizes do not fit: {kd} is not {ka}×{kb}"
                    self.same(d, ka * kb, lambda: text)  # noqa: B023 (called right here)
                elif kd is not None and ka is not None:
                    if kd % ka:
                        raise Fail(f"sizes do not fit: {kd} is not a multiple of {ka}")
                    self.same(b, kd // ka, lambda: "sizes do not fit")
                elif kd is not None and kb is not None:
                    if kd % kb:
                        raise Fail(f"sizes do not fit: {kd} is not a multiple of {kb}")
                    self.same(a, kd // kb, lambda: "sizes do not fit")
                else:
                    remaining.append((d, a, b, node))
                    continue
            except Fail as e:
                raise error(str(e), node) from None
            progress = True
        self.products = remaining
        return progress


def error(message: str, node: Expr | None, source: str | None = None) -> JacliError:
    col = node.col if node is not None else None
    where = f" at column {col}" if col else ""
    return JacliError(f"{message}{where}", column=col, source=source)


class Concrete:
    """The unifier for explicit expressions: every dimension is an integer."""

    inferring = False

    def __init__(self, names: dict[str, tuple[int, int]]) -> None:
        self.names = names

    def known(self, d: int) -> int:
        return d

    def same(self, a: int, b: int, message: Message) -> None:
        if a != b:
            raise Fail(message())

    def mul(self, a: int, b: int, node: Expr) -> int:
        return a * b

    def is_one(self, shape: tuple) -> bool:
        return tuple(shape) == (1, 1)

    def maybe_one(self, shape: tuple) -> bool:
        return False

    def defer(self, message: str | None = None) -> Never:
        raise Fail(message or "ambiguous shape")

    def fail(self, message: str) -> Never:
        raise Fail(message)

    def show(self, shape: tuple) -> str:
        return show_shape(shape)

    def fresh(self, node: Expr | None = None) -> Never:
        raise Fail("a bare I or ones needs its size here")

    def name_shape(self, name: str, node: Expr) -> tuple:
        try:
            return self.names[name]
        except KeyError:
            raise Fail(f"unknown name '{name}'") from None
