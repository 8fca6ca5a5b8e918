"""An independent numerical oracle for tests: the complex step, written here from scratch.

It perturbs one entry of the variable at a time and evaluates the expression with the
registry's value rules only; it never looks at a derivative rule.
"""

from __future__ import annotations

import numpy as np

from jacli.numeric.evaluate import Evaluator

H = 1e-20


def complex_step(expr, values: dict, var: str) -> np.ndarray:
    x = values[var]
    m, n = x.shape
    cols = []
    for k in range(m * n):
        i, j = k % m, k // m  # vec stacks columns
        vals = dict(values)
        xp = x.astype(complex)
        xp[i, j] += 1j * H
        vals[var] = xp
        F = Evaluator(vals)(expr)
        cols.append(F.imag.reshape(-1, order="F") / H)
    return np.stack(cols, axis=1)


def central(expr, values: dict, var: str, h: float = 1e-6) -> np.ndarray:
    x = values[var]
    m, n = x.shape
    cols = []
    for k in range(m * n):
        i, j = k % m, k // m
        plus, minus = dict(values), dict(values)
        xp, xm = x.copy(), x.copy()
        xp[i, j] += h
        xm[i, j] -= h
        plus[var], minus[var] = xp, xm
        cols.append((Evaluator(plus)(expr) - Evaluator(minus)(expr)).reshape(-1, order="F") / (2 * h))
    return np.stack(cols, axis=1)


def draw(rng, shape, hints=()) -> np.ndarray:
    r, c = shape
    if "interval" in hints:
        return rng.uniform(-0.9, 0.9, shape)
    if "positive" in hints:
        a = rng.uniform(0.5, 1.5, shape)
        return a + (r * np.eye(r) if "invertible" in hints and r == c else 0)
    if "invertible" in hints and r == c:
        return rng.standard_normal(shape) / np.sqrt(r) + 2 * np.eye(r)
    return rng.standard_normal(shape)


def analytic(expr) -> bool:
    """Whether every operator in expr is analytic, so that the complex step is exact."""
    from jacli.calculus.ops import REGISTRY

    return all(REGISTRY[node.op].analytic for node in expr.walk())


def derivative(expr, values: dict, var: str) -> tuple[np.ndarray, float]:
    """The numerical Jacobian and the relative tolerance it allows: the complex step where
    expr is analytic, central differences otherwise (abs, relu: the complex step is wrong)."""
    if analytic(expr):
        return complex_step(expr, values, var), 1e-9
    return central(expr, values, var), 1e-6
