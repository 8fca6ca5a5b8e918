"""Big Jacobians: sparse output and block-by-block .npy, checked against the in-memory matrix."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from cli_support import run

import jacli


@pytest.mark.parametrize(
    "expr,specs",
    [
        ("X' X wrt X", ["X=[[1,2,0],[3,-1,2]]"]),
        ("(A X) ∘ (X B) wrt X", ["A=[[1,2],[0,1]]", "X=[[2,1],[1,3]]", "B=[[1,0],[2,1]]"]),
        ("X Y wrt X, Y", ["X=[[1,2],[3,4],[5,6]]", "Y=[[1,0,2],[0,1,1]]"]),
    ],
)
def test_sparse_npz_equals_the_dense_jacobian(tmp_path, expr, specs):
    out = tmp_path / "J.npz"
    r = run("derive", expr, *specs, "--sparse", "-o", str(out))
    assert r.exit_code == 0, r.stderr
    assert "stored entries" in r.stderr
    S = scipy.sparse.load_npz(out)
    dense = run("derive", expr, *specs, "--format", "json")
    import json

    J = np.array(json.loads(dense.stdout)["matrix"])
    np.testing.assert_array_equal(S.toarray(), J)
    assert S.nnz == np.count_nonzero(J)


def test_block_by_block_npy_under_a_small_memory_limit(tmp_path):
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((6, 7)), rng.standard_normal((8, 5))
    np.save(tmp_path / "A.npy", A)
    np.save(tmp_path / "B.npy", B)
    out = tmp_path / "J.npy"
    # 30×56 float64 = 13,440 bytes: far above the limit in memory, fine block by block
    r = run(
        "derive", "A X B wrt X", f"A={tmp_path}/A.npy", f"B={tmp_path}/B.npy", "-o", str(out), "--max-memory", "4000"
    )
    assert r.exit_code == 0, r.stderr
    np.testing.assert_array_equal(np.load(out), np.kron(B.T, A))
    refused = run(
        "derive",
        "A X B wrt X",
        f"A={tmp_path}/A.npy",
        f"B={tmp_path}/B.npy",
        "--max-memory",
        "4000",
        "--format",
        "plain",
    )
    assert refused.exit_code == 2
    assert "13,440 bytes" in refused.stderr and "-o J.npy" in refused.stderr


def test_sparse_needs_an_npz_output():
    r = run("derive", "X' wrt X", "X=2x2", "--sparse")
    assert r.exit_code == 2 and "-o J.npz" in r.stderr


def test_api_size_guard():
    with pytest.raises(jacli.JacliError, match="above the limit"):
        jacli.jacobian("A X B wrt X", A=np.ones((20, 20)), B=np.ones((20, 20)), max_bytes=1e5)


@pytest.mark.parametrize(
    "expr,shapes",
    [
        ("kron(X, Y) wrt X", dict(X=(3, 4), Y=(2, 5))),
        ("kron(X, Y) wrt Y", dict(X=(3, 4), Y=(2, 5))),
        ("kron(X, X) wrt X", dict(X=(3, 2))),
        ("A X B wrt X", dict(A=(2, 3), X=(3, 4), B=(4, 5))),
        ("X' X wrt X", dict(X=(4, 3))),
        ("(A X) ∘ (X B) wrt X", dict(A=(3, 3), X=(3, 3), B=(3, 3))),
        ("diag(x) wrt x", dict(x=(4, 1))),
        ("diag(X) wrt X", dict(X=(4, 4))),
        ("tr(X' A X) wrt X", dict(A=(3, 3), X=(3, 4))),
        ("X^3 wrt X", dict(X=(3, 3))),
    ],
)
def test_structured_evaluation_never_falls_back_to_dense_products(expr, shapes):
    """Kronecker, identity and commutation structure is written, never multiplied densely."""
    from jacli.api import prepare
    from jacli.api.derivation import compiled, jacobian_blocks
    from jacli.api.problem import to_binding

    problem = prepare(expr, {n: to_binding(n, s) for n, s in shapes.items()}, random=True)
    for part in compiled(problem, jacobian_blocks(problem)):
        assert part.fallbacks == 0
