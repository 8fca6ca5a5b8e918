"""``check``: jacli's Jacobian against the numerical oracle, and against a claimed formula.

A small Jacobian is compared whole, entry by entry, with the numerical Jacobian. A large
one is never formed: J v and uᵀ J are computed from its structure
(:meth:`jacli.numeric.structured.Structured.matvec`) along random directions and compared
with numerical directional derivatives, at the cost of a few evaluations of F.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..calculus.shapes import show_shape
from ..errors import JacliError, Option
from ..io.specs import default_max_memory
from ..numeric.evaluate import Evaluator, check_domains
from ..numeric.mapped import expand_rows, gather_columns
from ..numeric.oracle import METHODS, directional_derivatives, directions, not_analytic, numerical_jacobian, to_row_vec
from ..numeric.structured import Structured
from .claims import Claim, claimed, is_numbers, numeric_claim
from .derivation import Block, column_label, compiled, entry_label, evaluate_blocks, jacobian_blocks, result_of
from .problem import Problem

WHOLE_ENTRIES = 2**20  # J is compared whole up to this many entries ...
WHOLE_WORK = 2**26  # ... when the perturbations (one per column) cost at most this many node entries
DIRECTIONS = 8  # k: random directions of the comparison along directions

# progress(done, total): the steps of a check, for a progress bar
Progress = Callable[[int, int], None]


class Comparison(NamedTuple):
    label: str  # "jacli" or "claim"
    formula: str
    agree: bool
    max_abs: float = float("nan")
    max_rel: float = float("nan")
    where: str = ""  # the entry where the largest difference is: dF[2,1]/dX[0,3]
    note: str = ""  # e.g. a shape mismatch


class CheckResult(NamedTuple):
    """What ``jacli check`` finds.

    Attributes
    ----------
    agree : bool
        The verdict: every comparison agreed within the tolerance.
    comparisons : tuple of Comparison
        jacli's Jacobian against the numerical one, and the claimed formula's if any: each
        with the largest absolute and relative difference and where it is.
    tol, threshold : float
        The relative tolerance, and the absolute one it made: tol · max(1, max|J|).
    method : str
        The numerical derivative used, and ``error_estimate`` its own error estimate.
    directions : int
        0 when J was compared whole; k when J, too large, was compared along k random
        directions (J v against numerical directional derivatives, uᵀ J v against uᵀ of
        them) without being formed.
    values : dict of numpy.ndarray
        The values used (given or drawn); ``randomized`` names the drawn ones.

    Examples
    --------
    >>> import jacli
    >>> c = jacli.check("X' wrt X", X=(2, 3), against="K(2,3)")
    >>> c.agree, c.comparisons[1].label
    (True, 'claim')
    """

    expression: str
    wrt: tuple[str, ...]
    shape: tuple[int, int]
    tol: float
    threshold: float
    method: str
    error_estimate: float
    comparisons: tuple[Comparison, ...]
    problem: Problem
    vec: str = "col"
    directions: int = 0  # k > 0: compared along k random directions (J v, uᵀ J), J not formed

    @property
    def agree(self) -> bool:
        return all(c.agree for c in self.comparisons)

    @property
    def values(self) -> dict[str, np.ndarray]:
        """The values the check used (given or drawn)."""
        return self.problem.values

    @property
    def randomized(self) -> tuple[str, ...]:
        return self.problem.randomized

    def __repr__(self) -> str:
        said = ", ".join(
            f"{c.label} {'agrees' if c.agree else 'disagrees'} ({c.note or f'max abs diff {c.max_abs:.2g}'})"
            for c in self.comparisons
        )
        verdict = "agree" if self.agree else "disagree"
        of = f"{self.expression} wrt {', '.join(self.wrt)}"
        return f"<CheckResult {verdict}: {of}, J {show_shape(self.shape)}; {said}>"

    def _repr_markdown_(self) -> str:
        """How a notebook shows the check: the verdict, then each comparison in a table."""
        return check_markdown(self)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def check_markdown(result: CheckResult) -> str:
    """The check as a short Markdown report: the verdict, the comparisons with the numerical
    derivative (largest differences and where), the method and the tolerance."""
    rows = ["| compared with the numerical derivative | formula | verdict | max abs diff | max rel diff | at |",
            "|---|---|---|---|---|---|"]  # fmt: skip
    for c in result.comparisons:
        verdict = "agrees" if c.agree else "disagrees"
        numbers = f"{c.max_abs:.3g} | {c.max_rel:.3g} | {c.where}" if not c.note else f"{_cell(c.note)} | | "
        rows.append(f"| {c.label} | `{_cell(c.formula)}` | {verdict} | {numbers} |")
    verdict = "agree" if result.agree else "disagree"
    head = f"**{verdict}**: `{result.expression} wrt {', '.join(result.wrt)}`, J {show_shape(result.shape)}"
    tail = (
        f"numerical: {result.method}, error estimate {result.error_estimate:.2g}; tolerance "
        f"{result.threshold:.3g} (tol {result.tol:g} × max(1, max\\|J\\|))"
    )
    if result.randomized:
        tail += f"; random values for {', '.join(result.randomized)}"
    return "\n\n".join([head, "\n".join(rows), tail]) + "\n"


def where_label(problem: Problem, r: int, c: int, vec: str) -> str:
    """The entry (r, c) of J named by the entries of F and of the variables: dF[2,1]/dX[0,3]."""
    return (
        f"d{entry_label('F', r, problem.shape, vec)}/d{column_label(problem.variables(), c, vec, problem.structures)}"
    )


def compare(
    label: str, formula: str, J: np.ndarray, ref: np.ndarray, threshold: float, problem: Problem, vec: str
) -> Comparison:
    diff = np.abs(J - ref)
    k = int(np.argmax(diff))
    r, c = divmod(k, diff.shape[1])
    max_abs = float(diff.flat[k])
    scale = float(np.max(np.abs(ref), initial=0.0))
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    return Comparison(label, formula, bool(max_abs <= threshold), max_abs, max_rel, where_label(problem, r, c, vec))


def check_problem(
    problem: Problem,
    *,
    against: str | None = None,
    tol: float = 1e-8,
    vec: str = "col",
    method: str = "complex",
    max_bytes: float | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> CheckResult:
    """Compare ``problem``'s Jacobian with the numerical oracle (and ``against``): whole
    when J is small, along random directions (``seed``) when it is large."""
    if not (np.isfinite(tol) and tol > 0):
        raise JacliError((Option("tol"), f" must be a positive number, not {tol}"))
    if method not in METHODS:
        raise JacliError(f"unknown method {method!r}: complex or central")
    check_domains(problem.expr, problem.values, problem.wrt)
    kink = not_analytic(problem.expr)
    method = "central" if kink else method
    blocks = jacobian_blocks(problem, vec)
    result = result_of(problem, blocks, vec, None)
    claim, compared = None, problem
    if against is not None and is_numbers(against):
        claim, compared = numeric_claim(problem, against, result.shape, max_bytes)
    elif against is not None:
        shapes = [(result.shape[0], int(b.columns)) for b in blocks]
        claim = (against, *claimed(problem, against, shapes))
    rows, cols = result.shape
    whole = rows * cols <= WHOLE_ENTRIES and cols * problem.largest() <= WHOLE_WORK
    compare_ = compare_whole if whole else compare_along
    options = Options(tol, vec, method, max_bytes, seed, progress)
    comparisons, threshold, estimate = compare_(compared, blocks, result.formula, claim, options)
    return CheckResult(
        result.expression,
        problem.wrt,
        result.shape,
        tol,
        threshold,
        "complex step" if method == "complex" else f"central differences{f' ({kink} is not analytic)' if kink else ''}",
        estimate,
        tuple(comparisons),
        problem,
        vec,
        0 if whole else DIRECTIONS,
    )


def require_accurate(estimate: float, threshold: float, method: str, kink: str | None = None) -> None:
    """Refuse to decide when the numerical derivative's own error is not well below the tolerance."""
    if not np.isfinite(estimate) or estimate > threshold / 10:
        why = (
            (
                f": some argument of {kink} is probably within a step of its kink (the more entries, the likelier); "
                "try a smaller size, or values away from it",
            )
            if kink
            else ("; raise ", Option("tol"), " or try other values (", Option("seed"), ")")
        )
        raise JacliError(
            (
                f"the numerical derivative ({method}) is not accurate enough to decide: its error "
                f"estimate {estimate:.2g} is not well below the tolerance {threshold:.2g}",
                *why,
            )
        )


