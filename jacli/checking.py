"""Checking Jacobians against a numerical derivative that knows nothing of the rules.

The oracle perturbs the variables and evaluates the expression itself with the registry's
value rules. Every operation of the language is analytic where it is defined, so the
complex step, Im F(X + i h E) / h, is exact to rounding and is the default; central
differences with a step chosen per entry are the fallback (``method="central"``). Each
reports an estimate of its own error.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .core import (DEFAULT_SEED, Problem, _bindings, check_domains, derive_problem, evaluate_blocks, prepare)
from .errors import JacliError
from .evaluate import Evaluator
from .parser import parse_formula
from .shapes import UNKNOWN, Shapes, infer, show_shape

COMPLEX_STEP = 1e-20
EPS = np.finfo(float).eps


@dataclass
class Comparison:
    label: str  # "jacli" or "claim"
    formula: str
    agree: bool
    max_abs: float = float("nan")
    max_rel: float = float("nan")
    where: str = ""
    note: str = ""  # e.g. a shape mismatch


@dataclass
class CheckResult:
    expression: str
    wrt: tuple[str, ...]
    shape: tuple[int, int]
    tol: float
    threshold: float
    method: str
    error_estimate: float
    comparisons: list[Comparison]
    values: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    randomized: tuple[str, ...] = ()

    @property
    def agree(self) -> bool:
        return all(c.agree for c in self.comparisons)


def _perturbations(m: int, n: int, rows: slice) -> np.ndarray:
    """Unit matrices E_k, k in rows, in vec (column-major) order: shape (k, m, n)."""
    ks = np.arange(m * n)[rows]
    E = np.zeros((len(ks), m, n))
    E[np.arange(len(ks)), ks % m, ks // m] = 1.0
    return E


def _vec_batch(F: np.ndarray, count: int, p: int, q: int) -> np.ndarray:
    F = np.broadcast_to(F, (count, p, q))
    return np.swapaxes(F, -1, -2).reshape(count, p * q)  # rows are vec(F_k)


def numerical_jacobian(problem: Problem, method: str = "complex") -> tuple[np.ndarray, float]:
    """d vec(F)/d vec(X) by perturbation, side by side for every variable; and an error estimate."""
    p, q = problem.shape
    largest = max(r * c for r, c in (problem.shapes(e) for e in problem.expr.walk()))
    blocks, estimates = [], []
    for var in problem.wrt:
        m, n = problem.names[var]
        x = problem.values[var]
        chunk = max(1, int(4e6 // max(largest, 1)))  # complex entries per batch: ~64 MB
        cols = []
        for start in range(0, m * n, chunk):
            sl = slice(start, min(start + chunk, m * n))
            E = _perturbations(m, n, sl)
            if method == "complex":
                d1 = _complex_step(problem, var, x, E, COMPLEX_STEP, p, q)
                d2 = _complex_step(problem, var, x, E, COMPLEX_STEP * 1e8, p, q)
                estimates.append(np.max(np.abs(d1 - d2), initial=0) + 8 * EPS * np.max(np.abs(d1), initial=0))
                cols.append(d1)
            elif method == "central":
                h = EPS ** (1 / 3) * np.maximum(1.0, np.abs(x))[None] * E  # a step per entry
                hk = h.reshape(len(E), -1).max(axis=1)
                d1 = _central(problem, var, x, h, hk, p, q)
                d2 = _central(problem, var, x, 2 * h, 2 * hk, p, q)
                estimates.append(np.max(np.abs(d1 - d2), initial=0) / 3)  # Richardson
                cols.append(d1)
            else:
                raise JacliError(f"unknown method {method!r}: complex or central")
        blocks.append(np.concatenate(cols, axis=1))
    return np.concatenate(blocks, axis=1), float(max(estimates, default=0.0))


def _complex_step(problem, var, x, E, h, p, q):
    values = dict(problem.values)
    values[var] = x[None] + 1j * h * E
    F = Evaluator(values)(problem.expr)
    return (_vec_batch(F, len(E), p, q).imag / h).T


def _central(problem, var, x, h, hk, p, q):
    plus, minus = dict(problem.values), dict(problem.values)
    plus[var], minus[var] = x[None] + h, x[None] - h
    Fp = _vec_batch(Evaluator(plus)(problem.expr), len(h), p, q)
    Fm = _vec_batch(Evaluator(minus)(problem.expr), len(h), p, q)
    return ((Fp - Fm) / (2 * hk[:, None])).T


def to_row_vec(J: np.ndarray, problem: Problem) -> np.ndarray:
    """Reorder rows and columns from column stacking to row stacking."""
    p, q = problem.shape
    rows = np.arange(p * q).reshape(q, p).T.ravel()  # vecᵣ index i*q+j ← vec index j*p+i
    cols = []
    offset = 0
    for var in problem.wrt:
        m, n = problem.names[var]
        cols.append(offset + np.arange(m * n).reshape(n, m).T.ravel())
        offset += m * n
    return J[rows][:, np.concatenate(cols)]


def where_label(problem: Problem, r: int, c: int, vec: str) -> str:
    from .render import column_label, entry_label

    variables = [(v, problem.names[v]) for v in problem.wrt]
    return f"d{entry_label('F', r, problem.shape, vec)}/d{column_label(variables, c, vec)}"


def compare(label, formula, J, ref, threshold, problem, vec) -> Comparison:
    diff = np.abs(J - ref)
    k = int(np.argmax(diff))
    r, c = divmod(k, diff.shape[1])
    max_abs = float(diff.flat[k])
    scale = float(np.max(np.abs(ref), initial=0.0))
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    return Comparison(label, formula, bool(max_abs <= threshold), max_abs, max_rel,
                      where_label(problem, r, c, vec))


def claimed(problem: Problem, against: str, block_shapes: list[tuple[int, int]]):
    """Evaluate the claimed formula(s); a Comparison note instead when its shape cannot fit."""
    formulas = parse_formula(against)
    if len(formulas) != len(block_shapes):
        raise JacliError(f"--against gives {len(formulas)} block(s) but there are {len(block_shapes)} "
                         f"variable(s) after wrt: write [J_{problem.wrt[0]}, ...] with one formula each")
    unknown = [n for f in formulas for n in f.names() if n not in problem.names]
    if unknown:
        raise JacliError(f"--against uses {unknown[0]}, which does not occur in the expression", source=against)
    parts = []
    for f, want in zip(formulas, block_shapes):
        try:
            resolved = infer(f, problem.names, source=against)
        except JacliError as err:
            if not err.message.startswith(UNKNOWN):
                raise
            try:
                resolved = infer(f, problem.names, source=against, result_shape=want)
            except JacliError as err2:
                if err2.message.startswith(UNKNOWN):  # still undetermined: a bad formula, not a claim
                    raise
                return None, err2.message
        got = Shapes(resolved.names)(resolved.expr)
        if got != want:
            return None, f"the claimed formula is {show_shape(got)}, the Jacobian block {show_shape(want)}"
        parts.append(Evaluator(problem.values)(resolved.expr))
    return np.concatenate(parts, axis=1), ""


def check_problem(problem: Problem, *, against: str | None = None, tol: float = 1e-8, vec: str = "col",
                  method: str = "complex", max_bytes: float | None = None) -> CheckResult:
    if not (np.isfinite(tol) and tol > 0):
        raise JacliError(f"--tol must be a positive number, not {tol}")
    check_domains(problem)
    result = derive_problem(problem, vec=vec, symbolic=True)
    J = evaluate_blocks(problem, result.blocks, max_bytes=max_bytes)
    J_num, estimate = numerical_jacobian(problem, method)
    if vec == "row":
        J_num = to_row_vec(J_num, problem)
    scale = max(1.0, float(np.max(np.abs(J_num), initial=0.0)))
    threshold = tol * scale
    if not np.isfinite(estimate) or estimate > threshold / 10:
        raise JacliError(f"the numerical derivative ({method}) is not accurate enough to decide: its error "
                         f"estimate {estimate:.2g} is not well below the tolerance {threshold:.2g}; "
                         f"raise --tol or try other values (--seed)")
    comparisons = [compare("jacli", result.formula, J, J_num, threshold, problem, vec)]
    if against is not None:
        shapes = [(result.shape[0], b.var_shape[0] * b.var_shape[1]) for b in result.blocks]
        C, note = claimed(problem, against, shapes)
        if C is None:
            comparisons.append(Comparison("claim", against, False, note=note))
        else:
            comparisons.append(compare("claim", against, C, J_num, threshold, problem, vec))
    return CheckResult(result.expression, problem.wrt, result.shape, tol, threshold,
                       "complex step" if method == "complex" else "central differences", estimate,
                       comparisons, problem.values, problem.randomized)


def check(source: str, bindings: dict | None = None, /, *, against: str | None = None, tol: float = 1e-8,
          seed: int = DEFAULT_SEED, vec: str = "col", method: str = "complex", **names) -> CheckResult:
    """Compare jacli's Jacobian of ``source`` with a numerical derivative (and ``against``).

    Names bound by shape only, or not bound, get seeded random values valid for the
    expression. Returns a :class:`CheckResult`; ``result.agree`` is the verdict.

    Examples
    --------
    >>> import jacli
    >>> jacli.check("A X B wrt X", A=(2, 3), B=(4, 5), against="B' ⊗ A").agree
    True
    """
    problem = prepare(source, _bindings(bindings, names), random=True, seed=seed)
    return check_problem(problem, against=against, tol=tol, vec=vec, method=method)


def describe(result: CheckResult) -> list[str]:
    """The check's report as plain lines."""
    verdict = "agree" if result.agree else "disagree"
    lines = [f"{verdict}: {result.expression} wrt {', '.join(result.wrt)} (J {show_shape(result.shape)})"]
    for c in result.comparisons:
        if c.note:
            lines.append(f"  {c.label} {c.formula}: {c.note}")
        else:
            lines.append(f"  {c.label} {c.formula}: {'agrees' if c.agree else 'DISAGREES'}, "
                         f"max abs diff {c.max_abs:.3g}, max rel diff {c.max_rel:.3g}, at {c.where}")
    lines.append(f"  numerical: {result.method}, error estimate {result.error_estimate:.2g}; "
                 f"tolerance {result.threshold:.3g} (--tol {result.tol:g} × max(1, max|J|))")
    if result.randomized:
        lines.append(f"  random values for {', '.join(result.randomized)}")
    return lines
