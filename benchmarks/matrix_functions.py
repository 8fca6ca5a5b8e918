"""Matrix functions and solves against JAX, timed in one run.

    python benchmarks/matrix_functions.py           # all three parts
    python benchmarks/matrix_functions.py --quick   # fewer rounds, n=16 and 32 only

a. Gradients at n = 16, 32, 64 of tr(A expm(X)) wrt X and a' solve(A + X' X, b) wrt X:
   ``jacli.compile(...).gradient`` (derived once, evaluated from the gradient's closed form
   dexpm(Xᵀ, Aᵀ), a Fréchet derivative by SciPy's expm_frechet, and -X (solve(Mᵀ, a) ...),
   two LU solves) against ``jax.jit(jax.grad(f))`` (compile excluded), and
   ``jacli.derive(..., gradient)`` as a first call (caches cleared) for the cost of deriving.
b. The dense Jacobian of expm(X) at n = 16, 32, 64: ``jacli.jacobian`` (Dexpm(X), from the
   eigendecomposition where it is well conditioned) against ``jax.jit(jax.jacfwd(expm))``.
   JAX's matrix holds the same numbers in row-major order.
c. J v of sqrtm(X) at n = 256 (J would be 65,536²): ``jacli.operator(...).matvec`` (one
   Sylvester solve S dS + dS S = V, S held by the operator) against one
   ``scipy.linalg.solve_sylvester(S, S, V)`` with S given.

Medians of the rounds; the order of the sides rotated each round; ratios are medians of
per-round ratios (ratio > 1: jacli faster).
"""

from __future__ import annotations

import os
import sys

import numpy as np
from timing import compare, first_call

import jacli

ROUNDS = 7


def _jax():
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def _spd_ish(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal((n, n)) / np.sqrt(n)


def gradients(sizes: list[int], rounds: int) -> None:
    jax = _jax()
    jnp = jax.numpy if jax is not None else None
    print("### Gradients of matrix functions (µs per call)\n")
    print("| n | f | jacli.compile | jacli.derive, first call | jax.grad (jit) | jax / jacli.compile |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        rng = np.random.default_rng(n)
        X, A = _spd_ish(rng, n), rng.standard_normal((n, n))
        a, b = rng.standard_normal(n), rng.standard_normal(n)
        M = rng.standard_normal((n, n)) / np.sqrt(n) + 3 * np.eye(n)
        cases = [
            ("tr(A expm(X)) wrt X", dict(A=A, X=X), lambda X, A, a, b, M: jnp.trace(A @ jax.scipy.linalg.expm(X))),
            (
                "a' solve(M + X' X, b) wrt X",
                dict(a=a, M=M, X=X, b=b),
                lambda X, A, a, b, M: a @ jnp.linalg.solve(M + X.T @ X, b),
            ),
        ]  # fmt: skip
        for source, values, f in cases:
            compiled = jacli.compile(source, **{k: v.shape for k, v in values.items()})
            sides = {
                "compile": lambda: compiled.gradient(**values),
                "derive": first_call(lambda: jacli.derive(source, **values).gradient),
            }
            if jax is not None:
                g = jax.jit(jax.grad(f))
                args = [jax.numpy.asarray(v) for v in (X, A, a, b, M)]
                sides["jax"] = lambda: g(*args).block_until_ready()
            t = compare(sides, rounds, repeat=3)
            jx = f"{t.median('jax') * 1e6:.0f}" if "jax" in t else "–"
            ratio = f"{t.ratio('jax', 'compile'):.2f}" if "jax" in t else "–"
            times = f"{t.median('compile') * 1e6:.0f} | {t.median('derive') * 1e6:.0f}"
            print(f"| {n} | `{source}` | {times} | {jx} | {ratio} |")
    print()


def jacobians(sizes: list[int], rounds: int) -> None:
    jax = _jax()
    print("### The dense Jacobian of expm(X) (ms per call)\n")
    print("| n | J | jacli.jacobian | jax.jacfwd (jit) | jax / jacli |")
    print("|---|---|---|---|---|")
    for n in sizes:
        X = _spd_ish(np.random.default_rng(n), n)
        sides = {"jacli": lambda: jacli.jacobian("expm(X) wrt X", X=X)}
        if jax is not None:
            jf = jax.jit(jax.jacfwd(jax.scipy.linalg.expm))
            xj = jax.numpy.asarray(X)
            sides["jax"] = lambda: jf(xj).block_until_ready()
        t = compare(sides, rounds)
        jx = f"{t.median('jax') * 1e3:.1f}" if "jax" in t else "–"
        ratio = f"{t.ratio('jax', 'jacli'):.2f}" if "jax" in t else "–"
        print(f"| {n} | {n * n}² | {t.median('jacli') * 1e3:.1f} | {jx} | {ratio} |")
    print()


def direction(n: int, rounds: int) -> None:
    import scipy.linalg

    print(f"### J v of sqrtm(X) at n = {n} (ms per call)\n")
    rng = np.random.default_rng(7)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    X = (q * rng.uniform(0.5, 2.0, n)) @ q.T + 0.1 * rng.standard_normal((n, n)) / np.sqrt(n)
    op = jacli.operator("sqrtm(X) wrt X", X=X)
    S = scipy.linalg.sqrtm(X)
    V = rng.standard_normal((n, n))
    v = V.reshape(-1, order="F")
    t = compare({"matvec": lambda: op.matvec(v), "sylvester": lambda: scipy.linalg.solve_sylvester(S, S, V)}, rounds)
    print("| n | jacli.operator(...).matvec | solve_sylvester(S, S, V) | matvec / solve |")
    print("|---|---|---|---|")
    times = f"{t.median('matvec') * 1e3:.1f} | {t.median('sylvester') * 1e3:.1f}"
    print(f"| {n} | {times} | {t.ratio('matvec', 'sylvester'):.2f} |")
    print()


def main() -> None:
    quick = "--quick" in sys.argv
    sizes = [16, 32] if quick else [16, 32, 64]
    rounds = 3 if quick else ROUNDS
    gradients(sizes, rounds)
    jacobians(sizes, rounds)
    direction(128 if quick else 256, rounds)


if __name__ == "__main__":
    main()
