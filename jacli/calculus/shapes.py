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

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from .. import sizes
from ..errors import JacliError
from ..expr import Expr
from ..sizes import SizeLike
from ..syntax.notation import notation
from ..syntax.printer import to_text
from .ops import REGISTRY
from .unify import UNKNOWN, Concrete, Deferred, Fail, Inference, error, show_shape

if TYPE_CHECKING:
    from .ops.registry import Shape, Unifier

__all__ = ["UNKNOWN", "Resolved", "Shapes", "at_sizes", "infer", "resolve_all", "shape_at_sizes", "show_shape"]


class Resolved(NamedTuple):
    """An explicit expression, the shape of every name in it, and the size names jacli chose."""

    expr: Expr
    names: dict[str, Shape]
    chosen: tuple[str, ...] = ()


def infer(
    expr: Expr,
    given: dict[str, Shape],
    *,
    source: str | None = None,
    result_shape: Shape | None = None,
    name_sizes: tuple[str, ...] | None = None,
) -> Resolved:
    """Infer every shape in ``expr`` from the ``given`` name shapes; resolve the expression.

    ``result_shape``, when given, is what the whole expression must come to (used for a
    claimed Jacobian, where a bare ``I`` takes its size from the Jacobian's shape).
    ``name_sizes``, when given, lets jacli name every size nothing fixes (m, n, p, ...),
    the sizes of the names it lists first: ``A X B`` then has X m×n, A p×m, B n×q.
    """
    return resolve_all([expr], given, source=source, result_shapes=[result_shape], name_sizes=name_sizes)[0]


def resolve_all(
    exprs: list[Expr],
    given: dict[str, Shape],
    *,
    source: str | None = None,
    result_shapes: list[Shape | None] | None = None,
    name_sizes: tuple[str, ...] | None = None,
) -> list[Resolved]:
    """Infer shapes of several expressions that share their names' shapes."""
    run = _Run(Inference(given), source)
    for node in (n for e in exprs for n in e.walk()):
        run.first_attempt(node)
    for e, want in zip(exprs, result_shapes or [None] * len(exprs)):
        if want is not None:
            run.require(e, want)
    run.settle()
    u = run.u
    if u.columns_of_vectors([n for e in exprs for n in e.names()]):
        run.settle()
    chosen: list[str] = []
    if name_sizes is not None:
        matrices = [n for e in exprs for n in e.names()]
        taken = {d for shape in given.values() for d in sizes.names(tuple(shape))} | set(matrices)
        try:
            u.name_unknowns([*name_sizes, *matrices], taken, chosen)
            run.settle()
        except JacliError as err:
            raise _chosen_hint(err, u, chosen, [n for n in dict.fromkeys(matrices) if n not in given]) from None
    _require_known(u, source)
    names = {n: (_size(u.known(r)), _size(u.known(c))) for n, (r, c) in u.names.items()}
    return [Resolved(_resolve(e, u, run.shape_of), names, tuple(chosen)) for e in exprs]


def _chosen_hint(err: JacliError, u: Inference, chosen: list[str], unbound: list[str]) -> JacliError:
    """A shape error about sizes jacli named itself: which names they are, whose sizes they are,
    and how to fix them instead."""
    if not chosen:
        return err
    shown = {n: u.show(u.names[n]) for n in unbound if n in u.names}
    open_ = [n for n, s in shown.items() if "?" in s] or list(shown) or ["X"]
    verb = "is a size" if len(chosen) == 1 else "are sizes"
    hint = (
        f" ({', '.join(chosen)} {verb} jacli chose, as no shape fixed them: "
        f"{', '.join(f'{n} {s}' for n, s in shown.items())}; give the shapes that hold, as in {open_[0]}=3x4)"
    )
    return JacliError((*err.parts, hint), column=err.column, source=err.source)


