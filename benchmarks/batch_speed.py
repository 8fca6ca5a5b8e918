"""Lines per second of `jacli batch`: 1,000 small checks (3×3 to 5×5).

python benchmarks/batch_speed.py [count] [batch options, e.g. --jobs 2]
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKS = [
    ("A X B wrt X", "A={a}x{b} X={b}x{c} B={c}x{d}", "B' ⊗ A"),
    ("inv(X) wrt X", "X={a}x{a}", "-(X^-T ⊗ X^-1)"),
    ("X' X wrt X", "X={a}x{b}", "(X' ⊗ I) K({a},{b}) + I ⊗ X'"),
    ("tr(X' A X) wrt X", "A={a}x{a} X={a}x{b}", "vec((A + A') X)'"),
    ("det(X) wrt X", "X={a}x{a}", "det(X) vec(X^-T)'"),
    ("(A X) ∘ (X B) wrt X", "A={a}x{a} X={a}x{a} B={a}x{a}", None),
    ("exp(X) wrt X", "X={a}x{b}", "diag(vec(exp(X)))"),
]


def batch_lines(count: int = 1000) -> list[str]:
    """``count`` check lines drawn (seeded) from CHECKS with random small sizes."""
    rng = random.Random(1)
    lines = []
    for _ in range(count):
        expr, specs, claim = rng.choice(CHECKS)
        d = {k: rng.randint(3, 5) for k in "abcd"}
        lines.append(f'check "{expr}" {specs.format(**d)}' + (f' --against "{claim.format(**d)}"' if claim else ""))
    return lines


def jacli_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("jacli")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "jacli"]


def main(count: int = 1000, options: list[str] | None = None) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(batch_lines(count)) + "\n")
    t0 = time.perf_counter()
    out = subprocess.run(jacli_cmd() + ["batch", f.name, *(options or [])], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    Path(f.name).unlink()
    print(out.stdout.strip().splitlines()[-1])
    print(
        f"{count} lines in {seconds:.2f} s (whole command, start-up included): {count / seconds:.0f} lines/s, "
        f"exit {out.returncode}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, sys.argv[2:])
