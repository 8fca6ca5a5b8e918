"""Start-up cost of shell completion: the installed package run as it is (completion on)
and a copy with ``add_completion=False``, interleaved cold starts of a piped derive.

python benchmarks/completion_cost.py [runs]
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import jacli

ROOT = Path(__file__).resolve().parent.parent


def main(runs: int = 100) -> None:
    import time

    source = Path(jacli.__file__).parent
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for name, flag in (("on", "True"), ("off", "False")):
            target = Path(tmp) / name / "jacli"
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            app = target / "cli" / "app.py"
            text = app.read_text()
            start = text.index("add_completion=")
            end = text.index(",", start)
            app.write_text(text[:start] + f"add_completion={flag}" + text[end:])
            compileall.compile_dir(str(target), quiet=1)
            folders[name] = str(target.parent)
        cmd = [
            sys.executable,
            "-m",
            "jacli",
            "derive",
            "A X B wrt X",
            f"A={ROOT}/samples/A.npy",
            f"B={ROOT}/samples/B.npy",
        ]
        times: dict[str, list[float]] = {"on": [], "off": []}
        for i in range(runs):
            for name in ("on", "off") if i % 2 == 0 else ("off", "on"):
                t0 = time.perf_counter()
                subprocess.run(cmd, env=dict(env, PYTHONPATH=folders[name]), stdout=subprocess.DEVNULL, check=True)
                times[name].append(time.perf_counter() - t0)
    diff = sorted(a - b for a, b in zip(times["on"], times["off"]))
    q = len(diff) // 4
    print(
        f"cold start, median of {runs}: completion on {statistics.median(times['on']) * 1e3:.1f} ms, "
        f"off {statistics.median(times['off']) * 1e3:.1f} ms; paired difference on - off: median "
        f"{statistics.median(diff) * 1e3:+.1f} ms, quartiles {diff[q] * 1e3:+.1f} .. {diff[-q - 1] * 1e3:+.1f} ms"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
