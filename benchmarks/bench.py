"""jacli's speed and memory, side by side with the alternatives, in one run.

    python benchmarks/bench.py            # everything; JAX and PyTorch where installed
    python benchmarks/bench.py --quick    # n=64 only, no big files
    python benchmarks/bench.py --only=6,7 # some parts (numbers as below)
    python benchmarks/bench.py --readme   # also write the tables into README's "Speed and scale"
    python benchmarks/bench.py --only=1,9,10 --readme   # rewrite those parts' tables only
    python benchmarks/bench.py --readme --from=out.md   # the tables of a saved run's output

What it prints is the Markdown of README's tables (between the markers ``<!-- bench.py:
begin ... -->`` and ``<!-- bench.py: end -->``), after a line that says which parts, the
command, the machine and its load; ``--readme`` puts it there: a full run replaces
everything between the markers, a run of some parts replaces those parts' tables and adds
its line (the lines of earlier runs keep the parts still theirs). ``--readme=PATH`` writes
another file; ``--from=FILE`` takes the output of an earlier run, saved, instead of running.

Every jacli call timed in process is timed twice (benchmarks/timing.py): as a first call,
every cache of jacli's modules cleared before it (parse, derive, simplify, evaluate), and
as a repeated call, the derivation cached. The sides of a comparison run in an order
rotated each round (round r starts with side r mod k); times are medians of the rounds,
ratios medians of per-round ratios, and each ratio pairs sides that do the same work.

Installs for the comparisons: pip install '.[bench]' (jax[cpu], torch==2.13.0, scipy).

Parts:
1. Dense Jacobians of A X B, X' X, inv(X), (A X) ∘ (X B) and the sum inv(A + X' X) wrt X
   at n=64, 96 and 128: jacli.jacobian from the expression string, first call (parse,
   derive, simplify, evaluate) and repeated call (the derivation cached), a hand-written
   NumPy construction of the same matrix (one pass; slab-blocked for the sum), the
   numpy.kron closed form, the write floor (a fresh array of that size filled once),
   jax.jacrev / jax.jacfwd under jit (compile time excluded) and torch.func.jacrev (n=128:
   jacli, hand and the floor only). Medians over rounds, the order rotated each round;
   ratios are medians of per-round ratios, except against JAX and PyTorch, timed in a
   process of their own (their thread pools would spin beside jacli's): ratios of medians.
2. Cold start of the CLI against `python -c "import numpy, typer, rich"`.
3. Peak RSS of `jacli derive ... -o J.npy` at n=64 against the Jacobian's bytes plus the
   interpreter's baseline.
4. X' X wrt X at n=300 saved sparse (--sparse -o J.npz): time, peak RSS, stored entries.
5. A X B wrt X written block by block (-o J.npy): n=128 (2.1 GB), time and peak RSS; n=160
   (5.2 GB) against `dd if=/dev/zero ... conv=fsync` of the same size (where the disk has
   room for it), interleaved.
6. check at n = 32, 64, 96, 128 of A X B, X' X, inv(X): jacli.check and, on the same
   function, jax.test_util.check_grads (modes fwd and rev), each in a fresh process: the
   time of the call, the process's peak RSS; and the whole `jacli check` command.
7. batch: lines per second on 1,000 small checks with --jobs 1 and --jobs 2, interleaved.
8. The dense block writer with 1 and 2 threads against the write floor filled by 1 and 2
   threads (the Jacobian's structure compiled once; a fresh output each time).
9. Gradients, J applied to a direction (--direction at n=1024, CLI and script; the
   operator's first and repeated product) and lsqr over jacli.operator:
   benchmarks/gradients.py.
10. Hessians against a hand-written construction and jax.hessian: benchmarks/hessians.py.
"""

from __future__ import annotations

import io
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from structured_speed import HAND, KRON, values  # the script's own folder is on the path
from timing import cache_names, clear_jacli_caches, compare, first_call, rotation

import jacli

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

