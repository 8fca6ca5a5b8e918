"""Peak memory and time of jacli on hostile input: bombs, huge random draws, json output.

python benchmarks/hostile.py [--before DIR] [--rounds N] [--only NAME ...] [--ctrl-c]

Makes the input files in a temporary folder (about 1.3 GB of disk, mostly sparse or
compressed; a few minutes), then runs each case as ``python -m jacli ...`` under
``/usr/bin/time -f "%M %e"`` (peak RSS of the jacli process, wall time). With ``--before
DIR`` (a checkout of an older jacli, e.g. ``git worktree add /tmp/jacli-before 73f9d1f``)
each case also runs with ``PYTHONPATH=DIR``, interleaved with the installed jacli; medians
of ``--rounds`` runs (default 3). ``--ctrl-c``: instead, SIGINT at 40 moments of start-up (0
to 0.39 s) and how many runs print a traceback (beyond Python's own start-up, its ``site``).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

N_BOMB = 11000  # the member bomb: 11000×11000 float64, 968 MB declared, about 1 MB on disk
HEADER = 10**9  # the header bombs: a length field of 1 GB

CASES = {
    "member bomb, --values": ["derive", "tr(X) wrt X", "--values", "{d}/bomb_member.npz", "--max-memory", "1MB"],
    "member bomb, --symbolic": ["derive", "tr(X) wrt X", "X={d}/bomb_member.npz", "--symbolic"],
    "header bomb, .npz": ["derive", "tr(X) wrt X", "X={d}/bomb_header.npz", "--max-memory", "1MB"],
    "header bomb, .npy": ["derive", "tr(X) wrt X", "X={d}/bomb_header.npy", "--max-memory", "1MB"],
    "random draw, --symbolic": [
        "derive",
        "tr(X) wrt X",
        "X=20000x20000",
        "--random",
        "--symbolic",
        "--max-memory",
        "1MB",
    ],
    "random draw": ["derive", "tr(X) wrt X", "X=20000x20000", "--random", "--max-memory", "1MB"],
    "json output (J 104 MB)": ["derive", "A X B wrt X", "A=60x60", "B=60x60", "--random", "--format", "json"],
    "plain output (J 104 MB)": ["derive", "A X B wrt X", "A=60x60", "B=60x60", "--random", "--format", "plain"],
    "255 MB CSV, --max-memory 1MB": ["derive", "tr(X) wrt X", "X={d}/big.csv", "--max-memory", "1MB"],
    "100,000 unused --values keys": ["derive", "X wrt X", "--values", "{d}/many.npz", "--format", "plain"],
}


def make_files(d: Path) -> None:
    def member(name: str) -> zipfile.ZipFile:
        return zipfile.ZipFile(d / name, "w", compression=zipfile.ZIP_DEFLATED)

    with member("bomb_member.npz") as zf, zf.open("X.npy", "w", force_zip64=True) as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (N_BOMB, N_BOMB)})
        row = bytes(8 * N_BOMB)
        for _ in range(N_BOMB):
            f.write(row)
    with member("bomb_header.npz") as zf, zf.open("X.npy", "w", force_zip64=True) as f:
        f.write(b"\x93NUMPY\x02\x00" + struct.pack("<I", HEADER))
        chunk = b" " * (1 << 20)
        for _ in range(HEADER // len(chunk)):
            f.write(chunk)
        f.write(b" " * (HEADER % len(chunk)))
    with open(d / "bomb_header.npy", "wb") as f:  # sparse: takes no room
        f.write(b"\x93NUMPY\x02\x00" + struct.pack("<I", HEADER))
        f.truncate(12 + HEADER)
    np.savetxt(d / "big.csv", np.random.default_rng(0).standard_normal((2000, 5000)), delimiter=",")
    np.savez(d / "many.npz", X=np.eye(2), **{f"n{i}": np.zeros(1) for i in range(100_000)})


def measure(args: list[str], pythonpath: str | None, folder: Path) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, exit code) of one run, in ``folder`` (``python -m`` puts the
    current folder first on the path: run elsewhere than in a checkout)."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        cmd = ["/usr/bin/time", "-f", "%M %e", "-o", t.name, sys.executable, "-m", "jacli", *args]
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=folder)
        kb, seconds = Path(t.name).read_text().split()[-2:]
    return int(kb) / 1024, float(seconds), r.returncode


def ctrl_c(versions: dict[str, str | None]) -> None:
    args = ["derive", "A X B wrt X", "A=300x300", "B=300x300", "--random", "--format", "plain"]
    for name, path in versions.items():
        env = dict(os.environ, **({"PYTHONPATH": path} if path else {}))
        tracebacks, codes = 0, {}
        for i in range(40):
            p = subprocess.Popen(
                [sys.executable, "-m", "jacli", *args],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
                cwd=tempfile.gettempdir(),
            )
            time.sleep(i * 0.01)
            p.send_signal(signal.SIGINT)
            err = p.communicate()[1].decode()
            tracebacks += "Traceback" in err and "init_import_site" not in err
            codes[p.returncode] = codes.get(p.returncode, 0) + 1
        print(f"{name}: {tracebacks} of 40 runs print a traceback; exit codes {dict(sorted(codes.items()))}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", help="a checkout of an older jacli, run with PYTHONPATH=BEFORE")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="names of cases (substrings)")
    ap.add_argument("--ctrl-c", action="store_true", help="SIGINT during start-up instead")
    opts = ap.parse_args()
    versions = {"after": None} if not opts.before else {"before": opts.before, "after": None}
    if opts.ctrl_c:
        ctrl_c(versions)
        return
    if not Path("/usr/bin/time").exists():
        sys.exit("needs /usr/bin/time (GNU time)")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        make_files(d)
        print("| case | command | " + " | ".join(f"{v}: peak MB, s, exit" for v in versions) + " |")
        print("|---|---|" + "---|" * len(versions))
        for name, template in CASES.items():
            if opts.only and not any(o in name for o in opts.only):
                continue
            args = [a.replace("{d}", str(d)) for a in template]
            runs: dict[str, list[tuple[float, float, int]]] = {v: [] for v in versions}
            for _ in range(opts.rounds):  # interleaved: the machine is shared
                for v, path in versions.items():
                    runs[v].append(measure(args, path, d))
            cells = []
            for v in versions:
                peak = statistics.median(r[0] for r in runs[v])
                secs = statistics.median(r[1] for r in runs[v])
                cells.append(f"{peak:,.0f} MB, {secs:.2f} s, exit {runs[v][0][2]}")
            shown = " ".join(a if " " not in a else repr(a) for a in template).replace("{d}/", "")
            print(f"| {name} | `jacli {shown}` | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
