"""A claim that ``check --against`` compares with the numerical Jacobian: a closed form in
jacli's language (one per name after wrt, or ``[J_X, J_Y]``), or the numbers of J in a file
(``J.npy``, ``J.npz``, ``J.csv``, ``J.txt``, as ``derive -o`` writes them)."""

from __future__ import annotations

import numpy as np

from ..calculus.shapes import UNKNOWN, Shapes, infer, show_shape
from ..errors import JacliError, Option
from ..expr import Expr, name
from ..io.specs import parse_spec
from ..syntax.parser import parse_formula
from ..syntax.reader import commutation_hint
from .problem import Problem

NUMBERS = (".npy", ".npz", ".csv", ".txt")  # a claim with one of these suffixes is J's numbers
CLAIM = "⟨claim⟩"  # the name a claim given as numbers is evaluated by (no name of the language)

WRONG_SHAPE = "wrong shape"  # how the note of a claim that cannot be J's shape starts


def claimed(
    problem: Problem, against: str, block_shapes: list[tuple[int, int]]
) -> tuple[list[tuple[Expr, Shapes]] | None, str]:
    """The claimed formula(s), resolved and sized; a note instead when a shape cannot fit."""
    formulas = parse_formula(against)
    if len(formulas) != len(block_shapes):
        raise JacliError(
            (
                Option("against"),
                f" gives {len(formulas)} block(s) but there are {len(block_shapes)} "
                f"variable(s) after wrt: write [J_{problem.wrt[0]}, ...] with one formula each",
            )
        )
    unknown = [n for f in formulas for n in f.names() if n not in problem.names]
    if unknown:
        hint = commutation_hint(unknown[0])
        raise JacliError(
            (Option("against"), f" uses {unknown[0]}, which does not occur in the expression{hint}"), source=against
        )
    parts = []
    for var, f, want in zip(problem.wrt, formulas, block_shapes):
        block = "J" if len(block_shapes) == 1 else f"J_{var}"
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
                return None, f"{WRONG_SHAPE}: {block} is {show_shape(want)} and the claim cannot be ({err2.message})"
        got = Shapes(resolved.names)(resolved.expr)
        if got != want:
            return None, f"{WRONG_SHAPE}: {block} is {show_shape(want)} and the claim is {show_shape(got)}"
        parts.append((resolved.expr, Shapes(resolved.names)))
    return parts, ""


# the claimed formula as given, and its parts resolved (None and a note when it cannot fit)
Claim = tuple[str, list[tuple[Expr, Shapes]] | None, str]


def is_numbers(against: str) -> bool:
    """Whether the claim is a file of numbers (``J.npy``, ``J.npz:J``) rather than a formula."""
    path = against.strip()
    before, sep, _ = path.rpartition(":")
    if sep and before.lower().endswith(".npz"):
        path = before
    return path.lower().endswith(NUMBERS)


def numeric_claim(
    problem: Problem, against: str, shape: tuple[int, int], max_bytes: float | None
) -> tuple[Claim, Problem]:
    """A claim given as J's numbers, read within ``max_bytes`` (a .npz's array under J unless
    named, as ``derive -o J.npz`` writes it); and ``problem`` with them bound to :data:`CLAIM`,
    for the comparison to evaluate."""
    path = against.strip()
    try:
        C = parse_spec("J", path, max_bytes=int(max_bytes) if max_bytes else None).value
    except JacliError as err:  # said of --against, not of a binding J
        rest = err.message[len(f"J={path}") :] if err.message.startswith(f"J={path}") else f": {err.message}"
        raise JacliError((Option("against"), f" {path}{rest}")) from None
    if C is None:
        raise JacliError((Option("against"), f" {against}: a claim given as a file holds J's numbers"))
    if C.shape != shape:
        note = f"{WRONG_SHAPE}: J is {show_shape(shape)} and the claim is {show_shape(C.shape)}"
        return (against, None, note), problem
    claim: Claim = (against, [(name(CLAIM), Shapes({CLAIM: shape}))], "")
    return claim, problem._replace(values={**problem.values, CLAIM: np.asarray(C, dtype=float)})


def refuse_numbers(against: str | None, why: str) -> None:
    """Refuse a claim given as numbers where a check has none to compare them with."""
    if against is not None and is_numbers(against):
        raise JacliError((Option("against"), f" {against.strip()}: a claim given as numbers needs {why}"))
