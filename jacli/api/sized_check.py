"""``check`` where sizes are dimension names: the identity at several drawn size assignments.

A closed form with names holds for every positive value of them, so it is checked where the
names take values: all 1 first (where a rule that needs a size to be 1 would pass wrongly,
a wrong one shows elsewhere), then seeded draws. At each assignment the problem is made
numeric and checked as usual, against the claimed formula and against jacli's own formula
with names (what ``derive --symbolic`` prints), both at those sizes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .. import sizes
from ..calculus.shapes import Shapes, at_sizes, shape_at_sizes
from ..errors import JacliError, Option
from ..syntax.parser import parse_formula
from ..syntax.printer import to_text
from .checking import CheckResult, check_problem
from .derivation import Block, formula_of, jacobian_blocks
from .problem import Problem, with_random

if TYPE_CHECKING:
    from ..calculus.ops.registry import Shape

DRAWS = 3  # assignments drawn besides all-ones
SIZES = (2, 3, 4)


class SizedCheck(NamedTuple):
    """A check at several assignments of the dimension names; ``agree`` is the verdict."""

    expression: str
    wrt: tuple[str, ...]
    shape: Shape
    formula: str  # jacli's closed form with names
    runs: tuple[tuple[dict[str, int], CheckResult], ...]

    @property
    def agree(self) -> bool:
        return all(r.agree for _, r in self.runs)

    @property
    def failing(self) -> tuple[dict[str, int], CheckResult] | None:
        """The first assignment where something disagreed."""
        return next(((a, r) for a, r in self.runs if not r.agree), None)

    def __repr__(self) -> str:
        verdict = "agree" if self.agree else "disagree"
        at = f"at {len(self.runs)} assignments of the sizes" if self.agree else f"at {self.failing and self.failing[0]}"
        return f"<SizedCheck {verdict}: {self.expression} wrt {', '.join(self.wrt)}, J = {self.formula}; {at}>"

    def _repr_markdown_(self) -> str:
        """How a notebook shows the check: the verdict, one line per assignment of the sizes,
        and the first disagreement in full."""
        verdict = "agree" if self.agree else "disagree"
        lines = [
            f"**{verdict}**: `{self.expression} wrt {', '.join(self.wrt)}`, J {sizes.shape_text(self.shape)}, "
            f"at {len(self.runs)} assignments of the sizes; jacli's formula `{self.formula}`",
            "| sizes | verdict |\n|---|---|",
        ]
        lines[1] += "".join(
            f"\n| {', '.join(f'{n}={v}' for n, v in a.items())} | {'agrees' if r.agree else 'disagrees'} |"
            for a, r in self.runs
        )
        if self.failing is not None:
            a, r = self.failing
            lines.append(f"at {', '.join(f'{n}={v}' for n, v in a.items())}:\n\n{r._repr_markdown_()}")
        return "\n\n".join(lines) + "\n"


def assignments(names: list[str], seed: int) -> list[dict[str, int]]:
    """All ones, then seeded draws from 2..4, all different."""
    out = [dict.fromkeys(names, 1)]
    rng = np.random.default_rng(seed)
    for _ in range(20 * DRAWS):
        a = {n: int(rng.choice(SIZES)) for n in names}
        if a not in out:
            out.append(a)
        if len(out) == DRAWS + 1:
            break
    return out


def _claim_at(problem: Problem, against: str, a: dict[str, int]) -> str:
    """The claimed formula(s) with the names' values, printed back as text."""
    exprs = parse_formula(against)
    used = {n for e in exprs for node in e.walk() for n in sizes.names(node.attr)}
    unknown = sorted(used - set(a))
    if unknown:
        raise JacliError((Option("against"), f" uses the size {unknown[0]}, which no shape has"), source=against)
    texts = [to_text(at_sizes(e, a)) for e in exprs]
    return texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"


def check_at_sizes(
    problem: Problem,
    *,
    against: str | None = None,
    tol: float = 1e-8,
    vec: str = "col",
    method: str = "complex",
    max_bytes: float | None = None,
    seed: int = 0,
) -> SizedCheck:
    """Check ``problem`` (whose shapes have dimension names) at several size assignments."""
    names = sorted(
        {n for shape in problem.names.values() for n in sizes.names(tuple(shape))}
        | {n for node in problem.expr.walk() if isinstance(node.attr, tuple) for n in sizes.names(node.attr)}
        | {n for node in problem.expr.walk() if isinstance(node.attr, sizes.Size) for n in sizes.names((node.attr,))}
    )
    blocks = jacobian_blocks(problem, vec)
    runs = []
    for a in assignments(names, seed):
        shapes = {n: shape_at_sizes(s, a) for n, s in problem.names.items()}
        numeric = with_random(
            problem._replace(
                expr=at_sizes(problem.expr, a),
                names=shapes,
                shapes=Shapes(shapes, problem.shapes.symmetric),
                values={},
            ),
            seed,
        )
        own = formula_of(tuple(b._replace(formula=to_text(at_sizes(b.expr, a))) for b in blocks))
        mine = check_problem(numeric, against=own, tol=tol, vec=vec, method=method, max_bytes=max_bytes)
        comparisons = [mine.comparisons[0], mine.comparisons[1]._replace(label="formula", formula=own)]
        if against is not None:
            theirs = check_problem(
                numeric, against=_claim_at(problem, against, a), tol=tol, vec=vec, method=method, max_bytes=max_bytes
            )
            comparisons.append(theirs.comparisons[1]._replace(formula=against))
        runs.append((a, mine._replace(comparisons=tuple(comparisons))))
    return SizedCheck(
        to_text(problem.expr), problem.wrt, problem_shape(problem, blocks), formula_of(blocks), tuple(runs)
    )


def problem_shape(problem: Problem, blocks: tuple[Block, ...]) -> Shape:
    p, q = problem.shape
    return sizes.mul(p, q), sizes.total(b.columns for b in blocks)
