"""``check``: jacli's Jacobian against the numerical oracle, and against a claimed formula."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..calculus.shapes import UNKNOWN, Shapes, infer, show_shape
from ..errors import JacliError
from ..numeric.evaluate import Evaluator, check_domains
from ..numeric.oracle import METHODS, not_analytic, numerical_jacobian, to_row_vec
from ..syntax.parser import parse_formula
from .derivation import column_label, entry_label, evaluate_blocks, jacobian_blocks, result_of
from .problem import Problem


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
    return f"d{entry_label('F', r, problem.shape, vec)}/d{column_label(problem.variables(), c, vec)}"


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


def claimed(problem: Problem, against: str, block_shapes: list[tuple[int, int]]) -> tuple[np.ndarray | None, str]:
    """Evaluate the claimed formula(s); a note instead when its shape cannot fit."""
    formulas = parse_formula(against)
    if len(formulas) != len(block_shapes):
        raise JacliError(
            f"--against gives {len(formulas)} block(s) but there are {len(block_shapes)} "
            f"variable(s) after wrt: write [J_{problem.wrt[0]}, ...] with one formula each"
        )
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


def check_problem(
    problem: Problem,
    *,
    against: str | None = None,
    tol: float = 1e-8,
    vec: str = "col",
    method: str = "complex",
    max_bytes: float | None = None,
) -> CheckResult:
    """Compare ``problem``'s Jacobian with the numerical oracle (and ``against``)."""
    if not (np.isfinite(tol) and tol > 0):
        raise JacliError(f"--tol must be a positive number, not {tol}")
    if method not in METHODS:
        raise JacliError(f"unknown method {method!r}: complex or central")
    check_domains(problem.expr, problem.values, problem.wrt)
    kink = not_analytic(problem.expr)
    method = "central" if kink else method
    blocks = jacobian_blocks(problem, vec)
    result = result_of(problem, blocks, vec, None)
    J = evaluate_blocks(problem, blocks, max_bytes=max_bytes)
    variables = problem.variables()
    J_num, estimate = numerical_jacobian(
        problem.expr, problem.values, variables, problem.shape, problem.largest(), method
    )
    if vec == "row":
        J_num = to_row_vec(J_num, problem.shape, variables)
    scale = max(1.0, float(np.max(np.abs(J_num), initial=0.0)))
    threshold = tol * scale
    if not np.isfinite(estimate) or estimate > threshold / 10:
        raise JacliError(
            f"the numerical derivative ({method}) is not accurate enough to decide: its error "
            f"estimate {estimate:.2g} is not well below the tolerance {threshold:.2g}; "
            f"raise --tol or try other values (--seed)"
        )
    comparisons = [compare("jacli", result.formula, J, J_num, threshold, problem, vec)]
    if against is not None:
        shapes = [(result.shape[0], b.var_shape[0] * b.var_shape[1]) for b in blocks]
        C, note = claimed(problem, against, shapes)
        if C is None:
            comparisons.append(Comparison("claim", against, False, note=note))
        else:
            comparisons.append(compare("claim", against, C, J_num, threshold, problem, vec))
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
    )
