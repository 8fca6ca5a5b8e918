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
    if "spd" in hints and r == c:
        q, _ = np.linalg.qr(rng.standard_normal((r, r)))
        return (q * (1.0 + 0.5 * np.arange(r))) @ q.T
    if "separated" in hints:
        k = min(r, c)
        u, _ = np.linalg.qr(rng.standard_normal((r, k)))
        v, _ = np.linalg.qr(rng.standard_normal((c, k)))
        return (u * (1.0 + 0.5 * np.arange(k)[::-1])) @ v.T
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


def second_derivative(expr, values: dict, var: str) -> tuple[np.ndarray, float]:
    """The stacked Hessian of vec(F), (p q m n) × (m n): row r m n + a, column b holds
    ∂²F_r / ∂x_a ∂x_b, from the function's values alone. Where expr is analytic: the
    complex step along x_a (exact) of central differences along x_b; otherwise four-point
    central differences. Returns it with the relative tolerance it allows."""
    x = values[var]
    m, n = x.shape
    N = m * n
    exact = analytic(expr)
    delta = 1e-5 if exact else 1e-4

    def at(point) -> np.ndarray:
        return Evaluator({**values, var: point})(expr).reshape(-1, order="F")

    def unit(k) -> np.ndarray:
        e = np.zeros((m, n))
        e[k % m, k // m] = 1.0
        return e

    cols = {}
    for a in range(N):
        for b in range(N):
            ea, eb = unit(a), unit(b)
            if exact:
                d = (at(x + 1j * H * ea + delta * eb) - at(x + 1j * H * ea - delta * eb)).imag / (2 * H * delta)
            else:
                pp, pm = at(x + delta * ea + delta * eb), at(x + delta * ea - delta * eb)
                mp, mm = at(x - delta * ea + delta * eb), at(x - delta * ea - delta * eb)
                d = (pp - pm - mp + mm) / (4 * delta * delta)
            cols[a, b] = d
    P = len(cols[0, 0])
    out = np.empty((P * N, N))
    for (a, b), d in cols.items():
        out[np.arange(P) * N + a, b] = d
    return out, (1e-6 if exact else 1e-4)
