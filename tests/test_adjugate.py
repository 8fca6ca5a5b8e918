"""The adjugate and its derivatives: defined at every X, singular or not, with no inverse in
any rule or printed form, and correctly rounded at any conditioning (against 60-digit
arithmetic, mpmath, as the oracle), for the three paths of its values (exact minors up to
6×6, LU up to 16×16, the SVD above)."""

from __future__ import annotations

import itertools
import json

import mpmath as mp
import numpy as np
import pytest
from cli_support import isolated, run  # noqa: F401 (isolated: autouse)
from oracle import complex_step

import jacli
from jacli.calculus.ops import adjugate
from jacli.expr import Expr, kron, name
from jacli.numeric.evaluate import Evaluator
from jacli.syntax import parse_expr, to_text

SINGULAR = "X=[[1,2],[2,4]]"
RANK_ONE_3 = "X=[[1,2,3],[2,4,6],[1,2,3]]"


# -- the commands ----------------------------------------------------------------------
def test_the_jacobian_of_adj_at_a_singular_matrix():
    r = run("derive", "adj(X) wrt X", SINGULAR, "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["formula"] == "Dadj(X)"
    assert doc["matrix"] == [[0, 0, 0, 1], [0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0]]


def test_an_entry_that_is_exactly_minus_one_near_singularity():
    # condition number 1e10: J of a 2×2 adj is constant, and jacli prints it exactly
    x = "X=[[0.858989913448298,-0.4178688640789057],[0.26603288209683956,-0.12941578988183877]]"
    r = run("derive", "adj(X) wrt X", x, "--format", "json")
    assert json.loads(r.stdout)["matrix"] == [[0, 0, 0, 1], [0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0]]


@pytest.mark.parametrize(
    "source,values,formula",
    [
        ("det(X) wrt X", SINGULAR, "K(2,2) Dadj(X)"),
        ("det(X) wrt X", RANK_ONE_3, "K(3,3) Dadj(X)"),
        ("tr(adj(X)) wrt X", RANK_ONE_3, None),
        ("det(ones(2,1) B) wrt B", "B=[[1,2]]", None),
        ("det(A X B) wrt X", "A=[[1,2],[2,4]] X=[[1,0],[0,0]] B=[[0,1],[1,1]]", None),
    ],
)
def test_hessians_through_adj_at_singular_matrices(source, values, formula):
    args = values.split()
    r = run("hessian", source, *args, "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert formula is None or doc["hessian_formula"] == formula
    assert "⁻¹" not in doc["hessian_formula"] and "inv" not in doc["hessian_formula"]
    H = np.array(doc["matrix"])
    np.testing.assert_array_equal(H, H.T)  # exactly symmetric: the same minors
    c = run("check", source, *args, "--hessian", "--against", doc["hessian_formula"])
    assert c.exit_code == 0 and c.stdout.startswith("agree"), c.stdout + c.stderr


def test_the_hessian_of_det_of_a_low_rank_product_is_zero():
    # det(ones(2,1) B) is 0 for every B (rank 1), and so is its Hessian
    H = jacli.hessian("det(ones(2,1) B) wrt B", B=np.array([[0.3, -1.7]]))
    np.testing.assert_array_equal(H, np.zeros((2, 2)))


def test_check_gradient_direction_and_python_at_a_singular_matrix():
    assert run("check", "adj(X) wrt X", RANK_ONE_3, "--against", "Dadj(X)").stdout.startswith("agree")
    assert run("check", "det(X) wrt X", RANK_ONE_3, "--against", "vec(adj(X)')'").stdout.startswith("agree")
    r = run("derive", "tr(A adj(X)) wrt X", "A=3x3", RANK_ONE_3, "--random", "--gradient")
    assert r.exit_code == 0 and "dadj(Xᵀ, Aᵀ)" in r.stdout, r.stderr
    r = run("derive", "adj(X) wrt X", RANK_ONE_3, "--direction", "X=[[1,0,0],[0,1,0],[0,0,1]]", "--format", "json")
    assert r.exit_code == 0, r.stderr
    x = np.array([[1.0, 2, 3], [2, 4, 6], [1, 2, 3]])
    want = jacli.derive("adj(X) wrt X", X=x).matrix @ np.eye(3).reshape(-1, order="F")
    np.testing.assert_array_equal(np.array(json.loads(r.stdout)["matrix"]).reshape(-1, order="F"), want)
    for command in ("derive", "hessian"):
        code = run(command, "tr(adj(X)) wrt X", RANK_ONE_3, "--format", "python").stdout
        assert "inv" not in code and "solve" not in code
        space: dict = {}
        exec(compile(code, "<jacli>", "exec"), space)
        fn = space["jacobian" if command == "derive" else "hessian"]
        want = (jacli.derive if command == "derive" else jacli.derive_hessian)("tr(adj(X)) wrt X", X=x).matrix
        np.testing.assert_allclose(fn(X=x), want, atol=1e-12)


@pytest.mark.parametrize(
    "source", ["adj(X) wrt X", "det(X) wrt X", "tr(adj(X)) wrt X", "tr(A adj(X) B) wrt X", "adj(X' X) wrt X"]
)
def test_printed_forms_have_no_inverse_and_read_back(source):
    for form in (
        jacli.derive(source, symbolic=True).formula,
        *([jacli.derive_hessian(source, symbolic=True).formula] if "adj(X) wrt" not in source else []),
    ):
        assert "⁻¹" not in form and "inv" not in form and "solve" not in form
        e = parse_expr(form)
        assert parse_expr(to_text(e)) == e


# -- correctly rounded at any conditioning, against 60-digit arithmetic -------------------------
def _matrix(n: int, case, rng) -> np.ndarray:
    x = rng.standard_normal((n, n))
    if case == "singular":
        x[-1] = x[0]  # exactly singular in floating point, rank n-1
    elif case == "rank n-2":
        x[-1] = x[-2] = x[0]
    else:  # singular values from 1 to 1/cond
        q1, _ = np.linalg.qr(x)
        q2, _ = np.linalg.qr(rng.standard_normal((n, n)))
        x = q1 @ np.diag(np.geomspace(1, 1 / case, n)) @ q2.T
    return x


def _exact_second_derivatives(x: np.ndarray) -> list[list[mp.mpf]]:
    """H[i + n j][k + n l] = ∂² det / ∂X_ij ∂X_kl at the float X, with 60 digits."""
    n = x.shape[0]
    X = mp.matrix([[mp.mpf(float(v)) for v in row] for row in x])
    H = [[mp.mpf(0)] * (n * n) for _ in range(n * n)]
    for i, j, k, l in itertools.product(range(n), repeat=4):
        if i == k or j == l:
            continue
        rows = [r for r in range(n) if r not in (i, k)]
        cols = [c for c in range(n) if c not in (j, l)]
        minor = mp.det(mp.matrix([[X[r, c] for c in cols] for r in rows])) if rows else mp.mpf(1)
        sign = (-1) ** (i + j + k + l) * (1 if (i < k) == (j < l) else -1)
        H[i + n * j][k + n * l] = sign * minor
    return H


def ulps(got: np.ndarray, want: list[mp.mpf]) -> float:
    """The largest error in units in the last place of the exact entry (an exact 0 must be 0)."""
    worst = 0.0
    for g, w in zip(np.ravel(got).tolist(), want, strict=True):
        if w == 0:
            assert g == 0
            continue
        worst = max(worst, float(abs(mp.mpf(g) - w) / mp.mpf(float(np.spacing(abs(float(w)))))))
    return worst


@pytest.mark.parametrize("n", [2, 3, 5])
@pytest.mark.parametrize("case", [1e8, 1e12, 1e16, "singular", "rank n-2"])
def test_the_derivative_is_correctly_rounded_at_any_conditioning(n, case):
    if case == "rank n-2" and n < 3:
        pytest.skip("rank 0")
    rng = np.random.default_rng(n)
    with mp.workdps(60):
        for _ in range(2):
            x = _matrix(n, case, rng)
            H = _exact_second_derivatives(x)
            J = [None] * (n * n)  # J[b + n a] = ∂ adj(X)_ba / ∂ vec(X) = ∂² det / ∂X_ab ∂ vec(X)
            for a, b in itertools.product(range(n), repeat=2):
                J[b + n * a] = H[a + n * b]
            v = rng.standard_normal((n, n))
            direction = [sum(e * mp.mpf(t) for e, t in zip(row, v.ravel(order="F").tolist(), strict=True)) for row in J]
            assert ulps(jacli.derive("adj(X) wrt X", X=x).matrix, [e for row in J for e in row]) <= 0.5
            assert ulps(jacli.hessian("det(X) wrt X", X=x), [e for row in H for e in row]) <= 0.5
            assert ulps(jacli.operator("adj(X) wrt X", X=x).matvec(v.ravel(order="F")), direction) <= 0.5


@pytest.mark.parametrize("n", [2, 3, 5])
def test_the_adjugate_itself_is_correctly_rounded(n):
    rng = np.random.default_rng(7)
    with mp.workdps(60):
        for case in (1e16, "singular"):
            x = _matrix(n, case, rng)
            X = mp.matrix([[mp.mpf(float(v)) for v in row] for row in x])
            want = []
            for i, j in itertools.product(range(n), repeat=2):  # adj(X)[i, j] = C_ji
                keep_r, keep_c = [r for r in range(n) if r != j], [c for c in range(n) if c != i]
                minor = mp.det(mp.matrix([[X[r, c] for c in keep_c] for r in keep_r])) if n > 1 else 1
                want.append((-1) ** (i + j) * minor)
            assert ulps(Evaluator({"X": x})(parse_expr("adj(X)")), want) <= 0.5


# -- every order, and the three paths of the values -------------------------------------------
def test_higher_orders_are_mixed_derivatives():
    """dadj(X, E ⊗ F) is the derivative of dadj(X, E) along F, and Dadj(X, k) its Kronecker form."""
    rng = np.random.default_rng(3)
    for n in (3, 4):
        x, e, f, g = (rng.standard_normal((n, n)) for _ in range(4))
        ev = Evaluator({"X": x, "E": e, "F": f, "G": g})
        second = ev(Expr("dadj", (name("X"), kron(name("E"), name("F")))))
        step = complex_step(Expr("dadj", (name("X"), name("E"))), {"X": x, "E": e}, "X") @ f.reshape(-1, order="F")
        np.testing.assert_allclose(second.reshape(-1, order="F"), step, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(second, ev(Expr("dadj", (name("X"), kron(name("F"), name("E"))))), atol=1e-12)
        w = kron(kron(name("E"), name("F")), name("G"))
        third = ev(Expr("dadj", (name("X"), w))).reshape(-1, order="F")
        np.testing.assert_allclose(ev(Expr("Dadj", (name("X"),), 3)) @ ev(w).reshape(-1, order="F"), third, atol=1e-12)
    # past the degree of adj every derivative is 0
    x = rng.standard_normal((2, 2))
    assert not Evaluator({"X": x, "E": x})(Expr("dadj", (name("X"), kron(name("E"), name("E"))))).any()


@pytest.mark.parametrize("n,order", [(7, 1), (7, 2), (17, 1), (17, 2)])
def test_lu_and_svd_paths_against_60_digits(n, order):
    """Past 6×6 the minors are LU's, past 16×16 the SVD's: normwise to rounding errors."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, n))
    x[-1] = x[0] + x[1]  # singular up to rounding
    got = adjugate.det_derivatives(x, order)
    scale = np.max(np.abs(got))
    with mp.workdps(60):
        X = mp.matrix(x.tolist())
        for _ in range(4):
            rows, cols = rng.choice(n, order, replace=False), rng.choice(n, order, replace=False)
            keep_r, keep_c = [r for r in range(n) if r not in rows], [c for c in range(n) if c not in cols]
            minor = mp.det(mp.matrix([[X[r, c] for c in keep_c] for r in keep_r]))
            sign = (-1) ** int(rows.sum() + cols.sum()) * adjugate._sign(tuple(rows)) * adjugate._sign(tuple(cols))
            index = tuple(int(v) for pair in zip(rows, cols, strict=True) for v in pair)
            assert abs(got[index] - float(sign * minor)) <= 1e-12 * scale
    if n <= adjugate.MINORS_UP_TO:
        np.testing.assert_allclose(adjugate._svd_derivatives(x, order), got, atol=1e-11 * scale)
    if order == 2:  # exactly symmetric, and 0 where a row or a column repeats, on every path
        np.testing.assert_array_equal(got, got.transpose(2, 3, 0, 1))
        assert not got[np.arange(n), :, np.arange(n)].any() and not got[:, np.arange(n), :, np.arange(n)].any()
    e = rng.standard_normal((n, n))
    d = Evaluator({"X": x, "E": e})(Expr("dadj", (name("X"), name("E"))))
    want = np.einsum("abpq,pq->ba", adjugate.det_derivatives(x, 2), e)
    np.testing.assert_allclose(d, want, atol=1e-11 * np.max(np.abs(want)))
