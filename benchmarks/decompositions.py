"""Decompositions against JAX, timed in one run.

    python benchmarks/decompositions.py           # n = 32, 64, 128
    python benchmarks/decompositions.py --quick   # n = 32 only, fewer rounds

a. Gradients of sum(log(diag(chol(S)))) wrt S, a' eigvals(S) wrt S and specnorm(X) wrt X:
   ``jacli.compile(...).gradient`` (derived once) against ``jax.jit(jax.grad(f))`` (compile
   excluded; JAX's cholesky and eigh take the symmetric part's lower triangle, as jacli
   takes the symmetric part), and ``jacli.derive(..., gradient)`` as a first call.
b. The dense Jacobians of eigvals(S) and chol(S) wrt S: ``jacli.jacobian`` against
   ``jax.jit(jax.jacfwd(f))``; JAX's matrix holds the same numbers in row-major order.

Medians of the rounds, the order of the sides rotated each round; ratios are medians of
per-round ratios (> 1: jacli faster). S is symmetric positive definite with separated
eigenvalues; X has separated singular values.
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


def _spd(rng: np.random.Generator, n: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * (1.0 + 0.5 * np.arange(n))) @ q.T


def _separated(rng: np.random.Generator, n: int) -> np.ndarray:
    u, _ = np.linalg.qr(rng.standard_normal((n, n)))
    v, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (u * (1.0 + 0.5 * np.arange(n)[::-1])) @ v.T


def _half_logdet(jnp, s):
    return jnp.sum(jnp.log(jnp.diagonal(jnp.linalg.cholesky(s))))


def gradients(sizes: list[int], rounds: int) -> None:
    jax = _jax()
    jnp = jax.numpy if jax is not None else None
    print("### Gradients through decompositions (µs per call)\n")
    print("| n | f | jacli.compile | jacli.derive, first call | jax.grad (jit) | jax / jacli.compile |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        rng = np.random.default_rng(n)
        S, X, a = _spd(rng, n), _separated(rng, n), rng.standard_normal(n)
        cases = [
            ("sum(log(diag(chol(S)))) wrt S", dict(S=S), lambda S, a, X: _half_logdet(jnp, S)),
            ("a' eigvals(S) wrt S", dict(a=a, S=S), lambda S, a, X: a @ jnp.linalg.eigh(S)[0]),
            ("specnorm(X) wrt X", dict(X=X), lambda S, a, X: jnp.linalg.norm(X, 2)),
        ]  # fmt: skip
        for k, (source, values, f) in enumerate(cases):
            compiled = jacli.compile(source, **{name: v.shape for name, v in values.items()})
            sides = {
                "compile": lambda: compiled.gradient(**values),
                "derive": first_call(lambda: jacli.derive(source, **values).gradient),
            }
            if jax is not None:
                g = jax.jit(jax.grad(f, argnums=2 if k == 2 else 0))
                args = [jnp.asarray(v) for v in (S, a, X)]
                sides["jax"] = lambda: g(*args).block_until_ready()
            t = compare(sides, rounds, repeat=3)
            jx = f"{t.median('jax') * 1e6:.0f}" if "jax" in t else "–"
            ratio = f"{t.ratio('jax', 'compile'):.2f}" if "jax" in t else "–"
            times = f"{t.median('compile') * 1e6:.0f} | {t.median('derive') * 1e6:.0f}"
            print(f"| {n} | `{source}` | {times} | {jx} | {ratio} |")
    print()


def jacobians(sizes: list[int], rounds: int) -> None:
    jax = _jax()
    print("### Dense Jacobians of eigvals(S) and chol(S) (ms per call)\n")
    print("| n | F | J | jacli.jacobian | jax.jacfwd (jit) | jax / jacli |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        S = _spd(np.random.default_rng(n), n)
        for source, f, rows in (
            ("eigvals(S) wrt S", lambda s: jax.numpy.linalg.eigh(s)[0], n),
            ("chol(S) wrt S", lambda s: jax.numpy.linalg.cholesky(s), n * n),
        ):
            sides = {"jacli": lambda: jacli.jacobian(source, S=S)}
            if jax is not None:
                jf = jax.jit(jax.jacfwd(f))
                sj = jax.numpy.asarray(S)
                sides["jax"] = lambda: jf(sj).block_until_ready()
            t = compare(sides, rounds)
            jx = f"{t.median('jax') * 1e3:.1f}" if "jax" in t else "–"
            ratio = f"{t.ratio('jax', 'jacli'):.2f}" if "jax" in t else "–"
            name = source.split(" wrt")[0]
            print(f"| {n} | `{name}` | {rows}×{n * n} | {t.median('jacli') * 1e3:.1f} | {jx} | {ratio} |")
    print()


def main() -> None:
    quick = "--quick" in sys.argv
    sizes = [32] if quick else [32, 64, 128]
    rounds = 3 if quick else ROUNDS
    gradients(sizes, rounds)
    jacobians(sizes, rounds)


if __name__ == "__main__":
    main()
