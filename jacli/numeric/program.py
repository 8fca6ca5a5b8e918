"""Expressions flattened once into a list of steps, to be run at many values.

:class:`~jacli.numeric.evaluate.Evaluator` walks a tree and remembers shared nodes in a
dictionary: right for one evaluation. A compiled problem evaluates the same expressions
(its gradient, the nodes whose domain is checked) at each call, so a :class:`Program` puts
their nodes in order once, shared nodes once, and a run is one loop over the steps with
the same value and domain rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..calculus.ops import REGISTRY
from ..errors import JacliError
from ..expr import Expr
from ..syntax.printer import to_text

if TYPE_CHECKING:
    from ..calculus.ops.registry import DomainRule, ValueRule


class Step(NamedTuple):
    node: Expr
    value: ValueRule | None  # the record's value rule, or None for a name
    domain: DomainRule | None  # the record's domain rule where it is checked, else None
    needed: bool  # whether a derivative is taken through the node (a stricter domain)
    args: tuple[int, ...]  # the steps whose values are the arguments


class Program:
    """The nodes of ``outputs`` and of ``checked`` (evaluated for their domain checks only),
    in an order where each comes after its arguments. ``variables`` are the names the
    derivative is taken with respect to."""

    def __init__(self, outputs: Iterable[Expr], checked: Iterable[Expr] = (), variables: Iterable[str] = ()) -> None:
        variables = frozenset(variables)
        self.steps: list[Step] = []
        index: dict[Expr, int] = {}

        def visit(e: Expr) -> int:
            at = index.get(e)
            if at is not None:
                return at
            args = tuple(visit(a) for a in e.args)
            op = REGISTRY[e.op]
            needed = bool(variables) and not variables.isdisjoint(e.names())
            value = None if e.op == "name" else op.value
            if value is None and e.op != "name":
                raise ValueError(f"{e.op} has no value rule: resolve the expression first")
            self.steps.append(Step(e, value, op.domain, needed, args))
            index[e] = len(self.steps) - 1
            return index[e]

        for e in checked:
            visit(e)
        self.outputs = [visit(e) for e in outputs]

    def run(self, values: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The outputs' values over ``values``, refusing values outside a domain."""
        out: list[Any] = [None] * len(self.steps)
        with np.errstate(all="ignore"):
            for i, (node, value, domain, needed, args) in enumerate(self.steps):
                if value is None:
                    try:
                        out[i] = values[node.attr]
                    except KeyError:
                        raise JacliError(f"{node.attr} has no values: bind it to values") from None
                    continue
                a = [out[j] for j in args]
                if domain is not None:
                    checked = domain(node, a, needed)
                    if checked is not None:  # the check computed the value already (an inverse)
                        out[i] = checked
                        continue
                try:
                    out[i] = value(node, *a)
                except np.linalg.LinAlgError as err:
                    where = f" at column {node.col}" if node.col else ""
                    raise JacliError(f"{to_text(node)}{where}: {err}", column=node.col) from None
        return [out[i] for i in self.outputs]
