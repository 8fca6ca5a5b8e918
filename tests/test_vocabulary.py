"""The vocabulary of matrixcalculus.org and of machine learning: its examples as pasted, the
new functions' closed forms, refusals at the kinks, and no overflow where it can be avoided.
(Every new function's rules are also generated over the registry in test_rules.py,
test_differentials.py and test_symbolic.py.)"""

from __future__ import annotations

import re

import numpy as np
import pytest
from cli_support import isolated, run  # noqa: F401 (isolated: autouse)

import jacli
from jacli.calculus import ops
from jacli.syntax import to_latex
from jacli.syntax.parser import parse_expr

# matrixcalculus.org's documentation examples, as pasted (with a wrt name)
MATRIXCALCULUS = [
    ("0.5*x'*A*x wrt x", "gradient", "0.5 (A + Aᵀ) x", dict(A=(3, 3), x=(3, 1))),
    ("A*exp(x) wrt x", "jacobian", "A diag(exp(x))", dict(A=(2, 3), x=(3, 1))),
    ("(y.*v)'*x wrt x", "gradient", "y ∘ v", dict(y=(3, 1), v=(3, 1), x=(3, 1))),
    ("a^b wrt a", "gradient", "b a^(b - 1)", dict(a=(1, 1), b=(1, 1))),
    ("a^b wrt b", "gradient", "a^b log(a)", dict(a=(1, 1), b=(1, 1))),
    ("norm1(A*x-y) wrt x", "gradient", "Aᵀ sign(A x - y)", dict(A=(4, 3), x=(3, 1), y=(4, 1))),
    ("norm2(A*x-y)^2 wrt x", "gradient", "2 Aᵀ (A x - y)", dict(A=(4, 3), x=(3, 1), y=(4, 1))),
    ("sum(log(exp(-y.*(X*w)) + vector(1))) wrt w", "gradient",
     "-Xᵀ (y ∘ exp(-(y ∘ (X w))) ./ (exp(-(y ∘ (X w))) + ones(4,1)))", dict(X=(4, 3), y=(4, 1), w=(3, 1))),
    ("tr(A*X'*B*X*C) wrt X", "gradient", "Bᵀ X Aᵀ Cᵀ + B X C A", dict(A=(3, 3), B=(2, 2), C=(3, 3), X=(2, 3))),
    ("log(det(inv(X))) wrt X", "gradient", "-X⁻ᵀ", dict(X=(3, 3))),
]  # fmt: skip


@pytest.mark.parametrize("source,kind,want,shapes", MATRIXCALCULUS, ids=[m[0] for m in MATRIXCALCULUS])
def test_matrixcalculus_examples_as_pasted(source, kind, want, shapes):
    r = jacli.derive(source, random=True, **shapes)
    assert (r.gradient_formula if kind == "gradient" else r.formula) == want
    claim = f"vec({want})'" if kind == "gradient" else want
    c = jacli.check(source, against=claim, **shapes)  # the numerical derivative knows no rules
    assert c.agree


# one example each of the new functions, with the closed form printed
FUNCTIONS = [
    ("tan(x) wrt x", "diag(ones(3,1) + tan(x) ∘ tan(x))"),
    ("arcsin(x) wrt x", "diag(ones(3,1) ./ sqrt(ones(3,1) - x ∘ x))"),
    ("asin(x) wrt x", "diag(ones(3,1) ./ sqrt(ones(3,1) - x ∘ x))"),
    ("arccos(x) wrt x", "-diag(ones(3,1) ./ sqrt(ones(3,1) - x ∘ x))"),
    ("arctan(x) wrt x", "diag(ones(3,1) ./ (ones(3,1) + x ∘ x))"),
    ("sinh(x) wrt x", "diag(cosh(x))"),
    ("cosh(x) wrt x", "diag(sinh(x))"),
    ("abs(x) wrt x", "diag(sign(x))"),
    ("sign(x) wrt x", "zeros(3,3)"),
    ("relu(x) wrt x", "diag(step(x))"),
    ("sigmoid(x) wrt x", "diag(sigmoid(x) ∘ (ones(3,1) - sigmoid(x)))"),
    ("softplus(x) wrt x", "diag(sigmoid(x))"),
    ("x.^3 wrt x", "3 diag(x.^2)"),
    ("x / 2 wrt x", "0.5 I₃"),
    ("x / norm2(x) wrt x", "I₃ / norm2(x) - x xᵀ / norm2(x)³"),
    ("norm1(x) wrt x", "sign(x)ᵀ"),
    ("norm2(x) wrt x", "xᵀ / norm2(x)"),
    ("softmax(x) wrt x", "diag(softmax(x)) - softmax(x) softmax(x)ᵀ"),
    ("logsumexp(x) wrt x", "softmax(x)ᵀ"),
    ("x + vector(2) wrt x", "I₃"),
]


