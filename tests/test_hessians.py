"""Hessians: the Jacobian of the gradient, against second differences of the function itself.

The oracle (tests/oracle.py, second_derivative) knows only the value rules: the complex step
along one entry of central differences along another, or four-point differences where an
operator is not analytic. Cases: the textbook Hessians, every rule of the registry (as a
scalar sum(W ∘ F) and as the stacked Hessian of F itself), and the chain rule through P Y Q.
"""

from __future__ import annotations

import numpy as np
import pytest
from cli_support import isolated, run  # noqa: F401 (isolated: autouse)
from oracle import second_derivative
from test_rules import _cases, _values, build

import jacli
from jacli.api import Problem
from jacli.api.hessians import asymmetry, hessian_of
from jacli.api.problem import bindings_of, prepare
from jacli.calculus import ops
from jacli.calculus.shapes import Shapes
from jacli.errors import JacliError
from jacli.expr import Expr, name


def _hessian(source: str, symbolic: bool = False, **shapes):
    problem = prepare(source, bindings_of(None, shapes), random=not symbolic, symbolic=symbolic)
    return hessian_of(problem, symbolic=symbolic)


def _agrees(h) -> None:
    p = h.problem
    oracles = [second_derivative(p.expr, p.values, v) for v in p.wrt]
    if len(p.wrt) == 1:
        want, tol = oracles[0]
    else:  # the block Hessian: row block i is ∂ vec(G_i) / ∂ (all names), from the oracle's columns
        want = _blocks(p)
        tol = max(t for _, t in oracles)
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(h.matrix, want, rtol=tol, atol=tol * scale)


def _blocks(p) -> np.ndarray:
    """The block Hessian of a scalar f by second differences over all the names at once."""
    sizes = [p.names[v][0] * p.names[v][1] for v in p.wrt]
    N = sum(sizes)
    eps = 1e-4
    z0 = np.concatenate([p.values[v].reshape(-1, order="F") for v in p.wrt])

    def f(z):
        vals, k = dict(p.values), 0
        for v, s in zip(p.wrt, sizes, strict=True):
            vals[v] = z[k : k + s].reshape(p.names[v], order="F")
            k += s
        from jacli.numeric.evaluate import Evaluator

        return float(Evaluator(vals)(p.expr)[0, 0])

    out = np.empty((N, N))
    for a in range(N):
        for b in range(N):
            ea, eb = np.eye(N)[a] * eps, np.eye(N)[b] * eps
            out[a, b] = (f(z0 + ea + eb) - f(z0 + ea - eb) - f(z0 - ea + eb) + f(z0 - ea - eb)) / (4 * eps * eps)
    return out


# -- the textbook Hessians ------------------------------------------------------------------
TEXTBOOK = [
    ("tr(X' A X) wrt X", dict(A=(3, 3), X=(3, 3)), "I₃ ⊗ (A + Aᵀ)"),
    ("tr(X' A X) wrt X", dict(A=(3, 3), X=(3, 2)), "I₂ ⊗ (A + Aᵀ)"),
    ("x' A x wrt x", dict(A=(4, 4)), "A + Aᵀ"),
    ("logdet(X) wrt X", dict(X=(3, 3)), "-K(3,3) (X⁻ᵀ ⊗ X⁻¹)"),
    ("norm2(A x - b)^2 wrt x", dict(A=(4, 3)), "2 Aᵀ A"),
    ("x' x wrt x", dict(x=(3, 1)), "2 I₃"),
    ("logsumexp(x) wrt x", dict(x=(3, 1)), "diag(softmax(x)) - softmax(x) softmax(x)ᵀ"),
    ("norm2(x) wrt x", dict(x=(3, 1)), "I₃ / norm2(x) - x xᵀ / norm2(x)³"),
    ("sum(exp(W x)) wrt W", dict(W=(2, 3)), "(x ⊗ I₂) diag(exp(W x)) (xᵀ ⊗ I₂)"),
    ("sum(softplus(-y .* (X w))) wrt w", dict(X=(4, 3), y=(4, 1)),
     "Xᵀ diag(y ∘ (sigmoid(-(y ∘ (X w))) ∘ (ones(4,1) - sigmoid(-(y ∘ (X w)))) ∘ y)) X"),
    ("tr(X Y) wrt X, Y", dict(X=(2, 3)), "[zeros(6,6), K(3,2); K(2,3), zeros(6,6)]"),
    ("A X B wrt X", dict(A=(2, 3), B=(4, 2)), "zeros(48,12)"),
]  # fmt: skip


