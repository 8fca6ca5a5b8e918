"""Decompositions: eigvals, eigvecs, svdvals (svdu, svdv), chol, nucnorm, specnorm.

The records are in the tests generated over the registry too (first and second order,
through the chain rule, symbolic sizes, Python code); here: the closed forms, the
conventions (ascending eigenvalues, descending singular values, signs, the symmetric part),
the decomposition computed once, every command, the refusals and the random values.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import isolated, run  # noqa: F401 (isolated: autouse)

import jacli
from jacli.calculus.ops import REGISTRY

rng = np.random.default_rng(22)


def _spd(n: int, seed: int = 0) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return (q * (1.0 + 0.5 * np.arange(n))) @ q.T


def test_eigenvalues_as_khatri_rao_rows():
    r = jacli.derive("eigvals(S) wrt S", S=(3, 3), symbolic=True)
    assert r.formula == "khatrirao(eigvecs(S), eigvecs(S))ᵀ"
    S = _spd(3)
    U = np.linalg.eigh(S)[1]
    J = jacli.jacobian("eigvals(S) wrt S", S=S)
    for i in range(3):  # row i is uᵢᵀ ⊗ uᵢᵀ (signs cancel)
        np.testing.assert_allclose(J[i], np.kron(U[:, i], U[:, i]), atol=1e-12)


def test_gradients_read_as_the_books():
    assert jacli.derive("a' eigvals(S) wrt S", S=(3, 3), symbolic=True).gradient_formula == (
        "eigvecs(S) diag(a) eigvecs(S)ᵀ"
    )
    assert jacli.derive("nucnorm(X) wrt X", X=(3, 2), symbolic=True).gradient_formula == "svdu(X) svdv(X)ᵀ"
    assert jacli.derive("specnorm(X) wrt X", X=(3, 2), symbolic=True).gradient_formula == (
        "svdu(X)[:, 0:1] svdv(X)[:, 0:1]ᵀ"
    )


def test_log_det_through_cholesky_is_half_the_inverse():
    """sum(log(diag(chol(S)))) = logdet(S) / 2: its gradient is S⁻¹ / 2 for a symmetric S, and
    check --against says so (on the symmetric values check draws)."""
    S = _spd(4, seed=1)
    r = jacli.derive("sum(log(diag(chol(S)))) wrt S", S=S)
    np.testing.assert_allclose(r.gradient, np.linalg.inv(S) / 2, rtol=1e-10)
    c = jacli.check("sum(log(diag(chol(S)))) wrt S", S=S, against="vec(0.5 inv(S))'")
    assert c.agree, c.comparisons
    c = run("check", "sum(log(diag(chol(S)))) wrt S", "S=4x4", "--against", "vec(0.5 inv(S))'")
    assert c.exit_code == 0 and c.stdout.startswith("agree"), c.stdout + c.stderr


def test_conventions():
    X = rng.standard_normal((4, 4))
    S = X + X.T
    vals = np.asarray(REGISTRY["eigh"].value(None, S)[0])
    np.testing.assert_allclose(vals[:, 0], np.linalg.eigvalsh(S))  # ascending
    U = np.asarray(REGISTRY["eigh"].value(None, S)[1])
    top = U[np.abs(U).argmax(axis=0), np.arange(4)]
    assert (top > 0).all()  # each column's largest entry positive
    # a function of the symmetric part: S and its symmetric part give the same values
    A = X.copy()
    np.testing.assert_allclose(
        np.asarray(REGISTRY["eigh"].value(None, A)[0]), np.asarray(REGISTRY["eigh"].value(None, (A + A.T) / 2)[0])
    )
    s = np.asarray(REGISTRY["svd"].value(None, rng.standard_normal((4, 3)))[1])[:, 0]
    assert (np.diff(s) < 0).all()  # descending


def test_the_symmetric_part_is_differentiated():
    """For a non-symmetric S the derivative is along (dS + dSᵀ)/2, as JAX and PyTorch take it."""
    A = _spd(3) + 0.1 * rng.standard_normal((3, 3))
    J = jacli.jacobian("eigvals(S) wrt S", S=A)
    V = rng.standard_normal((3, 3))
    h = 1e-6
    f = lambda M: np.linalg.eigvalsh((M + M.T) / 2)  # noqa: E731
    want = (f(A + h * V) - f(A - h * V)) / (2 * h)
    np.testing.assert_allclose(J @ V.reshape(-1, order="F"), want, rtol=1e-6, atol=1e-8)


def test_a_decomposition_is_computed_once():
    """eigvals and eigvecs of one S share one eigh node, evaluated once."""
    from jacli.calculus.shapes import infer
    from jacli.numeric.evaluate import Evaluator
    from jacli.syntax import parse_expr

    calls = []
    record = REGISTRY["eigh"]
    original = record.value

    def counting(node, s):
        calls.append(1)
        return original(node, s)

    REGISTRY["eigh"] = record._replace(value=counting)
    try:
        expr = infer(parse_expr("eigvecs(S) diag(eigvals(S)) eigvecs(S)'"), {"S": (3, 3)}).expr
        Evaluator({"S": _spd(3)})(expr)
    finally:
        REGISTRY["eigh"] = record
    assert len(calls) == 1


COMMANDS = [
    ("sum(log(diag(chol(S))))", "S=4x4"),
    ("a' eigvals(S)", "S=4x4"),
    ("sum(eigvecs(S) ∘ B)", "S=3x3"),
    ("specnorm(X)", "X=4x3"),
    ("nucnorm(X)", "X=3x4"),
    ("b' svdvals(X)", "X=4x3"),
]


@pytest.mark.parametrize("f,spec", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_command(f, spec, tmp_path):
    var = spec.split("=")[0]
    source = f"{f} wrt {var}"
    for args in (
        ["derive", source, spec, "--random", "--format", "json"],
        ["derive", source, spec, "--random", "--gradient"],
        ["derive", source, f"{var}=n×n", "--symbolic"],
        ["derive", source, spec, "--differential"],
        ["hessian", source, spec, "--random"],
        ["check", source, spec],
        ["check", source, spec, "--hessian"],
        ["explain", source, spec],
        ["derive", source, spec, "--random", "-o", str(tmp_path / "j.py")],
    ):
        r = run(*args)
        assert r.exit_code == 0, (args, r.stdout, r.stderr)
        if args[0] == "check":
            assert r.stdout.startswith("agree"), r.stdout


@pytest.mark.parametrize("f", ["eigvecs(S)", "chol(S)", "svdu(S)", "svdv(S)"])
def test_direction_and_operator(f):
    S = _spd(4, seed=5)
    r = jacli.derive(f"{f} wrt S", S=S)
    op = jacli.operator(f"{f} wrt S", S=S)
    v, u = rng.standard_normal(16), rng.standard_normal(op.shape[0])
    np.testing.assert_allclose(op.matvec(v), r.matrix @ v, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(op.rmatvec(u), r.matrix.T @ u, rtol=1e-9, atol=1e-10)


REFUSALS = [
    (["derive", "eigvecs(S) wrt S", "S=[[1,0],[0,1]]"], "the eigenvalue 1 is repeated (eigenvalues 0 and 1)"),
    (["derive", "eigvals(S) wrt S", "S=[[2,0,0],[0,1,0],[0,0,1]]"], "the eigenvalue 1 is repeated"),
    (["derive", "chol(S) wrt S", "S=[[1,0],[0,-2]]"], "symmetric part's smallest eigenvalue is -2)"),
    (["derive", "svdvals(X) wrt X", "X=[[1,0],[0,0],[0,0]]"], "has the singular value 0 (rank below 2)"),
    (["derive", "svdvals(X) wrt X", "X=[[1,0],[0,1],[0,0]]"], "the singular value 1 is repeated"),
    (["derive", "nucnorm(X) wrt X", "X=[[1,2],[2,4]]"], "has the singular value"),
    (["derive", "specnorm(X) wrt X", "X=[[1,0],[0,1]]"], "the largest singular value 1 is repeated"),
]  # fmt: skip


@pytest.mark.parametrize("args,words", REFUSALS, ids=[" ".join(a[1:]) for a, _ in REFUSALS])
def test_refusals_name_the_cause(args, words):
    r = run(*args)
    assert r.exit_code == 2 and words in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and r.stdout == ""


def test_values_without_a_derivative_are_fine():
    """A repeated eigenvalue is refused only where the derivative is wanted."""
    r = run("derive", "eigvals(S) + A wrt A", "S=[[1,0],[0,1]]", "A=2x1", "--random", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["matrix"] == np.eye(2).tolist()


@pytest.mark.parametrize("f", ["chol(S)", "eigvecs(S)", "svdvals(S)", "specnorm(S)"])
@pytest.mark.parametrize("seed", range(4))
def test_random_values_suit_each(f, seed):
    r = run("derive", f"{f} wrt S", "S=4x4", "--random", "--seed", str(seed), "--format", "json")
    assert r.exit_code == 0, r.stderr