class _Run:
    """One inference: every node's shape (or a placeholder), and the nodes still waiting."""

    def __init__(self, u: Inference, source: str | None) -> None:
        self.u = u
        self.source = source
        self.shape_of: dict[int, Shape] = {}  # by id(node)
        self.parents: dict[int, Expr] = {}
        self.pending: list[Expr] = []

    def first_attempt(self, node: Expr) -> None:
        for a in node.args:
            self.parents[id(a)] = node
        if not self.attempt(node):
            self.shape_of[id(node)] = (self.u.fresh(), self.u.fresh())
            self.pending.append(node)

    def attempt(self, node: Expr) -> bool:
        u: Unifier = self.u  # what the shape rules are given
        args = [self.shape_of[id(a)] for a in node.args]
        try:
            shape = REGISTRY[node.op].shape(u, node, *args)
        except Deferred:
            return False
        except Fail as e:
            raise error(str(e), node, self.source) from None
        if id(node) not in self.shape_of:
            self.shape_of[id(node)] = tuple(shape)
            return True
        placeholder = self.shape_of[id(node)]

        def conflict() -> str:
            return f"{to_text(node)} is {u.show(shape)}, but where it stands it must be {u.show(placeholder)}"

        try:
            u.same(placeholder[0], shape[0], conflict)
            u.same(placeholder[1], shape[1], conflict)
        except Fail as e:
            raise self.blame_parent(node, shape, e) from None
        return True

    def blame_parent(self, node: Expr, shape: Shape, err: Fail) -> JacliError:
        """A deferred product turned out to clash with where it stands: say so in the words
        of the operator it stands in (cannot add 2×3 and 4×5), where that one fails."""
        parent = self.parents.get(id(node))
        if parent is not None:
            args = [shape if a is node else self.shape_of[id(a)] for a in parent.args]
            self.u.forced = True
            try:
                REGISTRY[parent.op].shape(self.u, parent, *args)
            except Fail as e:
                return error(str(e), parent, self.source)
            finally:
                self.u.forced = False
        return error(str(err), node, self.source)

    def require(self, e: Expr, want: tuple[int, int]) -> None:
        u, got = self.u, self.shape_of[id(e)]

        def message() -> str:
            return f"the formula is {u.show(got)}, the Jacobian {show_shape(want)}"

        try:
            u.same(got[0], want[0], message)
            u.same(got[1], want[1], message)
        except Fail as err:
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
                waiting = [n for node in self.pending for n in node.names()]
                if self.u.columns_of_vectors(waiting):
                    continue  # a lowercase name is a column where nothing fixes it (diag(x)), before forcing
                self.u.forced = True
                try:
                    self.attempt(self.pending.pop(0))
                finally:
                    self.u.forced = False


def _size(d: SizeLike | None) -> SizeLike:
    if d is None:
        raise RuntimeError("a size is still unknown after inference")
    return d


def _require_known(u: Inference, source: str | None) -> None:
    missing = []
    for name, (r, c) in u.names.items():
        if u.known(r) is None or u.known(c) is None:
            missing.append((name, u.show((r, c))))
    if missing:
        name, shown = missing[0]
        others = "".join(f", {n} ({s})" for n, s in missing[1:3])
        if len(missing) > 3:
            others += f" and {len(missing) - 3:,} more"
        rows, cols = shown.split("×")
        example = f"{'3' if rows == '?' else rows}x{'1' if cols == '?' else cols}"
        raise JacliError(
            f"{UNKNOWN} the shape of {name} ({shown}){others}: give it, as in {name}={example}", source=source
        )
    for node, v in u.builtins:
        if u.known(v) is None:
            what = node.op
            hint = {"I": "I(n)", "ones": "ones(m,n)"}.get(node.op, f"{node.op}(c) ∘ ones(m,n) or c ones(m,n)")
            raise error(f"{UNKNOWN} the size of {what} from where it stands: write {hint}", node, source)


