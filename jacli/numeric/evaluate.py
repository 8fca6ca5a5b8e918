"""Plain evaluation of an expression to a dense array, by the registry's value rules.

This is the reference: every structured fast path is tested against it. Values may carry
leading batch axes and complex entries (the numerical oracle's complex steps). A batch of
complex matrix products is computed as four real ones, exactly the same sums: NumPy's
stacked complex matmul takes about four times as long (``check``'s time goes there).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import sizes
from ..calculus.ops import REGISTRY
from ..errors import JacliError
from ..expr import Expr
from ..syntax.printer import to_text

if TYPE_CHECKING:
    from ..calculus.ops.registry import ShapeOf


class Budget:
    """What a computation may keep in the arrays it makes, counted as it makes them: shared by
    the evaluator of dense parts and the structured compiler (their nodes and intermediates
    are all alive until the result is written). ``limit`` is the user's memory limit,
    ``reserved`` what is held besides (the values, the result): refused beyond the limit."""

    def __init__(self, limit: float | None, reserved: int = 0) -> None:
        self.limit = limit
        self.reserved = reserved
        self.held = 0

    def take(self, nbytes: int, what: str) -> None:
        """Count ``nbytes`` more, or refuse them (before they are allocated)."""
        if self.limit is not None and self.reserved + self.held + nbytes > self.limit:
            held = self.reserved + self.held
            besides = f", with the {held:,} bytes held besides," if held else ""
            raise JacliError(
                f"{what} would need {nbytes:,} bytes{besides} above the memory limit "
                f"of {int(self.limit):,} bytes (--max-memory)"
            )
        self.held += nbytes


def as_budget(max_bytes: float | Budget | None) -> Budget:
    return max_bytes if isinstance(max_bytes, Budget) else Budget(max_bytes)


class Evaluator:
    """Evaluates expressions over bound values, remembering shared sub-expressions.

    ``check`` runs the registry's domain checks (singular inverses, logs of non-positive
    entries, ...); ``variables`` are the names differentiated by, so that a check can be
    stricter where a derivative is needed (sqrt at 0). ``shapes`` and ``max_bytes`` (a
    number, or a :class:`Budget` shared with others) refuse, before it is allocated, a node
    whose array would take what is held (every node computed, kept for reuse) past the
    limit; the values themselves are the caller's to count.
    """

    def __init__(
        self,
        values: dict[str, np.ndarray],
        *,
        check: bool = False,
        variables: Iterable[str] = (),
        shapes: ShapeOf | None = None,
        max_bytes: float | Budget | None = None,
    ) -> None:
        self.values = values
        self.check = check
        self.variables = frozenset(variables)
        self.shapes = shapes
        self.budget = as_budget(max_bytes)
        self.memo: dict[Expr, np.ndarray] = {}

    def __call__(self, e: Expr) -> np.ndarray:
        got = self.memo.get(e)
        if got is None:
            with np.errstate(all="ignore"):  # overflow and invalid values are found by the callers
                got = self._get(e)
        return got

    def _get(self, e: Expr) -> np.ndarray:
        got = self.memo.get(e)
        if got is None:
            got = self._eval(e)
            self.memo[e] = got
        return got

    def _eval(self, e: Expr) -> np.ndarray:
        if e.op == "name":
            try:
                return self.values[e.attr]
            except KeyError:
                raise JacliError(
                    f"{e.attr} has no values: bind it to values (e.g. {e.attr}=file.npy) or use --random"
                ) from None
        if self.shapes is not None and self.budget.limit is not None:
            r, c = self.shapes(e)
            self.budget.take(r * c * 8, f"{to_text(e)} ({r}×{c})")
        op = REGISTRY[e.op]
        if op.value is None:
            raise ValueError(f"{e.op} has no value rule: resolve the expression first")
        args = [self._get(a) for a in e.args]
        if self.check and op.domain is not None:
            needed = bool(self.variables) and not self.variables.isdisjoint(e.names())
            value = op.domain(e, args, needed)
            if value is not None:  # the check computed the value already (an inverse)
                return value
        if e.op == "matmul" and _complex_batch(*args):
            return _complex_product(*args)
        try:
            return op.value(e, *args)
        except np.linalg.LinAlgError as err:
            where = f" at column {e.col}" if e.col else ""
            raise JacliError(f"{to_text(e)}{where}: {err}", column=e.col) from None


def _complex_batch(a: np.ndarray, b: np.ndarray) -> bool:
    return max(a.ndim, b.ndim) > 2 and (np.iscomplexobj(a) or np.iscomplexobj(b))


def _complex_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for stacks of complex matrices, as real products (not Gauss's three: the complex
    step's imaginary parts, 1e-20 of the real ones, would cancel away)."""
    ar, ai, br, bi = a.real, np.imag(a), b.real, np.imag(b)
    out = np.empty(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1]), dtype=complex)
    out.real = ar @ br - ai @ bi
    out.imag = ar @ bi + ai @ br
    return out


def evaluate(e: Expr, values: dict[str, np.ndarray], **options: Any) -> np.ndarray:
    """The value of ``e`` over ``values`` (the options of :class:`Evaluator`)."""
    return Evaluator(values, **options)(e)


def check_domains(
    expr: Expr, values: dict[str, np.ndarray], variables: Iterable[str] = (), ev: Evaluator | None = None
) -> Evaluator:
    """Refuse values where the expression or its derivative is undefined (singular inverse,
    log of a non-positive entry, division by zero ...): domain-checked nodes whose names all
    have values are evaluated with checks on. Returns the evaluator (``ev`` if given, which
    must check), whose memo the caller may reuse."""
    ev = Evaluator(values, check=True, variables=variables) if ev is None else ev
    for node, names in domain_nodes(expr):
        if all(n in values for n in names):
            ev(node)
    return ev


@functools.lru_cache(maxsize=512)
def domain_nodes(expr: Expr) -> tuple[tuple[Expr, tuple[str, ...]], ...]:
    """The nodes of ``expr`` with a domain rule and numeric sizes, with their names."""
    return tuple(
        (node, tuple(node.names()))
        for node in expr.walk()
        if REGISTRY[node.op].domain is not None and not sizes.in_expr(node)
    )
