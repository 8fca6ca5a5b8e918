"""jacli explain: every step, read back from its printed text, has the value of dF along a
random direction; a derivation with a wrong step fails; the Markdown and LaTeX compile.

The reference is the directional derivative of F itself, by the complex step (central
differences where an operator is not analytic); a step's d(E) is evaluated the same way."""

from __future__ import annotations

import re

import numpy as np
import pytest
from cli_support import isolated, run  # noqa: F401 (isolated: autouse)
from oracle import analytic, draw

from jacli.api.explaining import Explanation, explain_problem
from jacli.api.problem import bindings_of, prepare
from jacli.calculus.ops import REGISTRY
from jacli.calculus.shapes import infer
from jacli.expr import Expr
from jacli.numeric.evaluate import Evaluator
from jacli.syntax.parser import parse_step
from jacli.syntax.printer import to_text

CASES = [
    ("A X B wrt X", dict(A=(2, 3), X=(3, 4), B=(4, 2))),
    ("tr(X' A X) wrt X", dict(A=(3, 3), X=(3, 2))),
    ("log(det(X)) wrt X", dict(X=(3, 3))),
    ("kron(A, B) wrt A", dict(A=(2, 3), B=(2, 2))),
    ("inv(X) wrt X", dict(X=(3, 3))),
    ("X' X wrt X", dict(X=(3, 2))),
    ("X A X wrt X", dict(X=(2, 3), A=(3, 2))),
    ("sum(log(exp(-y.*(X*w)) + vector(1))) wrt w", dict(X=(4, 3), y=(4, 1), w=(3, 1))),
    ("a' tanh(W x) wrt W", dict(a=(3, 1), W=(3, 2), x=(2, 1))),
    ("x' A x wrt x", dict(A=(3, 3), x=(3, 1))),
    ("tr(X Y) wrt X, Y", dict(X=(2, 3), Y=(3, 2))),
    ("X Y wrt X, Y", dict(X=(2, 3), Y=(3, 2))),
    ("sum(exp(W x)) wrt W", dict(W=(2, 3), x=(3, 1))),
    ("det(X) wrt X", dict(X=(3, 3))),
    ("X^3 wrt X", dict(X=(2, 2))),
    ("norm2(A x - b)^2 wrt x", dict(A=(4, 3), x=(3, 1), b=(4, 1))),
    ("softmax(x) wrt x", dict(x=(3, 1))),
    ("relu(W x) wrt W", dict(W=(3, 2), x=(2, 1))),
    ("X ./ (A + X ∘ X) wrt X", dict(A=(2, 3), X=(2, 3))),
    ("logdet(X' X) wrt X", dict(X=(3, 2))),
]


def _explained(source: str, shapes: dict) -> tuple[Explanation, dict, dict]:
    problem = prepare(source, bindings_of(None, shapes), random=True, seed=3)
    rng = np.random.default_rng(4)
    directions = {v: draw(rng, problem.names[v]) for v in problem.wrt}
    return explain_problem(problem), dict(problem.values), directions


def _along(expr: Expr, values: dict, directions: dict, exact: bool) -> np.ndarray:
    """d expr along the directions, from its values alone."""
    if exact:
        h = 1e-20
        moved = {**values, **{v: values[v] + 1j * h * d for v, d in directions.items()}}
        return np.real(Evaluator(moved)(expr).imag / h)
    h = 1e-6
    plus = {**values, **{v: values[v] + h * d for v, d in directions.items()}}
    minus = {**values, **{v: values[v] - h * d for v, d in directions.items()}}
    return (Evaluator(plus)(expr) - Evaluator(minus)(expr)) / (2 * h)


def _value(e: Expr, values: dict, directions: dict, exact: bool, memo: dict) -> np.ndarray:
    """A step's value: d(E) along the directions by the oracle, the rest by the value rules."""
    if e in memo:
        return memo[e]
    if e.op == "d":
        out = _along(e.args[0], values, directions, exact)
    elif e.op == "name":
        out = values[e.attr]
    else:
        out = REGISTRY[e.op].value(e, *[_value(a, values, directions, exact, memo) for a in e.args])
    memo[e] = out
    return out