def _resolve(e: Expr, u: Inference, shape_of: dict[int, Shape]) -> Expr:
    args = tuple(_resolve(a, u, shape_of) for a in e.args)
    rule = _RESOLVE.get(e.op)
    if rule is not None:
        known = [tuple(u.known(d) for d in shape_of[id(x)]) for x in (e, *e.args)]
        got = rule(e, args, *known)
        if got is not None:
            return got
    return Expr(e.op, args, e.attr, col=e.col)


def _resolve_mul(e: Expr, args: tuple[Expr, ...], shape: Shape, a: Shape, b: Shape) -> Expr:
    if a == (1, 1):
        return Expr("smul", args, col=e.col)
    if b == (1, 1):
        return Expr("smul", (args[1], args[0]), col=e.col)
    return Expr("matmul", args, col=e.col)


def _constant(e: Expr, shape: Shape) -> Expr:
    """vector(c), matrix(c): c times ones of the size where it stands."""
    body = Expr("ones", (), shape, col=e.col)
    return body if e.attr == 1 else Expr("smul", (Expr("num", (), float(e.attr)), body), col=e.col)


def _resolve_diag(e: Expr, args: tuple[Expr, ...], shape: Shape, a: Shape) -> Expr | None:
    return Expr("diagonal", args, col=e.col) if a[0] == a[1] and a[0] != 1 else None


# What inference makes of the parser's operators once shapes are known: a product becomes
# a matrix product or a scalar multiple, bare I and ones get their sizes, diag of a square
# matrix becomes its diagonal.
_RESOLVE: dict[str, Callable[..., Expr | None]] = {
    "mul": _resolve_mul,
    "ldiv": lambda e, args, *shapes: Expr("solve", args, col=e.col),
    "I": lambda e, args, shape: Expr("I", (), shape[0], col=e.col) if e.attr is None else None,
    "ones": lambda e, args, shape: Expr("ones", (), shape, col=e.col) if e.attr is None else None,
    "vector": lambda e, args, shape: _constant(e, shape),
    "matrix": lambda e, args, shape: _constant(e, shape),
    "diag": _resolve_diag,
}


class Shapes:
    """Shapes of explicit expressions over known name shapes, memoised."""

    def __init__(self, names: dict[str, tuple[int, int]], symmetric: frozenset[str] = frozenset()) -> None:
        self.names = names
        self.symmetric = symmetric  # names declared equal to their transpose (symmetric, diagonal)
        self._u: Unifier = Concrete(names)
        self._memo: dict[Expr, tuple[int, int]] = {}

    def __call__(self, e: Expr) -> tuple[int, int]:
        got = self._memo.get(e)
        if got is None:
            args = [self(a) for a in e.args]
            try:
                got = tuple(REGISTRY[e.op].shape(self._u, e, *args))
            except Fail as err:
                raise error(str(err), e) from None
            self._memo[e] = got
        return got

    shape = __call__

    def extended(self, extra: dict[str, tuple[int, int]]) -> Shapes:
        """These shapes and those of new names (a differential dX): the shapes known so far
        are kept, since no expression seen yet holds the new names."""
        if all(n in self.names for n in extra):
            return self
        out = Shapes({**self.names, **extra}, self.symmetric)
        out._memo = self._memo
        return out


def at_sizes(e: Expr, assignment: dict[str, int]) -> Expr:
    """``e`` with every dimension name replaced by its value in ``assignment``: the builtins'
    sizes (``I(m n)`` at m=2, n=3 is ``I(6)``)."""
    args = tuple(at_sizes(a, assignment) for a in e.args)
    attr = e.attr
    if attr is not None and (notation(e.op).builtin is not None or notation(e.op).attr in ("size", "slice")):
        attr = (
            tuple(s if s is None else sizes.value(s, assignment) for s in attr)
            if isinstance(attr, tuple)
            else sizes.value(attr, assignment)
        )
    return Expr(e.op, args, attr, e.col)


def shape_at_sizes(shape: Shape, assignment: dict[str, int]) -> tuple[int, int]:
    r, c = shape
    return sizes.value(r, assignment), sizes.value(c, assignment)
