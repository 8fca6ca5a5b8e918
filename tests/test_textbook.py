"""jacli's closed forms against textbook identities (tests/textbook.py): every book form agrees
with jacli's numbers, every jacli form reads back, and no fewer of them print no longer than
the book than when this test was written (benchmarks/textbook.py prints the table)."""

from __future__ import annotations

import pytest
from textbook import GRADIENTS, JACOBIANS

import jacli
from jacli.calculus.shapes import infer
from jacli.syntax import parse_expr

ROWS = [("gradient", *r) for r in GRADIENTS] + [("jacobian", *r) for r in JACOBIANS]
NO_LONGER_AT_LEAST = 47  # of 48: det(A X B) prints Aᵀ adj(A X B)ᵀ Bᵀ, which holds for non-square A, B too


def _mine(kind, source, shapes):
    expr, _, option = source.partition(" --vec ")
    r = jacli.derive(expr, symbolic=True, vec=option or "col", **shapes)
    return r, (r.gradient_formula if kind == "gradient" else r.formula), expr, option or "col"


@pytest.mark.parametrize("kind,source,shapes,book,where", ROWS, ids=[r[1] for r in ROWS])
def test_the_books_form_agrees_and_jaclis_reads_back(kind, source, shapes, book, where):
    r, mine, expr, vec = _mine(kind, source, shapes)
    assert mine is not None, f"no closed form for {source}"
    claim = f"vec({book})'" if kind == "gradient" else book
    assert jacli.check(expr, against=claim, vec=vec, **shapes).agree
    tree = r.blocks[0].gradient_expr if kind == "gradient" else r.blocks[0].expr
    assert infer(parse_expr(mine), r.problem.names).expr == tree


def test_closed_forms_are_as_short_as_the_books():
    shorter = sum(len(_mine(kind, source, shapes)[1]) <= len(book) for kind, source, shapes, book, _ in ROWS)
    assert shorter >= NO_LONGER_AT_LEAST, f"{shorter} of {len(ROWS)}"