def _read_back(x: Explanation, text: str) -> Expr:
    """The step as a user would paste it: parsed and resolved over the names and dX's shapes."""
    shapes = dict(x.problem.names)
    shapes.update({d: x.problem.names[v] for v, d in x.names.items()})
    return infer(parse_step(text), shapes).expr


def check_steps(x: Explanation, values: dict, directions: dict) -> None:
    p = x.problem
    exact = analytic(p.expr)
    tol = 1e-8 if exact else 1e-5
    d_values = {**values, **{x.names[v]: d for v, d in directions.items()}}
    whole = _along(p.expr, values, directions, exact)  # dF along all directions at once
    part = {v: _along(p.expr, values, {v: directions[v]}, exact) for v in p.wrt}
    for k, step in enumerate(x.steps, 1):
        got = _value(_read_back(x, to_text(step.expr)), d_values, directions, exact, {})
        var = step.lhs[len("∂f/∂") :] if step.lhs.startswith("∂f/∂") else step.lhs[2:]
        if step.lhs in ("dF", "df"):
            want = whole
        elif step.lhs == "vec(dF)":
            got, want = got.reshape(-1, order="F"), whole.reshape(-1, order="F")
        elif step.lhs.startswith("∂f/∂"):
            got, want = np.sum(got * directions[var]), part[var]
        else:  # J or J_X
            var = var or p.wrt[0]
            got, want = got @ directions[var].reshape(-1, order="F"), part[var].reshape(-1, order="F")
        scale = max(1.0, float(np.max(np.abs(want))))
        assert np.allclose(got, want, rtol=tol, atol=tol * scale), f"step {k} ({step.lhs} = {to_text(step.expr)})"


@pytest.mark.parametrize("source,shapes", CASES, ids=[c[0] for c in CASES])
def test_every_step_read_back_has_the_value_of_dF(source, shapes):
    x, values, directions = _explained(source, shapes)
    assert x.steps[-1].lhs.startswith("J")
    check_steps(x, values, directions)


def test_a_wrong_step_fails():
    x, values, directions = _explained("tr(X' A X) wrt X", dict(A=(3, 3), X=(3, 2)))
    steps = list(x.sections[0].steps)
    wrong = steps[1]._replace(expr=_drop_a_term(steps[1].expr))
    sections = (x.sections[0]._replace(steps=(*steps[:1], wrong, *steps[2:])), *x.sections[1:])
    with pytest.raises(AssertionError, match="step 2"):
        check_steps(x._replace(sections=sections), values, directions)


def _drop_a_term(e: Expr) -> Expr:
    """tr(U + V) -> tr(U): a product rule that forgot a term."""
    assert e.op == "tr" and e.args[0].op == "add"
    return Expr("tr", (e.args[0].args[0],))