@pytest.mark.parametrize("source,shapes,want", TEXTBOOK, ids=[f"{t[0]} {t[1]}" for t in TEXTBOOK])
def test_textbook_hessians(source, shapes, want):
    h = _hessian(source, **shapes)
    assert h.formula == want
    _agrees(h)
    if h.problem.shape == (1, 1):
        assert asymmetry(h.matrix) < 1e-12


def test_symbolic_hessians_read_as_in_the_books():
    assert _hessian("tr(X' A X) wrt X", symbolic=True).formula == "I(n) ⊗ (A + Aᵀ)"
    assert _hessian("x' A x wrt x", symbolic=True).formula == "A + Aᵀ"
    assert _hessian("logdet(X) wrt X", symbolic=True).formula == "-K(m,m) (X⁻ᵀ ⊗ X⁻¹)"
    assert _hessian("norm2(A x - b)^2 wrt x", symbolic=True).formula == "2 Aᵀ A"


def test_stacked_hessian_of_a_matrix_f():
    h = _hessian("X' X wrt X", X=(2, 3))
    assert h.shape == (54, 6) and h.stacked
    _agrees(h)
    h = _hessian("inv(X) wrt X", X=(2, 2))
    _agrees(h)


def test_row_vec_is_the_hessian_in_row_order():
    problem = prepare("tr(X' A X) + sum(exp(X)) wrt X", bindings_of(None, dict(A=(3, 3), X=(3, 2))), random=True)
    col = hessian_of(problem).matrix
    row = hessian_of(problem, "row").matrix
    perm = np.arange(6).reshape(3, 2, order="F").reshape(-1)  # row position k holds col position perm[k]
    np.testing.assert_allclose(row, col[np.ix_(perm, perm)], rtol=1e-14)


def test_refusals():
    with pytest.raises(JacliError, match="with respect to one name"):
        _hessian("X Y wrt X, Y", X=(2, 3), Y=(3, 2))
    p = prepare("logdet(X) wrt X", bindings_of(None, dict(X=np.diag([1.0, -1.0]))))
    with pytest.raises(JacliError, match="not positive"):
        hessian_of(p)  # the gradient X⁻ᵀ is defined there, logdet is not
    p = prepare("sum(relu(x) ∘ relu(x)) wrt x", bindings_of(None, dict(x=np.array([1.0, 0.0]))))
    with pytest.raises(JacliError, match="where relu has no derivative"):
        hessian_of(p)


# -- every rule of the registry --------------------------------------------------------------
def _registry_problem(opname, attr, shapes, scalar: bool, seed: int) -> Problem:
    op = ops.REGISTRY[opname]
    F = build(opname, attr, [name(f"A{k}") for k in range(op.arity)])
    names = {f"A{k}": s for k, s in enumerate(shapes)}
    vals = _values(op, shapes, seed, attr)
    if scalar:
        names["W"] = Shapes(names)(F)
        vals["W"] = np.random.default_rng(seed + 1).standard_normal(names["W"])
        F = Expr("sum", (Expr("had", (name("W"), F)),))
    return Problem("", F, (), names, vals, Shapes(names))


CASES = list(_cases())


@pytest.mark.parametrize("opname,attr,shapes,i", CASES)
def test_rule_second_derivative_of_a_scalar(opname, attr, shapes, i):
    p = _registry_problem(opname, attr, shapes, scalar=True, seed=11)._replace(wrt=(f"A{i}",))
    h = hessian_of(p)
    want, tol = second_derivative(p.expr, p.values, f"A{i}")
    np.testing.assert_allclose(h.matrix, want, rtol=tol, atol=tol * max(1.0, float(np.max(np.abs(want)))))


# A matrix function's Kronecker form K_f(X) is J itself: its stacked Hessian is f's third
# derivative, whose closed form is the Kronecker form of a matrix function of a 2n² block
# matrix (n⁸ entries at n = 2 already); f's own stacked Hessian is among the cases
STACKED = [c for c in CASES[::3] if c.values[0] != "dform"]


@pytest.mark.parametrize("opname,attr,shapes,i", STACKED)
def test_rule_stacked_hessian(opname, attr, shapes, i):
    p = _registry_problem(opname, attr, shapes, scalar=False, seed=12)._replace(wrt=(f"A{i}",))
    h = hessian_of(p)
    want, tol = second_derivative(p.expr, p.values, f"A{i}")
    np.testing.assert_allclose(h.matrix, want, rtol=tol, atol=tol * max(1.0, float(np.max(np.abs(want)))))


