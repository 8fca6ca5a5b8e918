"""check at any size: J v and uᵀ J without forming J, and the directional comparison."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from cli_support import SAMPLES, run
from test_structured import CASES, RAW, _values

import jacli
from jacli.api import checking, prepare
from jacli.api.checking import along
from jacli.api.problem import to_binding
from jacli.calculus.chain import jacobian_expr
from jacli.calculus.shapes import Shapes, infer
from jacli.numeric.evaluate import Evaluator
from jacli.numeric.structured import Structured
from jacli.syntax import parse, parse_expr

TOL = dict(rtol=1e-11, atol=1e-11)


def _products_match_dense(expr, shapes, ev, seed=0):
    st = Structured(expr, shapes, ev)
    J = np.asarray(ev(expr), dtype=float)
    R, C = st.shape
    rng = np.random.default_rng(seed)
    v, u = rng.standard_normal(C), rng.standard_normal(R)
    np.testing.assert_allclose(st.matvec(v), J @ v, **TOL)
    np.testing.assert_allclose(st.rmatvec(u), J.T @ u, **TOL)
    V, U = rng.standard_normal((C, 3)), rng.standard_normal((R, 2))
    np.testing.assert_allclose(st.matvec(V), J @ V, **TOL)
    np.testing.assert_allclose(st.rmatvec(U), J.T @ U, **TOL)
    W = V + 1j * rng.standard_normal((C, 3))  # complex directions (the complex step's)
    np.testing.assert_allclose(st.matvec(W), J @ W, **TOL)
    assert st.matvec(v).shape == (R,) and st.rmatvec(U).shape == (C, 2)


@pytest.mark.parametrize(
    "source,given", [(s, g) for s, gs in CASES for g in gs], ids=[f"{s} {g}" for s, gs in CASES for g in gs]
)
def test_matvec_of_derived_jacobians(source, given):
    p = parse(source)
    r = infer(p.expr, given)
    sh = Shapes(r.names)
    ev = Evaluator(_values(r.names, positive=source.startswith("log")))
    for v in p.wrt:
        _products_match_dense(jacobian_expr(r.expr, v, sh), sh, ev)


@pytest.mark.parametrize("source,given", RAW, ids=[f"{s} {g}" for s, g in RAW])
def test_matvec_of_unsimplified_forms(source, given):
    """Repeated labels on either side (vec(I), diag, K), broadcasts (ones), dense fallbacks."""
    r = infer(parse_expr(source), given)
    sh = Shapes(r.names)
    _products_match_dense(r.expr, sh, Evaluator(_values(r.names, seed=1)), seed=1)


def test_matvec_refuses_a_wrong_length():
    r = infer(parse_expr("A ⊗ B"), {"A": (2, 2), "B": (3, 3)})
    st = Structured(r.expr, Shapes(r.names), Evaluator(_values(r.names)))
    with pytest.raises(ValueError, match=re.escape(r"a vector of 6 entries (or 6×k) was expected, not (5,)")):
        st.matvec(np.ones(5))
    with pytest.raises(ValueError, match=re.escape(r"a vector of 6 entries (or 6×k) was expected, not (36, 2, 1)")):
        st.rmatvec(np.ones((36, 2, 1)))


MORE = [
    ("vec(I(3))", {}),  # a repeated row label held by nothing
    ("vec(I(3))'", {}),
    ("vec(I(3)) vec(I(3))'", {}),
    ("K(3,3) + vec(I(3)) vec(I(3))'", {}),
    ("ones(3, 4)", {}),
    ("2 ones(1, 1)", {}),
]


@pytest.mark.parametrize("source,given", MORE, ids=[s for s, _ in MORE])
def test_matvec_of_constant_structure(source, given):
    r = infer(parse_expr(source), given)
    _products_match_dense(r.expr, Shapes(r.names), Evaluator({}))


# -- check along random directions ----------------------------------------------------------

BIG = ["A=128x128", "B=128x128", "X=128x128", "--max-memory", "300MB"]  # J: 16,384², 2.1 GB


def test_check_at_n128_within_a_small_memory_limit():
    r = run("check", "A X B wrt X", *BIG, "--against", "B' ⊗ A")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("agree: A X B wrt X (J 16384×16384)")
    assert "  claim B' ⊗ A: agrees, " in r.stdout
    assert (
        "complex step along 8 random directions v (J v row by row, uᵀ J v, and rows of J as derive "
        "writes them; J, 16,384×16,384, not formed)" in r.stdout
    )
    assert "tolerance" in r.stdout and "max(1, max|J v|)" in r.stdout
    rec = json.loads(run("check", "A X B wrt X", *BIG, "--format", "json").stdout)
    assert rec["verdict"] == "agree" and rec["directions"] == 8 and " along direction " in rec["where"]


@pytest.mark.parametrize(
    "expr,wrong",
    [
        ("A X B wrt X", "A ⊗ B'"),  # factors swapped
        ("A X B wrt X", "B ⊗ A"),  # a transpose missing
        ("X' X wrt X", "X' ⊗ I + I ⊗ X'"),  # the commutation matrix missing
        ("inv(X) wrt X", "X^-T ⊗ X^-1"),  # the sign
    ],
)
def test_wrong_claims_are_found_along_directions(expr, wrong):
    r = run("check", expr, *BIG, "--against", wrong)
    assert r.exit_code == 1
    assert "  claim " + wrong + ": DISAGREES" in r.stdout and " along direction " in r.stdout
    assert "agrees" in r.stdout.splitlines()[1]  # jacli's own J agrees


@pytest.mark.parametrize("extra", [["--vec", "row"], ["--method", "central"], ["--seed", "3"]])
def test_options_along_directions(extra):
    r = run("check", "inv(A + X' X) wrt X", *BIG, *extra)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "random directions" in r.stdout


def test_small_jacobians_are_still_compared_whole():
    c = jacli.check("A X B wrt X", A=(2, 3), B=(4, 5), against="B' ⊗ A")
    assert c.directions == 0 and c.comparisons[0].where.startswith("dF[") and "/dX[" in c.comparisons[0].where
    big = jacli.check("A X B wrt X", A=(40, 40), B=(40, 40), X=(40, 40))  # J 1,600² = 2.56 M entries
    assert big.directions == 8 and big.agree


@pytest.fixture()
def always_along(monkeypatch):
    monkeypatch.setattr(checking, "WHOLE_ENTRIES", 0)


def test_every_sample_identity_agrees_along_directions(always_along):
    r = run("batch", SAMPLES / "identities.txt", "--format", "json")
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert r.exit_code == 0, r.stdout
    checks = [x for x in recs[:-1] if x["command"].startswith("check")]
    assert len(checks) == 23 and all(x["directions"] == 8 and x["verdict"] == "agree" for x in checks)


def test_a_wrong_dense_writer_is_caught_along_directions(always_along, monkeypatch):
    assert jacli.check("X' X wrt X", X=(4, 3)).agree
    write = Structured.write_rows

    def off_by_one_entry(self, out, start, stop, **kw):
        write(self, out, start, stop, **kw)
        out[0, 0] += 1.0

    monkeypatch.setattr(Structured, "write_rows", off_by_one_entry)
    c = jacli.check("X' X wrt X", X=(4, 3))
    assert not c.agree and "as the dense writer writes them differ" in c.comparisons[0].note
    monkeypatch.setattr(checking, "WRITTEN_BYTES", 0)  # no rows written: the check cannot see it
    assert jacli.check("X' X wrt X", X=(4, 3)).agree


@pytest.mark.parametrize(
    "expr,shapes,wrong",
    [
        ("A X B wrt X", dict(A=(2, 3), X=(3, 4), B=(4, 5)), "A ⊗ B'"),
        ("A X B wrt X", dict(A=(3, 3), X=(3, 3), B=(3, 3)), "B ⊗ A"),
        ("X' X wrt X", dict(X=(4, 3)), "X' ⊗ I + I ⊗ X'"),
        ("inv(X) wrt X", dict(X=(3, 3)), "X^-T ⊗ X^-1"),
        ("det(X) wrt X", dict(X=(3, 3)), "det(X) vec(X^-1)'"),
        ("X Y wrt X, Y", dict(X=(2, 3), Y=(3, 2)), "[Y' ⊗ I, X ⊗ I]"),
    ],
)
def test_wrong_identities_disagree_along_directions(always_along, expr, shapes, wrong):
    c = jacli.check(expr, against=wrong, **shapes)
    assert c.directions == 8
    mine, claim = c.comparisons
    assert mine.agree and not claim.agree and claim.note == "" and claim.max_abs > 1e-3


def _one_wrong_entry(delta: float, seed: int, n: int = 4):
    """along() on J = Bᵀ ⊗ A with one entry off by ``delta``, tolerance 1 (so delta is in
    units of the tolerance)."""
    rng = np.random.default_rng(seed)
    vals = {"A": rng.standard_normal((n, n)), "B": rng.standard_normal((n, n))}
    r = infer(parse_expr("B' ⊗ A"), {"A": (n, n), "B": (n, n)})
    sh = Shapes(r.names)
    st = Structured(r.expr, sh, Evaluator(vals))
    J = np.kron(vals["B"].T, vals["A"])
    J[5, 7] += delta
    V = rng.standard_normal((n * n, 8))
    U = rng.standard_normal((n * n, 8))

    problem = prepare("A X B wrt X", {k: to_binding(k, (n, n)) for k in "AXB"})
    return along("claim", "B' ⊗ A", [st], V, U, J @ V, 1.0, problem, "col")


def test_one_wrong_entry_is_caught_and_placed():
    c = _one_wrong_entry(1e3, seed=0)
    assert not c.agree and c.where.startswith("dF[1,1] along direction ")  # row 5 of vec F (4×4)


def test_what_the_tolerance_does_to_the_chance_of_passing():
    """An entry off by 4 tolerances passes k = 8 directions with probability below
    (0.8/4)^8 ≈ 3e-6; one off by half a tolerance passes most of the time (P(|z| ≤ 2)^8 ≈ 0.69)."""
    assert not any(_one_wrong_entry(4.0, seed).agree for seed in range(300))
    passed = sum(_one_wrong_entry(0.5, seed).agree for seed in range(300))
    assert 150 < passed < 260


def test_the_progress_bar_appears_after_the_delay_and_goes(monkeypatch):
    import time

    from jacli.cli import progress

    monkeypatch.setattr(progress, "DELAY", 0.0)
    with progress.LazyBar("check", 10, enabled=True) as bar:
        time.sleep(0.2)
        bar.update(3)
        bar.advance()
        assert bar.done == 4 and bar._bar is not None
    assert bar._bar is None
    quiet = progress.LazyBar("check", 10, enabled=False)
    quiet.update(5)
    quiet.stop()
    assert quiet._timer is None and quiet._bar is None


# -- the dense writer: slabs, the batched product of split terms, two threads ---------------
SUMS = [
    ("inv(A + X' X) wrt X", {"X": (4, 4), "A": (4, 4)}),
    ("A X B + B X' A wrt X", {"X": (3, 3), "A": (3, 3), "B": (3, 3)}),
    ("A X B + X wrt X", {"X": (3, 4), "A": (3, 3), "B": (4, 4)}),  # a covering term and an identity
    ("A X B + 2 C X D - X' X wrt X", {"X": (3, 3)}),
    ("inv(X) + A X B wrt X", {"X": (4, 4)}),
    ("A X B wrt X", {"X": (3, 4), "A": (2, 3), "B": (4, 5)}),
    ("(A X) ∘ (X B) wrt X", {"X": (3, 4), "A": (3, 3), "B": (4, 4)}),
    ("kron(A, X) + kron(X, A) wrt X", {"X": (2, 2), "A": (2, 2)}),
]


@pytest.fixture(params=[1, 2], ids=["1 thread", "2 threads"])
def small_slabs(request, monkeypatch):
    """Tiny slabs and the batched product at any size, so that every path is taken."""
    import jacli.numeric.structured as structured

    monkeypatch.setattr(structured, "SLAB_BYTES", 64)
    monkeypatch.setattr(structured, "PASS_BYTES", 256)
    monkeypatch.setattr(structured, "LOWRANK_BYTES", 0)
    monkeypatch.setattr(structured, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(structured, "usable_cores", lambda: request.param)
    return request.param


@pytest.mark.parametrize(
    "source,given",
    SUMS + [(s, g) for s, gs in CASES for g in gs],
    ids=[s for s, _ in SUMS] + [f"{s} {g}" for s, gs in CASES for g in gs],
)
def test_slab_blocked_writing_equals_plain_evaluation(small_slabs, source, given):
    from test_structured import _check

    p = parse(source)
    r = infer(p.expr, given)
    sh = Shapes(r.names)
    ev = Evaluator(_values(r.names, positive=source.startswith("log")))
    for v in p.wrt:
        _check(jacobian_expr(r.expr, v, sh), sh, ev)


@pytest.mark.parametrize("source,given", RAW, ids=[f"{s} {g}" for s, g in RAW])
def test_slab_blocked_writing_of_unsimplified_forms(small_slabs, source, given):
    from test_structured import _check

    r = infer(parse_expr(source), given)
    _check(r.expr, Shapes(r.names), Evaluator(_values(r.names, seed=1)), seed=1)


def test_a_sum_of_kronecker_terms_is_one_batched_product():
    r = infer(parse("inv(A + X' X) wrt X").expr, {"X": (6, 6), "A": (6, 6)})
    sh = Shapes(r.names)
    st = Structured(jacobian_expr(r.expr, "X", sh), sh, Evaluator(_values(r.names)))
    assert st._lowrank is not None
    m, grouped, _ = st._lowrank
    assert m == 6 and sorted(grouped) == [0, 1]
