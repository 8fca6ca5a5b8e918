"""The adjoint of the Kronecker product: ``jacli.operator("kron(a, X) wrt X").rmatvec`` against
its ``matvec``, and ``jacli.compile(...).gradient`` of ``sum(kron(a, X) ∘ Y)``.

    python benchmarks/kron_adjoint.py            # m = 30, 40, 60
    python benchmarks/kron_adjoint.py 30 40 60 120

a is 3×1 and X m×m (J is 3m² × m², never formed). The adjoint of X ↦ a ⊗ X is
Ḡ ↦ blocksum(Ḡ, a) = Σᵢ aᵢ Ḡᵢ (Ḡ's m×m blocks): a reshape and a contraction, O(3m²) in time
and memory, as the matvec is. A repeated call's time is the median of ``ROUNDS`` calls after
one untimed call (which derives and caches); a first call's (the operator made and called
once, jacli's caches cleared before) the median of ``FIRST`` such; memory is the peak that
tracemalloc sees during one repeated rmatvec, in bytes (u itself is 8·3m² bytes).
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from timing import clear_jacli_caches  # the script's own folder is on the path

import jacli

ROUNDS = 21
FIRST = 5


def _median(call: Callable[[], Any]) -> float:
    call()
    times = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _first(call: Callable[[], Any]) -> float:
    times = []
    for _ in range(FIRST):
        clear_jacli_caches()
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _peak(call: Callable[[], Any]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def operator_row(m: int, rng: np.random.Generator, n: int | None = None) -> str:
    a, x = rng.standard_normal((3, 1)), rng.standard_normal((m, n or m))
    op = jacli.operator("kron(a, X) wrt X", a=a, X=x)
    v, u = rng.standard_normal(op.shape[1]), rng.standard_normal(op.shape[0])
    mat, rmat = _median(lambda: op.matvec(v)), _median(lambda: op.rmatvec(u))
    peak = _peak(lambda: op.rmatvec(u))
    first_mat = _first(lambda: jacli.operator("kron(a, X) wrt X", a=a, X=x).matvec(v))
    first_rmat = _first(lambda: jacli.operator("kron(a, X) wrt X", a=a, X=x).rmatvec(u))
    times = f"{mat * 1e3:.3f} | {rmat * 1e3:.3f} | {rmat / mat:.2f} | {first_mat * 1e3:.1f} | {first_rmat * 1e3:.1f}"
    return f"| {m}×{n or m} | {op.shape[0]}×{op.shape[1]} | {times} | {peak:,} |"


def gradient_row(m: int, rng: np.random.Generator) -> str:
    a, x, y = rng.standard_normal((3, 1)), rng.standard_normal((m, m)), rng.standard_normal((3 * m, m))
    source = "sum(kron(a, X) ∘ Y) wrt X"
    t = time.perf_counter()
    f = jacli.compile(source, a=(3, 1), X=(m, m), Y=(3 * m, m))
    first = time.perf_counter() - t
    g = f.gradient(a=a, X=x, Y=y)
    want = np.einsum("ipj,i->pj", y.reshape(3, m, m), a[:, 0])  # Σᵢ aᵢ Yᵢ
    assert np.allclose(g, want)
    again = _median(lambda: f.gradient(a=a, X=x, Y=y))
    derive = _median(lambda: jacli.derive(source, a=a, X=x, Y=y).matrix)
    return f"| {m} | {first * 1e3:.1f} | {again * 1e3:.3f} | {derive * 1e3:.3f} |"


def main(ms: list[int]) -> None:
    rng = np.random.default_rng(0)
    print("jacli.operator('kron(a, X) wrt X'), a 3×1: medians of", ROUNDS, "calls")
    columns = ["X", "J", "matvec ms", "rmatvec ms", "rmatvec / matvec", "first matvec ms", "first rmatvec ms"]
    print("| " + " | ".join([*columns, "rmatvec peak bytes"]) + " |")
    print("|---|---|---|---|---|---|---|---|")
    for m in ms:
        print(operator_row(m, rng))
    print(operator_row(60, rng, 70))
    print()
    print("jacli.compile('sum(kron(a, X) ∘ Y) wrt X').gradient, a 3×1, X m×m, Y 3m×m")
    print("| m | compile ms | gradient ms | jacli.derive ms |")
    print("|---|---|---|---|")
    for m in ms:
        print(gradient_row(m, rng))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [30, 40, 60])