def test_python_api():
    rng = np.random.default_rng(13)
    A, X = rng.standard_normal((3, 3)), rng.standard_normal((3, 2))
    H = jacli.hessian("tr(X' A X) wrt X", A=A, X=X)
    np.testing.assert_allclose(H, np.kron(np.eye(2), A + A.T), rtol=1e-14)


# -- the command line -------------------------------------------------------------------------
def test_cli_symbolic_and_plain():

    r = run("hessian", "tr(X' A X) wrt X", "--symbolic")
    assert r.exit_code == 0 and r.stdout == "I(n) ⊗ (A + Aᵀ)\n"
    r = run("hessian", "x' A x wrt x", "A=[[1,2],[0,3]]", "x=[1,1]", "--format", "plain")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0] == "# H = ∂²f/∂vec(x)∂vec(x)ᵀ = A + Aᵀ"
    assert r.stdout.splitlines()[1] == "# shape: 2×2 (f = xᵀ A x is 1×1; rows and columns: vec x, x 2×1)"
    np.testing.assert_array_equal(np.loadtxt(r.stdout.splitlines()[2:]), [[2, 2], [2, 6]])


def test_cli_formats_and_files(tmp_path):
    import json

    import scipy.sparse

    args = ["hessian", "tr(X' A X) + sum(exp(X)) wrt X", "A=3x3", "X=3x2", "--random"]
    want = jacli.hessian("tr(X' A X) + sum(exp(X)) wrt X", A=(3, 3), X=(3, 2), random=True)
    doc = json.loads(run(*args, "--format", "json").stdout)
    np.testing.assert_allclose(doc["matrix"], want, rtol=1e-15)
    assert doc["hessian_formula"] == "I₂ ⊗ (A + Aᵀ) + diag(vec(exp(X)))" and doc["shape"] == [6, 6]
    np.testing.assert_allclose(np.loadtxt(run(*args, "--format", "csv").stdout.splitlines(), delimiter=","), want)
    assert run(*args, "--format", "latex").stdout.startswith(r"\frac{\partial^2 f}{\partial \operatorname{vec}(X)")
    for out in ("H.npy", "H.txt", "H.json"):
        r = run(*args, "-o", out)
        assert r.exit_code == 0 and f"wrote {out}" in r.stderr
    np.testing.assert_allclose(np.load("H.npy"), want, rtol=1e-15)
    np.testing.assert_allclose(np.loadtxt("H.txt"), want, rtol=1e-15)
    assert run(*args, "--sparse", "-o", "H.npz").exit_code == 0
    np.testing.assert_allclose(scipy.sparse.load_npz("H.npz").toarray(), want, rtol=1e-15)
    row = run(*args, "--vec", "row", "-o", "Hr.npy")
    assert row.exit_code == 0
    perm = np.arange(6).reshape(3, 2, order="F").reshape(-1)
    np.testing.assert_allclose(np.load("Hr.npy"), want[np.ix_(perm, perm)], rtol=1e-15)
    assert run("hessian", "x' A x wrt x", "A=3x3", "--symbolic", "-o", "H.tex").exit_code == 0
    assert (tmp_path / "H.tex").read_text().endswith("= A + A^{\\top}\n")


def test_cli_several_names_and_refusals(tmp_path):

    r = run("hessian", "tr(X Y) wrt X, Y", "X=2x3", "--random", "-o", "H.npy")
    assert r.exit_code == 0 and np.load("H.npy").shape == (12, 12)
    r = run("hessian", "tr(X Y) wrt X, Y", "X=2x3", "--random", "--sparse", "-o", "H.npz")
    assert r.exit_code == 2 and "one name after wrt" in r.stderr and not (tmp_path / "H.npz").exists()
    r = run("hessian", "X Y wrt X, Y", "X=2x3", "Y=3x2", "--random", "-o", "H.npy")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "with respect to one name" in r.stderr
    r = run("hessian", "logdet(X) wrt X", "X=[[1,0],[0,-1]]", "-o", "H2.npy")
    assert r.exit_code == 2 and "not positive" in r.stderr and not (tmp_path / "H2.npy").exists()
    # hessian has no --gradient (derive has): refused as an unknown option, and for nothing else
    assert run("derive", "tr(X) wrt X", "X=2x2", "--random", "--gradient").exit_code == 0
    assert run("hessian", "tr(X) wrt X", "X=2x2", "--random").exit_code == 0
    r = run("hessian", "tr(X) wrt X", "X=2x2", "--random", "--gradient")
    assert (r.exit_code, r.stdout, r.stderr) == (2, "", "jacli: error: unknown option '--gradient' (see --help)\n")


