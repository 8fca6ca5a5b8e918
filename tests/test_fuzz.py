"""Property-based tests: whatever the input, nothing but jacli's own error comes out.

Kept short for CI (JACLI_FUZZ_EXAMPLES raises the count for a long run).
"""

from __future__ import annotations

import contextlib
import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jacli
from jacli.calculus.shapes import infer
from jacli.errors import JacliError
from jacli.syntax import parse_expr

N = int(os.environ.get("JACLI_FUZZ_EXAMPLES", "150"))
SETTINGS = settings(max_examples=N, deadline=None, suppress_health_check=list(HealthCheck))

ALPHABET = list("AXBxy ()+-*@'^,.⊗∘⊙ᵀ⁻¹²₃0123456789") + [
    "wrt",
    " wrt ",
    "tr(",
    "det(",
    "inv(",
    "logdet(",
    "vec(",
    "diag(",
    "exp(",
    "log(",
    "sqrt(",
    "sum(",
    "kron(",
    "I",
    "I(",
    "K(",
    "ones",
    "zeros(",
    ".*",
    "./",
]

VALID = [
    "A X B wrt X",
    "X' X wrt X",
    "inv(X) wrt X",
    "(A X) ∘ (X B) wrt X",
    "tr(X' A X) wrt X",
    "det(X) wrt X",
    "logdet(X) wrt X",
    "kron(A, X) wrt X",
    "exp(X) + sin(X) wrt X",
    "x' A x wrt x",
    "diag(x) wrt x",
    "X^3 wrt X",
    "sum(X ./ A) wrt X",
    "A X + B wrt X",
    "X Y wrt X, Y",
    "I X wrt X",
    "sqrt(X) ∘ log(X) wrt X",
    "tanh(A X) wrt X",
    "diag(X) wrt X",
    "2 tr(X) X wrt X",
]


def run(expr: str, shapes: dict) -> None:
    """Either jacli's own one-line error, or a result that holds together: a matrix of the
    stated shape with finite entries, and a formula that reads back and has that shape."""
    try:
        r = jacli.derive(expr, random=True, **shapes)
    except JacliError as err:
        assert err.message and "\n" not in err.message
        return
    assert r.matrix is not None and r.matrix.shape == r.shape
    assert np.all(np.isfinite(r.matrix))
    rows, cols = r.f_shape
    assert r.shape[0] == rows * cols
    assert r.shape[1] == sum(b.var_shape[0] * b.var_shape[1] for b in r.blocks)
    for b in r.blocks:
        assert infer(parse_expr(b.formula), r.problem.names).expr == b.expr, (expr, b.formula)


shape = st.tuples(st.integers(1, 4), st.integers(1, 4))
names = st.dictionaries(st.sampled_from(["A", "B", "X", "Y", "x"]), shape, max_size=5)


@SETTINGS
@given(st.lists(st.sampled_from(ALPHABET), max_size=14).map("".join), names)
def test_random_strings_over_the_alphabet(text, shapes):
    run(text, shapes)


@SETTINGS
@given(st.sampled_from(VALID), st.integers(0, 40), st.sampled_from(ALPHABET + [""]), names)
def test_mutations_of_valid_expressions(expr, pos, insert, shapes):
    pos = min(pos, len(expr))
    run(expr[:pos] + insert + expr[pos + 1 :], shapes)


@SETTINGS
@given(st.sampled_from(VALID), names)
def test_valid_expressions_with_random_shapes(expr, shapes):
    run(expr, shapes)


@SETTINGS
@given(st.text(max_size=12), st.text(max_size=12))
def test_random_specs(name, spec):
    from jacli.io.specs import read_bindings

    with contextlib.suppress(JacliError):
        read_bindings([f"{name}={spec}"], None, 1e8)


def test_valid_expressions_really_work():
    shapes = {"A": (3, 3), "B": (3, 3), "X": (3, 3), "Y": (3, 3), "x": (3, 1)}
    for expr in VALID:
        used = {k: v for k, v in shapes.items() if k in expr.replace("wrt", "")}
        r = jacli.derive(expr, used, random=True)  # a dict may hold names the expression lacks ("x" in "exp")
        assert np.all(np.isfinite(r.matrix))