EXPRS = ["A X B", "X' X", "inv(X)", "(A X) ∘ (X B)", "inv(A + X' X)"]
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
        "A X B": lambda X, A, B: A @ X @ B,
        "X' X": lambda X, A, B: X.T @ X,
        "inv(X)": lambda X, A, B: jnp.linalg.inv(X),
        "(A X) ∘ (X B)": lambda X, A, B: (A @ X) * (X @ B),
        "inv(A + X' X)": lambda X, A, B: jnp.linalg.inv(A + X.T @ X),
    }
    out = {}
    for src, f in fs.items():
        # A and B are arguments: closed over, they would be constants that XLA may fold while compiling
        rev, fwd = jax.jit(jax.jacrev(f)), jax.jit(jax.jacfwd(f))
        out[src] = {
            "jax.jacrev": lambda X, rev=rev: rev(X, A_, B_),
            "jax.jacfwd": lambda X, fwd=fwd: fwd(X, A_, B_),
        }
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
        "inv(A + X' X)": lambda X: torch.linalg.inv(A_ + X.T @ X),
    }
    return {src: {"torch.jacrev": jacrev(f)} for src, f in fs.items()}


def framework_times(ns, others_up_to=96) -> dict:
    """jax.jacrev, jax.jacfwd and torch.jacrev times, {"n expression": {method: [seconds]}}, from
    a separate process: their thread pools stay out of jacli's timings (and jacli's out of theirs)."""
    import json

    wanted = ",".join(str(n) for n in ns if n <= others_up_to)
    if not wanted:
        return {}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--frameworks=" + wanted],
        check=True,
        capture_output=True,
        text=True,
        env=ENV,
    ).stdout
    return json.loads(out)


def _frameworks_main(ns):
    import json

    result = {}
    for n in ns:
        vals = values(n)
        A, X, B = vals["A"], vals["X"], vals["B"]
        jx, th = _jax_fns(n, A, B), _torch_fns(n, A, B)
        for src in EXPRS:
            methods = {}
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
            result[f"{n} {src}"] = compare(methods, ROUNDS).rounds
    print(json.dumps(result))


