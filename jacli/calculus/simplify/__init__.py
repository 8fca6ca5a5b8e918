"""Simplification of Jacobian expressions, so closed forms read as in the textbooks.

Bottom-up rewriting to a normal form: scalars are pulled to the front of products and
folded (``2 (3 A)`` → ``6 A``), a sign becomes one ``-`` in front; transposes move to the
leaves (``(A ⊗ B)ᵀ`` → ``Aᵀ ⊗ Bᵀ``); products and sums are simplified by the rules of
:mod:`.products` and :mod:`.sums`. The rewrites are a table keyed by operator
(:data:`REWRITES`); an operator with none is left as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...expr import Expr
from . import local, products, sums
from .base import Base, Rewrite

if TYPE_CHECKING:
    from ..ops.registry import Shape

REWRITES: dict[str, Rewrite] = {
    "neg": local.scalar_multiple,
    "smul": local.scalar_multiple,
    "div": local.scalar_multiple,
    "epow": local.elementwise_power,
    "T": local.transpose,
    "K": local.commutation,
    "vec": local.vectorise,
    "unvec": local.unvectorise,
    "frechet": local.frechet,
    "solve": local.solution,
    "sylvester": local.solution,
    "diag": local.diagonal_matrix,
    "inv": local.inverse,
    "pow": local.power,
    "adj": local.adjugate,
    "had": local.hadamard,
    "ediv": local.division,
    "kron": local.kronecker,
    "matmul": products.product,
    "add": sums.total,
}


# What each rewrite is called where a derivation names its simplifications.
NAMES = {
    "neg": "scalars collected",
    "smul": "scalars collected",
    "div": "scalars collected",
    "T": "transposes moved to the leaves",
    "K": "K of a vector is I",
    "vec": "vec of a vector is itself",
    "unvec": "unvec of a vec is its matrix",
    "frechet": "Fréchet derivatives simplified",
    "solve": "solutions simplified",
    "sylvester": "solutions simplified",
    "diag": "diagonals simplified",
    "inv": "inverses simplified",
    "pow": "powers simplified",
    "had": "Hadamard products simplified",
    "ediv": "divisions simplified",
    "kron": "Kronecker products simplified",
    "matmul": "products combined",
    "add": "terms merged",
}


class Simplifier(Base):
    """``Simplifier(shapes)(e)``: an equal of ``e`` in normal form; ``Simplifier(shapes,
    trace)`` also lists in ``trace`` the names of the rewrites that changed something."""

    rewrites = REWRITES
    names = NAMES

    def unvec_t(self, e: Expr, shape: Shape | None) -> Expr | None:
        """M with vec(M)ᵀ = e (of ``shape``), or None."""
        return products.unvec_t(self, e, shape)


__all__ = ["REWRITES", "Simplifier"]
