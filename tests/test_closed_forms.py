"""Closed forms as the seeds and textbooks write them: the printed text and the numbers."""

from __future__ import annotations

import numpy as np
import pytest
from oracle import complex_step

import jacli
from jacli.syntax import parse_expr

rng = np.random.default_rng(0)

# (expression, shapes, expected closed form); values are random, invertible where needed
CASES = [
    # the seeds
    ("W a wrt W", {"W": (3, 4), "a": (4, 1)}, "aᵀ ⊗ I₃"),
    ("A X B wrt X", {"A": (2, 3), "X": (3, 4), "B": (4, 5)}, "Bᵀ ⊗ A"),
    ("X Y wrt X", {"X": (3, 4), "Y": (4, 5)}, "Yᵀ ⊗ I₃"),
    ("X Y wrt Y", {"X": (3, 4), "Y": (4, 5)}, "I₅ ⊗ X"),
    ("X' wrt X", {"X": (3, 4)}, "K(3,4)"),
    ("2 A + 3 B wrt A", {"A": (2, 3), "B": (2, 3)}, "2 I₆"),
    ("kron(A, B) wrt A", {"A": (2, 3), "B": (4, 5)}, "(I₃ ⊗ K(5,2) ⊗ I₄) (I₆ ⊗ vec(B))"),
    ("kron(A, B) wrt B", {"A": (2, 3), "B": (4, 5)}, "(I₃ ⊗ K(5,2) ⊗ I₄) (vec(A) ⊗ I₂₀)"),
    # the rest of the calculus, as the textbooks write it
    ("inv(X) wrt X", {"X": (3, 3)}, "-(X⁻ᵀ ⊗ X⁻¹)"),
    ("det(X) wrt X", {"X": (3, 3)}, "vec(adj(X)ᵀ)ᵀ"),
    ("logdet(X) wrt X", {"X": (3, 3)}, "vec(X⁻ᵀ)ᵀ"),
    ("tr(A X) wrt X", {"A": (4, 3), "X": (3, 4)}, "vec(Aᵀ)ᵀ"),
    ("X ∘ A wrt X", {"X": (3, 4), "A": (3, 4)}, "diag(vec(A))"),
    ("exp(X) wrt X", {"X": (3, 4)}, "diag(vec(exp(X)))"),
    ("tr(X' A X) wrt X", {"A": (3, 3), "X": (3, 4)}, "vec((A + Aᵀ) X)ᵀ"),
    ("x' A x wrt x", {"A": (3, 3), "x": (3, 1)}, "xᵀ (A + Aᵀ)"),
    ("a' X b wrt X", {"a": (3, 1), "X": (3, 4), "b": (4, 1)}, "vec(a bᵀ)ᵀ"),
    ("X^2 wrt X", {"X": (3, 3)}, "Xᵀ ⊗ I₃ + I₃ ⊗ X"),
    ("X^3 wrt X", {"X": (3, 3)}, "(X²)ᵀ ⊗ I₃ + Xᵀ ⊗ X + I₃ ⊗ X²"),
    ("X^-2 wrt X", {"X": (3, 3)}, "-((X⁻²)ᵀ ⊗ X⁻¹ + X⁻ᵀ ⊗ X⁻²)"),
    ("A X + B X wrt X", {"A": (2, 3), "B": (2, 3), "X": (3, 4)}, "I₄ ⊗ (A + B)"),
    ("X' X wrt X", {"X": (3, 4)}, "(Xᵀ ⊗ I₄) K(3,4) + I₄ ⊗ Xᵀ"),
    (
        "(A X) ∘ (X B) wrt X",
        {"A": (3, 3), "X": (3, 3), "B": (3, 3)},
        "diag(vec(X B)) (I₃ ⊗ A) + diag(vec(A X)) (Bᵀ ⊗ I₃)",
    ),
    ("sum(X) wrt X", {"X": (3, 4)}, "vec(ones(3,4))ᵀ"),
    ("sum(X ∘ A) wrt X", {"X": (3, 4), "A": (3, 4)}, "vec(A)ᵀ"),
    ("log(X) wrt X", {"X": (2, 3)}, "diag(vec(ones(2,3) ./ X))"),
    ("X - X wrt X", {"X": (2, 3)}, "zeros(6,6)"),
    ("tr(X) X wrt X", {"X": (2, 2)}, "vec(X) vec(I₂)ᵀ + tr(X) I₄"),
]


def _values(shapes, expr):
    out = {}
    for n, (r, c) in shapes.items():
        if "log" in expr or "sqrt" in expr:
            out[n] = rng.uniform(0.5, 1.5, (r, c))
        elif r == c:
            out[n] = rng.standard_normal((r, c)) / np.sqrt(r) + 2 * np.eye(r)
        else:
            out[n] = rng.standard_normal((r, c))
    return out