class Options(NamedTuple):
    """How a check compares: the options of :func:`check_problem`."""

    tol: float
    vec: str
    method: str
    max_bytes: float | None
    seed: int
    progress: Progress | None


def compare_whole(
    problem: Problem, blocks: tuple[Block, ...], formula: str, claim: Claim | None, o: Options
) -> tuple[list[Comparison], float, float]:
    """J and the claim against the whole numerical Jacobian, entry by entry."""
    tol, vec, method, max_bytes = o.tol, o.vec, o.method, o.max_bytes
    J = evaluate_blocks(problem, blocks, max_bytes=max_bytes)
    variables = problem.variables()
    J_num, estimate = numerical_jacobian(
        problem.expr, problem.values, variables, problem.shape, problem.largest(), method, o.progress
    )
    if vec == "row":
        J_num = to_row_vec(J_num, problem.shape, variables)
    if problem.structures:  # with respect to a structured variable's free entries
        J_num = gather_columns(J_num, layout(problem, blocks))
    threshold = tol * max(1.0, float(np.max(np.abs(J_num), initial=0.0)))
    require_accurate(estimate, threshold, method, not_analytic(problem.expr))
    comparisons = [compare("jacli", formula, J, J_num, threshold, problem, vec)]
    if claim is not None:
        against, parts, note = claim
        if parts is None:
            comparisons.append(Comparison("claim", against, False, note=note))
        else:
            C = np.concatenate([Evaluator(problem.values)(e) for e, _ in parts], axis=1)
            comparisons.append(compare("claim", against, C, J_num, threshold, problem, vec))
    return comparisons, threshold, estimate


