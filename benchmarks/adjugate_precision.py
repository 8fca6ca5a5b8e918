"""The adjugate's derivative against 60-digit arithmetic (mpmath): the largest error, in units
in the last place of each exact entry, at condition numbers 1e8, 1e12, 1e16 and at exactly
singular matrices, n = 2, 3, 5.

    python benchmarks/adjugate_precision.py [trials]

Columns: J = jacli.derive("adj(X) wrt X").matrix (Dadj(X)); H = jacli.hessian("det(X) wrt X")
(K(n,n) Dadj(X)); J v = jacli.operator("adj(X) wrt X").matvec(v) (the differential
dadj(X, V), as --direction computes it); adj(X) itself. X = Q₁ diag(s) Q₂ᵀ with s from 1 to
1/cond, rounded to floats, or a random X with its last row equal to its first (exactly
singular, rank n-1), or its last two rows (rank n-2, where adj(X) = 0). The oracle takes the
float X as it is. 0.5 means correctly rounded; an exact 0 must come out 0 (else "inf").
"""

from __future__ import annotations

import itertools
import sys

import mpmath as mp
import numpy as np

import jacli
from jacli.numeric.evaluate import Evaluator
from jacli.syntax import parse_expr

CASES = [1e8, 1e12, 1e16, "singular", "rank n-2"]


def matrix(n: int, case: float | str, rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal((n, n))
    if case == "singular":
        x[-1] = x[0]
    elif case == "rank n-2":
        x[-1] = x[-2] = x[0]
    else:
        q1, _ = np.linalg.qr(x)
        q2, _ = np.linalg.qr(rng.standard_normal((n, n)))
        x = q1 @ np.diag(np.geomspace(1, 1 / float(case), n)) @ q2.T
    return x


def minor(X: mp.matrix, rows: list[int], cols: list[int]) -> mp.mpf:
    return mp.det(mp.matrix([[X[r, c] for c in cols] for r in rows])) if rows else mp.mpf(1)


def exact(x: np.ndarray) -> tuple[list[list[mp.mpf]], list[mp.mpf]]:
    """H[i + n j][k + n l] = ∂² det / ∂X_ij ∂X_kl, and adj(X) by rows, at the float X."""
    n = x.shape[0]
    X = mp.matrix([[mp.mpf(float(v)) for v in row] for row in x])
    H = [[mp.mpf(0)] * (n * n) for _ in range(n * n)]
    for i, j, k, l in itertools.product(range(n), repeat=4):
        if i != k and j != l:
            rest = [r for r in range(n) if r not in (i, k)], [c for c in range(n) if c not in (j, l)]
            H[i + n * j][k + n * l] = (-1) ** (i + j + k + l) * (1 if (i < k) == (j < l) else -1) * minor(X, *rest)
    adj = [(-1) ** (i + j) * minor(X, [r for r in range(n) if r != j], [c for c in range(n) if c != i])
           for i, j in itertools.product(range(n), repeat=2)]  # fmt: skip
    return H, adj


def ulps(got: np.ndarray, want: list[mp.mpf]) -> float:
    worst = 0.0
    for g, w in zip(np.ravel(got).tolist(), want, strict=True):
        if w == 0:
            if g != 0:
                return float("inf")
            continue
        worst = max(worst, float(abs(mp.mpf(g) - w) / mp.mpf(float(np.spacing(abs(float(w)))))))
    return worst


def main(trials: int) -> None:
    print("| n | X | J of adj | H of det | J v | adj(X) |")
    print("|---|---|---|---|---|---|")
    with mp.workdps(60):
        for n in (2, 3, 5):
            rng = np.random.default_rng(n)
            for case in CASES:
                if case == "rank n-2" and n < 3:
                    continue
                worst = [0.0] * 4
                for _ in range(trials):
                    x = matrix(n, case, rng)
                    H, adj = exact(x)
                    J = [H[i // n + n * (i % n)] for i in range(n * n)]  # J row b + n a: H row a + n b
                    v = rng.standard_normal((n, n)).ravel(order="F")
                    jv = [sum(e * mp.mpf(t) for e, t in zip(row, v.tolist(), strict=True)) for row in J]
                    got = (
                        jacli.derive("adj(X) wrt X", X=x).matrix,
                        jacli.hessian("det(X) wrt X", X=x),
                        jacli.operator("adj(X) wrt X", X=x).matvec(v),
                        Evaluator({"X": x})(parse_expr("adj(X)")),
                    )
                    want = ([e for row in J for e in row], [e for row in H for e in row], jv, adj)
                    worst = [max(w, ulps(g, e)) for w, g, e in zip(worst, got, want, strict=True)]
                label = f"cond {case:.0e}" if isinstance(case, float) else case
                print(f"| {n} | {label} | " + " | ".join(f"{w:.2f}" for w in worst) + " |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