def dense_part(ns, others_up_to=96):
    print(
        f"### 1. Dense Jacobians (ms, median of {ROUNDS} rounds, the order rotated each round; "
        "ratio = median of per-round ratios)\n"
    )
    print(
        "jacli first: `jacli.jacobian(EXPR, ...)` with jacli's caches cleared before each call (parse, derive,\n"
        "simplify, evaluate); jacli repeated: the same call with the derivation cached. hand (one pass) and\n"
        "numpy.kron build the closed form written out, deriving nothing; jax.jacrev and jax.jacfwd run under\n"
        "jit, differentiated and compiled before timing; torch.func.jacrev differentiates at every call. Each\n"
        "ratio pairs sides that do the same work: jacli repeated with the floor, hand and JAX; jacli first\n"
        "with PyTorch. JAX and PyTorch run in a process of their own (their thread pools would spin beside\n"
        "jacli's), so their ratios are ratios of medians. n=128: jacli, hand and the floor only.\n"
    )
    fw = framework_times(ns, others_up_to)
    cols = ("jacli first", "jacli repeated", "hand", "numpy.kron", "write floor", "jax.jacrev", "jax.jacfwd")
    print(
        "| n | expression | " + " | ".join(cols) + " | torch.jacrev | jacli first/repeated | jacli repeated/floor | "
        "jacli repeated/hand | jax.jacrev/jacli repeated | torch/jacli first |"
    )
    print("|" + "---|" * 15)
    for n in ns:
        vals = values(n)
        A, X, B = vals["A"], vals["X"], vals["B"]
        for src in EXPRS:
            given = {k: v for k, v in vals.items() if k in src}  # jacli refuses a name not in the expression
            methods = {
                "jacli first": first_call(lambda: jacli.jacobian(src + " wrt X", **given)),
                "jacli repeated": lambda: jacli.jacobian(src + " wrt X", **given),
                "hand": lambda: HAND[src](A, X, B),
                "write floor": lambda: np.empty((n * n, n * n)).fill(1.0),
            }
            if n <= others_up_to:
                methods["numpy.kron"] = lambda: KRON[src](A, X, B)
            ref = HAND[src](A, X, B)
            clear_jacli_caches()
            np.testing.assert_allclose(jacli.jacobian(src + " wrt X", **given), ref, rtol=1e-10, atol=1e-10)
            del ref
            t = compare(methods, ROUNDS)
            others = fw.get(f"{n} {src}", {})
            med = {k: statistics.median(v) * 1e3 for k, v in {**t.rounds, **others}.items()}

            def ratio(a, b):
                return f"{t.ratio(a, b):.2f}" if a in t and b in t else "-"

            def over(k, mine):  # another process: a ratio of medians
                return f"{med[k] / med[mine]:.2f}" if k in med else "-"

            cells = [f"{med[k]:.1f}" if k in med else "-" for k in (*cols, "torch.jacrev")]
            print(
                f"| {n} | `{src}` | " + " | ".join(cells) + f" | {ratio('jacli first', 'jacli repeated')} | "
                f"{ratio('jacli repeated', 'write floor')} | {ratio('jacli repeated', 'hand')} | "
                f"{over('jax.jacrev', 'jacli repeated')} | {over('torch.jacrev', 'jacli first')} |",
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
    print("### 2. Cold start (s, median of 15 runs, the order alternated)\n")
    import compileall

    import typer

    compileall.compile_dir(str(ROOT / "jacli"), quiet=1)
    for mod in (np, typer):
        compileall.compile_dir(str(Path(mod.__file__).parent), quiet=1)
    _run(jacli_cmd() + ["--version"])
    cli = jacli_cmd() + ["derive", "A X B wrt X", f"A={ROOT}/samples/A.npy", f"B={ROOT}/samples/B.npy"]
    base = [sys.executable, "-c", "import numpy, typer, rich"]
    t = compare({"cli": lambda: _run(cli), "base": lambda: _run(base)}, 15, warm_up=False)
    print(
        "| command | median |\n|---|---|\n"
        f'| `jacli derive "A X B wrt X" A=samples/A.npy B=samples/B.npy` (piped) | {t.median("cli"):.3f} |'
    )
    print(
        f'| `python -c "import numpy, typer, rich"` | {t.median("base"):.3f} |\n\n'
        f"ratio {t.ratio('cli', 'base'):.2f} (median of per-round ratios)\n"
    )


def memory_parts(quick: bool):
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        tmp = Path(tmp)
        rng = np.random.default_rng(0)
        for n in (64, 128):
            np.save(tmp / f"A{n}.npy", rng.standard_normal((n, n)))
            np.save(tmp / f"B{n}.npy", rng.standard_normal((n, n)))
        _, base = peak_rss([sys.executable, "-c", "import numpy, typer, rich"])
        print("### 3. Peak RSS of a dense derive, n=64, -o J.npy\n")
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
        print("### 4. Sparse: X' X wrt X at n=300 (90,000 × 90,000; 65 GB dense), --sparse -o J.npz\n")
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
        print("### 5. Block by block: A X B wrt X at n=128 (16,384 × 16,384; 2.1 GB), -o J.npy\n")
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


def npy_against_dd(rounds: int = 3, n: int = 160):
    """-o J.npy of A X B wrt X at n against dd of the same size (fsync'd, as jacli's file is)."""
    size = (n * n) ** 2 * 8
    free = shutil.disk_usage(ROOT).free
    print(f"### 5b. -o J.npy at n={n} ({size / 1e9:.1f} GB) against dd, {rounds} rounds, the order alternated\n")
    if free < 3 * size:
        print(f"skipped: {free / 1e9:.0f} GB free in {ROOT}, {3 * size / 1e9:.0f} GB wanted\n")
        return
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        tmp = Path(tmp)
        rng = np.random.default_rng(0)
        np.save(tmp / "A.npy", rng.standard_normal((n, n)))
        np.save(tmp / "B.npy", rng.standard_normal((n, n)))
        out = tmp / "J.npy"
        cmds = {
            "jacli": jacli_cmd() + ["derive", "A X B wrt X", f"A={tmp}/A.npy", f"B={tmp}/B.npy", "-o", str(out)],
            "dd": ["dd", "if=/dev/zero", f"of={out}", "bs=32M", f"count={-(-size // 2**25)}", "conv=fsync"],
        }
        times = {k: [] for k in cmds}
        for r in range(rounds):
            for k in rotation(list(cmds), r):
                t0 = time.perf_counter()
                subprocess.run(cmds[k], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
                times[k].append(time.perf_counter() - t0)
                out.unlink()
        ratios = [a / b for a, b in zip(times["jacli"], times["dd"])]
        print("| round | jacli -o J.npy (s) | dd conv=fsync (s) | ratio |\n|---|---|---|---|")
        for r in range(rounds):
            print(f"| {r + 1} | {times['jacli'][r]:.2f} | {times['dd'][r]:.2f} | {ratios[r]:.2f} |")
        print(
            f"| median | {statistics.median(times['jacli']):.2f} | {statistics.median(times['dd']):.2f} | "
            f"{statistics.median(ratios):.2f} |\n"
        )


CHECK_EXPRS = ["A X B", "X' X", "inv(X)"]

_JACLI_CHECK = """
import resource, sys, time
import jacli
expr, n = sys.argv[1], int(sys.argv[2])
names = [k for k in "ABX" if k in expr]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
c = jacli.check(expr + " wrt X", **{k: (n, n) for k in names})
t = time.perf_counter() - t
print(t, base * 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, c.agree, c.directions)
"""

_JAX_CHECK = """
import resource, sys, time
import numpy as np
import jax, jax.numpy as jnp
from jax.test_util import check_grads
jax.config.update("jax_enable_x64", True)
expr, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
A, X, B = (jnp.asarray(rng.standard_normal((n, n)) / np.sqrt(n) + 2 * np.eye(n)) for _ in range(3))
f = {"A X B": lambda X: A @ X @ B, "X' X": lambda X: X.T @ X, "inv(X)": jnp.linalg.inv}[expr]
f(X).block_until_ready()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
check_grads(f, (X,), order=1, modes=("fwd", "rev"))
t = time.perf_counter() - t
print(t, base * 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, True, 1)
"""


_WRAPPER = (
    "import subprocess, sys; print(subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True).stdout)"
)


def _child(code: str, *args: str) -> tuple[float, int, int, str, str]:
    """Run ``code`` in a fresh interpreter started by a small one (a forked child starts
    with its parent's peak RSS): (time, RSS after the imports, peak RSS, agree, directions)."""
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        env=ENV,
    ).stdout.split()
    return float(out[0]), int(out[1]), int(out[2]), out[3], out[4]


def check_part(ns, rounds: int = 3):
    print(f"### 6. check at scale (s and MB; medians of {rounds} fresh processes each, the order rotated)\n")
    import importlib.util

    have_jax = importlib.util.find_spec("jax") is not None  # imported in the child processes only
    print(
        "| n | J | expression | jacli.check | peak RSS (interpreter) | `jacli check` command | "
        "directions | jax check_grads | peak RSS (interpreter) |"
    )
    print("|" + "---|" * 9)
    for n in ns:
        for src in CHECK_EXPRS:
            names = [f"{k}={n}x{n}" for k in "ABX" if k in src]
            cmd = jacli_cmd() + ["check", src + " wrt X", *names]
            runs, cli, jx = [], [], []

            def command():
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)
                cli.append(time.perf_counter() - t0)

            sides = [lambda: runs.append(_child(_JACLI_CHECK, src, str(n))), command]
            if have_jax:
                sides.append(lambda: jx.append(_child(_JAX_CHECK, src, str(n))))
            for r in range(rounds):
                for side in rotation(sides, r):
                    side()
            assert all(r[3] == "True" for r in runs)
            t = statistics.median(r[0] for r in runs)
            rss, base = statistics.median(r[2] for r in runs), statistics.median(r[1] for r in runs)
            jcell = (
                f"{statistics.median(r[0] for r in jx):.3f} | {statistics.median(r[2] for r in jx) / 1e6:.0f} "
                f"({statistics.median(r[1] for r in jx) / 1e6:.0f})"
                if jx
                else "- | -"
            )
            print(
                f"| {n} | {(n * n) ** 2 * 8 / 1e9:.3g} GB | `{src}` | {t:.3f} | {rss / 1e6:.0f} ({base / 1e6:.0f}) | "
                f"{statistics.median(cli):.2f} | {runs[0][4]} | {jcell} |",
                flush=True,
            )
    print()