def layout(problem: Problem, blocks: tuple[Block, ...]) -> list[tuple[str | None, int, int]]:
    """Per variable: its declared structure, rows and entries (for the free entries' columns)."""
    return [(b.structure, int(b.var_shape[0]), int(b.var_shape[0]) * int(b.var_shape[1])) for b in blocks]


def compare_along(
    problem: Problem, blocks: tuple[Block, ...], formula: str, claim: Claim | None, o: Options
) -> tuple[list[Comparison], float, float]:
    """J (and the claim) along k random directions v, J never formed: J v against the
    numerical directional derivatives (every row), and uᵀ J v, with uᵀ J from the
    transposed structure, against uᵀ times them."""
    tol, vec, method, max_bytes, seed, progress = o
    k = DIRECTIONS
    steps = k + 2 + (2 if claim is not None else 0)
    tell = progress or (lambda done, total: None)
    tell(0, steps)
    variables = problem.variables()
    rows, cols = problem.shape[0] * problem.shape[1], sum(r * c for r, c in variables.values())
    largest = problem.largest()
    at_once = min(k, max(1, int(1e6 // max(largest, 1))))  # directions evaluated together (oracle)
    # U, D, the claim's J V; V; the nodes of F at complex points, two alive at a time
    need = 8 * (k * (3 * rows + cols)) + 32 * largest * at_once
    limit = default_max_memory() if max_bytes is None else max_bytes
    if need > limit:
        raise JacliError(
            (
                f"checking a {rows:,}×{cols:,} Jacobian along {k} directions needs about {need:,} bytes, "
                f"above the limit of {int(limit):,} bytes (",
                Option("max_memory"),
                ")",
            )
        )
    parts = compiled(problem, blocks, max_bytes)
    V = directions(variables, k, seed)
    if problem.structures:  # directions over the free entries; the oracle's over all of them
        free = sum(int(b.columns) for b in blocks)
        V = np.random.default_rng([seed, 16]).standard_normal((free, k))
    U = np.random.default_rng([seed, 17]).standard_normal((problem.shape[0] * problem.shape[1], k))
    D, estimate = directional_derivatives(
        problem.expr,
        problem.values,
        variables,
        problem.shape,
        expand_rows(V, layout(problem, blocks)) if problem.structures else V,
        problem.largest(),
        method=method,
        vec=vec,
        progress=lambda done: tell(done, steps),
    )
    threshold = tol * max(1.0, float(np.max(np.abs(D), initial=0.0)))
    require_accurate(estimate, threshold, method, not_analytic(problem.expr))
    tell(k, steps)
    comparisons = [along("jacli", formula, parts, V, U, D, threshold, problem, vec, max_bytes)]
    tell(k + 2, steps)
    if claim is not None:
        against, exprs, note = claim
        if exprs is None:
            comparisons.append(Comparison("claim", against, False, note=note))
        else:
            claim_parts = [
                Structured(e, sh, Evaluator(problem.values, shapes=sh, max_bytes=max_bytes), max_bytes)
                for e, sh in exprs
            ]
            comparisons.append(along("claim", against, claim_parts, V, U, D, threshold, problem, vec, max_bytes))
        tell(steps, steps)
    return comparisons, threshold, estimate


def along(
    label: str,
    formula: str,
    parts: list[Structured],
    V: np.ndarray,
    U: np.ndarray,
    D: np.ndarray,
    threshold: float,
    problem: Problem,
    vec: str,
    max_bytes: float | None = None,
) -> Comparison:
    """One side (jacli's J or the claim, as blocks of columns) along the directions V:
    J V against D (the numerical J V) row by row, then uᵀ J V, with Jᵀ u from the
    transposed structure, against uᵀ D, and a slab of rows as derive writes them against J V."""
    JV = np.zeros_like(D)
    JtU = []
    c0 = 0
    for p in parts:
        c1 = c0 + p.shape[1]
        JV += p.matvec(V[c0:c1]).real
        JtU.append(p.rmatvec(U).real)
        c0 = c1
    diff = np.abs(JV - D)
    at = int(np.argmax(diff))
    r, d = divmod(at, diff.shape[1])
    max_abs = float(diff.flat[at])
    scale = float(np.max(np.abs(D), initial=0.0))
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    where = f"d{entry_label('F', r, problem.shape, vec)} along direction {d + 1}"
    agree = bool(max_abs <= threshold)
    # uᵀ J v through the transposed structure against uᵀ D: within threshold · Σ|u_r| when
    # every row of J v is within the threshold
    uJv = np.einsum("ck,ck->k", np.concatenate(JtU, axis=0), V)
    off = np.abs(uJv - np.einsum("rk,rk->k", U, D))
    bound = threshold * np.maximum(1.0, np.sum(np.abs(U), axis=0))
    note = ""
    written = _written_rows(parts, V, JV, max_bytes)
    if agree and written is not None and not written[1] <= threshold:
        note = (
            f"J v agrees, but rows {written[0]} of J as the dense writer writes them differ from it by "
            f"{written[1]:.3g} (tolerance {threshold:.3g}): a bug in jacli's writer; please report it"
        )
        agree = False
    if agree and np.any(off > bound):
        j = int(np.argmax(off / bound))
        note = (
            f"J v agrees, but uᵀ J v (from uᵀ J) differs by {off[j]:.3g} along direction {j + 1} "
            f"(tolerance {bound[j]:.3g}): a bug in jacli's transposed products; please report it"
        )
        agree = False
    return Comparison(label, formula, agree, max_abs, max_rel, where, note)


WRITTEN_BYTES = 2**26  # rows of J written as derive writes them (two threads from 2**25 bytes)


def _written_rows(
    parts: list[Structured], V: np.ndarray, JV: np.ndarray, limit: float | None
) -> tuple[str, float] | None:
    """Rows of J from the middle, written by the dense writer that derive and -o J.npy use,
    times V, against J V from the structure: (which rows, the largest difference), or None
    where one row would not fit."""
    rows, cols = JV.shape[0], V.shape[0]
    budget = WRITTEN_BYTES if limit is None else min(WRITTEN_BYTES, limit / 4)
    n = min(rows, int(budget // (8 * max(cols, 1))))
    if n < 1:
        return None
    start = (rows - n) // 2
    out = np.empty((n, cols))
    c0 = 0
    with np.errstate(all="ignore"):
        for p in parts:
            p.write_rows(out[:, c0 : c0 + p.shape[1]], start, start + n)
            c0 += p.shape[1]
        diff = float(np.max(np.abs(out @ V - JV[start : start + n]), initial=0.0))
    return f"{start}:{start + n}", diff
