"""The closed form with dimension names against the same closed form with numbers.

python benchmarks/symbolic_speed.py

For each expression: jacli.derive(..., symbolic=True) with shapes given as numbers, and with
the same shapes given as dimension names, each as a first call (jacli's caches cleared
before it: parse, infer, derive, simplify, print) and as a repeated call (the derivation
cached: parse, infer, print). Best of 5, medians of 7 rounds, the four sides in an order
rotated each round, in ms; the ratios are names / numbers, medians of per-round ratios.
"""

from __future__ import annotations

import statistics

from timing import compare, first_call  # the script's own folder is on the path

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


def main(rounds: int = 7) -> None:
    print(
        "| expression | numbers, first (ms) | names, first (ms) | names/numbers, first | numbers, repeated (ms) "
        "| names, repeated (ms) | names/numbers, repeated | formula with names |"
    )
    print("|---|---|---|---|---|---|---|---|")
    first, repeated = [], []
    for source, numbers, names in CASES:
        assert jacli.derive(source, symbolic=True, **numbers).formula  # both work
        formula = jacli.derive(source, symbolic=True, **names).formula

        def numbers_(source=source, numbers=numbers):
            return jacli.derive(source, symbolic=True, **numbers)

        def names_(source=source, names=names):
            return jacli.derive(source, symbolic=True, **names)

        t = compare(
            {
                "numbers, first": first_call(numbers_),
                "names, first": first_call(names_),
                "numbers, repeated": numbers_,
                "names, repeated": names_,
            },
            rounds,
            repeat=5,
        )
        first.append(t.ratio("names, first", "numbers, first"))
        repeated.append(t.ratio("names, repeated", "numbers, repeated"))
        ms = {k: t.median(k) * 1e3 for k in t.rounds}
        print(
            f"| `{source}` | {ms['numbers, first']:.3f} | {ms['names, first']:.3f} | {first[-1]:.2f} | "
            f"{ms['numbers, repeated']:.3f} | {ms['names, repeated']:.3f} | {repeated[-1]:.2f} | `{formula}` |"
        )
    for label, ratios in (("first call", first), ("repeated call", repeated)):
        print(
            f"\nnames/numbers, {label}: median {statistics.median(ratios):.2f}, "
            f"range {min(ratios):.2f}–{max(ratios):.2f}"
        )


if __name__ == "__main__":
    main()
