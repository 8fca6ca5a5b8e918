"""Differentials, adjoints and gradients, over the registry and on the issue's examples.

For every operator with a differential rule, on the shape menu of tests/test_rules.py:
dF along a random direction V equals the complex-step directional derivative (written here,
from the value rules) and J vec(V); the adjoint satisfies ⟨Ū, dF(V)⟩ = ⟨X̄(Ū), V⟩; and the
gradient of the scalar sum(W ∘ F) equals the oracle's Jacobian row.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import scipy.sparse.linalg as sla
from cli_support import isolated, run  # noqa: F401 (isolated: autouse)
from oracle import derivative, draw
from test_rules import attrs, build, covered, hints

import jacli
from jacli.calculus import ops
from jacli.calculus.adjoint import adjoint, gradient
from jacli.calculus.chain import jacobian_expr
from jacli.calculus.differential import differential
from jacli.calculus.shapes import Shapes
from jacli.calculus.simplify import Simplifier
from jacli.errors import JacliError
from jacli.expr import Expr, name
from jacli.numeric.evaluate import Evaluator

SHAPES = [(2, 3), (3, 2), (3, 3), (3, 1), (1, 3), (1, 1), (2, 2)]


def _cases():
    for op in ops.REGISTRY.values():
        if not covered(op):
            continue
        for attr in [2, 3, -1, -2] if op.name == "pow" else attrs(op):
            combos = []
            for shapes in itertools.product(SHAPES, repeat=op.arity):
                node = build(op.name, attr, [name(f"A{i}") for i in range(op.arity)])
                try:
                    Shapes({f"A{i}": s for i, s in enumerate(shapes)})(node)
                except JacliError:
                    continue
                combos.append(shapes)
            for shapes in combos[:5]:
                for i in range(op.arity):
                    yield pytest.param(op.name, attr, shapes, i, id=f"{op.name}{attr or ''}-{shapes}-d{i}")


def _setup(opname, attr, shapes, i, seed=0):
    op = ops.REGISTRY[opname]
    expr = build(opname, attr, [name(f"A{k}") for k in range(op.arity)])
    names = {f"A{k}": s for k, s in enumerate(shapes)}
    rng = np.random.default_rng(seed)
    values = {}
    for k, s in enumerate(shapes):
        hint = hints(opname, attr)[k] if k < len(hints(opname, attr)) else None
        values[f"A{k}"] = draw(rng, s, {hint} if hint else set())
    var = f"A{i}"
    return expr, names, values, var, rng


@pytest.mark.parametrize("opname,attr,shapes,i", list(_cases()))
def test_differential_along_a_direction(opname, attr, shapes, i):
    expr, names, values, var, rng = _setup(opname, attr, shapes, i)
    V = rng.standard_normal(names[var])
    sh = Shapes({**names, "dV": names[var]})
    dF = differential(expr, {var: "dV"}, sh, Simplifier(sh))
    got = np.broadcast_to(Evaluator({**values, "dV": V})(dF), sh(expr))
    J, tol = derivative(expr, values, var)
    want = (J @ V.reshape(-1, order="F")).reshape(sh(expr), order="F")
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    J_rule = Evaluator(values)(jacobian_expr(expr, var, Shapes(names)))
    np.testing.assert_allclose(J_rule @ V.reshape(-1, order="F"), want.reshape(-1, order="F"), rtol=tol, atol=tol)


@pytest.mark.parametrize("opname,attr,shapes,i", list(_cases()))
def test_adjoint_is_the_transpose_of_the_differential(opname, attr, shapes, i):
    expr, names, values, var, rng = _setup(opname, attr, shapes, i, seed=1)
    sh = Shapes({**names, "dV": names[var], "U": Shapes(names)(expr)})
    simp = Simplifier(sh)
    V, U = rng.standard_normal(names[var]), rng.standard_normal(sh(expr))
    ev = Evaluator({**values, "dV": V, "U": U})
    dF = np.broadcast_to(ev(differential(expr, {var: "dV"}, sh, simp)), U.shape)
    bar = np.broadcast_to(ev(adjoint(expr, var, name("U"), sh, simp)), V.shape)
    assert np.isclose(np.sum(U * dF), np.sum(bar * V), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("opname,attr,shapes,i", list(_cases())[::3])
def test_gradient_is_the_jacobian_row(opname, attr, shapes, i):
    expr, names, values, var, rng = _setup(opname, attr, shapes, i, seed=2)
    W = rng.standard_normal(Shapes(names)(expr))
    f = Expr("sum", (Expr("had", (name("W"), expr)),))
    sh = Shapes({**names, "W": W.shape})
    G = np.broadcast_to(Evaluator({**values, "W": W})(gradient(f, var, sh, Simplifier(sh))), names[var])
    row, tol = derivative(f, {**values, "W": W}, var)
    np.testing.assert_allclose(G.reshape(1, -1, order="F"), row, rtol=tol, atol=tol)


# -- the examples: printed forms and numbers ----------------------------------------------
GRADIENTS = [
    ("sum(exp(W x)) wrt W", dict(W=(2, 3), x=(3, 1)), "exp(W x) xᵀ"),
    ("b' X' X c wrt X", dict(b=(4, 1), X=(3, 4), c=(4, 1)), "X (b cᵀ + c bᵀ)"),
    ("tr(X' A X) wrt X", dict(A=(3, 3), X=(3, 4)), "(A + Aᵀ) X"),
    ("log(det(X)) wrt X", dict(X=(3, 3)), "X⁻ᵀ"),
    ("log(det(inv(X))) wrt X", dict(X=(3, 3)), "-X⁻ᵀ"),
    ("det(S)^-1 wrt S", dict(S=(3, 3)), "-S⁻ᵀ / det(S)"),
    ("a' tanh(W x) wrt W", dict(a=(2, 1), W=(2, 3), x=(3, 1)), "((ones(2,1) - tanh(W x) ∘ tanh(W x)) ∘ a) xᵀ"),
    ("-0.5 logdet(S) - 0.5 (x - m)' inv(S) (x - m) wrt m", dict(S=(3, 3), x=(3, 1), m=(3, 1)),
     "0.5 (S⁻¹ + S⁻ᵀ) (x - m)"),
    ("-0.5 logdet(S) - 0.5 (x - m)' inv(S) (x - m) wrt S", dict(S=(3, 3), x=(3, 1), m=(3, 1)),
     "0.5 (S⁻ᵀ (x - m) (x - m)ᵀ S⁻ᵀ - S⁻ᵀ)"),
    ("sum(log(ones + exp(-(y ∘ (X w))))) wrt w", dict(X=(4, 3), w=(3, 1), y=(4, 1)),
     "-Xᵀ (y ∘ exp(-(y ∘ (X w))) ./ (ones(4,1) + exp(-(y ∘ (X w)))))"),
]  # fmt: skip


@pytest.mark.parametrize("source,shapes,want", GRADIENTS, ids=[g[0] for g in GRADIENTS])
def test_gradients_read_as_the_cookbook(source, shapes, want):
    r = jacli.derive(source, random=True, **shapes)
    assert r.gradient_formula == want
    assert jacli.check(source, against=f"vec({want})'", **shapes).agree
    assert jacli.check(source, against=r.formula, **shapes).agree  # J = vec(G)ᵀ, as printed


JACOBIANS = [
    ("log(det(X)) wrt X", dict(X=(3, 3)), "vec(X⁻ᵀ)ᵀ"),
    ("sum(exp(x)) wrt x", dict(x=(3, 1)), "exp(x)ᵀ"),
    ("S^2 S^-2 wrt S", dict(S=(3, 3)), "zeros(9,9)"),
    ("(0.1 X)^3 wrt X", dict(X=(2, 2)), "0.1 (((0.1 X)²)ᵀ ⊗ I₂ + 0.01 (Xᵀ ⊗ X) + I₂ ⊗ (0.1 X)²)"),
    ("det(X) (ones(1,1) ./ det(X)) vec(X) wrt X", dict(X=(2, 2)), "I₄"),
]


@pytest.mark.parametrize("source,shapes,want", JACOBIANS, ids=[j[0] for j in JACOBIANS])
def test_jacobians_lose_the_debris(source, shapes, want):
    assert jacli.derive(source, symbolic=True, **shapes).formula == want
    assert jacli.check(source, against=want, **shapes).agree


def test_a_vector_factor_moves_through_k():
    assert jacli.derive("W a wrt W", W=(3, 4), a=(4, 1), vec="row", symbolic=True).formula == "I₃ ⊗ aᵀ"


def test_det_at_a_singular_matrix():
    r = run("derive", "det(X) wrt X", "X=[[1,2],[2,4]]", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["matrix"] == [[4.0, -2.0, -2.0, 1.0]]


def test_log_det_where_det_overflows():
    X = 50 * np.eye(200) + np.random.default_rng(0).standard_normal((200, 200))
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.linalg.det(X))
    r = jacli.derive("log(det(X)) wrt X", X=X)
    np.testing.assert_allclose(r.gradient, np.linalg.inv(X).T, rtol=1e-10, atol=1e-14)


# -- --differential, --direction, operator, compile ----------------------------------------------
DIFFERENTIALS = [
    ("A X B wrt X", [], "d(A X B) = A dX B"),
    ("inv(X) wrt X", [], "d(X⁻¹) = -X⁻¹ dX X⁻¹"),
    ("tr(X' A X) wrt X", ["X=m×n"], "d tr(Xᵀ A X) = tr(Xᵀ (A + Aᵀ) dX)"),
    ("X Y wrt X, Y", [], "d(X Y) = dX Y + X dY"),
    ("log(det(X)) wrt X", ["X=n×n"], "d log(det(X)) = tr(X⁻¹ dX)"),
    ("x' A x wrt x", [], "d(xᵀ A x) = xᵀ (A + Aᵀ) dx"),
]


@pytest.mark.parametrize("source,specs,want", DIFFERENTIALS, ids=[d[0] for d in DIFFERENTIALS])
def test_differential_in_matrix_form(source, specs, want):
    r = run("derive", source, *specs, "--differential")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == want + "\n"


def test_differential_latex():
    r = run("derive", "A X B wrt X", "--differential", "--format", "latex")
    assert r.stdout == "\\mathrm{d}\\left(A X B\\right) = A \\,\\mathrm{d}X B\n"
    assert jacli.differential("inv(X) wrt X").latex == "-X^{-1} \\,\\mathrm{d}X X^{-1}"


def test_direction_is_j_times_v_without_j(tmp_path):
    rng = np.random.default_rng(3)
    A, B, X, V = (rng.standard_normal(s) for s in ((3, 4), (5, 2), (4, 5), (4, 5)))
    for n, a in dict(A=A, B=B, X=X, V=V).items():
        np.save(tmp_path / f"{n}.npy", a)
    r = run("derive", "A X B wrt X", *(f"{n}={tmp_path}/{n}.npy" for n in "ABX"), "--direction", f"X={tmp_path}/V.npy")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"# d(A X B) = A dX B, along dX = {tmp_path}/V.npy"
    np.testing.assert_allclose(np.loadtxt(lines[2:]), A @ V @ B, rtol=1e-12)


def test_direction_refusals():
    r = run("derive", "A X B wrt X", "A=2x3", "B=4x5", "--random", "--direction", "X=3x4")
    assert r.exit_code == 2 and "needs values" in r.stderr
    r = run("derive", "A X B wrt X", "A=2x3", "B=4x5", "--random", "--direction", "X=[[1,2]]")
    assert r.exit_code == 2 and "the direction is 1×2, X is 3×4" in r.stderr


def test_operator_in_lsqr():
    rng = np.random.default_rng(4)
    A, B, X = rng.standard_normal((6, 4)), rng.standard_normal((5, 7)), rng.standard_normal((4, 5))
    op = jacli.operator("A X B wrt X", A=A, B=B, X=X)
    J = np.kron(B.T, A)
    v, u = rng.standard_normal(20), rng.standard_normal(42)
    np.testing.assert_allclose(op.matvec(v), J @ v, rtol=1e-12)
    np.testing.assert_allclose(op.rmatvec(u), J.T @ u, rtol=1e-12)
    b = J @ v
    x = sla.lsqr(sla.aslinearoperator(op), b, atol=1e-14, btol=1e-14)[0]
    np.testing.assert_allclose(x, v, rtol=1e-8)


def test_operator_row_layout_and_several_names():
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    for vec in ("col", "row"):
        op = jacli.operator("X Y wrt X, Y", X=X, Y=Y, vec=vec)
        J = jacli.jacobian("X Y wrt X, Y", X=X, Y=Y, vec=vec)
        v, u = rng.standard_normal(J.shape[1]), rng.standard_normal(J.shape[0])
        np.testing.assert_allclose(op.matvec(v), J @ v, rtol=1e-12)
        np.testing.assert_allclose(op.rmatvec(u), J.T @ u, rtol=1e-12)


def test_compile_once_evaluate_many():
    f = jacli.compile("logdet(X) wrt X", X=(4, 4))
    rng = np.random.default_rng(6)
    for _ in range(3):
        X = rng.standard_normal((4, 4)) + 4 * np.eye(4)
        np.testing.assert_allclose(f.gradient(X=X), np.linalg.inv(X).T, rtol=1e-12)
        np.testing.assert_allclose(f.jacobian(X=X), np.linalg.inv(X).T.reshape(1, -1, order="F"), rtol=1e-12)
    with pytest.raises(JacliError, match="not positive"):
        f.gradient(X=np.diag([1.0, 1, 1, -3]))
    with pytest.raises(JacliError, match="compiled shape 4×4"):
        f.gradient(X=np.eye(3))


def test_operator_keeps_what_no_direction_changes():
    # inv(A + X' X) and A X are computed once; each call must still use its own direction
    rng = np.random.default_rng(8)
    A, X = rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal((3, 3))
    src = "inv(A + X' X) + (A X) ∘ X wrt X, A"
    op = jacli.operator(src, A=A, X=X)
    J = jacli.jacobian(src, A=A, X=X)
    for _ in range(3):
        v, u = rng.standard_normal(18), rng.standard_normal(9)
        np.testing.assert_allclose(op.matvec(v), J @ v, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(op.rmatvec(u), J.T @ u, rtol=1e-10, atol=1e-12)
    assert any(node.op == "inv" for node in op._held)  # held, not recomputed


def test_compiled_gradient_with_some_values_bound_at_compile_time():
    rng = np.random.default_rng(9)
    A = rng.standard_normal((4, 4))
    f = jacli.compile("norm2(A x - b)^2 wrt x", A=A, x=(4, 1), b=(4, 1))
    for _ in range(2):
        x, b = rng.standard_normal((4, 1)), rng.standard_normal((4, 1))
        np.testing.assert_allclose(f.gradient(x=x, b=b), 2 * A.T @ (A @ x - b), rtol=1e-12)
    with pytest.raises(JacliError, match="norm2 has no derivative"):
        f.gradient(x=x, b=A @ x)
    with pytest.raises(JacliError, match="x: has NaN"):
        f.gradient(x=np.full((4, 1), np.nan), b=b)


def test_operator_refuses_a_matrix_for_a_vector():
    X = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 4.0]])
    op = jacli.operator("inv(X) wrt X", X=X)
    V = np.arange(9.0).reshape(3, 3)
    for f in (op.matvec, op.rmatvec):
        with pytest.raises(jacli.JacliError, match=r"not a 3×3 array: .* V.reshape\(-1, order='F'\)"):
            f(V)
    Xi = np.linalg.inv(X)
    want = (-Xi @ V @ Xi).reshape(-1, order="F")  # dF at dX = V
    for v in (V.reshape(-1, order="F"), V.reshape(-1, 1, order="F"), V.reshape(1, -1, order="F")):
        np.testing.assert_allclose(op.matvec(v), want)