def batch_part(rounds: int = 5, count: int = 1000):
    from batch_speed import batch_lines

    print(f"### 7. batch: {count:,} small checks, lines/s of the whole command ({rounds} rounds, alternated)\n")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(batch_lines(count)) + "\n")
    try:
        times = {"1": [], "2": []}
        for r in range(rounds):
            for jobs in rotation(["1", "2"], r):
                t0 = time.perf_counter()
                _run(jacli_cmd() + ["batch", f.name, "--jobs", jobs])
                times[jobs].append(time.perf_counter() - t0)
    finally:
        Path(f.name).unlink()
    print("| --jobs | median s | lines/s |\n|---|---|---|")
    for jobs, ts in times.items():
        print(f"| {jobs} | {statistics.median(ts):.2f} | {count / statistics.median(ts):.0f} |")
    ratio = statistics.median([a / b for a, b in zip(times["1"], times["2"])])
    print(f"\nthroughput --jobs 2 / --jobs 1: {ratio:.2f} (median of per-round ratios)\n")


def writer_part(ns):
    from concurrent.futures import ThreadPoolExecutor

    from jacli.api import prepare
    from jacli.api.derivation import compiled, jacobian_blocks
    from jacli.api.problem import to_binding

    print(
        f"### 8. The dense writer, 1 and 2 threads, against the write floor (ms, median of {ROUNDS} rounds, "
        "the order rotated; the structure compiled once)\n"
    )
    print("| n | expression | floor, 1 thread | floor, 2 threads | jacli, 1 thread | jacli, 2 threads | "
          "jacli 1 / floor 1 | jacli 2 / floor 1 | jacli 2 / floor 2 |")  # fmt: skip
    print("|" + "---|" * 9)
    pool = ThreadPoolExecutor(2)
    for n in ns:
        N = n * n

        def floor2():
            out = np.empty((N, N))
            list(pool.map(lambda sl: out[sl].fill(1.0), (slice(0, N // 2), slice(N // 2, N))))

        for src in EXPRS:
            vals = {k: v for k, v in values(n).items() if k in src}
            p = prepare(src + " wrt X", {k: to_binding(k, v) for k, v in vals.items()})
            (st,) = compiled(p, jacobian_blocks(p))

            def write(threads, st=st):
                out = np.zeros((N, N)) if st.needs_zeros else np.empty((N, N))
                st.write(out, zeroed=st.needs_zeros, threads=threads)

            methods = {
                "f1": lambda: np.empty((N, N)).fill(1.0),
                "f2": floor2,
                "j1": lambda: write(1),
                "j2": lambda: write(2),
            }
            t = compare(methods, ROUNDS)
            med = {k: t.median(k) * 1e3 for k in methods}
            ratio = t.ratio

            print(
                f"| {n} | `{src}` | {med['f1']:.1f} | {med['f2']:.1f} | {med['j1']:.1f} | {med['j2']:.1f} | "
                f"{ratio('j1', 'f1'):.2f} | {ratio('j2', 'f1'):.2f} | {ratio('j2', 'f2'):.2f} |",
                flush=True,
            )
    pool.shutdown()
    print()


README = ROOT / "README.md"
BEGIN = "<!-- bench.py: begin"
BEGIN_LINE = "<!-- bench.py: begin (python benchmarks/bench.py --readme writes what follows, up to the end marker) -->"
END = "<!-- bench.py: end -->"
PARTS = [str(k) for k in range(1, 11)]


def machine() -> str:
    from importlib.metadata import PackageNotFoundError, version

    def ver(dist):
        try:
            return version(dist)
        except PackageNotFoundError:
            return None

    libs = [("NumPy", "numpy"), ("SciPy", "scipy"), ("JAX", "jax"), ("PyTorch", "torch")]
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB; Python {platform.python_version()}, "
        + ", ".join(f"{name} {ver(dist)}" for name, dist in libs if ver(dist))
    )


def _listed(parts) -> str:
    """1, 2, 3, 5, 9 as "1–3, 5, 9"."""
    nums, runs = sorted(parts), []
    for k in nums:
        if runs and k == runs[-1][1] + 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    return ", ".join(f"{a}–{b}" if b > a + 1 else (f"{a}, {b}" if b > a else f"{a}") for a, b in runs)


def _parts_of(listed: str) -> set[int]:
    out: set[int] = set()
    for item in listed.split(","):
        a, _, b = item.strip().partition("–")
        out.update(range(int(a), int(b or a) + 1))
    return out


def provenance(parts, command: str) -> str:
    """The line that says which parts a run printed, how, where, and how busy the machine was."""
    load = os.getloadavg()[0]
    return (
        f"{'Parts' if len(parts) > 1 else 'Part'} {_listed(parts)}: `{command}`, on {machine()} "
        f"(load average {load:.1f} when it started)."
    )


LINE = re.compile(r"Parts? ([0-9, –]+): ")


def _sections(text: str) -> tuple[list[str], dict[int, str]]:
    """The lines before the first part, and each part's Markdown (its ### sections: 5 and 5b
    are part 5) by its number."""
    pre: list[str] = []
    parts: dict[int, list[str]] = {}
    key = None
    for line in text.strip("\n").split("\n"):
        m = re.match(r"### (\d+)", line)
        if m:
            key = int(m.group(1))
            parts.setdefault(key, [])
        (pre if key is None else parts[key]).append(line)
    return [x for x in pre if x.strip()], {k: "\n".join(v).strip("\n") for k, v in parts.items()}


def write_readme(path: Path, output: str) -> None:
    """Put a run's output between the markers of ``path``: its parts' tables replace those
    parts' (a full run replaces all), and its provenance line is added; the lines of earlier
    runs keep only the parts that are still theirs."""
    text = path.read_text(encoding="utf-8")
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise SystemExit(f"{path}: wants one line starting {BEGIN!r} and one {END!r}")
    new_pre, new_parts = _sections(output)
    if not new_parts or any("--quick" in line for line in new_pre):
        raise SystemExit("--readme takes the tables of a run without --quick")
    head, rest = text.split(BEGIN, 1)
    old, tail = rest.split("\n", 1)[1].split(END, 1)
    old_pre, parts = _sections(old)
    parts = {k: v for k, v in parts.items() if k in range(1, 11)}
    parts.update(new_parts)
    pre = []
    for line in old_pre:
        m = LINE.match(line)
        if m is None:
            pre.append(line)  # not a run's line: kept as it is
            continue
        left = _parts_of(m.group(1)) - set(new_parts)
        if left:
            pre.append(f"{'Parts' if len(left) > 1 else 'Part'} {_listed(left)}: " + line[m.end() :])
    pre += new_pre

    def first(line):
        m = LINE.match(line)
        return min(_parts_of(m.group(1))) if m else 0

    pre.sort(key=first)
    body = "\n\n".join(pre + [parts[k] for k in sorted(parts)])
    path.write_text(f"{head}{BEGIN_LINE}\n{body}\n{END}{tail}", encoding="utf-8")
    print(f"wrote {'parts' if len(new_parts) > 1 else 'part'} {_listed(new_parts)} into {path}", file=sys.stderr)


class _Tee(io.TextIOBase):
    """stdout, kept as well."""

    def __init__(self, out):
        self.out, self.kept = out, io.StringIO()

    def write(self, s):
        self.kept.write(s)
        return self.out.write(s)

    def flush(self):
        self.out.flush()


USAGE = "usage: bench.py [--quick] [--only=1,9,10] [--readme[=PATH]] [--from=OUTPUT.md] (parts 1 to 10)"


def main():
    frameworks = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--frameworks=")]
    if frameworks:
        _frameworks_main([int(n) for n in frameworks[0].split(",")])
        return
    args = sys.argv[1:]
    quick = "--quick" in args
    only = [a.split("=", 1)[1] for a in args if a.startswith("--only=")]
    parts = set(only[0].split(",")) if only else set(PARTS)
    readme = [README if a == "--readme" else Path(a.split("=", 1)[1]) for a in args if a.startswith("--readme")]
    saved = [Path(a.split("=", 1)[1]) for a in args if a.startswith("--from=")]
    unknown = [a for a in args if a != "--quick" and not a.startswith(("--only=", "--readme", "--from="))]
    if unknown or not parts <= set(PARTS) or (saved and not readme):
        raise SystemExit(f"{USAGE}, not {' '.join(args)}")
    if readme and quick:
        raise SystemExit("--readme writes the full sizes' tables: run without --quick")
    if saved:  # the output of an earlier run, saved: into README without running again
        write_readme(readme[0], saved[0].read_text(encoding="utf-8"))
        return
    if readme:
        sys.stdout = _Tee(sys.stdout)
    printed = {int(k) for k in parts} | ({3, 4, 5} if parts & {"3", "4", "5"} and not quick else set())
    shown = " ".join(a for a in args if not a.startswith("--readme"))
    print(provenance(printed, "python benchmarks/bench.py" + (" " + shown if shown else "")) + "\n")
    if "1" in parts:
        dense_part([64] if quick else [64, 96, 128])
    if "2" in parts:
        cold_start()
    if parts & {"3", "4", "5"}:
        memory_parts(quick)
    if "5" in parts and not quick:
        npy_against_dd()
    if "6" in parts:
        check_part([32, 64] if quick else [32, 64, 96, 128])
    if "7" in parts:
        batch_part(rounds=3 if quick else 5)
    if "8" in parts:
        writer_part([64] if quick else [64, 96, 128])
    if "9" in parts:
        import gradients  # benchmarks/ is the script's directory

        gradients.main(quick)
    if "10" in parts:
        import hessians

        hessians.main(quick)
    print("first calls cleared these caches before each call:", ", ".join(cache_names()) or "none", file=sys.stderr)
    if readme:
        tee = sys.stdout
        sys.stdout = tee.out
        write_readme(readme[0], tee.kept.getvalue())


if __name__ == "__main__":
    main()
