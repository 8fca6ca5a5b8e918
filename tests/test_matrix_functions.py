"""Matrix functions and solves: expm, logm, sqrtm, solve (A \\ B), sylvester, pinv, ⊕.

Every record is also in the tests generated over the registry (rules, differentials,
Hessians, symbolic sizes, Python code); here: the closed forms a reader recognises, each
command and format per function, the refusals, the random draws, and the numbers at the
edges against SciPy's own routines.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg as sl
from cli_support import ROOT, isolated, run  # noqa: F401 (isolated: autouse)

import jacli

rng = np.random.default_rng(20)


def _spd(n: int, cond: float, seed: int = 0) -> np.ndarray:
    """A symmetric positive definite matrix with eigenvalues from 1/cond to 1."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return (q * np.geomspace(1 / cond, 1, n)) @ q.T


# -- closed forms -------------------------------------------------------------------------------
FORMS = [
    ("expm(X) wrt X", dict(X=(3, 3)), "J", "Dexpm(X)"),
    ("logm(X) wrt X", dict(X=(3, 3)), "J", "Dlogm(X)"),
    ("sqrtm(X) wrt X", dict(X=(3, 3)), "J", "(sqrtm(X)ᵀ ⊕ sqrtm(X))⁻¹"),
    ("solve(A, B) wrt A", dict(A=(3, 3), B=(3, 2)), "J", "-(solve(A, B)ᵀ ⊗ A⁻¹)"),
    ("A \\ B wrt B", dict(A=(3, 3), B=(3, 2)), "J", "I₂ ⊗ A⁻¹"),
    ("tr(A expm(X)) wrt X", dict(A=(3, 3), X=(3, 3)), "gradient", "dexpm(Xᵀ, Aᵀ)"),
    ("tr(expm(X)) wrt X", dict(X=(3, 3)), "gradient", "expm(Xᵀ)"),
    ("tr(logm(X)) wrt X", dict(X=(3, 3)), "gradient", "X⁻ᵀ"),
    ("tr(A sqrtm(X)) wrt X", dict(A=(3, 3), X=(3, 3)), "gradient", "sylvester(sqrtm(X)ᵀ, sqrtm(X)ᵀ, Aᵀ)"),
    ("a' solve(A, b) wrt b", dict(A=(3, 3)), "gradient", "solve(Aᵀ, a)"),
]


@pytest.mark.parametrize("source,shapes,kind,want", FORMS, ids=[f"{f[0]} {f[2]}" for f in FORMS])
def test_closed_forms_read_as_the_books(source, shapes, kind, want):
    r = jacli.derive(source, symbolic=True, **shapes)
    got = r.formula if kind == "J" else r.gradient_formula
    assert got == want
    claim = want if kind == "J" else f"vec({want})'"
    assert jacli.check(source, against=claim, **shapes).agree


DIFFERENTIALS = [
    ("expm(X) wrt X", "d expm(X) = dexpm(X, dX)"),
    ("logm(X) wrt X", "d logm(X) = dlogm(X, dX)"),
    ("sqrtm(X) wrt X", "d sqrtm(X) = sylvester(sqrtm(X), sqrtm(X), dX)"),
    ("solve(A, B) wrt A, B", "d solve(A, B) = solve(A, dB) - solve(A, dA solve(A, B))"),
]


@pytest.mark.parametrize("source,want", DIFFERENTIALS, ids=[d[0] for d in DIFFERENTIALS])
def test_differentials_read_back(source, want):
    shapes = dict(A=(3, 3), B=(3, 2)) if "solve" in source else dict(X=(3, 3))
    d = jacli.differential(source, **shapes)
    assert d.text() == want
    r = run("derive", source, *(f"{k}={r}x{c}" for k, (r, c) in shapes.items()), "--differential")
    assert r.exit_code == 0 and r.stdout == want + "\n"


# -- every command, per function ---------------------------------------------------------------
SCALARS = [
    ("tr(A expm(X))", "X", dict(A="3x3", X="3x3")),
    ("tr(A logm(X))", "X", dict(A="3x3", X="3x3")),
    ("tr(A sqrtm(X))", "X", dict(A="3x3", X="3x3")),
    ("a' solve(A + X' X, b)", "X", dict(a="3", A="3x3", X="4x3", b="3")),
    ("tr(A pinv(X))", "X", dict(A="4x3", X="4x3")),
    ("sum(sylvester(X, B, C))", "X", dict(X="3x3", B="2x2", C="3x2")),
    ("sum((X ⊕ B) ∘ C)", "X", dict(X="2x2", B="3x3", C="6x6")),
]


