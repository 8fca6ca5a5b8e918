"""Generated Python (``jacli derive ... --format python``) against jacli and the dense closed form.

    python benchmarks/codegen.py            # n = 32, then 64 (without the dense closed form)
    python benchmarks/codegen.py --quick    # n = 32, fewer rounds

For each expression, with X n×n (and A, B n×n; A 4×4 in kron(A, X), whose J is 16 n⁴ entries):
the function jacli writes (generated once
with --symbolic, so one function serves both sizes; the time to write it is shown apart),
``jacli.jacobian`` (the structured evaluator) as a first call (jacli's caches cleared
before it: parse, derive, simplify, evaluate) and as a repeated call (the derivation cached,
as the generated function's is written once), and the same closed form evaluated as
written, every ``I``, ``K`` and ``diag`` formed and multiplied in (jacli's reference
evaluator), at n = 32 only: at 64 a dense K(n,n) product is n⁶ multiplications, and the
dense I ⊗ K ⊗ I of kron(A, X) 34 GB. Times are medians over rounds of the best of 3, the
order rotated each round; ratios are medians of per-round ratios; every method's matrix is
compared with jacli's before timing.
"""

from __future__ import annotations

import inspect
import sys
import time

import numpy as np
from timing import Side, compare, first_call  # the script's own folder is on the path

import jacli
from jacli.api.formats import python_source
from jacli.numeric.evaluate import Evaluator

CASES = ["A X B wrt X", "X' X wrt X", "X X' wrt X", "inv(X) wrt X", "(A X) ∘ (X B) wrt X", "kron(A, X) wrt X"]


def generated(source: str):
    """The function jacli writes for ``source`` with dimension names, and the seconds it took."""
    t = time.perf_counter()
    code = python_source(jacli.derive(source, symbolic=True))
    space: dict = {}
    exec(compile(code, "<generated>", "exec"), space)
    return space["jacobian"], time.perf_counter() - t


def row(source: str, n: int, rounds: int, with_dense: bool) -> list[str]:
    fn, written = generated(source)
    shapes = {name: (n, n) for name in "AXB" if name in source.split(" wrt ")[0]}
    if source.startswith("kron"):
        shapes["A"] = (4, 4)
    r = jacli.derive(source, random=True, seed=0, **shapes)
    values = r.problem.values
    args = {p: values[p] for p in inspect.signature(fn).parameters}
    methods = {
        "generated": lambda: fn(**args),
        "jacli.jacobian first": first_call(lambda: jacli.jacobian(source, **values)),
        "jacli.jacobian repeated": lambda: jacli.jacobian(source, **values),
        "dense closed form": lambda: Evaluator(values)(r.blocks[0].expr),
    }
    if not with_dense:
        del methods["dense closed form"]
    for name, side in methods.items():
        got = side.run() if isinstance(side, Side) else side()
        if not np.allclose(got, r.matrix, rtol=1e-9, atol=1e-9 * max(1.0, float(np.abs(r.matrix).max()))):
            raise SystemExit(f"{name} differs from jacli for {source} at n={n}")
    t = compare(methods, rounds, repeat=3)
    med = {k: t.median(k) * 1e3 for k in methods}
    dense = f"{med['dense closed form']:.1f}" if with_dense else "—"
    ratio = f"{t.ratio('dense closed form', 'generated'):.1f}" if with_dense else "—"
    return [
        str(n),
        f"`{source}`",
        f"`{r.formula}`",
        f"{med['generated']:.1f}",
        f"{med['jacli.jacobian first']:.1f}",
        f"{med['jacli.jacobian repeated']:.1f}",
        dense,
        ratio,
        f"{written * 1e3:.0f}",
    ]


def main() -> None:
    quick = "--quick" in sys.argv
    sizes, rounds = ((32,), 3) if quick else ((32, 64), 5)
    print(f"Python {sys.version.split()[0]}, NumPy {np.__version__}")
    print()
    print(
        "| n | expression | closed form | generated (ms) | jacli.jacobian, first call (ms) "
        "| jacli.jacobian, repeated (ms) | dense closed form (ms) | dense / generated | writing the code (ms) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        for source in CASES if n == 32 else CASES[:-1]:  # kron(A, X) at 64: J alone is 2.1 GB
            print("| " + " | ".join(row(source, n, rounds, with_dense=n == 32)) + " |", flush=True)


if __name__ == "__main__":
    main()
