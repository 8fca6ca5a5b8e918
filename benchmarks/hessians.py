"""Hessians: jacli against jax.hessian, torch.func.hessian and a hand-written construction.

    python benchmarks/hessians.py           # n = 32, 64 (vectors: 1024, 4096)
    python benchmarks/hessians.py --quick   # n = 32 (vectors: 1024), fewer rounds

bench.py runs it as its part 10. For each case: ``jacli.hessian`` from the expression string
as a first call (jacli's caches cleared before it: parse, derive the gradient, differentiate
it again, simplify, evaluate) and as a repeated call (the derivations cached), the
hand-written NumPy construction of the same matrix in one pass where one exists (``A + Aᵀ``;
the diagonal blocks of ``I ⊗ (A + Aᵀ)``; ``einsum`` for the permuted Kronecker products of
logdet and tr(inv(X) A)), ``jax.jit(jax.hessian(f))`` (compiled before timing) and
``torch.func.hessian`` (which differentiates at every call). Times are medians over rounds
of the best of 3, the order rotated each round; ratios are medians of per-round ratios and
pair sides that do the same work (jacli repeated with the hand-written form and JAX, jacli
first with PyTorch). Every method's matrix is compared with jacli's before timing.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from timing import clear_jacli_caches, compare, first_call  # the script's own folder is on the path

import jacli


def _hand(src: str, v: dict) -> np.ndarray:
    if src == "x' A x":
        return v["A"] + v["A"].T
    if src == "norm2(A x - b)^2":
        return 2 * v["A"].T @ v["A"]
    X = v["X"]
    n = X.shape[0]
    if src == "tr(X' A X)":
        S, H = v["A"] + v["A"].T, np.zeros((n * n, n * n))
        for k in range(n):
            H[k * n : (k + 1) * n, k * n : (k + 1) * n] = S
        return H
    Y = np.linalg.inv(X)
    if src == "logdet(X)":  # H[i + j n, k + l n] = -Y[j,k] Y[l,i]
        return -np.einsum("jk,li->jilk", Y, Y).reshape(n * n, n * n)
    M = Y @ v["A"] @ Y  # tr(inv(X) A): H[i + j n, k + l n] = Y[j,k] M[l,i] + M[j,k] Y[l,i]
    H = np.einsum("jk,li->jilk", Y, M)
    H += np.einsum("jk,li->jilk", M, Y)
    return H.reshape(n * n, n * n)


def _f(src: str, lib):
    """f written for JAX or PyTorch, X (or x) first."""
    inv = lib.linalg.inv
    fs = {
        "tr(X' A X)": lambda X, v: lib.trace(X.T @ v["A"] @ X),
        "logdet(X)": lambda X, v: lib.linalg.slogdet(X)[1],
        "tr(inv(X) A)": lambda X, v: lib.trace(inv(X) @ v["A"]),
        "x' A x": lambda x, v: (x.T @ v["A"] @ x).sum(),
        "norm2(A x - b)^2": lambda x, v: ((v["A"] @ x - v["b"]) ** 2).sum(),
    }
    return fs[src]


def _jax(src: str, v: dict, var: str):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    others = {k: jnp.asarray(a) for k, a in v.items() if k != var}
    f = _f(src, jnp)
    # the other values are arguments: closed over, they would be constants that XLA may fold
    # while compiling (the Hessian of x' A x, A + Aᵀ, is one)
    h = jax.jit(jax.hessian(f))
    X = jnp.asarray(v[var])
    h(X, others).block_until_ready()  # compiled before timing
    N = v[var].size
    return lambda: h(X, others).block_until_ready(), lambda: np.asarray(h(X, others)).reshape(N, N, order="C")


def _torch(src: str, v: dict, var: str):
    try:
        import torch
        from torch.func import hessian
    except ImportError:
        return None
    torch.set_num_threads(os.cpu_count() or 1)
    others = {k: torch.from_numpy(a) for k, a in v.items() if k != var}
    f = _f(src, torch)
    h = hessian(lambda X: f(X, others))
    X = torch.from_numpy(v[var])
    N = v[var].size
    return lambda: h(X), lambda: h(X).numpy().reshape(N, N)


def _row_major(H: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """jacli's column-major H in the frameworks' row-major order, to compare."""
    m, n = shape
    perm = np.arange(m * n).reshape(m, n, order="F").reshape(-1)
    return H[np.ix_(perm, perm)]


def cases(ns: list[int], vector_ns: list[int]):
    rng = np.random.default_rng(0)
    for n in ns:
        A = rng.standard_normal((n, n))
        X = rng.standard_normal((n, n)) / np.sqrt(n) + 2 * np.eye(n)  # invertible, det > 0
        for src in ("tr(X' A X)", "logdet(X)", "tr(inv(X) A)"):
            yield n, src, ({"A": A, "X": X} if "A" in src else {"X": X}), "X"
    for n in vector_ns:
        A = rng.standard_normal((n, n))
        x, b = rng.standard_normal((n, 1)), rng.standard_normal((n, 1))
        yield n, "x' A x", {"A": A, "x": x}, "x"
        yield n, "norm2(A x - b)^2", {"A": A, "x": x, "b": b}, "x"


def main(quick: bool = False) -> None:
    rounds = 3 if quick else 5
    ns, vector_ns = ([32], [1024]) if quick else ([32, 64], [1024, 4096])
    print(
        f"### 10. Hessians (ms, median of {rounds} rounds of best-of-3, the order rotated each round; "
        "ratio = median of per-round ratios)\n"
    )
    print(
        "jacli first: `jacli.hessian(EXPR, ...)` with jacli's caches cleared before each call (parse, derive\n"
        "the gradient, differentiate it again, simplify, evaluate); jacli repeated: the same call with the\n"
        "derivations cached. hand builds the closed form written out, deriving nothing; jax.hessian runs\n"
        "under jit, differentiated and compiled before timing; torch.func.hessian differentiates at every\n"
        "call. Each ratio pairs sides that do the same work: jacli repeated with hand and JAX, jacli first\n"
        "with PyTorch (not run for the 4096-vectors: minutes a call).\n"
    )
    print(
        "| n | f | H | jacli first | jacli repeated | hand | jax.hessian (jit) | torch.func.hessian | "
        "jacli first/repeated | jacli repeated/hand | jax/jacli repeated | torch/jacli first |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n, src, v, var in cases(ns, vector_ns):
        source = f"{src} wrt {var}"
        clear_jacli_caches()
        H = jacli.hessian(source, **v)
        np.testing.assert_allclose(_hand(src, v), H, rtol=1e-9, atol=1e-9 * np.max(np.abs(H)))
        methods = {
            "jacli first": first_call(lambda source=source, v=v: jacli.hessian(source, **v)),
            "jacli repeated": lambda source=source, v=v: jacli.hessian(source, **v),
            "hand": lambda src=src, v=v: _hand(src, v),
        }
        for name, make in (("jax", _jax), ("torch", _torch)):
            if name == "torch" and v[var].shape[1] == 1 and v[var].size > 1024:
                continue  # torch.func.hessian of a 4096-vector: minutes a call
            got = make(src, v, var)
            if got is not None:
                run, value = got
                want = _row_major(H, v[var].shape)
                np.testing.assert_allclose(value(), want, rtol=1e-8, atol=1e-8 * np.max(np.abs(H)))
                methods[name] = run
        del H
        t = compare(methods, rounds, repeat=3)

        def ratio(a: str, b: str, t=t) -> str:
            return f"{t.ratio(a, b):.2f}" if a in t and b in t else "–"

        cells = [
            f"{t.median(k) * 1e3:.1f}" if k in t else "–"
            for k in ("jacli first", "jacli repeated", "hand", "jax", "torch")
        ]
        N = v[var].size
        print(
            f"| {n} | `{src}` | {N}² | " + " | ".join(cells) + f" | {ratio('jacli first', 'jacli repeated')} | "
            f"{ratio('jacli repeated', 'hand')} | {ratio('jax', 'jacli repeated')} | {ratio('torch', 'jacli first')} |",
            flush=True,
        )
    print()


if __name__ == "__main__":
    main("--quick" in sys.argv)