def _specs(shapes: dict) -> list[str]:
    return [f"{k}={v}" for k, v in shapes.items()]


@pytest.mark.parametrize("f,var,shapes", SCALARS, ids=[s[0] for s in SCALARS])
def test_every_command(f, var, shapes, tmp_path):
    source, specs = f"{f} wrt {var}", _specs(shapes)
    r = run("derive", source, *specs, "--random", "--format", "json")
    assert r.exit_code == 0, r.stderr
    J = np.array(json.loads(r.stdout)["matrix"])
    g = run("derive", source, *specs, "--random", "--gradient", "--format", "json")
    assert g.exit_code == 0, g.stderr
    G = np.array(json.loads(g.stdout)["gradient"])
    np.testing.assert_allclose(G.reshape(1, -1, order="F"), J, rtol=1e-9, atol=1e-12)
    c = run("check", source, *specs)
    assert c.exit_code == 0 and c.stdout.startswith("agree"), c.stdout + c.stderr
    h = run("check", source, *specs, "--hessian")
    assert h.exit_code == 0 and h.stdout.startswith("agree"), h.stdout + h.stderr
    x = run("explain", source, *specs)
    assert x.exit_code == 0 and "∂f/∂" in x.stdout
    s = run("derive", source, "--symbolic")
    assert s.exit_code == 0, s.stderr
    # Python code gives the same numbers; a batch line runs the same check
    p = run("derive", source, *specs, "--random", "-o", str(tmp_path / "g.py"), "--gradient")
    assert p.exit_code == 0, p.stderr
    (tmp_path / "ids.txt").write_text(f'check "{source}" {" ".join(specs)}\n')
    b = run("batch", str(tmp_path / "ids.txt"))
    assert b.exit_code == 0, b.stdout


