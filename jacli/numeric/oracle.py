"""The numerical derivative that knows nothing of the rules: ``check``'s oracle.

It perturbs the variables and evaluates the expression itself with the registry's value
rules. Where every operation is analytic the complex step, Im F(X + i h E) / h, is exact
to rounding and is the default; central differences with a step chosen per entry serve
where one is not (abs, relu: the complex step would be wrong there) and on request
(``method="central"``). Each reports an estimate of its own error.
"""

from __future__ import annotations

import numpy as np

from ..calculus.ops import REGISTRY
from ..errors import JacliError
from ..expr import Expr
from .evaluate import Evaluator

COMPLEX_STEP = 1e-20
EPS = np.finfo(float).eps
METHODS = ("complex", "central")


def not_analytic(expr: Expr) -> str | None:
    """The first operator of ``expr`` that is not analytic (so that the complex step
    would be wrong), or None."""
    return next((node.op for node in expr.walk() if not REGISTRY[node.op].analytic), None)


def _perturbations(m: int, n: int, rows: slice) -> np.ndarray:
    """Unit matrices E_k, k in rows, in vec (column-major) order: shape (k, m, n)."""
    ks = np.arange(m * n)[rows]
    E = np.zeros((len(ks), m, n))
    E[np.arange(len(ks)), ks % m, ks // m] = 1.0
    return E


def _vec_batch(F: np.ndarray, count: int, p: int, q: int) -> np.ndarray:
    F = np.broadcast_to(F, (count, p, q))
    return np.swapaxes(F, -1, -2).reshape(count, p * q)  # rows are vec(F_k)


def numerical_jacobian(
    expr: Expr,
    values: dict[str, np.ndarray],
    variables: dict[str, tuple[int, int]],
    f_shape: tuple[int, int],
    largest: int,
    method: str = "complex",
) -> tuple[np.ndarray, float]:
    """d vec(F)/d vec(X) by perturbation, side by side for the ``variables`` (names and
    shapes, in order), and an estimate of its error. ``largest`` is the number of entries
    of the largest node of ``expr``, which sets how many perturbations go in one batch."""
    if method not in METHODS:
        raise JacliError(f"unknown method {method!r}: complex or central")
    p, q = f_shape
    blocks, estimates = [], []
    for var, (m, n) in variables.items():
        x = values[var]
        chunk = max(1, int(4e6 // max(largest, 1)))  # complex entries per batch: ~64 MB
        cols = []
        for start in range(0, m * n, chunk):
            E = _perturbations(m, n, slice(start, min(start + chunk, m * n)))
            if method == "complex":
                d1 = _complex_step(expr, values, var, E, COMPLEX_STEP, p, q)
                d2 = _complex_step(expr, values, var, E, COMPLEX_STEP * 1e8, p, q)
                estimates.append(np.max(np.abs(d1 - d2), initial=0) + 8 * EPS * np.max(np.abs(d1), initial=0))
            else:
                h = EPS ** (1 / 3) * np.maximum(1.0, np.abs(x))[None] * E  # a step per entry
                hk = h.reshape(len(E), -1).max(axis=1)
                d1 = _central(expr, values, var, h, hk, p, q)
                d2 = _central(expr, values, var, 2 * h, 2 * hk, p, q)
                estimates.append(np.max(np.abs(d1 - d2), initial=0) / 3)  # Richardson
            cols.append(d1)
        blocks.append(np.concatenate(cols, axis=1))
    return np.concatenate(blocks, axis=1), float(max(estimates, default=0.0))


def _complex_step(expr: Expr, values: dict, var: str, E: np.ndarray, h: float, p: int, q: int) -> np.ndarray:
    moved = dict(values)
    moved[var] = values[var][None] + 1j * h * E
    F = Evaluator(moved)(expr)
    return (_vec_batch(F, len(E), p, q).imag / h).T


def _central(expr: Expr, values: dict, var: str, h: np.ndarray, hk: np.ndarray, p: int, q: int) -> np.ndarray:
    plus, minus = dict(values), dict(values)
    plus[var], minus[var] = values[var][None] + h, values[var][None] - h
    Fp = _vec_batch(Evaluator(plus)(expr), len(h), p, q)
    Fm = _vec_batch(Evaluator(minus)(expr), len(h), p, q)
    return ((Fp - Fm) / (2 * hk[:, None])).T


def to_row_vec(J: np.ndarray, f_shape: tuple[int, int], variables: dict[str, tuple[int, int]]) -> np.ndarray:
    """Reorder rows and columns of J from column stacking to row stacking."""
    p, q = f_shape
    rows = np.arange(p * q).reshape(q, p).T.ravel()  # vecᵣ index i*q+j ← vec index j*p+i
    cols = []
    offset = 0
    for m, n in variables.values():
        cols.append(offset + np.arange(m * n).reshape(n, m).T.ravel())
        offset += m * n
    return J[rows][:, np.concatenate(cols)]