def test_steps_name_their_rules_and_sources():
    x, _, _ = _explained("tr(X' A X) wrt X", dict(A=(3, 3), X=(3, 2)))
    text = x.text()
    assert "by d(tr(A)) = tr(dA) (linear; M&N ch. 8, Cookbook sec. 2.1)" in text
    assert "by d(A B) = dA B + A dB (product rule; M&N ch. 8, Cookbook sec. 2.1)" in text
    assert "∂f/∂X = (A + Aᵀ) X" in text and "first identification" not in text.split("∂f/∂X = (A + Aᵀ) X")[0]
    x, _, _ = _explained("A X B wrt X", dict(A=(2, 3), X=(3, 4), B=(4, 2)))
    assert "vec(A B C) = (Cᵀ ⊗ A) vec(B)" in x.text()
    x, _, _ = _explained("kron(A, B) wrt A", dict(A=(2, 3), B=(2, 2)))  # M&N's theorem 3.10, then vec(dA) out
    assert [s.why.split(" for ")[0] for s in x.steps[1:3]] == [
        "vec(A ⊗ B) = (I(n) ⊗ K(q,m) ⊗ I(p)) (vec(A) ⊗ vec(B))",
        "vec(A) ⊗ b = (I(m n) ⊗ b) vec(A), a ⊗ vec(B) = (a ⊗ I(p q)) vec(B)",
    ]
    assert to_text(x.steps[1].expr) == "(I₃ ⊗ K(2,2) ⊗ I₂) (vec(dA) ⊗ vec(B))"
    x, _, _ = _explained("sum(softplus(-y .* (X w))) wrt w", dict(X=(4, 3), y=(4, 1)))  # w's names, not X's
    assert [s.why for s in x.steps[-3:-1]] == ["collected as gᵀ dw", "df = gᵀ dw ⇔ ∂f/∂w = g"]
    x, _, _ = _explained("X' X wrt X", dict(X=(3, 2)))
    assert [s.why for s in x.steps][-1].startswith("vec(dF) = J vec(dX)")


KNOWN_MACROS = {
    "operatorname", "left", "right", "exp", "log", "sin", "cos", "tan", "tanh", "det", "sqrt", "otimes",
    "circ", "top", "frac", "mathit", "mathrm", "partial", "text", "quad", "begin", "end", "lVert", "rVert",
    "oslash", "mathbf", "times", "cdot",
}  # fmt: skip


@pytest.mark.parametrize("source,shapes", CASES[:12], ids=[c[0] for c in CASES[:12]])
def test_markdown_and_latex_compile(source, shapes):
    x, _, _ = _explained(source, shapes)
    md = x.markdown()
    blocks = re.findall(r"\$\$\n(.*?)\n\$\$", md, flags=re.S)
    inline = re.findall(r"(?<!\$)\$([^$\n]+)\$(?!\$)", md)
    assert len(blocks) == len(x.steps)
    for formula in [*blocks, *inline, x.latex()]:
        assert formula.count("{") == formula.count("}"), formula
        assert formula.count(r"\left") == formula.count(r"\right"), formula
        assert set(re.findall(r"\\([A-Za-z]+)", formula)) <= KNOWN_MACROS, formula
    latex = x.latex()
    assert latex.startswith("\\begin{align*}\n") and latex.endswith("\\end{align*}\n")
    assert latex.count("&=") == len(x.steps)
    assert all(ord(c) < 128 for c in latex), "pdfLaTeX needs ASCII"


def test_cli():
    r = run("explain", "A X B wrt X")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0] == "A X B wrt X: A p×m, X m×n, B n×q; F is p×q"
    assert "  4. J = Bᵀ ⊗ A" in r.stdout
    r = run("explain", "A X B wrt X", "A=2x3", "B=4x5", "--format", "markdown")
    assert r.exit_code == 0 and r.stdout.startswith("# The derivative of $A X B$ with respect to $X$\n")
    assert "$$\nJ = B^{\\top} \\otimes A\n$$" in r.stdout
    r = run("explain", "A X B wrt X", "--format", "latex")
    assert r.exit_code == 0 and r.stdout.startswith("\\begin{align*}")
    r = run("explain", "A Y wrt X", "A=2x2")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == "jacli: error: 'X' after 'wrt' does not occur in the expression at column 9\n"


def test_the_sample_notes_are_what_jacli_prints():
    import shlex

    from cli_support import SAMPLES

    notes = sorted((SAMPLES / "notes").glob("*.md"))
    notes = [n for n in notes if n.name != "README.md"]
    assert len(notes) == 3
    for note in notes:
        head, _, body = note.read_text(encoding="utf-8").partition("\n\n")
        command = shlex.split(head.removeprefix("<!-- made by: ").removesuffix(" -->"))
        assert command[:2] == ["jacli", "explain"]
        r = run(*command[1:])
        assert r.exit_code == 0 and r.stdout == body, note.name
