"""How fast Ctrl-C acts: SIGINT to the process group of a running `jacli check` (n=2000,
J of 4,000,000²) and `jacli batch --jobs 2` (3,000 lines), the seconds until it has exited.

python benchmarks/interrupt.py [rounds]
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def jacli_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("jacli")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "jacli"]


def interrupted(cmd: list[str], after: float) -> tuple[float, int]:
    """Seconds from SIGINT (sent ``after`` seconds in, to the whole group, as a terminal does)
    to the exit, and the exit code."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(after)
    if p.poll() is not None:
        raise RuntimeError(f"{cmd[1]} finished before the interrupt: give it more work")
    t0 = time.perf_counter()
    os.killpg(p.pid, signal.SIGINT)
    code = p.wait(timeout=60)
    return time.perf_counter() - t0, code


def main(rounds: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        batch = Path(tmp) / "lines.txt"
        batch.write_text("\n".join(['check "inv(X) wrt X" X=30x30'] * 3000) + "\n")
        cases = {
            "check A X B, n=2000": jacli_cmd() + ["check", "A X B wrt X", "A=2000x2000", "B=2000x2000", "X=2000x2000"],
            "batch --jobs 2, 3,000 lines": jacli_cmd() + ["batch", str(batch), "--jobs", "2"],
        }
        for name, cmd in cases.items():
            runs = [interrupted(cmd, after=0.5 + 0.4 * r) for r in range(rounds)]
            waits = [w for w, _ in runs]
            print(
                f"{name}: exit {sorted({c for _, c in runs})}, seconds from Ctrl-C to exit: "
                f"median {statistics.median(waits):.3f}, max {max(waits):.3f} ({rounds} interrupts)"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
