"""Seeded random values, valid for the expression they go into.

Each operator's record says what its arguments' values must allow (``random_hints``):
invertible where inverted, positive where logged, square-rooted or divided by.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..calculus.ops import REGISTRY
from ..errors import JacliError
from ..expr import Expr
from .evaluate import check_domains

ATTEMPTS = 20  # seeds tried, in order, before giving up


def random_hints(expr: Expr) -> dict[str, set[str]]:
    """For each name, what its random values must allow: 'invertible', 'positive', 'interval',
    'spd' (symmetric positive definite, separated eigenvalues), 'separated' (singular values)."""
    hints: dict[str, set[str]] = {}
    for node in expr.walk():
        for arg, hint in zip(node.args, REGISTRY[node.op].random_hints):
            if hint:
                for n in arg.names():
                    hints.setdefault(n, set()).add(hint)
    return hints


def draw(rng: np.random.Generator, shape: tuple[int, int], hints: set[str]) -> np.ndarray:
    """One value of ``shape`` that allows ``hints``, made in place (one array of ``shape``)."""
    r, c = shape
    square = r == c
    if "spd" in hints and square:  # chol, eigvals, eigvecs: symmetric positive definite, separated eigenvalues
        q, _ = np.linalg.qr(rng.standard_normal((r, r)))
        return np.asarray((q * (1.0 + 0.5 * np.arange(r))) @ q.T)
    if "separated" in hints:  # svd: distinct singular values, away from 0
        k = min(r, c)
        u, _ = np.linalg.qr(rng.standard_normal((r, k)))
        v, _ = np.linalg.qr(rng.standard_normal((c, k)))
        return np.asarray((u * (1.0 + 0.5 * np.arange(k)[::-1])) @ v.T)
    if "interval" in hints:  # arcsin, arccos: inside (-1, 1)
        return rng.uniform(-0.9, 0.9, shape)
    if "positive" in hints:
        a = rng.uniform(0.5, 1.5, shape)
        if "invertible" in hints and square:
            a.flat[:: r + 1] += r  # diagonally dominant, positive: invertible with det > 0
        return a
    a = rng.standard_normal(shape)
    if "invertible" in hints and square:
        a /= np.sqrt(r)
        a.flat[:: r + 1] += 2.0
    return a


def check_memory(
    expr: Expr, shapes: dict[str, tuple[int, int]], names: list[str], sizes: Any, max_bytes: float, held: int = 0
) -> None:
    """Refuse, before drawing, random values that would take more than ``max_bytes`` besides
    the ``held`` bytes of the values given: the values themselves (a draw that fails the
    domain checks is dropped before the next) and twice the largest node the domain checks
    evaluate."""
    drawn = sum(shapes[n][0] * shapes[n][1] * 8 for n in names)
    checked = [node for node in expr.walk() if REGISTRY[node.op].domain is not None]
    largest = max((r * c * 8 for node in checked for r, c in (sizes(a) for a in node.walk())), default=0)
    need = drawn + 2 * largest
    if need + held > max_bytes:
        big = max(names, key=lambda n: shapes[n][0] * shapes[n][1])
        r, c = shapes[big]
        given = f" (with the {held:,} bytes of the values given)" if held and need <= max_bytes else ""
        raise JacliError(
            f"random values for {', '.join(names[:3])}{' ...' if len(names) > 3 else ''} ({big} {r:,}×{c:,}) "
            f"would take {need:,} bytes{given}, above the memory limit of {int(max_bytes):,} bytes"
        )


def shaped(a: np.ndarray, structure: str | None) -> np.ndarray:
    """A drawn value given a declared structure (symmetric: its symmetric part, which keeps a
    diagonally dominant draw definite; diagonal; triangular)."""
    if structure == "sym":
        return np.asarray(0.5 * (a + a.T))
    if structure == "diag":
        return np.diag(np.diag(a))
    if structure == "lower":
        return np.tril(a)
    if structure == "upper":
        return np.triu(a)
    return a


def fill(
    expr: Expr,
    values: dict[str, np.ndarray],
    shapes: dict[str, tuple[int, int]],
    names: list[str],
    seed: int,
    variables: tuple[str, ...],
    structures: dict[str, str] | None = None,
) -> dict[str, np.ndarray]:
    """``values`` with seeded values added for ``names``, valid for ``expr`` where a few
    draws allow it, of each name's declared structure. The values given come first: their
    domain errors are theirs."""
    structures = structures or {}
    check_domains(expr, values, variables)
    hints = random_hints(expr)
    last, messages = None, set()
    for attempt in range(ATTEMPTS):
        rng = np.random.default_rng(seed + attempt)
        drawn = dict(values)
        for n in names:
            drawn[n] = shaped(draw(rng, shapes[n], hints.get(n, set())), structures.get(n))
        try:
            check_domains(expr, drawn, variables)
            return drawn
        except JacliError as err:
            last = err
            messages.add(err.message)
    if len(messages) == 1 and last is not None:  # the same whatever was drawn: not the draws' fault
        raise last
    raise JacliError(
        f"no valid random values found for this expression ({last}); give values for "
        f"{', '.join(names)} instead (as in {names[0]}=values.npy)"
    )
