"""Speed of jacli.numeric.structured against hand-written one-pass NumPy and numpy.kron.

Run:  PYTHONPATH=. python benchmarks/structured_speed.py [n ...]   (default 64 96)

For each expression and n (X, A, B n×n), the Jacobian expression is derived once; then
(median of 7 rounds after one warm-up, the methods in an order rotated each round; each
allocates its output except 'jacli out='):

* jacli      jacobian_dense([J], ...): compile (incl. the small dense parts such as inv(X))
             and write into a fresh array;
* jacli out= the same into a reused buffer;
* hand       a hand-written one-pass NumPy construction of the same dense matrix;
* np.kron    the textbook construction with numpy.kron (commutation as a column
             permutation, diagonal scalings as broadcasts; no dense matrix products);
* setup      parse + infer + derive + compile (Structured), timed separately, as a first
             call (jacli's caches cleared before it).

Every construction is checked against the plain evaluation (at the smallest n, where the
plain Evaluator is affordable) and against each other.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from numpy.lib.stride_tricks import as_strided
from timing import compare, first_call  # the script's own folder is on the path

from jacli.calculus.chain import jacobian_expr
from jacli.calculus.shapes import Shapes, infer
from jacli.numeric.evaluate import Evaluator
from jacli.numeric.structured import Structured, jacobian_dense
from jacli.syntax import parse

EXPRS = ["A X B", "X' X", "inv(X)", "(A X) ∘ (X B)", "inv(A + X' X)"]


# -- hand-written one-pass constructions ------------------------------------------------
# Rows index vec(F) (i + n j: C-order legs (j, i)); columns vec(X) (k + n l: legs (l, k)).
def hand_AXB(A, X, B):
    n = X.shape[0]
    out = np.empty((n * n, n * n))
    np.multiply(B.T[:, None, :, None], A[None, :, None, :], out=out.reshape(n, n, n, n))
    return out


def _views(out, n):
    s = out.itemsize
    s0, s1, s2, s3 = n**3 * s, n**2 * s, n * s, s
    return s0, s1, s2, s3


def hand_XtX(A, X, B):
    # d(XᵀX)[i,j]/dX[k,l] = δ(l,i) X[k,j] + X[k,i] δ(l,j)
    n = X.shape[0]
    out = np.zeros((n * n, n * n))
    s0, s1, s2, s3 = _views(out, n)
    v1 = as_strided(out, (n, n, n), (s0, s1 + s2, s3))  # (j, i, k), l = i
    v1 += X.T[:, None, :]
    v2 = as_strided(out, (n, n, n), (s0 + s2, s1, s3))  # (j, i, k), l = j
    v2 += X.T[None, :, :]
    return out


def hand_inv(A, X, B):
    n = X.shape[0]
    Y = np.linalg.inv(X)
    out = np.empty((n * n, n * n))
    np.multiply(-Y.T[:, None, :, None], Y[None, :, None, :], out=out.reshape(n, n, n, n))
    return out


def hand_had(A, X, B):
    # d((AX)∘(XB))[i,j]/dX[k,l] = A[i,k] δ(l,j) (XB)[i,j] + (AX)[i,j] δ(k,i) B[l,j]
    n = X.shape[0]
    AX, XB = A @ X, X @ B
    out = np.zeros((n * n, n * n))
    s0, s1, s2, s3 = _views(out, n)
    v1 = as_strided(out, (n, n, n), (s0 + s2, s1, s3))  # (j, i, k), l = j
    v1 += XB.T[:, :, None] * A[None, :, :]
    v2 = as_strided(out, (n, n, n), (s0, s1 + s3, s2))  # (j, i, l), k = i
    v2 += AX.T[:, :, None] * B.T[:, None, :]
    return out


def _sum_factors(A, X):
    # J = -((Sᵀ Xᵀ ⊗ S) K + Sᵀ ⊗ S Xᵀ), S = (A + XᵀX)⁻¹
    S = np.linalg.inv(A + X.T @ X)
    return S.T @ X.T, S, S @ X.T


def hand_sum(A, X, B):
    # a sum of two Kronecker terms, slab-blocked: for each leading row index a, both terms
    # go into the n rows out4[a] while they are in cache
    n = X.shape[0]
    P, S, R = _sum_factors(A, X)
    out = np.empty((n * n, n * n))
    o4 = out.reshape(n, n, n, n)  # (a, b, c, d): (P ⊗ S) K at [a,b,c,d] = P[a,d] S[b,c]
    tmp = np.empty((n, n, n))
    for a in range(n):
        np.multiply(S[:, :, None], -P[a][None, None, :], out=o4[a])
        np.multiply(S.T[a][None, :, None], R[:, None, :], out=tmp)
        o4[a] -= tmp
    return out


# -- numpy.kron constructions -------------------------------------------------------------
def _perm(n):
    """Column permutation of K(n,n): (M K)[:, c] = M[:, perm[c]]."""
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    p = np.empty(n * n, dtype=np.int64)
    p[(i + n * j).ravel()] = (j + n * i).ravel()
    return p


def kron_AXB(A, X, B):
    return np.kron(B.T, A)


def kron_XtX(A, X, B):
    n = X.shape[0]
    I = np.eye(n)
    return np.kron(X.T, I)[:, _perm(n)] + np.kron(I, X.T)


def kron_inv(A, X, B):
    Y = np.linalg.inv(X)
    return -np.kron(Y.T, Y)


def kron_had(A, X, B):
    n = X.shape[0]
    I = np.eye(n)
    vXB = (X @ B).reshape(-1, order="F")[:, None]
    vAX = (A @ X).reshape(-1, order="F")[:, None]
    return vXB * np.kron(I, A) + vAX * np.kron(B.T, I)


def kron_sum(A, X, B):
    P, S, R = _sum_factors(A, X)
    return -(np.kron(P, S)[:, _perm(X.shape[0])] + np.kron(S.T, R))


HAND = {"A X B": hand_AXB, "X' X": hand_XtX, "inv(X)": hand_inv, "(A X) ∘ (X B)": hand_had, "inv(A + X' X)": hand_sum}
KRON = {"A X B": kron_AXB, "X' X": kron_XtX, "inv(X)": kron_inv, "(A X) ∘ (X B)": kron_had, "inv(A + X' X)": kron_sum}


def values(n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {k: rng.standard_normal((n, n)) / np.sqrt(n) + 2 * np.eye(n) for k in "AXB"}


def derive(src: str, n: int):
    p = parse(src + " wrt X")
    r = infer(p.expr, {"X": (n, n), "A": (n, n), "B": (n, n)})
    sh = Shapes(r.names)
    return jacobian_expr(r.expr, "X", sh), sh


def main(ns):
    rows = []
    for n in ns:
        vals = values(n)
        A, X, B = vals["A"], vals["X"], vals["B"]
        for src in EXPRS:
            J, sh = derive(src, n)

            def setup():
                J2, sh2 = derive(src, n)
                return Structured(J2, sh2, Evaluator(vals))

            def jacli():
                return jacobian_dense([J], sh, Evaluator(vals))

            buf = np.empty(sh(J))

            def jacli_out():
                return jacobian_dense([J], sh, Evaluator(vals), out=buf)

            hand, kron = HAND[src], KRON[src]
            got, want, k = jacli(), hand(A, X, B), kron(A, X, B)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(k, want, rtol=1e-12, atol=1e-12)
            if n == min(ns) and n <= 64:  # the plain evaluation (dense I, K, products)
                t0 = time.perf_counter()
                plain = Evaluator(vals)(J)
                t_plain = time.perf_counter() - t0
                np.testing.assert_allclose(want, plain, rtol=1e-10, atol=1e-10)
                del plain
            else:
                t_plain = None
            del got, want, k
            t = compare(
                {
                    "setup": first_call(setup),
                    "jacli": jacli,
                    "jacli out=": jacli_out,
                    "hand": lambda: hand(A, X, B),
                    "np.kron": lambda: kron(A, X, B),
                },
                7,
            )
            times = [t.median(k) for k in ("jacli", "jacli out=", "hand", "np.kron", "setup")]
            rows.append((n, src, *times, t.ratio("jacli", "hand"), t_plain))
            print(f"  done n={n} {src}", file=sys.stderr)
    head = (
        f"{'n':>3}  {'expression':<14} {'jacli':>9} {'jacli out=':>10} {'hand':>9} {'np.kron':>9} "
        f"{'jacli/hand':>10} {'setup':>9} {'plain eval':>10}"
    )
    print(head)
    print("-" * len(head))
    for n, src, tj, tjo, th, tk, ts, r, tp in rows:
        plain = f"{tp * 1e3:8.0f}ms" if tp is not None else f"{'-':>10}"
        print(
            f"{n:>3}  {src:<14} {tj * 1e3:7.1f}ms {tjo * 1e3:8.1f}ms {th * 1e3:7.1f}ms {tk * 1e3:7.1f}ms "
            f"{r:10.2f} {ts * 1e3:7.2f}ms {plain}"
        )
    print(
        "times: median of 7 rounds after one warm-up, the order rotated each round; jacli/hand: median of "
        "per-round ratios; jacli = jacobian_dense with a fresh output; setup = parse+infer+derive+compile, "
        "jacli's caches cleared before it; plain eval = one run of the reference Evaluator"
    )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [64, 96])
