"""Rows over vech(F) for a symmetric F (``--vech``): J_vech = L(n) J."""

from __future__ import annotations

from .. import sizes
from ..calculus.simplify.local import is_symmetric
from ..errors import JacliError, Option
from ..expr import Expr
from ..syntax.printer import to_text
from .problem import Problem
from .structures import symmetric_names


def as_vech(problem: Problem) -> Problem:
    """``problem`` with F made vech(F), for a symmetric F: J's rows are then over the lower
    triangle (J_vech = L(n) J, evaluated by selecting J's rows). Refused where F is not
    square, or not symmetric as written (Xᵀ X, B S Bᵀ, A + Aᵀ, functions of names declared
    symmetric are)."""
    p, q = problem.shape
    f = to_text(problem.expr)
    if p != q:
        raise JacliError((Option("vech"), f" needs a symmetric F: F = {f} is {sizes.shape_text((p, q))}"))
    if (p, q) == (1, 1):
        return problem  # vech(f) = f
    if not is_symmetric(problem.expr, symmetric_names(problem.structures)):
        raise JacliError(
            (
                Option("vech"),
                f" needs a symmetric F, and F = {f} is not symmetric as written "
                "(as Xᵀ X, B S Bᵀ, A + Aᵀ, or functions of a matrix declared symmetric, S=3x3:sym, are)",
            )
        )
    return problem._replace(expr=Expr("vech", (problem.expr,)))
