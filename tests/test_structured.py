"""Tests for jacli.numeric.structured: structured writing of Jacobians against plain evaluation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from jacli.calculus.chain import jacobian_expr
from jacli.calculus.shapes import Shapes, infer
from jacli.numeric.evaluate import Evaluator
from jacli.numeric.structured import Structured, jacobian_dense
from jacli.syntax import parse, parse_expr

TOL = dict(rtol=1e-12, atol=1e-12)


def _values(names: dict, seed: int = 0, positive: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    vals = {}
    for nm, (r, c) in names.items():
        m = rng.standard_normal((r, c))
        if r == c:  # well conditioned where inverted
            m = m / np.sqrt(r) + 2 * np.eye(r)
        if positive:
            m = np.abs(m) + 0.5
        vals[nm] = m
    return vals


def _check(J, shapes: Shapes, ev: Evaluator, seed: int = 0) -> np.ndarray:
    """Every way of writing J (full, column slice, row blocks, COO) equals plain evaluation."""
    ref = np.asarray(ev(J), dtype=float)
    st = Structured(J, shapes, ev)
    assert st.shape == ref.shape
    R, C = st.shape

    out = np.full(st.shape, np.nan)  # a reused buffer: must be overwritten entirely
    st.write(out)
    np.testing.assert_allclose(out, ref, **TOL)

    fort = np.full(st.shape, np.nan, order="F")  # any strides
    st.write(fort)
    np.testing.assert_allclose(fort, ref, **TOL)
    rev = np.full(st.shape, np.nan)
    st.write(rev[::-1, ::-1])
    np.testing.assert_allclose(rev[::-1, ::-1], ref, **TOL)

    big = np.full((R, C + 5), np.nan)  # a column slice of a bigger array
    st.write(big[:, 2 : 2 + C])
    np.testing.assert_allclose(big[:, 2 : 2 + C], ref, **TOL)
    assert np.isnan(big[:, :2]).all() and np.isnan(big[:, 2 + C :]).all()

    tiny = max(1, C * 8 * 2 + 1)  # forces many blocks
    blocks = list(st.row_blocks(tiny))
    assert blocks[0][0] == 0 and blocks[-1][1] == R
    assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))
    assembled = np.full(st.shape, np.nan)
    for a, b in blocks:
        assert b > a
        st.write_rows(assembled[a:b], a, b)
    np.testing.assert_allclose(assembled, ref, **TOL)
    assert list(st.row_blocks(10**12)) == [(0, R)]

    rng = np.random.default_rng(seed)  # arbitrary (unaligned) ranges
    for _ in range(3):
        a, b = sorted(rng.integers(0, R + 1, size=2))
        if a == b:
            continue
        block = np.full((b - a, C), np.nan)
        st.write_rows(block, a, b)
        np.testing.assert_allclose(block, ref[a:b], **TOL)

    from scipy.sparse import coo_matrix

    rows, cols, vals = st.coo_rows(0, R)
    assert rows.dtype == np.int64 and cols.dtype == np.int64
    assert len(vals) <= st.nnz_upper()
    np.testing.assert_allclose(coo_matrix((vals, (rows, cols)), shape=(R, C)).toarray(), ref, **TOL)
    for a, b in blocks[:4]:
        r, c, v = st.coo_rows(a, b)
        np.testing.assert_allclose(coo_matrix((v, (r, c)), shape=(b - a, C)).toarray(), ref[a:b], **TOL)
    return ref


# -- Jacobians derived from user expressions ------------------------------------------------
CASES = [
    (
        "A X B wrt X",
        [
            {"X": (3, 4), "A": (2, 3), "B": (4, 5)},
            {"X": (3, 1), "A": (2, 3), "B": (1, 2)},
            {"X": (1, 4), "A": (2, 1), "B": (4, 3)},
            {"X": (1, 1), "A": (2, 1), "B": (1, 3)},
        ],
    ),
    ("X' X wrt X", [{"X": (4, 3)}, {"X": (3, 3)}, {"X": (4, 1)}, {"X": (1, 4)}, {"X": (1, 1)}]),
    ("inv(X) wrt X", [{"X": (3, 3)}, {"X": (4, 4)}, {"X": (1, 1)}]),
    (
        "(A X) ∘ (X B) wrt X",
        [
            {"X": (3, 4), "A": (3, 3), "B": (4, 4)},
            {"X": (3, 3), "A": (3, 3), "B": (3, 3)},
            {"X": (3, 1), "A": (3, 3), "B": (1, 1)},
            {"X": (1, 1), "A": (1, 1), "B": (1, 1)},
        ],
    ),
    ("W a wrt W", [{"W": (2, 3), "a": (3, 1)}, {"W": (1, 3), "a": (3, 1)}, {"W": (2, 1), "a": (1, 1)}]),
    ("X' wrt X", [{"X": (2, 3)}, {"X": (3, 1)}, {"X": (1, 3)}, {"X": (1, 1)}]),
    (
        "kron(A, X) wrt X",
        [
            {"A": (2, 3), "X": (4, 5)},
            {"A": (2, 3), "X": (4, 1)},
            {"A": (1, 3), "X": (1, 2)},
            {"A": (2, 2), "X": (1, 1)},
        ],
    ),
    ("kron(X, B) wrt X", [{"B": (2, 3), "X": (4, 5)}, {"B": (3, 1), "X": (2, 3)}, {"B": (1, 1), "X": (2, 3)}]),
    ("tr(X' A X) wrt X", [{"A": (3, 3), "X": (3, 2)}, {"A": (3, 3), "X": (3, 1)}, {"A": (1, 1), "X": (1, 1)}]),
    ("det(X) wrt X", [{"X": (3, 3)}, {"X": (1, 1)}]),
    ("exp(X) wrt X", [{"X": (2, 3)}, {"X": (3, 1)}, {"X": (1, 1)}]),
    ("X ∘ A wrt X", [{"X": (2, 3)}, {"X": (1, 3)}]),
    ("A X + X B wrt X", [{"X": (3, 3)}, {"X": (2, 3)}, {"X": (1, 1), "A": (1, 1), "B": (1, 1)}]),
    ("diag(x) wrt x", [{"x": (3, 1)}, {"x": (1, 4)}, {"x": (1, 1)}]),
    ("diag(X) wrt X", [{"X": (3, 3)}]),
    ("sum(X) wrt X", [{"X": (2, 3)}, {"X": (3, 1)}, {"X": (1, 1)}]),
    ("X^3 wrt X", [{"X": (3, 3)}, {"X": (1, 1)}]),
    ("X^-2 wrt X", [{"X": (3, 3)}]),
    ("X Y wrt X, Y", [{"X": (2, 3), "Y": (3, 4)}, {"X": (3, 1), "Y": (1, 2)}, {"X": (1, 3), "Y": (3, 1)}]),
    ("kron(X, X) wrt X", [{"X": (2, 3)}]),
    ("log(X) ./ X wrt X", [{"X": (2, 2)}]),
]


@pytest.mark.parametrize(
    "source,given", [(s, g) for s, gs in CASES for g in gs], ids=[f"{s} {g}" for s, gs in CASES for g in gs]
)
def test_derived_jacobians(source, given):
    p = parse(source)
    r = infer(p.expr, given)
    sh = Shapes(r.names)
    ev = Evaluator(_values(r.names, positive=source.startswith("log")))
    Js = [jacobian_expr(r.expr, v, sh) for v in p.wrt]
    refs = [_check(J, sh, ev) for J in Js]
    full = np.hstack(refs)
    got = jacobian_dense(Js, sh, ev)
    np.testing.assert_allclose(got, full, **TOL)
    out = np.full(full.shape, np.nan)
    assert jacobian_dense(Js, sh, ev, out=out) is out
    np.testing.assert_allclose(out, full, **TOL)


# -- unsimplified forms compiled directly ---------------------------------------------------
RAW = [
    ("(B' ⊗ I(3)) (I(4) ⊗ A)", {"A": (3, 3), "B": (4, 4)}),
    ("(B' ⊗ I(3)) (I(4) ⊗ A)", {"A": (3, 2), "B": (4, 5)}),
    ("K(3,4) K(4,3)", {}),
    ("K(2,6) K(3,4)", {}),  # legs (6,2) against (3,4): refined to (2,3,2)
    ("kron(I(2), K(3,2))", {}),
    ("kron(K(2,3), I(2)) kron(I(2), K(3,2))", {}),
    ("vec(A)' kron(B, C)", {"A": (6, 2), "B": (3, 2), "C": (4, 5)}),
    ("diag(vec(A)) K(3,4)", {"A": (3, 4)}),
    ("K(3,4) diag(vec(A))", {"A": (4, 3)}),
    ("diag(vec(I(3))) (ones(3,1) ⊗ I(3))", {}),
    ("(ones(1,3) ⊗ I(3)) diag(vec(I(3)))", {}),
    ("ones(1,4) ones(4,3)", {}),
    ("vec(A)' vec(B)", {"A": (3, 4), "B": (3, 4)}),
    ("(A ⊗ B) (C ⊗ D)", {"A": (2, 3), "B": (4, 2), "C": (3, 2), "D": (2, 3)}),
    ("(A ⊗ B) (C ⊗ D)", {"A": (2, 2), "B": (3, 3), "C": (3, 3), "D": (2, 2)}),  # no refinement: dense
    ("(I(2) ⊗ I(3)) (I(3) ⊗ I(2))", {}),  # no refinement: dense fallback
    ("diag(kron(A, B))", {"A": (2, 3), "B": (3, 2)}),  # diagonal without refinement
    ("diag(kron(A, B))", {"A": (3, 3), "B": (2, 2)}),
    ("diag(K(3,3))", {}),
    ("diag(A ⊗ I(3) + K(3,3))", {"A": (3, 3)}),
    ("2 (A ⊗ B) - 3 K(4,3)' (B ⊗ A) K(4,3)", {"A": (3, 3), "B": (4, 4)}),
    ("(A ⊗ B) K(3,2) (C ⊗ D)", {"A": (2, 3), "B": (3, 2), "C": (2, 2), "D": (3, 3)}),
    ("vec(A B C)", {"A": (2, 3), "B": (3, 4), "C": (4, 2)}),
    ("(vec(A) ⊗ I(4)) (I(2) ⊗ B)", {"A": (3, 1), "B": (2, 5)}),
    ("(I(3) ⊗ ones(2, 2) ⊗ I(2)) diag(vec(A))", {"A": (6, 2)}),
    ("zeros(3, 4)", {}),
    ("zeros(3, 4) + I(3) ones(3, 4)", {}),
    ("x' x I(3) + x x'", {"x": (3, 1)}),
    ("(diag(vec(A)) ⊗ I(2)) (I(6) ⊗ ones(2, 2))", {"A": (2, 3)}),
    ("(A ⊗ B)' (vec(C) vec(C)')", {"A": (2, 3), "B": (2, 2), "C": (4, 1)}),
]


@pytest.mark.parametrize("source,given", RAW, ids=[f"{s} {g}" for s, g in RAW])
def test_unsimplified_forms(source, given):
    r = infer(parse_expr(source), given)
    sh = Shapes(r.names)
    ev = Evaluator(_values(r.names, seed=1))
    _check(r.expr, sh, ev, seed=1)


def test_structure_is_not_evaluated_densely():
    """I, K, ⊗ and products of them never reach the dense evaluator."""
    n = 24
    r = infer(parse("(A X) ∘ (X B) + X' X + A X B + inv(X) wrt X").expr, {"X": (n, n), "A": (n, n), "B": (n, n)})
    sh = Shapes(r.names)
    J = jacobian_expr(r.expr, "X", sh)
    ev = Evaluator(_values(r.names))
    seen = []

    def dense(e):
        seen.append(e.op)
        return ev(e)

    st = Structured(J, sh, dense)
    assert not {"I", "K", "kron", "ones", "diag", "vec"} & set(seen)
    assert all(f.size <= n * n for t in st.terms for f, _ in t.factors)
    out = np.empty(st.shape)
    st.write(out)
    np.testing.assert_allclose(out, ev(J), **TOL)


def test_sparse_count_of_a_big_jacobian():
    """X' X at n=30: 900×900 with two n³ patterns; COO of a block, no dense matrix."""
    n = 30
    r = infer(parse("X' X wrt X").expr, {"X": (n, n)})
    sh = Shapes(r.names)
    ev = Evaluator(_values(r.names))
    st = Structured(jacobian_expr(r.expr, "X", sh), sh, ev)
    assert st.nnz_upper() == 2 * n**3
    rows, cols, vals = st.coo_rows(0, n * n)
    assert len(vals) == 2 * n**3
    from scipy.sparse import coo_matrix

    np.testing.assert_allclose(
        coo_matrix((vals, (rows, cols)), shape=st.shape).toarray(), ev(jacobian_expr(r.expr, "X", sh)), **TOL
    )


def test_chunked_accumulation(monkeypatch):
    """A full-size accumulating term is added chunk by chunk."""
    import jacli.numeric.writing as writing

    monkeypatch.setattr(writing, "CHUNK_BYTES", 8 * 7)
    r = infer(
        parse_expr("A ⊗ B + 2 (C ⊗ D) - 3 E"), {"A": (3, 2), "B": (4, 5), "C": (3, 2), "D": (4, 5), "E": (12, 10)}
    )
    sh = Shapes(r.names)
    ev = Evaluator(_values(r.names))
    _check(r.expr, sh, ev)


def test_errors():
    r = infer(parse_expr("A ⊗ B"), {"A": (2, 2), "B": (3, 3)})
    sh = Shapes(r.names)
    st = Structured(r.expr, sh, Evaluator(_values(r.names)))
    with pytest.raises(ValueError):
        st.write(np.empty((5, 6)))
    with pytest.raises(ValueError):
        st.write_rows(np.empty((2, 6)), 5, 8)
