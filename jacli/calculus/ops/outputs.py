"""Nodes with several outputs: a decomposition computed once, its parts taken.

A decomposition record (``eigh``, ``svd`` in :mod:`.decompositions`) has a value that is a
tuple, computed once per argument however many of its outputs an expression uses (it is one
node, shared like any other); its outputs are read as functions (``eigvals(S)`` is part 0 of
``eigh(S)``), each with its shape and its domain, and the decomposition's differential gives
all the outputs' differentials at once in an ``outputs`` node, of which each part takes its
own.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ...expr import Expr
from ...syntax.notation import Notation, notation
from .registry import Differentials, DomainRule, Op, Printer, Shape, ShapeOf, Unifier, register


class Output(NamedTuple):
    """One output of a decomposition: its name, its shape from the argument's, its domain."""

    name: str
    shape: Any  # (unifier, the argument's shape) -> the output's shape
    domain: DomainRule | None = None


OUTPUTS: dict[str, tuple[Output, ...]] = {}  # decomposition -> its outputs, in order


def decomposition(op: Op, outputs: tuple[Output, ...]) -> Op:
    """Register a decomposition and its outputs (read as functions of its arguments)."""
    OUTPUTS[op.name] = outputs
    return register(op._replace(notation=op.notation._replace(parts=tuple(o.name for o in outputs))))


def several(*values: np.ndarray) -> np.ndarray:
    """A decomposition's value: its outputs in a one-dimensional object array, each taken by
    its part (batched arrays, whatever their shapes)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def part(e: Expr, k: int) -> Expr:
    return Expr("part", (e,), k)


# -- a part of several outputs ---------------------------------------------------------------
def _part_shape(u: Unifier, node: Expr, whole: Shape) -> Shape:
    dec = node.args[0]
    if dec.op == "d":  # a step of a derivation: d(eigh(S))
        dec = dec.args[0]
    shape: Shape = OUTPUTS[dec.op][node.attr].shape(u, whole)
    return shape


def _part_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    if d[0] is None:
        return None
    if d[0].op == "outputs":
        k: int = node.attr
        return d[0].args[k]
    return part(d[0], node.attr)  # of a differential not yet expanded (jacli explain's steps)


def _part_domain(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
    rule = OUTPUTS[node.args[0].op][node.attr].domain
    if rule is not None:
        rule(node, args, derivative_needed)


def _part_text(p: Printer, e: Expr) -> str:
    dec, marked = e.args[0], False
    if dec.op == "d":
        dec, marked = dec.args[0], True
    name = notation(dec.op).parts[e.attr]
    args = ", ".join(p.show(a, 0) for a in dec.args)
    text = rf"\operatorname{{{name}}}\left({args}\right)" if p.latex else f"{name}({args})"
    if marked:
        return rf"\mathrm{{d}}\left({text}\right)" if p.latex else f"d({text})"
    return text


register(
    Op(
        "part",
        1,
        _part_shape,
        value=lambda node, whole: np.asarray(whole[node.attr]),
        differential=_part_differential,
        domain=_part_domain,
        notation=Notation(render=_part_text),
        cite="an output of a decomposition",
        python=lambda w, e: f"{w(e.args[0])}[{e.attr}]",
    )
)


def _outputs_text(p: Printer, e: Expr) -> str:
    return "(" + ", ".join(p.show(a, 0) for a in e.args) + ")"


# the differentials of a decomposition's outputs, together; each part takes its own
register(Op("outputs", 0, lambda u, node, *a: a[0], notation=Notation(render=_outputs_text)))