def test_check_hessian():
    import json

    r = run("check", "tr(X' A X) wrt X", "A=3x3", "X=3x2", "--hessian", "--against", "I(2) ⊗ (A + A')")
    assert r.exit_code == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "agree: the Hessian of tr(Xᵀ A X) wrt X (H 6×6)"
    assert lines[1] == "  first derivative: agrees with the numerical derivative of F (complex step)"
    assert "  asymmetry of jacli's H: max|H - Hᵀ| / max(1, max|H|) = 0" in lines
    r = run("check", "tr(X' A X) wrt X", "A=3x3", "X=3x2", "--hessian", "--against", "I(2) ⊗ A")
    assert r.exit_code == 1 and "claim I(2) ⊗ A: DISAGREES" in r.stdout
    r = run("check", "sum(relu(x) ∘ relu(x)) + x' A x wrt x", "A=3x3", "x=3", "--hessian", "--format", "json")
    doc = json.loads(r.stdout)
    assert r.exit_code == 0 and doc["verdict"] == "agree" and doc["rows"][0]["method"].startswith("central")
    r = run("check", "X' X wrt X", "X=3x2", "--hessian")
    assert r.exit_code == 0 and r.stdout.startswith("agree: the stacked Hessian of Xᵀ X wrt X (H 24×6)")
    r = run("check", "tr(X Y) wrt X, Y", "X=2x3", "--hessian", "--against", "K(2,3)")
    assert r.exit_code == 2 and "one name after wrt" in r.stderr
    r = run("check", "tr(X' A X) wrt X", "X=m×n", "--hessian")
    assert r.exit_code == 2 and "needs numbers for the sizes" in r.stderr


def test_check_hessian_catches_a_wrong_gradient(monkeypatch):
    # H is checked against differences of the gradient, so the gradient is checked first:
    # a gradient rule that doubled its result fails there, and the Hessian with it
    import jacli.api.derivation as derivation
    import jacli.api.hessians as hs

    real = derivation.gradient

    def doubled(expr, var, shapes, simp):
        return Expr("smul", (Expr("num", (), 2.0), real(expr, var, shapes, simp)))

    monkeypatch.setattr(derivation, "gradient", doubled)
    monkeypatch.setattr(hs, "gradient", doubled)
    derivation._blocks.cache_clear()
    hs._row_exprs.cache_clear()
    try:
        p = prepare("tr(X' A X) wrt X", bindings_of(None, dict(A=(3, 3), X=(3, 2))), random=True)
        c = hs.check_hessian(p)
        assert not c.first.agree and not c.agree
    finally:
        derivation._blocks.cache_clear()
        hs._row_exprs.cache_clear()


def test_batch_lines(tmp_path):
    lines = [
        """hessian "tr(X' A X) wrt X" A=3x3 X=3x2 --symbolic""",
        """check "tr(X' A X) wrt X" A=3x3 X=3x2 --hessian --against "I(2) ⊗ (A + A')" """,
        """check "tr(X' A X) wrt X" A=3x3 X=3x2 --hessian --against "I(2) ⊗ A" """,
    ]
    (tmp_path / "b.txt").write_text("\n".join(lines) + "\n")
    r = run("batch", "b.txt")
    assert r.exit_code == 1
    out = r.stdout.splitlines()
    assert out[1] == "      H = I₂ ⊗ (A + Aᵀ)"
    assert out[2].split()[1] == "agree" and out[4].split()[1] == "disagree"


def test_a_hessian_needs_only_the_values_it_depends_on():
    A = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(jacli.hessian("x' A x wrt x", A=A, x=(3, 1)), A + A.T)
    np.testing.assert_array_equal(jacli.hessian("tr(X) wrt X", X=(2, 2)), np.zeros((4, 4)))
    with pytest.raises(JacliError, match=r"X \(2×2\) has no values"):
        jacli.hessian("logdet(X) wrt X", X=(2, 2))  # H needs X
    with pytest.raises(JacliError, match=r"y \(3×1\) has no values"):
        jacli.hessian("log(y' y) + x' A x wrt x", A=A, y=(3, 1))  # f's domain needs y
