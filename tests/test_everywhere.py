"""A record defined everywhere has derivatives defined everywhere.

Generated over the registry: every operator with a value rule, a differential and no domain
rule (its value is defined at every argument: adj, det, expm, kron, the elementwise
functions without a singularity, ...), on the shape menu of tests/test_rules.py. Its
Jacobian, the gradient of sum(W ∘ F) and that gradient's Jacobian (the Hessian) must hold no
node that refuses a singular matrix (an inverse, a solve, a negative power, logdet, a matrix
function defined only off a singular set: they divide by a determinant or a singular value,
which vanishes where the value is still defined), and at degenerate arguments (rank one,
singular, with zero entries) jacli must give the numbers, its domain checks passing, equal
to the oracle's.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracle import derivative, second_derivative
from test_rules import _cases

import jacli
from jacli.calculus import ops
from jacli.calculus.adjoint import gradient
from jacli.calculus.chain import jacobian_expr
from jacli.calculus.shapes import Shapes
from jacli.calculus.simplify import Simplifier
from jacli.expr import Expr, name
from jacli.syntax import to_text


def refuses_singular(node: Expr) -> bool:
    """Whether the node's record refuses a singular argument (its random values must be
    invertible), the Fréchet records of a matrix function that does."""
    if node.op in ("frechet", "dform"):
        return ops.REGISTRY[node.attr].domain is not None
    if node.op == "pow":
        return bool(node.attr < 0)
    return "invertible" in ops.REGISTRY[node.op].random_hints


EVERYWHERE = [c for c in _cases() if ops.REGISTRY[c.values[0]].domain is None]
FIRST = {}
for case in EVERYWHERE:  # the first two shapes of each operator and argument
    FIRST.setdefault((case.values[0], case.values[1], case.values[3]), []).append(case)
CASES = [c for group in FIRST.values() for c in group[:2]]


def degenerate(shape: tuple[int, int]) -> np.ndarray:
    """Rank one, with zero entries where it has three columns; 0 for a 1×1."""
    r, c = shape
    if (r, c) == (1, 1):
        return np.zeros((1, 1))
    return np.outer(np.arange(1.0, r + 1), np.linspace(-1.0, 1.0, c))


def _problem(opname, attr, shapes, i):
    op = ops.REGISTRY[opname]
    expr = Expr(opname, tuple(name(f"A{k}") for k in range(op.arity)), attr)
    names = {f"A{k}": s for k, s in enumerate(shapes)}
    values = {f"A{k}": degenerate(s) for k, s in enumerate(shapes)}
    out = Shapes(names)(expr)
    names["W"] = out
    values["W"] = np.random.default_rng(0).standard_normal(out)
    f = Expr("sum", (Expr("had", (name("W"), expr)),))
    return expr, f, names, values, f"A{i}"


@pytest.mark.parametrize("opname,attr,shapes,i", CASES)
def test_no_derivative_refuses_a_singular_matrix(opname, attr, shapes, i):
    expr, f, names, _, var = _problem(opname, attr, shapes, i)
    sh = Shapes(names)
    simp = Simplifier(sh)
    g = gradient(f, var, sh, simp)
    for form in (jacobian_expr(expr, var, sh), g, jacobian_expr(g, var, sh)):
        bad = [to_text(n) for n in form.walk() if refuses_singular(n)]
        assert not bad, f"{to_text(form)} holds {bad}"


@pytest.mark.parametrize("opname,attr,shapes,i", CASES)
def test_derivatives_at_degenerate_arguments(opname, attr, shapes, i):
    expr, f, _, values, var = _problem(opname, attr, shapes, i)
    args = {k: v for k, v in values.items() if k != "W"}
    J = jacli.derive(f"{to_text(expr)} wrt {var}", **args).matrix
    want, tol = derivative(expr, args, var)
    np.testing.assert_allclose(J, want, rtol=tol, atol=tol * max(1.0, float(np.max(np.abs(want)))))
    H = jacli.hessian(f"{to_text(f)} wrt {var}", **values)
    want, tol = second_derivative(f, values, var)
    np.testing.assert_allclose(H, want, rtol=tol, atol=tol * max(1.0, float(np.max(np.abs(want)))))
