"""jacli's closed forms against the textbooks': how many print no longer than the book.

python benchmarks/textbook.py

The table is tests/textbook.py (the Matrix Cookbook, Magnus & Neudecker, matrixcalculus.org,
the seeds). For each identity: the book's form, jacli's (the gradient for a scalar f, else J),
whether jacli's is no longer (in characters, both in jacli's notation), and whether the book's
form agrees with the numbers (jacli.check --against).
"""

from __future__ import annotations

import runpy
from pathlib import Path

import jacli

TABLE = runpy.run_path(str(Path(__file__).resolve().parents[1] / "tests" / "textbook.py"))


def row(kind: str, source: str, shapes: dict, book: str) -> tuple[str, bool, bool]:
    expr, _, option = source.partition(" --vec ")
    vec = option or "col"
    try:
        r = jacli.derive(expr, symbolic=True, vec=vec, **shapes)
        mine = r.gradient_formula if kind == "gradient" else r.formula
    except jacli.JacliError as err:
        return f"(refused: {err})", False, False
    claim = f"vec({book})'" if kind == "gradient" else book
    agree = jacli.check(expr, against=claim, vec=vec, **shapes).agree
    if mine is None:
        return "(no closed form)", False, agree
    return mine, len(mine) <= len(book), agree


def main() -> None:
    print("| kind | expression | book | jacli | no longer | book agrees | source |")
    print("|---|---|---|---|---|---|---|")
    shorter = total = 0
    for kind, rows in (("gradient", TABLE["GRADIENTS"]), ("jacobian", TABLE["JACOBIANS"])):
        for source, shapes, book, where in rows:
            mine, ok, agree = row(kind, source, shapes, book)
            total += 1
            shorter += ok
            print(f"| {kind} | `{source}` | `{book}` | `{mine}` | {'yes' if ok else 'no'} | "
                  f"{'yes' if agree else 'NO'} | {where} |")  # fmt: skip
    print(f"\n{shorter} of {total} print no longer than the book")


if __name__ == "__main__":
    main()