@pytest.mark.parametrize("expr,shapes,formula", CASES, ids=[c[0] for c in CASES])
def test_closed_form_text_and_numbers(expr, shapes, formula):
    values = _values(shapes, expr)
    r = jacli.derive(expr, **values)
    assert r.formula == formula
    problem = r.problem
    var = problem.wrt[0]
    np.testing.assert_allclose(r.matrix, complex_step(problem.expr, values, var), rtol=1e-9, atol=1e-10)
    # the printed formula, read back by jacli's own parser, evaluates to the same matrix
    again = jacli.check(expr, against=formula, **values)
    assert again.agree, again.comparisons


def test_gradients_in_the_cookbook_layout():
    A, X = rng.standard_normal((3, 3)), rng.standard_normal((3, 4))
    r = jacli.derive("tr(X' A X) wrt X", A=A, X=X)
    assert r.gradient_formula == "(A + Aᵀ) X"
    np.testing.assert_allclose(r.gradient, (A + A.T) @ X)
    X = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    r = jacli.derive("det(X) wrt X", X=X)
    assert r.gradient_formula == "adj(X)ᵀ"
    np.testing.assert_allclose(r.gradient, np.linalg.det(X) * np.linalg.inv(X).T)


def test_seed_commutation_example():
    """The seed's 3×3 example: K vec(A) = vec(Aᵀ), the 9×9 permutation it prints."""
    J = jacli.jacobian("X' wrt X", X=(3, 3))
    A = np.arange(1, 10.0).reshape(3, 3)
    assert (J @ A.reshape(-1, order="F") == A.T.reshape(-1, order="F")).all()
    assert (J @ np.array([1, 4, 7, 2, 5, 8, 3, 6, 9.0]) == np.arange(1, 10.0)).all()


def test_seed_kronecker_example():
    from jacli.numeric.evaluate import evaluate

    got = evaluate(parse_expr("A ⊗ I(2)"), {"A": np.array([[3.0, 4], [5, 6]])})
    assert (got == np.array([[3, 0, 4, 0], [0, 3, 0, 4], [5, 0, 6, 0], [0, 5, 0, 6]])).all()


def test_row_vec_convention_matches_row_major_flattening():
    A, B = rng.standard_normal((2, 3)), rng.standard_normal((4, 5))
    r = jacli.derive("A X B wrt X", A=A, B=B, X=(3, 4), vec="row")
    assert r.formula == "A ⊗ Bᵀ"
    np.testing.assert_allclose(r.matrix, np.kron(A, B.T))


def test_simplified_forms_leave_nothing_standing():
    """No I ⊗ I, no (Aᵀ)ᵀ, no product with an identity, no 1×1 identity."""
    for expr, shapes, _ in CASES:
        J = jacli.derive(expr, symbolic=True, **shapes).blocks[0].expr
        for node in J.walk():
            assert not (node.op == "T" and node.args[0].op == "T"), expr
            assert not (node.op == "kron" and node.args[0].op == "I" and node.args[1].op == "I"), expr
            assert not (node.op == "matmul" and "I" in (node.args[0].op, node.args[1].op)), expr
            assert not (node.op == "I" and node.attr == 1), expr


ROUND_TRIP = [(e, s) for e, s, _ in CASES] + [
    ("(a' x) (b' x) wrt x", {"a": (3, 1), "b": (3, 1), "x": (3, 1)}),
    ("x' A x x' wrt x", {"A": (3, 3), "x": (3, 1)}),
    ("u v' w z' wrt w", {"u": (2, 1), "v": (3, 1), "w": (3, 1), "z": (4, 1)}),
    ("tr(X) det(X) X wrt X", {"X": (2, 2)}),
    ("X Y + Y X wrt X, Y", {"X": (2, 2), "Y": (2, 2)}),
    ("kron(x, y') wrt y", {"x": (2, 1), "y": (3, 1)}),
    ("exp(A X) ./ (ones + X ∘ X) wrt X", {"A": (3, 3), "X": (3, 3)}),
]


@pytest.mark.parametrize("expr,shapes", ROUND_TRIP, ids=[c[0] for c in ROUND_TRIP])
def test_printed_jacobians_read_back_to_the_same_expression(expr, shapes):
    from jacli.calculus.shapes import infer

    for vec in ("col", "row"):
        r = jacli.derive(expr, symbolic=True, vec=vec, **shapes)
        for block in r.blocks:
            again = infer(parse_expr(block.formula), r.problem.names).expr
            assert again == block.expr, (block.formula, vec)