@pytest.mark.parametrize("source,want", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_each_function(source, want):
    r = jacli.derive(source, x=(3, 1), symbolic=True)
    assert r.formula == want
    assert jacli.check(source, x=(3, 1), against=want).agree


def test_real_power_of_a_scalar_and_a_matrix_power():
    assert jacli.derive("s^0.5 wrt s", symbolic=True).formula == "0.5 s^(-0.5)"
    r = run("derive", "X^0.5 wrt X", "X=3x3", "--symbolic")
    assert r.exit_code == 2 and "a real power needs a 1×1 base" in r.stderr


# -- refusals at the kinks, naming the entry -------------------------------------------------
@pytest.mark.parametrize(
    "source,spec,message",
    [
        ("relu(X) wrt X", "X=[[1,0],[2,3]]",
         "relu(X) at column 1: entry [0,1] of the argument is 0, where relu has no derivative"),
        ("abs(x) wrt x", "x=[1,0,2]",
         "abs(x) at column 1: entry [1,0] of the argument is 0, where abs has no derivative"),
        ("sign(x) wrt x", "x=[0,1]", "entry [0,0] of the argument is 0, where sign has no derivative"),
        ("norm1(x) wrt x", "x=[1,0]", "norm1(x) at column 1: entry [1,0] of the argument is 0, where norm1 has no"),
        ("norm2(x) wrt x", "x=[0,0]", "norm2(x) at column 1: the argument is 0, where norm2 has no derivative"),
        ("arcsin(x) wrt x", "x=[0.5,1]", "entry [1,0] of the argument is 1, where arcsin has no derivative"),
        ("arccos(x) wrt x", "x=[-1,0]", "entry [0,0] of the argument is -1, where arccos has no derivative"),
        ("arcsin(x) wrt x", "x=[2]", "entry [0,0] of the argument is 2, outside [-1, 1], where arcsin is defined"),
        ("x.^0.5 wrt x", "x=[1,0]", "entry [1,0] of the base is 0, where a power below 1 has no derivative"),
        ("x.^0.5 wrt x", "x=[1,-1]", "entry [1,0] of the base is -1, and a real power of a negative number"),
    ],
)  # fmt: skip
def test_refusals_at_the_kinks(source, spec, message):
    r = run("derive", source, spec)
    assert r.exit_code == 2
    assert message in r.stderr, r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_values_at_kinks_are_fine_where_nothing_is_differentiated():
    r = jacli.derive("relu(A) X wrt X", A=np.array([[0.0]]), X=np.ones((1, 2)))
    np.testing.assert_array_equal(r.matrix, np.zeros((2, 2)))


def test_random_values_avoid_the_kinks():
    for source in ("arcsin(X) wrt X", "arccos(X) wrt X", "sum(X.^0.5) wrt X", "norm2(X) wrt X", "relu(X) wrt X"):
        assert np.all(np.isfinite(jacli.derive(source, X=(3, 2), random=True).matrix)), source


def test_no_overflow_at_a_thousand():
    x = np.array([[1000.0], [-1000.0], [0.0]])
    g = jacli.derive("logsumexp(x) wrt x", x=x).gradient
    np.testing.assert_allclose(g, [[1.0], [0.0], [0.0]])
    r = jacli.derive("softplus(x) wrt x", x=x)
    np.testing.assert_allclose(np.diag(r.matrix), [1.0, 0.0, 0.5])
    assert np.all(np.isfinite(jacli.derive("softmax(x) wrt x", x=x).matrix))
    r = jacli.derive("sum(softplus(x)) + logsumexp(x) wrt x", x=x)
    assert np.all(np.isfinite(r.matrix))


# -- LaTeX that compiles: only known macros ----------------------------------------------------
KNOWN_MACROS = {
    "operatorname", "left", "right", "exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "arcsin",
    "arccos", "arctan", "det", "sqrt", "lVert", "rVert", "lvert", "rvert", "otimes", "circ", "oslash", "top",
    "mathbf", "times", "cdot", "frac", "mathit", "mathrm", "oplus", "backslash", "mathsf", "begin", "end",
}  # fmt: skip


@pytest.mark.parametrize("op", sorted(n for n, o in ops.REGISTRY.items() if o.notation.call))
def test_latex_names_compile(op):
    record = ops.REGISTRY[op]
    extra = {"size": ["1"], "offset": ["-1"]}.get(record.notation.attr, [])
    text = f"{record.notation.call}({', '.join(['x'] * record.arity + extra)})"
    latex = to_latex(parse_expr(text))
    assert set(re.findall(r"\\([A-Za-z]+)", latex)) <= KNOWN_MACROS, latex
    assert latex.count("{") == latex.count("}")


def test_norms_print_as_norms():
    assert to_latex(parse_expr("norm2(x) + norm1(x)")) == r"\lVert x \rVert_2 + \lVert x \rVert_1"
    assert to_latex(parse_expr("softplus(x)")) == r"\operatorname{softplus}\left(x\right)"


# -- messages ------------------------------------------------------------------------------------
def test_unknown_function_lists_the_nearest():
    r = run("derive", "sigmod(x) wrt x", "x=3")
    assert r.stderr == "jacli: error: unknown function 'sigmod' (did you mean 'sigmoid'?) at column 1\n"


def test_a_number_is_not_added_to_every_entry():
    r = run("derive", "X + 1 wrt X", "X=2x2")
    assert r.exit_code == 2
    assert "write X + ones for that, or X + I for the diagonal" in r.stderr


def test_check_uses_central_differences_where_an_operator_is_not_analytic():
    # the complex step on abs gives |x + ih| = |x|: its derivative would be zero
    c = jacli.check("sum(abs(A x)) wrt x", A=(3, 2), x=(2, 1))
    assert c.agree and c.method == "central differences (abs is not analytic)"
    assert jacli.check("sum(exp(A x)) wrt x", A=(3, 2), x=(2, 1)).method == "complex step"
    r = run("check", "relu(W x) wrt x", "W=3x2", "x=2")
    assert r.exit_code == 0 and "numerical: central differences (relu is not analytic)" in r.stdout


def test_readme_lists_every_function_with_its_domain():
    from pathlib import Path

    from jacli.syntax.notation import vocabulary

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| function | of | defined") : readme.index("Precedence, loosest first")]
    rows = [row for row in table.splitlines()[2:] if row.startswith("|")]
    cells = [c for row in rows for c in re.findall(r"`([^`]+)`", row.split("|")[1])]
    listed = {c.split("(")[0] if "(" in c else w for c in cells for w in ([c] if "(" in c else c.split())}
    assert listed == set(vocabulary().functions)
