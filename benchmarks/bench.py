"""jacli's speed and memory, side by side with the alternatives, in one run.

    python benchmarks/bench.py            # everything; JAX and PyTorch where installed
    python benchmarks/bench.py --quick    # n=64 only, no big files

Installs for the comparisons: pip install '.[bench]' (jax[cpu], torch==2.13.0, scipy).

Parts:
1. Dense Jacobians of A X B, X' X, inv(X), (A X) ∘ (X B) wrt X at n=64 and n=96:
   jacli.jacobian (from the expression string: parse, derive, simplify, evaluate), a
   hand-written one-pass NumPy construction of the same matrix, the numpy.kron closed form,
   the write floor (a fresh array of that size filled once), jax.jacrev / jax.jacfwd under
   jit (compile time excluded) and torch.func.jacrev. Medians over rounds, the methods
   interleaved in each round; ratios are medians of per-round ratios.
2. Cold start of the CLI against `python -c "import numpy, typer, rich"`.
3. Peak RSS of `jacli derive ... -o J.npy` at n=64 against the Jacobian's bytes plus the
   interpreter's baseline.
4. X' X wrt X at n=300 saved sparse (--sparse -o J.npz): time, peak RSS, stored entries.
5. A X B wrt X at n=128 (2.1 GB) written block by block (-o J.npy): time, peak RSS.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from structured_speed import HAND, KRON, values  # the script's own folder is on the path

import jacli

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

EXPRS = ["A X B", "X' X", "inv(X)", "(A X) ∘ (X B)"]
ROUNDS = 7


def _jax_fns(n, A, B):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    jax.config.update("jax_enable_x64", True)
    A_, B_ = jnp.asarray(A), jnp.asarray(B)
    fs = {
        "A X B": lambda X: A_ @ X @ B_,
        "X' X": lambda X: X.T @ X,
        "inv(X)": lambda X: jnp.linalg.inv(X),
        "(A X) ∘ (X B)": lambda X: (A_ @ X) * (X @ B_),
    }
    out = {}
    for src, f in fs.items():
        rev, fwd = jax.jit(jax.jacrev(f)), jax.jit(jax.jacfwd(f))
        out[src] = {"jax.jacrev": rev, "jax.jacfwd": fwd}
    return out


def _torch_fns(n, A, B):
    try:
        import torch
        from torch.func import jacrev
    except ImportError:
        return {}
    torch.set_num_threads(os.cpu_count() or 1)
    A_, B_ = torch.from_numpy(A), torch.from_numpy(B)
    fs = {
        "A X B": lambda X: A_ @ X @ B_,
        "X' X": lambda X: X.T @ X,
        "inv(X)": lambda X: torch.linalg.inv(X),
        "(A X) ∘ (X B)": lambda X: (A_ @ X) * (X @ B_),
    }
    return {src: {"torch.jacrev": jacrev(f)} for src, f in fs.items()}


def dense_part(ns):
    print(f"## 1. Dense Jacobians (ms, median of {ROUNDS} rounds; ratio = median of per-round ratios)\n")
    head = (
        "| n | expression | jacli | one-pass | numpy.kron | write floor | jax.jacrev | jax.jacfwd | "
        "torch.jacrev | jacli/one-pass | jax.jacrev/jacli | torch/jacli |"
    )
    print(head)
    print("|" + "---|" * 12)
    for n in ns:
        vals = values(n)
        A, X, B = vals["A"], vals["X"], vals["B"]
        jx, th = _jax_fns(n, A, B), _torch_fns(n, A, B)
        for src in EXPRS:
            methods = {
                "jacli": lambda: jacli.jacobian(src + " wrt X", A=A, X=X, B=B),
                "one-pass": lambda: HAND[src](A, X, B),
                "numpy.kron": lambda: KRON[src](A, X, B),
                "write floor": lambda: np.empty((n * n, n * n)).fill(1.0),
            }
            if src in jx:
                import jax.numpy as jnp

                Xj = jnp.asarray(X)
                for name, f in jx[src].items():
                    f(Xj).block_until_ready()  # compile outside the timing
                    methods[name] = lambda f=f: f(Xj).block_until_ready()
            if src in th:
                import torch

                Xt = torch.from_numpy(X)
                for name, f in th[src].items():
                    methods[name] = lambda f=f: f(Xt)
            ref = HAND[src](A, X, B)
            np.testing.assert_allclose(methods["jacli"](), ref, rtol=1e-10, atol=1e-10)
            times = {k: [] for k in methods}
            for fn in methods.values():
                fn()  # warm-up
            for _ in range(ROUNDS):
                for k, fn in methods.items():
                    t0 = time.perf_counter()
                    r = fn()
                    times[k].append(time.perf_counter() - t0)
                    del r
            med = {k: statistics.median(v) * 1e3 for k, v in times.items()}

            def ratio(a, b):
                if a not in times or b not in times:
                    return "-"
                return f"{statistics.median([x / y for x, y in zip(times[a], times[b])]):.2f}"

            cells = [
                f"{med[k]:.1f}" if k in med else "-"
                for k in ("jacli", "one-pass", "numpy.kron", "write floor", "jax.jacrev", "jax.jacfwd", "torch.jacrev")
            ]
            print(
                f"| {n} | `{src}` | " + " | ".join(cells) + f" | {ratio('jacli', 'one-pass')} | "
                f"{ratio('jax.jacrev', 'jacli')} | {ratio('torch.jacrev', 'jacli')} |",
                flush=True,
            )
    print()


# As an installed user runs it: bytecode compiled and used (pip compiles it on install).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV, **kw)


def peak_rss(cmd) -> tuple[float, int]:
    """Wall time and peak RSS (bytes) of a command, run in a fresh wrapper process."""
    code = (
        "import resource, subprocess, sys, time; t=time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, *cmd], check=True, capture_output=True, text=True, env=ENV).stdout
    t, kb = out.split()
    return float(t), int(kb) * 1024


def jacli_cmd():
    exe = Path(sys.executable).with_name("jacli")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "jacli"]


def cold_start():
    print("## 2. Cold start (s, median of 15 runs, interleaved)\n")
    import compileall

    import typer

    compileall.compile_dir(str(ROOT / "jacli"), quiet=1)
    for mod in (np, typer):
        compileall.compile_dir(str(Path(mod.__file__).parent), quiet=1)
    _run(jacli_cmd() + ["--version"])
    cli = jacli_cmd() + ["derive", "A X B wrt X", f"A={ROOT}/samples/A.npy", f"B={ROOT}/samples/B.npy"]
    base = [sys.executable, "-c", "import numpy, typer, rich"]
    t_cli, t_base = [], []
    for _ in range(15):
        for cmd, ts in ((cli, t_cli), (base, t_base)):
            t0 = time.perf_counter()
            _run(cmd)
            ts.append(time.perf_counter() - t0)
    mc, mb = statistics.median(t_cli), statistics.median(t_base)
    print(
        "| command | median |\n|---|---|\n"
        f'| `jacli derive "A X B wrt X" A=samples/A.npy B=samples/B.npy` (piped) | {mc:.3f} |'
    )
    print(f'| `python -c "import numpy, typer, rich"` | {mb:.3f} |\n\nratio {mc / mb:.2f}\n')


def memory_parts(quick: bool):
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        tmp = Path(tmp)
        rng = np.random.default_rng(0)
        for n in (64, 128):
            np.save(tmp / f"A{n}.npy", rng.standard_normal((n, n)))
            np.save(tmp / f"B{n}.npy", rng.standard_normal((n, n)))
        _, base = peak_rss([sys.executable, "-c", "import numpy, typer, rich"])
        print("## 3. Peak RSS of a dense derive, n=64, -o J.npy\n")
        t, rss = peak_rss(
            jacli_cmd() + ["derive", "A X B wrt X", f"A={tmp}/A64.npy", f"B={tmp}/B64.npy", "-o", str(tmp / "J.npy")]
        )
        jbytes = (64 * 64) ** 2 * 8
        print("| Jacobian bytes | interpreter baseline | peak RSS | peak / (J + baseline) | time |")
        print(
            f"|---|---|---|---|---|\n| {jbytes / 1e6:.0f} MB | {base / 1e6:.0f} MB | {rss / 1e6:.0f} MB | "
            f"{rss / (jbytes + base):.2f} | {t:.2f} s |\n"
        )
        if quick:
            return
        print("## 4. Sparse: X' X wrt X at n=300 (90,000 × 90,000; 65 GB dense), --sparse -o J.npz\n")
        t, rss = peak_rss(
            jacli_cmd() + ["derive", "X' X wrt X", "X=300x300", "--random", "--sparse", "-o", str(tmp / "S.npz")]
        )
        import scipy.sparse

        S = scipy.sparse.load_npz(tmp / "S.npz")
        size = (tmp / "S.npz").stat().st_size
        print(
            f"| time | peak RSS | stored entries | file |\n|---|---|---|---|\n"
            f"| {t:.1f} s | {rss / 1e6:.0f} MB | {S.nnz:,} | {size / 1e6:.0f} MB |\n"
        )
        del S
        (tmp / "S.npz").unlink()
        print("## 5. Block by block: A X B wrt X at n=128 (16,384 × 16,384; 2.1 GB), -o J.npy\n")
        t, rss = peak_rss(
            jacli_cmd()
            + ["derive", "A X B wrt X", f"A={tmp}/A128.npy", f"B={tmp}/B128.npy", "-o", str(tmp / "J128.npy")]
        )
        J = np.load(tmp / "J128.npy", mmap_mode="r")
        A, B = np.load(tmp / "A128.npy"), np.load(tmp / "B128.npy")
        ok = all(np.allclose(J[r : r + 128], np.kron(B.T, A)[r : r + 128]) for r in (0, 8192, 16384 - 128))
        print(
            f"| time | peak RSS | file | spot check against numpy.kron |\n|---|---|---|---|\n"
            f"| {t:.1f} s | {rss / 1e6:.0f} MB | {(tmp / 'J128.npy').stat().st_size / 1e9:.2f} GB | "
            f"{'equal' if ok else 'DIFFERENT'} |\n"
        )


def main():
    quick = "--quick" in sys.argv
    print(
        f"# jacli benchmark\n\nmachine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, Python "
        f"{platform.python_version()}, NumPy {np.__version__}\n"
    )
    dense_part([64] if quick else [64, 96])
    cold_start()
    memory_parts(quick)


if __name__ == "__main__":
    main()