@pytest.mark.parametrize("f", ["expm(X)", "logm(X)", "sqrtm(X)", "pinv(X)", "solve(X, B)"])
def test_direction_and_operator_agree_with_j(f):
    """J v from the differential (one Fréchet derivative or one Sylvester solve), never J."""
    shapes = dict(X=(4, 4), B=(4, 2)) if "solve" in f else dict(X=(4, 4))
    r = jacli.derive(f"{f} wrt X", random=True, seed=4, **shapes)
    op = jacli.operator(f"{f} wrt X", **r.problem.values)
    v, u = rng.standard_normal(op.shape[1]), rng.standard_normal(op.shape[0])
    np.testing.assert_allclose(op.matvec(v), r.matrix @ v, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(op.rmatvec(u), r.matrix.T @ u, rtol=1e-9, atol=1e-10)


def test_python_code_imports_scipy_where_needed():
    r = jacli.derive("sqrtm(X) wrt X", X=(3, 3), random=True)
    from jacli.api.formats import python_source

    code = python_source(r)
    assert "import scipy.linalg" in code
    space: dict = {}
    exec(compile(code, "<generated>", "exec"), space)
    np.testing.assert_allclose(space["jacobian"](X=r.problem.values["X"]), r.matrix, rtol=1e-9)


# -- refusals -------------------------------------------------------------------------------------
REFUSALS = [
    (["derive", "logm(X) wrt X", "X=[[1,0],[0,-2]]"], "has the eigenvalue -2 on the closed negative real axis"),
    (["derive", "sqrtm(X) wrt X", "X=[[1,0],[0,-2]]"], "has the eigenvalue -2 on the closed negative real axis"),
    (["derive", "sqrtm(X) wrt X", "X=[[1,0],[0,0]]"], "eigenvalue 0 on the closed negative real axis, where sqrtm"),
    (["derive", "logm(X) wrt X", "X=[[1,0],[0,0]]"], "eigenvalue 0 on the closed negative real axis, where the"),
    (["derive", "pinv(X) wrt X", "X=[[1,2],[2,4],[3,6]]"], "has rank 1, not 2 (its smallest singular value is"),
    (["derive", "solve(A, b) wrt b", "A=[[1,2],[2,4]]", "b=[1,1]"], "is singular or badly conditioned"),
    (["derive", "solve(A, b) wrt b", "A=[[1,0],[0,1e-14]]", "b=[1,1]"], "condition number 1e+14, limit 1e+12"),
    (["derive", "sylvester(A, B, C) wrt C", "A=[[1,0],[0,2]]", "B=[[-1]]", "C=[1,1]"], "A and -B share an eigenvalue"),
]  # fmt: skip


@pytest.mark.parametrize("args,words", REFUSALS, ids=[" ".join(a[1:]) for a, _ in REFUSALS])
def test_refusals_name_the_cause(args, words):
    r = run(*args)
    assert r.exit_code == 2 and words in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and r.stdout == ""


def test_the_square_root_itself_is_defined_at_a_zero_eigenvalue():
    """Only its derivative is refused there: a derivative with respect to another name is fine."""
    r = run("derive", "sqrtm(X) + A wrt A", "X=[[4,0],[0,0]]", "A=2x2", "--random", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["matrix"] == np.eye(4).tolist()


@pytest.mark.parametrize("f", ["logm(X)", "sqrtm(X)", "expm(X)", "pinv(X)"])
@pytest.mark.parametrize("seed", range(6))
def test_random_values_fall_inside_the_domain(f, seed):
    r = run("derive", f"{f} wrt X", "X=4x4", "--random", "--seed", str(seed), "--format", "json")
    assert r.exit_code == 0, r.stderr


# -- numbers at the edges ------------------------------------------------------------------------
def test_expm_near_entries_of_fifty_agrees_with_expm_frechet():
    X = 50 * np.eye(3) + rng.uniform(-2, 2, (3, 3))
    E = rng.standard_normal((3, 3))
    J = jacli.jacobian("expm(X) wrt X", X=X)
    want = sl.expm_frechet(X, E, compute_expm=False)
    got = (J @ E.reshape(-1, order="F")).reshape(3, 3, order="F")
    np.testing.assert_allclose(got, want, rtol=1e-12)
    op = jacli.operator("expm(X) wrt X", X=X)
    np.testing.assert_allclose(op.matvec(E.reshape(-1, order="F")), want.reshape(-1, order="F"), rtol=1e-12)


def test_expm_jacobian_of_a_nearly_defective_matrix():
    """Where the eigenvectors are ill conditioned, the columns come from Fréchet derivatives."""
    X = np.array([[1.0, 1.0, 0.0], [0.0, 1.0 + 1e-9, 1.0], [0.0, 0.0, 0.5]])
    assert np.linalg.cond(np.linalg.eig(X)[1]) > 1e6
    J = jacli.jacobian("expm(X) wrt X", X=X)
    for k in range(9):
        E = np.zeros(9)
        E[k] = 1
        want = sl.expm_frechet(X, E.reshape(3, 3, order="F"), compute_expm=False).reshape(-1, order="F")
        np.testing.assert_allclose(J[:, k], want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def _central(f, X: np.ndarray, E: np.ndarray, h: float) -> np.ndarray:
    return (f(X + h * E) - f(X - h * E)) / (2 * h)


@pytest.mark.parametrize("fn", ["sqrtm", "logm"])
def test_well_and_ill_conditioned_square_roots_and_logarithms(fn):
    """At condition numbers 10 and 1e8, J v against central differences of SciPy's function."""
    for cond in (1e1, 1e8):
        X = _spd(4, cond, seed=3)
        E = _spd(4, 10, seed=4)  # a symmetric direction: the differences stay real
        f = getattr(sl, fn)
        lam = np.linalg.eigvalsh(X).min()
        want = _central(f, X, E, 1e-3 * lam)
        op = jacli.operator(f"{fn}(X) wrt X", X=X)
        got = op.matvec(E.reshape(-1, order="F")).reshape(4, 4, order="F")
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_scipy_loads_only_where_a_matrix_function_is_used():
    from cli_support import python_process

    code = (
        "import sys, runpy\n"
        "sys.argv = ['jacli', 'derive', {}]\n"
        "try:\n    runpy.run_module('jacli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('scipy' in sys.modules, file=sys.stderr)\n"
    )
    plain = python_process(code.format("'A X B wrt X', 'A=samples/A.npy', 'B=samples/B.npy'"), cwd=str(ROOT))
    assert plain.stderr.strip().splitlines()[-1] == "False", plain.stderr
    used = python_process(code.format("'logm(X) wrt X', 'X=3x3', '--random'"), cwd=str(ROOT))
    assert used.stderr.strip().splitlines()[-1] == "True", used.stderr
