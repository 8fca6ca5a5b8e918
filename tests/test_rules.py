"""Every derivative rule of the registry against the complex-step oracle.

The cases are generated from the registry itself: for each operator with derivative rules,
every combination of argument shapes from a menu (non-square, column and row vectors, 1×1)
that the operator's own shape rule accepts. Registering a rule is enough to have it tested.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from oracle import derivative, draw

from jacli.api import Problem
from jacli.api.derivation import Block, evaluate_blocks
from jacli.calculus import ops
from jacli.calculus.chain import jacobian_expr
from jacli.calculus.shapes import Shapes
from jacli.errors import JacliError
from jacli.expr import Expr, name
from jacli.numeric.evaluate import Evaluator
from jacli.sizes import dim

SHAPES = [(2, 3), (3, 2), (3, 3), (3, 1), (1, 3), (1, 1), (2, 2), (4, 2)]
ATTRS = {"pow": [2, 3, 0, -1, -2]}


def build(opname: str, attr, args) -> Expr:
    """The operator applied to ``args``; an output of a decomposition is part k of it."""
    if opname == "part":
        decomposition, k = attr
        return Expr("part", (Expr(decomposition, tuple(args)),), k)
    return Expr(opname, tuple(args), attr)


def hints(opname: str, attr) -> tuple:
    """What random values the operator's arguments need (a part: its decomposition's)."""
    return ops.REGISTRY[attr[0] if opname == "part" else opname].random_hints


def covered(op) -> bool:
    """Operators with a value and a differential; a decomposition through its parts."""
    from jacli.calculus.ops.outputs import OUTPUTS

    return op.differential is not None and op.value is not None and op.name not in OUTPUTS


def attrs(op, symbolic: bool = False) -> list:
    """The attributes to try an operator with: powers, a size (unvec's rows), an offset."""
    if op.name in ATTRS:
        return ATTRS[op.name]
    if op.name == "part":
        from jacli.calculus.ops.outputs import OUTPUTS

        return [(d, k) for d, outs in OUTPUTS.items() for k in range(len(outs))]
    if op.name in ("frechet", "dform"):  # of every matrix function
        return [n for n, o in ops.REGISTRY.items() if o.notation.frechet]
    kind = op.notation.attr
    if kind == "size":
        return [dim("m"), 1] if symbolic else [1, 2, 3]
    if kind == "offset":
        return [0, -1, 1]
    if kind == "slice":
        return [(0, 1, 0, None), (1, None, 1, 2)] if not symbolic else [(0, 1, 0, None)]
    return [None]


def _accepts(op, shapes, attr) -> bool:
    node = build(op.name, attr, [name(f"A{i}") for i in range(op.arity)])
    try:
        Shapes({f"A{i}": s for i, s in enumerate(shapes)})(node)
    except JacliError:
        return False
    return True


def _cases():
    for op in ops.REGISTRY.values():
        if not covered(op):
            continue
        for attr in attrs(op):
            combos = [c for c in itertools.product(SHAPES, repeat=op.arity) if _accepts(op, c, attr)]
            for shapes in combos[:6]:
                for i in range(op.arity):
                    yield pytest.param(
                        op.name,
                        attr,
                        shapes,
                        i,
                        id=f"{op.name}{'' if attr is None else attr}-{'-'.join(f'{r}x{c}' for r, c in shapes)}-d{i}",
                    )


def _values(op, shapes, seed, attr=None):
    """Values the operator's record allows (its random hints)."""
    rng = np.random.default_rng(seed)
    vals = {}
    for i, s in enumerate(shapes):
        hint = hints(op.name, attr)[i] if i < len(hints(op.name, attr)) else None
        vals[f"A{i}"] = draw(rng, s, {hint} if hint else set())
    return vals


def _check(expr, shapes_by_name, vals, var):
    sh = Shapes(shapes_by_name)
    J_expr = jacobian_expr(expr, var, sh)
    plain = Evaluator(vals)(J_expr)
    oracle, tol = derivative(expr, vals, var)
    np.testing.assert_allclose(plain, oracle, rtol=tol, atol=tol)
    problem = Problem("", expr, (var,), shapes_by_name, vals, sh)
    fast = evaluate_blocks(problem, (Block(var, shapes_by_name[var], J_expr, "", ""),))
    np.testing.assert_allclose(fast, plain, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("opname,attr,shapes,i", list(_cases()))
def test_rule_against_complex_step(opname, attr, shapes, i):
    op = ops.REGISTRY[opname]
    expr = build(opname, attr, [name(f"A{k}") for k in range(op.arity)])
    names = {f"A{k}": s for k, s in enumerate(shapes)}
    _check(expr, names, _values(op, shapes, 1, attr), f"A{i}")


@pytest.mark.parametrize("opname,attr,shapes,i", [c for c in _cases() if c.values[3] == 0][::2])
def test_rule_through_the_chain_rule(opname, attr, shapes, i):
    """The same rule with its first argument a product P Y Q of the variable Y."""
    op = ops.REGISTRY[opname]
    r, c = shapes[0]
    guarded = any(hints(opname, attr))  # the argument must be invertible or positive
    k, m = (r, c) if guarded else (2, 3)  # square inner sizes keep P Y Q invertible
    inner = Expr("matmul", (Expr("matmul", (name("P"), name("Y"))), name("Q")))
    expr = build(opname, attr, [inner, *(name(f"A{j}") for j in range(1, op.arity))])
    names = {f"A{j}": s for j, s in enumerate(shapes)}
    names.update({"P": (r, k), "Y": (k, m), "Q": (m, c)})
    vals = _values(op, shapes, 2, attr)
    rng = np.random.default_rng(3)
    for n, (a, b) in (("P", (r, k)), ("Y", (k, m)), ("Q", (m, c))):
        if "interval" in hints(opname, attr):  # small: the entries of P Y Q stay inside (-1, 1)
            vals[n] = rng.uniform(-0.4, 0.4, (a, b))
        elif guarded:
            # positive, and diagonally dominant when square: P Y Q then has positive entries
            # and a positive determinant, as log, sqrt, ./, inv and logdet need
            vals[n] = rng.uniform(0.5, 1.5, (a, b)) + (a * np.eye(a) if a == b else 0)
        else:
            vals[n] = rng.standard_normal((a, b))
    _check(expr, names, vals, "Y")


def test_every_registered_rule_is_exercised():
    tested = {c.values[0] for c in _cases()}
    with_rules = {n for n, op in ops.REGISTRY.items() if covered(op)}
    assert tested == with_rules
