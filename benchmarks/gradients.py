"""Gradients, directional derivatives and the Jacobian as an operator, timed in one run.

    python benchmarks/gradients.py           # all three parts
    python benchmarks/gradients.py --quick   # fewer rounds, n=96 only

Parts (bench.py runs them as its part 9):
a. Gradients of tr(X' A X), logdet(X), norm2(A x - b)^2, sum(exp(W x)) at n = 96 and 128:
   ``jacli.derive(...).gradient`` as a first call (jacli's caches cleared: parse, derive,
   simplify, evaluate) and repeated (the derivation cached), ``jacli.compile(...).gradient``
   (derived once; evaluated from the gradient's matrix form, with the domain checks),
   against ``jax.jit(jax.grad(f))`` (compile excluded) and ``torch.func.grad`` (which
   differentiates at every call). Medians of the rounds, the order rotated each round;
   ratios are medians of per-round ratios.
b. The directional derivative at n = 1024 (J would hold 10¹² entries), from the
   differential: the command line (``--direction``, a process each time), and in process
   ``jacli.operator(...).matvec`` as a first call (the operator made with the caches
   cleared) and repeated (one operator, which keeps the values no direction changes),
   against evaluating F once with NumPy, for A X B, X' X, inv(X) and X ∘ X.
c. ``jacli.operator`` in ``scipy.sparse.linalg.lsqr``: solving J v = vec(Y) for A X B at
   n = 48, where J (2304 × 2304) can still be formed, against lsqr on the dense J and
   ``np.linalg.lstsq``; then at n = 1024, where only the operator fits (20 iterations).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import numpy as np
from timing import compare, first_call  # the script's own folder is on the path

import jacli

ROUNDS = 9


JACLI = [sys.executable, "-m", "jacli"]


def _problems(n: int, rng: np.random.Generator) -> dict:
    A = rng.standard_normal((n, n))
    X = rng.standard_normal((n, n)) / np.sqrt(n) + 2 * np.eye(n)  # invertible, det > 0
    x, b = rng.standard_normal((n, 1)), rng.standard_normal((n, 1))
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    return {
        "tr(X' A X) wrt X": ({"A": A, "X": X}, "X", lambda np_, v: np_.trace(v["X"].T @ v["A"] @ v["X"])),
        "logdet(X) wrt X": ({"X": X}, "X", lambda np_, v: np_.linalg.slogdet(v["X"])[1]),
        "norm2(A x - b)^2 wrt x": (
            {"A": A, "x": x, "b": b},
            "x",
            lambda np_, v: np_.sum((v["A"] @ v["x"] - v["b"]) ** 2),
        ),
        "sum(exp(W x)) wrt W": ({"W": W, "x": x}, "W", lambda np_, v: np_.sum(np_.exp(v["W"] @ v["x"]))),
    }


def _jax_grad(f, values: dict, var: str):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    others = {k: jnp.asarray(v) for k, v in values.items() if k != var}
    # the other values are arguments: closed over, they would be constants XLA may fold while compiling
    g = jax.jit(jax.grad(lambda X, o: f(jnp, {**o, var: X})))
    X = jnp.asarray(values[var])
    g(X, others).block_until_ready()  # compile outside the timing
    return lambda: g(X, others).block_until_ready()


def _torch_grad(f, values: dict, var: str):
    try:
        import torch
        from torch.func import grad
    except ImportError:
        return None
    torch.set_num_threads(os.cpu_count() or 1)
    others = {k: torch.from_numpy(v) for k, v in values.items() if k != var}
    g = grad(lambda X: f(torch, {**others, var: X}))
    X = torch.from_numpy(values[var])
    return lambda: g(X)


def gradient_part(ns, rounds: int = ROUNDS) -> None:
    print(
        f"### 9a. Gradients (µs, median of {rounds} rounds of best-of-5, the order rotated each round; "
        "ratio = median of per-round ratios)\n"
    )
    print(
        "jacli.derive first: `jacli.derive(EXPR, ...).gradient` with jacli's caches cleared before each call\n"
        "(parse, derive, simplify, evaluate); repeated: the same call with the derivation cached. jacli.compile:\n"
        "`jacli.compile(EXPR, ...)` made once, its `gradient` timed, as `jax.jit(jax.grad(f))` is compiled\n"
        "once before timing; torch.func.grad differentiates at every call. Each ratio pairs sides that do the\n"
        "same work: JAX with jacli.compile, PyTorch with jacli.derive's first call.\n"
    )
    print(
        "| n | expression | jacli.derive first | jacli.derive repeated | jacli.compile | jax.grad (jit) | "
        "torch.func.grad | derive first/repeated | jax/jacli.compile | torch/jacli.derive first |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for n in ns:
        for src, (values, var, f) in _problems(n, rng).items():
            c = jacli.compile(src, **values)
            mine = c.gradient(**{var: values[var]})
            assert np.allclose(mine, _numpy_reference(src, values)), src
            assert np.allclose(jacli.derive(src, **values).gradient, mine), src
            methods = {
                "jacli.derive first": first_call(lambda src=src, values=values: jacli.derive(src, **values).gradient),
                "jacli.derive repeated": lambda src=src, values=values: jacli.derive(src, **values).gradient,
                "jacli.compile": lambda c=c, var=var, values=values: c.gradient(**{var: values[var]}),
            }
            for name, make in (("jax.grad", _jax_grad), ("torch.func.grad", _torch_grad)):
                g = make(f, values, var)
                if g is not None:
                    methods[name] = g
            t = compare(methods, rounds, repeat=5)
            cells = [f"{t.median(k) * 1e6:.0f}" if k in t else "–" for k in methods_order()]

            def ratio(a, b, t=t):
                return f"{t.ratio(a, b):.2f}" if a in t and b in t else "–"

            print(
                f"| {n} | `{src}` | "
                + " | ".join(cells)
                + f" | {ratio('jacli.derive first', 'jacli.derive repeated')} | "
                f"{ratio('jax.grad', 'jacli.compile')} | {ratio('torch.func.grad', 'jacli.derive first')} |",
                flush=True,
            )
    print()


def methods_order() -> list[str]:
    return ["jacli.derive first", "jacli.derive repeated", "jacli.compile", "jax.grad", "torch.func.grad"]


def _numpy_reference(src: str, v: dict) -> np.ndarray:
    """The textbook gradients, written by hand."""
    if src.startswith("tr"):
        return (v["A"] + v["A"].T) @ v["X"]
    if src.startswith("logdet"):
        return np.linalg.inv(v["X"]).T
    if src.startswith("norm2"):
        return 2 * v["A"].T @ (v["A"] @ v["x"] - v["b"])
    return np.exp(v["W"] @ v["x"]) @ v["x"].T


def direction_part(n: int = 1024, rounds: int = 5) -> None:
    print(
        f"### 9b. Directional derivatives at n={n} (median of {rounds} rounds, the order rotated each round; "
        "ratio = median of per-round ratios)\n"
    )
    print(
        "J would be (n²)×(n²) = 10¹² entries (8 TB); J v comes from the differential. The command is\n"
        '`jacli derive "F wrt X" A=A.npy X=X.npy B=B.npy --direction X=V.npy -o dF.npy`, against a\n'
        "Python process that loads the same files and saves F. In process, against F once with NumPy:\n"
        "first call, `jacli.operator(...)` made with jacli's caches cleared, then its `matvec(v)` (the\n"
        "differential derived, the domains checked, every value computed); repeated, `matvec(v)` of an\n"
        "operator made once (it keeps the values no direction changes, such as inv(X)).\n"
    )
    print(
        "| F | dF | --direction (s) | F by a script (s) | ratio | matvec, first call (ms) | matvec, repeated (ms) "
        "| F once (ms) | first / F | repeated / F |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    X = rng.standard_normal((n, n)) / np.sqrt(n) + 2 * np.eye(n)
    V = rng.standard_normal((n, n))
    v = V.reshape(-1, order="F")
    cases = {
        "A X B": (dict(A=A, X=X, B=B), lambda: A @ X @ B, "A @ X @ B"),
        "X' X": (dict(X=X), lambda: X.T @ X, "X.T @ X"),
        "inv(X)": (dict(X=X), lambda: np.linalg.inv(X), "np.linalg.inv(X)"),
        "X ∘ X": (dict(X=X), lambda: X * X, "X * X"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for k, a in dict(A=A, X=X, B=B, V=V).items():
            np.save(f"{tmp}/{k}.npy", a)
        for src, (values, F, code) in cases.items():
            op = jacli.operator(src + " wrt X", **values)
            d = jacli.differential(src + " wrt X", **{k: val.shape for k, val in values.items()}).text()
            files = [f"{k}={tmp}/{k}.npy" for k in values]
            cli = [*JACLI, "derive", src + " wrt X", *files, f"--direction=X={tmp}/V.npy", "-o", f"{tmp}/dF.npy"]
            loads = "; ".join(f"{k} = np.load('{tmp}/{k}.npy')" for k in values)
            script = [sys.executable, "-c", f"import numpy as np; {loads}; np.save('{tmp}/F.npy', {code})"]
            methods = {
                "cli": lambda cli=cli: subprocess.run(cli, check=True, capture_output=True),
                "script": lambda script=script: subprocess.run(script, check=True, capture_output=True),
                "first": first_call(lambda src=src, values=values: jacli.operator(src + " wrt X", **values).matvec(v)),
                "repeated": lambda op=op: op.matvec(v),
                "F": F,
            }
            t = compare(methods, rounds)
            print(
                f"| `{src}` | `{d}` | {t.median('cli'):.2f} | {t.median('script'):.2f} | "
                f"{t.ratio('cli', 'script'):.2f} | "
                f"{t.median('first') * 1e3:.1f} | {t.median('repeated') * 1e3:.1f} | {t.median('F') * 1e3:.1f} | "
                f"{t.ratio('first', 'F'):.2f} | {t.ratio('repeated', 'F'):.2f} |",
                flush=True,
            )
    print()


def lsqr_part(rounds: int = 3) -> None:
    from scipy.sparse.linalg import aslinearoperator, lsqr

    print(
        f"### 9c. jacli.operator in scipy.sparse.linalg.lsqr: solve J v = vec(Y), F = A X B wrt X "
        f"(median of {rounds} rounds, the order rotated; the operator and the dense J made before timing)\n"
    )
    print("| n | J | method | seconds | iterations | relative residual | |v - v_dense| / |v| |")
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(2)
    for n in (48, 1024):
        A = rng.standard_normal((n, n)) / np.sqrt(n) + 2 * np.eye(n)
        B = rng.standard_normal((n, n)) / np.sqrt(n) + 2 * np.eye(n)
        X = rng.standard_normal((n, n))
        y = rng.standard_normal(n * n)
        op = aslinearoperator(jacli.operator("A X B wrt X", A=A, X=X, B=B))
        limit = 200 if n <= 64 else 20  # at n=1024 each iteration is two products of 1024×1024 matrices, twice
        runs = {"lsqr(jacli.operator)": lambda op=op, y=y, k=limit: lsqr(op, y, atol=1e-12, btol=1e-12, iter_lim=k)}
        if n <= 64:
            J = jacli.jacobian("A X B wrt X", A=A, X=X, B=B)
            runs["lsqr(dense J)"] = lambda J=J, y=y: lsqr(J, y, atol=1e-12, btol=1e-12, iter_lim=200)
            runs["np.linalg.lstsq(J)"] = lambda J=J, y=y: (np.linalg.lstsq(J, y, rcond=None)[0], 0)
            v_ref = np.linalg.lstsq(J, y, rcond=None)[0]
        else:
            v_ref = None
        shape = f"{n * n}×{n * n}"
        last: dict = {}  # each method's last result
        keep = {k: lambda k=k, run=run: last.__setitem__(k, run()) for k, run in runs.items()}
        t = compare(keep, rounds, warm_up=False)
        for name in runs:
            out = last[name]
            sol = out[0]
            its = out[2] if len(out) > 2 else "–"
            resid = np.linalg.norm(op.matvec(sol) - y) / np.linalg.norm(y)
            err = f"{np.linalg.norm(sol - v_ref) / np.linalg.norm(v_ref):.1e}" if v_ref is not None else "–"
            print(f"| {n} | {shape} | {name} | {t.median(name):.3f} | {its} | {resid:.1e} | {err} |")
    print()


def main(quick: bool = False) -> None:
    gradient_part([96] if quick else [96, 128], rounds=3 if quick else ROUNDS)
    direction_part(rounds=3 if quick else 5)
    lsqr_part(rounds=1 if quick else 3)


if __name__ == "__main__":
    main("--quick" in sys.argv)
