"""Shapes: inference for the user's expression, and shapes of explicit expressions.

Every operator's shape rule (in :mod:`jacli.calculus.ops`) is written once against a small
"unifier" interface and serves two purposes:

* :func:`infer` reads the user's expression, where some shapes are given, some follow from
  the expression (``A X B`` with A 2×3 and B 4×5 makes X 3×4) and a bare ``I`` takes its
  size from where it stands. Dimensions are union-find variables; products of dimensions
  (``vec``, ``⊗``) are constraints propagated until nothing changes. A product ``a X``
  whose factor might still turn out 1×1 waits until the rest is known.
* :class:`Shapes` gives the shape of any explicit expression (jacli's own answers), bottom
  up, with plain integers.

:func:`infer` also *resolves* the expression: ``mul`` becomes a matrix product or a scalar
multiple, bare ``I`` and ``ones`` get their sizes, ``diag`` of a square matrix becomes
``diagonal``. After that every node's shape follows from the names' shapes alone.
"""
from __future__ import annotations

from dataclasses import dataclass

from typing import Callable

from ..errors import JacliError
from ..expr import Expr
from ..syntax.printer import to_text
from .ops import REGISTRY


UNKNOWN = "cannot infer"  # how a shape error that more information would settle begins


class _Fail(Exception):
    pass


class _Deferred(Exception):
    pass


class _Var:
    __slots__ = ("parent", "value", "node")

    def __init__(self, value=None, node=None):
        self.parent = self
        self.value = value
        self.node = node


def show_shape(shape) -> str:
    return f"{shape[0]}×{shape[1]}"


