"""The numerical derivative that knows nothing of the rules: ``check``'s oracle.

It perturbs the variables and evaluates the expression itself with the registry's value
rules. Where every operation is analytic the complex step, Im F(X + i h E) / h, is exact
to rounding and is the default; central differences with a step chosen per entry serve
where one is not (abs, relu: the complex step would be wrong there) and on request
(``method="central"``). Each reports an estimate of its own error.

:func:`numerical_jacobian` perturbs one entry at a time (a column of J per perturbation);
:func:`directional_derivatives` perturbs along given directions V, giving J V at the cost
of a few evaluations of F whatever the size of J.
"""

from __future__ import annotations

from collections.abc import Callable

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
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, float]:
    """d vec(F)/d vec(X) by perturbation, side by side for the ``variables`` (names and
    shapes, in order), and an estimate of its error. ``largest`` is the number of entries
    of the largest node of ``expr``, which sets how many perturbations go in one batch:
    ~1 million complex entries a node, so that each batch takes a fraction of a second
    (Ctrl-C is heard between batches) and ``progress(columns done, columns)`` moves."""
    if method not in METHODS:
        raise JacliError(f"unknown method {method!r}: complex or central")
    p, q = f_shape
    blocks, estimates = [], []
    total, done = sum(m * n for m, n in variables.values()), 0
    for var, (m, n) in variables.items():
        x = values[var]
        chunk = max(1, int(1e6 // max(largest, 1)))
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
            done += len(E)
            if progress is not None:
                progress(done, total)
        blocks.append(np.concatenate(cols, axis=1))
    return np.concatenate(blocks, axis=1), float(max(estimates, default=0.0))


def _complex_step(
    expr: Expr, values: dict[str, np.ndarray], var: str, E: np.ndarray, h: float, p: int, q: int
) -> np.ndarray:
    moved = dict(values)
    moved[var] = values[var][None] + 1j * h * E
    F = Evaluator(moved)(expr)
    return (_vec_batch(F, len(E), p, q).imag / h).T


def _central(
    expr: Expr, values: dict[str, np.ndarray], var: str, h: np.ndarray, hk: np.ndarray, p: int, q: int
) -> np.ndarray:
    plus, minus = dict(values), dict(values)
    plus[var], minus[var] = values[var][None] + h, values[var][None] - h
    Fp = _vec_batch(Evaluator(plus)(expr), len(h), p, q)
    Fm = _vec_batch(Evaluator(minus)(expr), len(h), p, q)
    out: np.ndarray = ((Fp - Fm) / (2 * hk[:, None])).T
    return out


def directions(variables: dict[str, tuple[int, int]], k: int, seed: int) -> np.ndarray:
    """k random directions in the space of vec(X1; X2; ...): standard normal entries, (cols, k)."""
    cols = sum(m * n for m, n in variables.values())
    return np.random.default_rng([seed, 16]).standard_normal((cols, k))


def _unvec(V: np.ndarray, variables: dict[str, tuple[int, int]], vec: str) -> dict[str, np.ndarray]:
    """The columns of V (cols, k) as k matrices per variable: {name: (k, m, n)}."""
    out, off = {}, 0
    k = V.shape[1]
    for var, (m, n) in variables.items():
        block = V[off : off + m * n].T
        out[var] = block.reshape(k, m, n) if vec == "row" else block.reshape(k, n, m).swapaxes(1, 2)
        off += m * n
    return out


def _revec(F: np.ndarray, k: int, p: int, q: int, vec: str) -> np.ndarray:
    """F (k, p, q), maybe broadcast, as the columns vec(F_j): (p q, k)."""
    F = np.broadcast_to(F, (k, p, q))
    flat = F.reshape(k, p * q) if vec == "row" else np.swapaxes(F, 1, 2).reshape(k, p * q)
    return np.ascontiguousarray(flat.T)


def directional_derivatives(
    expr: Expr,
    values: dict[str, np.ndarray],
    variables: dict[str, tuple[int, int]],
    f_shape: tuple[int, int],
    V: np.ndarray,
    largest: int,
    *,
    method: str = "complex",
    vec: str = "col",
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, float]:
    """J V by perturbing every variable along each column of V (directions in the space of
    vec(X1; X2; ...), stacked as ``vec`` says), and an estimate of its error. Each column
    costs two evaluations of F (complex step at two step sizes; four for central
    differences), batched ~1 million entries per node at a time; J is never formed.
    ``progress`` is told the number of columns done after each batch."""
    if method not in METHODS:
        raise JacliError(f"unknown method {method!r}: complex or central")
    p, q = f_shape
    k = V.shape[1]
    chunk = max(1, int(1e6 // max(largest, 1)))  # small batches: progress shown, Ctrl-C heard
    scale = max([1.0] + [float(np.max(np.abs(values[v]), initial=0.0)) for v in variables])
    cols, estimates = [], []
    for start in range(0, k, chunk):
        part = V[:, start : start + chunk]
        dirs = _unvec(part, variables, vec)
        j = part.shape[1]
        if method == "complex":
            d1 = _along(expr, values, dirs, 1j * COMPLEX_STEP, j, p, q, vec)
            d2 = _along(expr, values, dirs, 1j * COMPLEX_STEP * 1e8, j, p, q, vec)
            estimates.append(np.max(np.abs(d1 - d2), initial=0) + 8 * EPS * np.max(np.abs(d1), initial=0))
        else:
            h = EPS ** (1 / 3) * scale / max(1.0, float(np.max(np.abs(part), initial=0.0)))
            d1 = _along(expr, values, dirs, h, j, p, q, vec)
            d2 = _along(expr, values, dirs, 2 * h, j, p, q, vec)
            estimates.append(np.max(np.abs(d1 - d2), initial=0) / 3)  # Richardson
        cols.append(d1)
        if progress is not None:
            progress(start + j)
    return np.concatenate(cols, axis=1), float(max(estimates, default=0.0))


def _along(
    expr: Expr, values: dict[str, np.ndarray], dirs: dict[str, np.ndarray], h: complex, k: int, p: int, q: int, vec: str
) -> np.ndarray:
    """The derivative of vec F along each direction: by the complex step (h imaginary) or
    central differences (h real), (p q, k)."""
    if isinstance(h, complex):
        moved = dict(values)
        for var, D in dirs.items():
            moved[var] = values[var][None] + h * D
        F = Evaluator(moved)(expr)
        return _revec(F.imag, k, p, q, vec) / h.imag
    plus, minus = dict(values), dict(values)
    for var, D in dirs.items():
        plus[var], minus[var] = values[var][None] + h * D, values[var][None] - h * D
    Fp, Fm = Evaluator(plus)(expr), Evaluator(minus)(expr)
    return (_revec(Fp, k, p, q, vec) - _revec(Fm, k, p, q, vec)) / (2 * h)


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
