"""The grammar: precedence, spellings, exact error messages, and print → parse round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jacli.errors import JacliError
from jacli.expr import Expr
from jacli.syntax import parse, parse_expr, parse_formula, to_latex, to_text


def read(s: str) -> str:
    """How jacli reads s, fully parenthesised."""
    return to_text(parse_expr(s), "parens")


@pytest.mark.parametrize(
    "text,reading",
    [
        ("A X B", "(A X) B"),
        ("A X + B", "(A X) + B"),
        ("A - B - C", "(A - B) - C"),
        ("A ⊗ B C", "A ⊗ (B C)"),
        ("A X ⊗ B", "(A X) ⊗ B"),
        ("A X ∘ X B", "(A X) ∘ (X B)"),
        ("A ∘ B ⊗ C", "(A ∘ B) ⊗ C"),
        ("-A ⊗ B", "-(A ⊗ B)"),
        ("-A X", "-(A X)"),
        ("A ⊗ -B", "A ⊗ (-B)"),
        ("A + -B", "A - B"),
        ("X' X", "(Xᵀ) X"),
        ("X^T A X", "((Xᵀ) A) X"),
        ("2 X", "2 X"),
        ("2X", "2 X"),
        ("A*X@B·C", "((A X) B) C"),
        ("X^-1 + X⁻¹ + inv(X)", "((X⁻¹) + (X⁻¹)) + (X⁻¹)"),
        ("X^-T", "X⁻ᵀ"),
        ("X⁻ᵀ", "X⁻ᵀ"),
        ("Xᵀ⁻¹", "(Xᵀ)⁻¹"),
        ("X^3 + X³", "(X³) + (X³)"),
        ("X^-2", "X⁻²"),
        ("kron(A, B)", "A ⊗ B"),
        ("A .* B ./ C", "(A ∘ B) ./ C"),
        ("A ⊙ B", "A ∘ B"),
        ("I₃ + I(3) + I", "(I₃ + I₃) + I"),
        ("K(2,3) vec(A)", "K(2,3) vec(A)"),
        ("tr(A X) + det(X) + logdet(X)", "(tr(A X) + det(X)) + logdet(X)"),
        (
            "exp(X) ∘ log(X) ∘ sin(X) ∘ cos(X) ∘ tanh(X) ∘ sqrt(X)",
            "((((exp(X) ∘ log(X)) ∘ sin(X)) ∘ cos(X)) ∘ tanh(X)) ∘ sqrt(X)",
        ),
        ("sum(X) + diag(x)", "sum(X) + diag(x)"),
        ("Sigma x1 + a_b", "(Sigma x1) + a_b"),
        ("1e-3 X + .5 X", "(0.001 X) + (0.5 X)"),
    ],
)
def test_precedence_and_spellings(text, reading):
    assert read(text) == reading


def test_wrt_tail():
    p = parse("X Y + Y wrt X, Y")
    assert p.wrt == ("X", "Y")
    assert parse("A X B", require_wrt=False).wrt == ()


def test_formula_blocks():
    blocks = parse_formula("[Y' ⊗ I, I ⊗ X]")
    assert [to_text(b) for b in blocks] == ["Yᵀ ⊗ I", "I ⊗ X"]


@pytest.mark.parametrize(
    "text,message,column",
    [
        ("(A X wrt X", "expected ')' to close '(' at column 1, found 'wrt' at column 6", 6),
        ("A X) wrt X", "unmatched ')' at column 4", 4),
        ("A + wrt X", "expected an expression after '+', found 'wrt' at column 5", 5),
        ("A + ", "expected an expression after '+', found the end at column 5", 5),
        ("", "empty expression", 1),
        ("wrt X", "expected an expression before 'wrt' at column 1", 1),
        ("A X B", "no 'wrt': say what to differentiate by, as in \"A X B wrt X\", at column 6", 6),
        ("A X wrt", "nothing after 'wrt': name the variable, as in 'wrt X', at column 5", 5),
        ("A X wrt Y", "'Y' after 'wrt' does not occur in the expression at column 9", 9),
        ("A X wrt X, X", "'X' is named twice after 'wrt' at column 12", 12),
        ("trce(X) wrt X", "unknown function 'trce' (did you mean 'tr'?) at column 1", 1),
        ("trace(X) wrt X", "unknown function 'trace' (did you mean 'tr'?) at column 1", 1),
        ("A(B + C) wrt A", "unknown function 'A'; for a product write 'A (...)' or 'A*(...)' at column 1", 1),
        ("I(0) X wrt X", "I needs positive sizes, as in I(3); got 0 at column 3", 3),
        ("K(2) X wrt X", "K takes 2 sizes, as in K(2,3); got 1 at column 1", 1),
        ("zeros X wrt X", "zeros needs its sizes, as in zeros(2,3) at column 1", 1),
        ("A $ X wrt X", "unexpected character '$' at column 3", 3),
        ("tr X wrt X", "expected '(' after 'tr' at column 4", 4),
        ("tr() wrt X", "tr needs 1 argument, got none at column 4", 4),
        ("kron(A) wrt A", "kron needs 2 arguments, got 1 at column 1", 1),
        ("X^ wrt X", "expected a power after '^' at column 2, found 'wrt' at column 4", 4),
        ("A X wrt tr", "expected a name after 'wrt', found 'tr' at column 9", 9),
        ("A X B wrt X Y", "unexpected 'Y' at column 13", 13),
        ("()", "empty parentheses at column 2", 2),
    ],
)
def test_exact_error_messages(text, message, column):
    with pytest.raises(JacliError) as err:
        parse(text)
    assert err.value.message == message
    assert err.value.column == column


# -- round trips ------------------------------------------------------------------------
_leaf = st.sampled_from(
    [Expr("name", (), n) for n in ("A", "B", "X", "x1")]
    + [Expr("num", (), v) for v in (2.0, 0.5, 1e-3)]
    + [Expr("I", (), 3), Expr("I", (), None), Expr("K", (), (2, 3)), Expr("ones", (), (2, 2))]
)


def _tree(children):
    unary = st.sampled_from(["neg", "T", "inv", "vec", "tr", "det", "logdet", "exp", "log", "sqrt", "sum", "diag"])
    binary = st.sampled_from(["add", "mul", "kron", "had", "ediv"])
    return st.one_of(
        st.builds(lambda op, a: Expr(op, (a,)), unary, children),
        st.builds(lambda k, a: Expr("pow", (a,), k), st.sampled_from([2, 3, -2, 0]), children),
        st.builds(lambda op, a, b: Expr(op, (a, b)), binary, children, children),
    )


expressions = st.recursive(_leaf, _tree, max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(expressions)
def test_print_parse_round_trip(e):
    for style in ("unicode", "ascii", "parens"):
        assert parse_expr(to_text(e, style)) == e


@settings(max_examples=100, deadline=None)
@given(expressions)
def test_latex_is_printable(e):
    text = to_latex(e)
    assert text.count("{") == text.count("}")


@pytest.mark.parametrize("source,shown,col", [("0.5.5 X", "0.5.5", 1), ("A + 1.2.3", "1.2.3", 5), ("2..5", "2..5", 1)])
def test_a_malformed_number_is_refused_not_read_as_a_product(source, shown, col):
    with pytest.raises(JacliError, match=f"malformed number '{shown}' at column {col}") as err:
        parse_expr(source)
    assert err.value.column == col
    assert to_text(parse_expr("0.5 X + 2. Y + .5 Z")) == "0.5 X + 2 Y + 0.5 Z"
