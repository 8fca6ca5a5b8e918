"""Plain evaluation of an expression to a dense array, by the registry's value rules.

This is the reference: every structured fast path is tested against it. Values may carry
leading batch axes and complex entries (the numerical oracle's complex steps).
"""
from __future__ import annotations

import numpy as np

from .errors import JacliError
from .expr import Expr
from .ops import REGISTRY


class Evaluator:
    """Evaluates expressions over bound values, remembering shared sub-expressions.

    ``check`` runs the registry's domain checks (singular inverses, logs of non-positive
    entries, ...); ``variables`` are the names differentiated by, so that a check can be
    stricter where a derivative is needed (sqrt at 0). ``shapes`` and ``max_bytes``
    refuse a node whose array would be larger than allowed, before it is allocated.
    """

    def __init__(self, values: dict[str, np.ndarray], *, check: bool = False, variables=(),
                 shapes=None, max_bytes: float | None = None):
        self.values = values
        self.check = check
        self.variables = frozenset(variables)
        self.shapes = shapes
        self.max_bytes = max_bytes
        self.memo: dict[Expr, np.ndarray] = {}

    def __call__(self, e: Expr) -> np.ndarray:
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
                raise JacliError(f"{e.attr} has no values: bind it to values (e.g. {e.attr}=file.npy) or use --random") from None
        if self.shapes is not None and self.max_bytes is not None:
            r, c = self.shapes(e)
            if r * c * 8 > self.max_bytes:
                from .printer import to_text
                raise JacliError(f"{to_text(e)} would need {r * c * 8:,} bytes ({r}×{c}), above the memory limit "
                                 f"of {int(self.max_bytes):,} bytes (--max-memory)")
        op = REGISTRY[e.op]
        args = [self(a) for a in e.args]
        if self.check and op.domain is not None:
            needed = bool(self.variables) and not self.variables.isdisjoint(e.names())
            op.domain(e, args, needed)
        try:
            with np.errstate(all="ignore"):
                return op.value(e, *args)
        except np.linalg.LinAlgError as err:
            from .printer import to_text
            where = f" at column {e.col}" if e.col else ""
            raise JacliError(f"{to_text(e)}{where}: {err}", column=e.col) from None


def evaluate(e: Expr, values: dict[str, np.ndarray], **options) -> np.ndarray:
    return Evaluator(values, **options)(e)
