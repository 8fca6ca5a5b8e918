"""The closed form with dimension names against the same closed form with numbers.

python benchmarks/symbolic_speed.py

For each expression: jacli.derive(..., symbolic=True) with shapes given as numbers, and with
the same shapes given as dimension names (parse, infer, derive, simplify, print). Best of 5,
medians of 7 interleaved rounds, in ms; the ratio is names / numbers.
"""

from __future__ import annotations

import statistics
import time

import jacli

CASES = [
    ("A X B wrt X", dict(A=(3, 4), X=(4, 5), B=(5, 6)), dict(A=("m", "n"), X=("n", "p"), B=("p", "q"))),
    ("kron(A, B) wrt A", dict(A=(2, 3), B=(4, 5)), dict(A=("m", "n"), B=("p", "q"))),
    ("X' X wrt X", dict(X=(4, 3)), dict(X=("m", "n"))),
    ("inv(X) wrt X", dict(X=(3, 3)), dict(X=("n", "n"))),
    ("tr(X' A X) wrt X", dict(X=(3, 4), A=(3, 3)), dict(X=("m", "n"), A=("m", "m"))),
    ("(A X) ∘ (X B) wrt X", dict(A=(3, 3), X=(3, 4), B=(4, 4)), dict(A=("m", "m"), X=("m", "n"), B=("n", "n"))),
    ("X^4 wrt X", dict(X=(3, 3)), dict(X=("n", "n"))),
    ("exp(A X) + sin(A X) wrt X", dict(A=(2, 3), X=(3, 4)), dict(A=("m", "n"), X=("n", "p"))),
    ("X Y Z wrt X, Y, Z", dict(X=(2, 3), Y=(3, 4), Z=(4, 5)), dict(X=("m", "n"), Y=("n", "p"), Z=("p", "q"))),
]


def best(f, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times) * 1e3


def main(rounds: int = 7) -> None:
    print("| expression | numbers (ms) | names (ms) | names/numbers | formula with names |")
    print("|---|---|---|---|---|")
    ratios = []
    for source, numbers, names in CASES:
        assert jacli.derive(source, symbolic=True, **numbers).formula  # warm up, and both work
        formula = jacli.derive(source, symbolic=True, **names).formula
        tn, ts = [], []
        for _ in range(rounds):
            tn.append(best(lambda: jacli.derive(source, symbolic=True, **numbers)))
            ts.append(best(lambda: jacli.derive(source, symbolic=True, **names)))
        n, s = statistics.median(tn), statistics.median(ts)
        ratios.append(s / n)
        print(f"| `{source}` | {n:.3f} | {s:.3f} | {s / n:.2f} | `{formula}` |")
    print(f"\nnames/numbers: median {statistics.median(ratios):.2f}, range {min(ratios):.2f}–{max(ratios):.2f}")


if __name__ == "__main__":
    main()
