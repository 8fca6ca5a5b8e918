"""Every printed closed form of the tests' read-back sets and of the textbook table, with its length.

python benchmarks/formulas.py --save before.json      # the formulas of this tree
python benchmarks/formulas.py --compare before.json   # what changed since, longer or shorter

For each expression of the sets (tests/textbook.py, the read-back and format tests' lists),
jacli prints J (both vec orders), the gradient of a scalar f, the differential and the
Hessian of a scalar f; each is recorded with its length in characters and in tokens (names,
numbers, operators and brackets, as jacli's tokenizer reads them). ``--compare`` lists the
forms whose text changed, before and after, and counts the longer and the shorter.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

import jacli
from jacli.syntax.tokens import tokenize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

# (module, list, how its rows read): the tests' sets of expressions with shapes
SETS = [
    ("textbook", "GRADIENTS", "s,sh,*"),
    ("textbook", "JACOBIANS", "s,sh,*"),
    ("test_closed_forms", "ROUND_TRIP", "s,sh"),
    ("test_differentials", "GRADIENTS", "s,sh,*"),
    ("test_differentials", "JACOBIANS", "s,sh,*"),
    ("test_explain", "CASES", "s,sh"),
    ("test_formats", "MORE", "s,sh"),
    ("test_formats", "HESSIANS", "s,sh"),
    ("test_formats", "SYMBOLIC", "s"),
    ("test_hessians", "TEXTBOOK", "s,sh,*"),
    ("test_symbolic", "EXPRESSIONS", "s,sh"),
    ("test_vocabulary", "MATRIXCALCULUS", "s,*,*,sh"),
]


def cases() -> list[tuple[str, dict]]:
    out: dict[str, tuple[str, dict]] = {}
    for module, attr, layout in SETS:
        rows = getattr(importlib.import_module(module), attr)
        fields = layout.split(",")
        for row in rows:
            row = (row,) if isinstance(row, str) else row
            source = row[fields.index("s")]
            shapes = row[fields.index("sh")] if "sh" in fields else {}
            source = source.removesuffix(" --vec row")
            key = f"{source} {sorted(shapes.items())}"
            out.setdefault(key, (source, shapes))
    return list(out.values())


def tokens(text: str) -> int:
    """The tokens of a printed form (a differential's right side; blocks ``[J1, J2]`` counted
    entry by entry)."""
    if " = " in text:
        text = text.split(" = ", 1)[1]
    if text.startswith("(refused"):
        return -1
    text = text.replace("[", " ").replace("]", " ").replace(";", ",")
    try:
        return sum(1 for t in tokenize(text) if t.kind != "end")
    except jacli.JacliError:
        return -1


def forms(source: str, shapes: dict) -> dict[str, str]:
    got: dict[str, str] = {}

    def attempt(kind: str, fn) -> None:
        try:
            text = fn()
        except jacli.JacliError as err:
            text = f"(refused: {err})"
        if text is not None:
            got[kind] = text

    attempt("J", lambda: jacli.derive(source, symbolic=True, **shapes).formula)
    attempt("J row", lambda: jacli.derive(source, symbolic=True, vec="row", **shapes).formula)
    attempt("gradient", lambda: jacli.derive(source, symbolic=True, **shapes).gradient_formula)
    attempt("differential", lambda: jacli.differential(source, **shapes).text())
    attempt("hessian", lambda: jacli.derive_hessian(source, symbolic=True, **shapes).formula)
    return got


def collect() -> dict[str, dict[str, str]]:
    return {f"{s}  {json.dumps(sh, sort_keys=True)}": forms(s, sh) for s, sh in cases()}


def compare(before: dict, after: dict) -> int:
    longer = shorter = same = 0
    worst = 0
    for key, kinds in after.items():
        old = before.get(key, {})
        for kind, text in kinds.items():
            was = old.get(kind)
            if was is None or was == text:
                same += was == text
                continue
            delta = tokens(text) - tokens(was)
            longer += delta > 0
            shorter += delta < 0
            worst = max(worst, delta)
            print(f"{key} [{kind}] tokens {tokens(was)} -> {tokens(text)}\n  before: {was}\n  after:  {text}")
    print(f"\n{same} unchanged, {shorter} shorter, {longer} longer (in tokens); largest growth {worst} tokens")
    return 1 if longer else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", help="write the formulas to this JSON file")
    parser.add_argument("--compare", help="compare with the formulas saved in this JSON file")
    args = parser.parse_args()
    now = collect()
    if args.save:
        Path(args.save).write_text(json.dumps(now, ensure_ascii=False, indent=1))
    if args.compare:
        return compare(json.loads(Path(args.compare).read_text()), now)
    if not args.save:
        total = sum(len(k) for k in now.values())
        print(f"{len(now)} expressions, {total} printed forms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