class _Inference:
    """The unifier for :func:`infer`."""

    inferring = True

    def __init__(self, given: dict[str, tuple[int, int]]):
        self.names: dict[str, tuple[_Var, _Var]] = {}
        self.name_nodes: dict[str, Expr] = {}
        self.given = given
        self.products: list[tuple] = []
        self.builtins: list[tuple[Expr, _Var]] = []
        self.forced = False

    # union-find
    def find(self, d):
        if isinstance(d, int):
            return d
        while d.parent is not d:
            d.parent = d.parent.parent
            d = d.parent
        return d

    def known(self, d) -> int | None:
        d = self.find(d)
        return d if isinstance(d, int) else d.value

    def same(self, a, b, message) -> None:
        a, b = self.find(a), self.find(b)
        if a is b:
            return
        va = a if isinstance(a, int) else a.value
        vb = b if isinstance(b, int) else b.value
        if va is not None and vb is not None and va != vb:
            raise _Fail(message())
        if isinstance(a, int):
            if isinstance(b, _Var):
                b.value = a
        elif isinstance(b, int):
            a.value = b
        else:
            a.parent = b
            if b.value is None:
                b.value = va

    def fresh(self, node=None):
        v = _Var(node=node)
        if node is not None and node.op in ("I", "ones"):
            self.builtins.append((node, v))
        return v

    def mul(self, a, b, node):
        ka, kb = self.known(a), self.known(b)
        if ka is not None and kb is not None:
            return ka * kb
        d = _Var()
        self.products.append((d, a, b, node))
        return d

    def is_one(self, shape) -> bool:
        return self.known(shape[0]) == 1 and self.known(shape[1]) == 1

    def maybe_one(self, shape) -> bool:
        return all(self.known(d) in (None, 1) for d in shape) and not self.is_one(shape)

    def defer(self, message: str | None = None):
        if not self.forced:
            raise _Deferred()
        if message:
            raise _Fail(message)

    def fail(self, message: str):
        raise _Fail(message)

    def show(self, shape) -> str:
        return "×".join("?" if self.known(d) is None else str(self.known(d)) for d in shape)

    def name_shape(self, name: str, node: Expr):
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
                    self.same(d, ka * kb, lambda: f"sizes do not fit: {kd} is not {ka}×{kb}")
                elif kd is not None and ka is not None:
                    if kd % ka:
                        raise _Fail(f"sizes do not fit: {kd} is not a multiple of {ka}")
                    self.same(b, kd // ka, lambda: "sizes do not fit")
                elif kd is not None and kb is not None:
                    if kd % kb:
                        raise _Fail(f"sizes do not fit: {kd} is not a multiple of {kb}")
                    self.same(a, kd // kb, lambda: "sizes do not fit")
                else:
                    remaining.append((d, a, b, node))
                    continue
            except _Fail as e:
                raise _error(str(e), node) from None
            progress = True
        self.products = remaining
        return progress


def _error(message: str, node: Expr | None, source: str | None = None) -> JacliError:
    col = node.col if node is not None else None
    where = f" at column {col}" if col else ""
    return JacliError(f"{message}{where}", column=col, source=source)


@dataclass(frozen=True)
class Resolved:
    """An explicit expression and the shape of every name in it."""

    expr: Expr
    names: dict[str, tuple[int, int]]


def infer(expr: Expr, given: dict[str, tuple[int, int]], *, source: str | None = None,
          result_shape: tuple[int, int] | None = None) -> Resolved:
    """Infer every shape in ``expr`` from the ``given`` name shapes; resolve the expression.

    ``result_shape``, when given, is what the whole expression must come to (used for a
    claimed Jacobian, where a bare ``I`` takes its size from the Jacobian's shape).
    """
    return resolve_all([expr], given, source=source, result_shapes=[result_shape])[0]


def resolve_all(exprs: list[Expr], given: dict[str, tuple[int, int]], *, source: str | None = None,
                result_shapes: list | None = None) -> list[Resolved]:
    """Infer shapes of several expressions that share their names' shapes."""
    run = _Run(_Inference(given), source)
    for node in (n for e in exprs for n in e.walk()):
        run.first_attempt(node)
    for e, want in zip(exprs, result_shapes or [None] * len(exprs)):
        if want is not None:
            run.require(e, want)
    run.settle()
    u = run.u
    _require_known(u, source)
    names = {n: (u.known(r), u.known(c)) for n, (r, c) in u.names.items()}
    return [Resolved(_resolve(e, u, run.shape_of), names) for e in exprs]


class _Run:
    """One inference: every node's shape (or a placeholder), and the nodes still waiting."""

    def __init__(self, u: _Inference, source: str | None):
        self.u = u
        self.source = source
        self.shape_of: dict[int, tuple] = {}
        self.parents: dict[int, Expr] = {}
        self.pending: list[Expr] = []

    def first_attempt(self, node: Expr) -> None:
        for a in node.args:
            self.parents[id(a)] = node
        if not self.attempt(node):
            self.shape_of[id(node)] = (self.u.fresh(), self.u.fresh())
            self.pending.append(node)

    def attempt(self, node: Expr) -> bool:
        u = self.u
        args = [self.shape_of[id(a)] for a in node.args]
        try:
            shape = REGISTRY[node.op].shape(u, node, *args)
        except _Deferred:
            return False
        except _Fail as e:
            raise _error(str(e), node, self.source) from None
        if id(node) not in self.shape_of:
            self.shape_of[id(node)] = tuple(shape)
            return True
        placeholder = self.shape_of[id(node)]

        def conflict() -> str:
            return f"{to_text(node)} is {u.show(shape)}, but where it stands it must be {u.show(placeholder)}"

        try:
            u.same(placeholder[0], shape[0], conflict)
            u.same(placeholder[1], shape[1], conflict)
        except _Fail as e:
            raise self.blame_parent(node, shape, e) from None
        return True

    def blame_parent(self, node: Expr, shape: tuple, err: _Fail) -> JacliError:
        """A deferred product turned out to clash with where it stands: say so in the words
        of the operator it stands in (cannot add 2×3 and 4×5), where that one fails."""
        parent = self.parents.get(id(node))
        if parent is not None:
            args = [shape if a is node else self.shape_of[id(a)] for a in parent.args]
            self.u.forced = True
            try:
                REGISTRY[parent.op].shape(self.u, parent, *args)
            except _Fail as e:
                return _error(str(e), parent, self.source)
            finally:
                self.u.forced = False
        return _error(str(err), node, self.source)

    def require(self, e: Expr, want: tuple[int, int]) -> None:
        u, got = self.u, self.shape_of[id(e)]

        def message() -> str:
            return f"the formula is {u.show(got)}, the Jacobian {show_shape(want)}"

        try:
            u.same(got[0], want[0], message)
            u.same(got[1], want[1], message)
        except _Fail as err:
            raise JacliError(str(err), source=self.source) from None

    def settle(self) -> None:
        """Propagate products and retry waiting nodes until nothing changes; then force the
        first one still waiting (a product whose factor may be 1×1 becomes a matrix product)."""
        while True:
            progress = self.u.propagate_products()
            still = []
            for node in self.pending:
                if self.attempt(node):
                    progress = True
                else:
                    still.append(node)
            self.pending = still
            if not self.pending and not self.u.products:
                return
            if not progress:
                if not self.pending:
                    return
                self.u.forced = True
                try:
                    self.attempt(self.pending.pop(0))
                finally:
                    self.u.forced = False


def _require_known(u: _Inference, source: str | None) -> None:
    missing = []
    for name, (r, c) in u.names.items():
        if u.known(r) is None or u.known(c) is None:
            missing.append((name, u.show((r, c))))
    if missing:
        name, shown = missing[0]
        others = "".join(f", {n} ({s})" for n, s in missing[1:])
        r, c = shown.split("×")
        example = f"{'3' if r == '?' else r}x{'1' if c == '?' else c}"
        raise JacliError(f"{UNKNOWN} the shape of {name} ({shown}){others}: give it, as in {name}={example}",
                         source=source)
    for node, v in u.builtins:
        if u.known(v) is None:
            what = "I" if node.op == "I" else "ones"
            hint = "I(n)" if node.op == "I" else "ones(m,n)"
            raise _error(f"{UNKNOWN} the size of {what} from where it stands: write {hint}", node, source)


def _resolve(e: Expr, u: _Inference, shape_of: dict) -> Expr:
    args = tuple(_resolve(a, u, shape_of) for a in e.args)
    rule = _RESOLVE.get(e.op)
    if rule is not None:
        known = [tuple(u.known(d) for d in shape_of[id(x)]) for x in (e, *e.args)]
        got = rule(e, args, *known)
        if got is not None:
            return got
    return Expr(e.op, args, e.attr, col=e.col)


def _resolve_mul(e: Expr, args: tuple, shape: tuple, a: tuple, b: tuple) -> Expr:
    if a == (1, 1):
        return Expr("smul", args, col=e.col)
    if b == (1, 1):
        return Expr("smul", (args[1], args[0]), col=e.col)
    return Expr("matmul", args, col=e.col)


def _resolve_diag(e: Expr, args: tuple, shape: tuple, a: tuple) -> Expr | None:
    return Expr("diagonal", args, col=e.col) if a[0] == a[1] and a[0] != 1 else None


# What inference makes of the parser's operators once shapes are known: a product becomes
# a matrix product or a scalar multiple, bare I and ones get their sizes, diag of a square
# matrix becomes its diagonal.
_RESOLVE: dict[str, Callable[..., Expr | None]] = {
    "mul": _resolve_mul,
    "I": lambda e, args, shape: Expr("I", (), shape[0], col=e.col) if e.attr is None else None,
    "ones": lambda e, args, shape: Expr("ones", (), shape, col=e.col) if e.attr is None else None,
    "diag": _resolve_diag,
}


class _Concrete:
    """The unifier for explicit expressions: every dimension is an integer."""

    inferring = False

    def __init__(self, names: dict[str, tuple[int, int]]):
        self.names = names

    def known(self, d):
        return d

    def same(self, a, b, message):
        if a != b:
            raise _Fail(message())

    def mul(self, a, b, node):
        return a * b

    def is_one(self, shape):
        return tuple(shape) == (1, 1)

    def maybe_one(self, shape):
        return False

    def defer(self, message=None):
        raise _Fail(message or "ambiguous shape")

    def fail(self, message):
        raise _Fail(message)

    def show(self, shape):
        return show_shape(shape)

    def fresh(self, node=None):
        raise _Fail("a bare I or ones needs its size here")

    def name_shape(self, name, node):
        try:
            return self.names[name]
        except KeyError:
            raise _Fail(f"unknown name '{name}'") from None


class Shapes:
    """Shapes of explicit expressions over known name shapes, memoised."""

    def __init__(self, names: dict[str, tuple[int, int]]):
        self.names = names
        self._u = _Concrete(names)
        self._memo: dict[Expr, tuple[int, int]] = {}

    def __call__(self, e: Expr) -> tuple[int, int]:
        got = self._memo.get(e)
        if got is None:
            args = [self(a) for a in e.args]
            try:
                got = tuple(REGISTRY[e.op].shape(self._u, e, *args))
            except _Fail as err:
                raise _error(str(err), e) from None
            self._memo[e] = got
        return got

    shape = __call__
