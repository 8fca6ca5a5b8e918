"""The Python API under attack: every failure of bad input a JacliError in the API's words;
``operator``'s matvec refuses what bindings refuse; ``compile``'s evaluations have the memory
limit, the overflow checks and the validation of ``jacobian``, and take any name."""

from __future__ import annotations

import numpy as np
import pytest

import jacli
from jacli.errors import JacliError

BAD_VECTORS = [
    np.array([1.0, np.nan, 1.0, 1.0]),
    np.array([1.0, np.inf, 1.0, 1.0]),
    np.ones(4) * (1 + 1j),
    np.ma.masked_array(np.ones(4), [0, 1, 0, 0]),
    "abcd",
    None,
    10**400,
    [1.0, 2.0],
    np.ones((2, 2)),
    np.ones((4, 1, 1)),
    [[1.0, 2.0], [3.0]],
    {"a": 1},
    object(),
]


@pytest.mark.parametrize("v", BAD_VECTORS, ids=range(len(BAD_VECTORS)))
def test_operator_refuses_what_bindings_refuse(v):
    op = jacli.operator("A X wrt X", A=np.eye(2), X=np.ones((2, 2)))
    for apply in (op.matvec, op.rmatvec):
        with pytest.raises(JacliError):
            apply(v)
    with pytest.raises(JacliError):
        op.matmat(v if not isinstance(v, np.ndarray) or v.ndim != 1 else v.reshape(-1, 1))


def test_operator_takes_what_bindings_take():
    op = jacli.operator("A X wrt X", A=np.eye(2), X=np.ones((2, 2)))
    v = np.arange(4.0)
    for same in (v, v.tolist(), v.reshape(-1, 1), v.reshape(1, -1), np.ma.masked_array(v, [0, 0, 0, 0]), v > 1):
        np.testing.assert_array_equal(op.matvec(same), op.matvec(np.asarray(same, dtype=float).reshape(-1)))
    with pytest.raises(JacliError, match=r"v: has NaN or infinite entries"):
        op.matvec([1.0, np.nan, 0.0, 0.0])
    with pytest.raises(JacliError, match=r"matvec takes a vector of 4 entries, not a 2×2 array"):
        op.matvec(np.ones((2, 2)))


def test_operator_refuses_an_overflow():
    op = jacli.operator("exp(x) wrt x", x=np.full(2, 700.0))
    with pytest.raises(JacliError, match="overflow"):
        op.matvec([1e300, 1e300])


def test_compiled_jacobian_has_the_memory_limit_of_jacobian():
    f = jacli.compile("A X wrt X", A=(3000, 3000), X=(3000, 3000))
    a = np.eye(3000)
    with pytest.raises(JacliError, match="above the limit") as caught:  # 648 TB: refused, not a MemoryError
        f.jacobian(A=a, X=a)
    assert "max_bytes" in str(caught.value) and "--max-memory" not in str(caught.value)
    g = jacli.compile("A X wrt X", A=(20, 20), X=(20, 20))
    a = np.eye(20)
    assert g.jacobian(A=a, X=a, max_bytes="1GB").shape == (400, 400)
    with pytest.raises(JacliError, match=r"above the limit of 1,000 bytes; raise max_bytes"):
        g.jacobian(A=a, X=a, max_bytes="1kB")
    with pytest.raises(JacliError, match="max_bytes"):
        g.jacobian(A=a, X=a, max_bytes=[1])


def test_compiled_problems_take_any_name():
    s, m = np.arange(4.0).reshape(2, 2), np.eye(2) + 1
    f = jacli.compile("self max_bytes wrt self", {"self": (2, 2), "max_bytes": (2, 2)})
    want = jacli.jacobian("self max_bytes wrt self", {"self": s, "max_bytes": m})
    np.testing.assert_array_equal(f.jacobian({"max_bytes": m}, self=s), want)
    np.testing.assert_array_equal(f.jacobian({"max_bytes": m, "self": s}, max_bytes="1GB"), want)
    g = jacli.compile("tr(self' self) wrt self", {"self": (2, 2)})
    np.testing.assert_array_equal(g.gradient(self=s), 2 * s)
    np.testing.assert_array_equal(g.gradient({"self": s}), 2 * s)


def test_compiled_problems_validate_their_values():
    f = jacli.compile("A X wrt X", A=(2, 2), X=(2, 2))
    hidden = np.ma.masked_array([[1.0, 1e9], [0.0, 1.0]], [[0, 1], [0, 0]])  # a masked entry is not a value
    with pytest.raises(JacliError, match="masked"):
        f.jacobian(A=hidden, X=np.eye(2))
    with pytest.raises(JacliError, match="masked"):
        jacli.compile("tr(A X) wrt X", A=(2, 2), X=(2, 2)).gradient(A=hidden, X=np.eye(2))
    with pytest.raises(JacliError, match=r"NaN"):
        f.jacobian(A=np.full((2, 2), np.nan), X=np.eye(2))
    with pytest.raises(JacliError):
        f.jacobian("not a dict", X=np.eye(2))


def test_compiled_gradients_refuse_an_overflow_as_derive_does():
    x = np.full((2, 2), 1000.0)
    with pytest.raises(JacliError):
        jacli.derive("sum(exp(X)) wrt X", X=x)
    with pytest.raises(JacliError, match="overflow"):
        jacli.compile("sum(exp(X)) wrt X", X=(2, 2)).gradient(X=x)
    with pytest.raises(JacliError):
        jacli.compile("exp(X) wrt X", X=(2, 2)).jacobian(X=x)


def test_compiled_errors_are_in_the_apis_words():
    f = jacli.compile("sum(X) wrt X", X=("m", "n"))
    with pytest.raises(JacliError, match="symbolic=True") as caught:
        f.jacobian()
    assert "--" not in str(caught.value)
    g = jacli.compile("log(X) wrt X", X=(2, 2))
    with pytest.raises(JacliError) as caught:
        g.jacobian(X=-np.ones((2, 2)))
    assert "--" not in str(caught.value)


def test_operator_products_are_within_the_memory_limit():
    a, x = np.eye(1000), np.ones((1000, 1000))  # 8 MB each; a direction and A dX take 16 more
    op = jacli.operator("A X A wrt X", A=a, X=x, max_bytes="30MB")
    with pytest.raises(JacliError, match=r"above the memory limit of 30,000,000 bytes \(max_bytes\)"):
        op.matvec(np.ones(10**6))
    np.testing.assert_array_equal(jacli.operator("A X A wrt X", A=a, X=x).matvec(np.ones(10**6)), np.ones(10**6))
    with pytest.raises(JacliError, match="max_bytes"):
        jacli.operator("X wrt X", X=np.eye(2), max_bytes="lots")
