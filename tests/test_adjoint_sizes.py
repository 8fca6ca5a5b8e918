"""Adjoints are no larger than what they transpose: the Kronecker product's is a reshape and a
contraction (blockdot, blocksum), never its Kronecker form.

Generated over the registry: for every operator linear in an argument, on the shape menu of
tests/test_rules.py, every node of that argument's adjoint (the rule's expression, simplified
as jacli's gradients and rmatvec are) has at most as many entries as the largest of the
operator's result and arguments, so ``jacli.operator(...).rmatvec`` and gradients take the time and memory of a
matvec (benchmarks/kron_adjoint.py measures them). Then the Kronecker product's adjoints and
the records they are written with, against the transposed Jacobian.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_rules import _cases

import jacli
from jacli.calculus import ops
from jacli.calculus.shapes import Shapes
from jacli.calculus.simplify import Simplifier
from jacli.expr import Expr, name
from jacli.numeric.evaluate import Evaluator
from jacli.syntax import parse_expr, to_text

LINEAR = [pytest.param(*c.values, id=c.id) for c in _cases() if ops.REGISTRY[c.values[0]].linear_in(c.values[3])]


@pytest.mark.parametrize("opname,attr,shapes,i", LINEAR)
def test_an_adjoint_is_no_larger_than_its_operator(opname, attr, shapes, i):
    op = ops.REGISTRY[opname]
    node = Expr(opname, tuple(name(f"A{k}") for k in range(op.arity)), attr)
    names = {f"A{k}": s for k, s in enumerate(shapes)}
    names["G"] = Shapes(names)(node)
    sh = Shapes(names)
    rule = op.adjoint[i]
    assert rule is not None
    bar = Simplifier(sh)(rule(node, name("G"), sh))
    largest = max(r * c for r, c in names.values())
    for n in bar.walk():
        r, c = sh(n)
        assert r * c <= largest, f"{to_text(n)} ({r}×{c}) in the adjoint {to_text(bar)}"


def _dense_transpose(source: str, var: str, **values) -> np.ndarray:
    return jacli.derive(f"{source} wrt {var}", **values).matrix.T


@pytest.mark.parametrize(
    "source,shapes",
    [
        ("kron(a, X)", dict(a=(3, 1), X=(4, 5))),
        ("kron(X, a)", dict(a=(1, 3), X=(4, 5))),
        ("kron(A, X)", dict(A=(2, 3), X=(4, 2))),
        ("A ⊗ X ⊗ B", dict(A=(2, 1), X=(2, 3), B=(1, 2))),
        ("kronsum(A, X)", dict(A=(2, 2), X=(3, 3))),
        ("kron(X, X)", dict(X=(2, 3))),
    ],
)
def test_rmatvec_is_the_transposed_jacobian(source, shapes):
    rng = np.random.default_rng(1)
    values = {k: rng.standard_normal(s) for k, s in shapes.items()}
    for var in shapes:
        op = jacli.operator(f"{source} wrt {var}", **values)
        u = rng.standard_normal(op.shape[0])
        np.testing.assert_allclose(op.rmatvec(u), _dense_transpose(source, var, **values) @ u, rtol=1e-12)


def test_the_gradients_of_a_kronecker_product_are_contractions():
    g = jacli.derive("sum(kron(a, X) ∘ Y) wrt X, a", a=(3, 1), X=(4, 4), Y=(12, 4), symbolic=True)
    assert [to_text(b.gradient_expr) for b in g.blocks] == ["blocksum(Y, a)", "blockdot(Y, X)"]
    rng = np.random.default_rng(2)
    a, X, Y = rng.standard_normal((3, 1)), rng.standard_normal((4, 4)), rng.standard_normal((12, 4))
    f = jacli.compile("sum(kron(a, X) ∘ Y) wrt X", a=(3, 1), X=(4, 4), Y=(12, 4))
    np.testing.assert_allclose(f.gradient(a=a, X=X, Y=Y), np.einsum("ipj,i->pj", Y.reshape(3, 4, 4), a[:, 0]))


@pytest.mark.parametrize("m,n,p,q", [(2, 3, 4, 5), (1, 3, 2, 1), (3, 1, 1, 2), (1, 1, 3, 3)])
def test_blockdot_and_blocksum_are_the_adjoints_of_kron(m, n, p, q):
    rng = np.random.default_rng(m * 1000 + n * 100 + p * 10 + q)
    A, B, G = rng.standard_normal((m, n)), rng.standard_normal((p, q)), rng.standard_normal((m * p, n * q))
    ev = Evaluator({"A": A, "B": B, "G": G})
    inner = float(np.sum(G * np.kron(A, B)))
    assert np.isclose(np.sum(ev(parse_expr("blockdot(G, B)")) * A), inner, rtol=1e-12)
    assert np.isclose(np.sum(ev(parse_expr("blocksum(G, A)")) * B), inner, rtol=1e-12)
    # blocks: blockdot's (i, j) entry is ⟨G_ij, B⟩, blocksum is Σ A_ij G_ij
    blocks = G.reshape(m, p, n, q).transpose(0, 2, 1, 3)
    np.testing.assert_allclose(ev(parse_expr("blockdot(G, B)")), np.einsum("ijpq,pq->ij", blocks, B), rtol=1e-12)
    np.testing.assert_allclose(ev(parse_expr("blocksum(G, A)")), np.einsum("ijpq,ij->pq", blocks, A), rtol=1e-12)


def test_shapes_of_blockdot_and_blocksum():
    r = jacli.derive("blockdot(G, B) wrt G", G=(6, 6), B=(2, 3), symbolic=True)
    assert r.problem.shape == (3, 2)
    with pytest.raises(jacli.JacliError, match="whole blocks of 4×3"):
        jacli.derive("blockdot(G, B) wrt G", G=(6, 6), B=(4, 3), symbolic=True)
    r = jacli.derive("blocksum(G, A) wrt G", G=("m", "n"), A=(1, 1), symbolic=True)
    assert r.problem.shape == (jacli_size("m"), jacli_size("n"))


def jacli_size(d: str):
    from jacli.sizes import dim

    return dim(d)
