"""What the command-line test files share: sample paths, an isolated folder, and the two ways
to run jacli, both on this working tree's code whatever copy of jacli is installed.

- ``run(*args)`` runs ``jacli ARGS`` in this process through ``jacli.cli.main()``, the console
  script itself: its stream guards, its signal handlers, its reading of an expression that
  starts with '-', its usage errors in one line and its exit codes.
- ``jacli_process(*args)`` (and ``jacli_popen``, ``python_process``) run it in a child process,
  for what needs one: real signals, closed or full stdout, pipes, encodings, peak memory.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from typing import NamedTuple

import pytest

from jacli.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
A_NPY = str(SAMPLES / "A.npy")
B_NPY = str(SAMPLES / "B.npy")
AXB = ["derive", "A X B wrt X", f"A={A_NPY}", f"B={B_NPY}"]

# `jacli` as a command: the working tree's package is found first through tree_env's PYTHONPATH
JACLI = [sys.executable, "-m", "jacli"]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test in its own folder, with --debug off."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JACLI_DEBUG", raising=False)


# --------------------------------------------------------------------------- in this process


class Result(NamedTuple):
    """A finished ``jacli`` run: the exit code, stdout, stderr, and both as a terminal shows them."""

    exit_code: int
    stdout: str
    stderr: str
    output: str


class _Tee(io.BytesIO):
    """A stream's bytes, also written to the shared record of both streams in order."""

    def __init__(self, both: io.BytesIO) -> None:
        super().__init__()
        self.both = both

    def write(self, data) -> int:
        self.both.write(data)
        return super().write(data)


def _text(raw: io.BytesIO, errors: str = "strict", newline: str | None = "\n") -> io.TextIOWrapper:
    """A standard stream as Python makes one on POSIX with UTF-8, over ``raw``."""
    return io.TextIOWrapper(raw, encoding="utf-8", errors=errors, newline=newline, write_through=True)


_HANDLED = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]


def run(*args, input: str | bytes | None = None) -> Result:
    """``jacli ARGS`` through ``jacli.cli.main()`` in this process, with ``input`` on stdin.

    What main() changes for the process (the standard streams, sys.argv, the SIGTERM and
    SIGHUP handlers, the warning filters, the recursion limit) is put back afterwards."""
    both = io.BytesIO()
    out, err = _Tee(both), _Tee(both)
    data = input.encode("utf-8") if isinstance(input, str) else (input or b"")
    saved = (sys.stdin, sys.stdout, sys.stderr, sys.argv, sys.getrecursionlimit())
    handlers = [(sig, signal.getsignal(sig)) for sig in _HANDLED]
    # held until the end: a wrapper closes its bytes when it is collected
    streams = _text(io.BytesIO(data), newline=None), _text(out), _text(err, "backslashreplace")
    sys.stdin, sys.stdout, sys.stderr = streams
    sys.argv = ["jacli", *map(str, args)]
    code: int = 0
    try:
        with warnings.catch_warnings():
            main()
    except SystemExit as exit_:
        code = int(exit_.code) if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.stdin, sys.stdout, sys.stderr, sys.argv, limit = saved
        sys.setrecursionlimit(limit)
        for sig, handler in handlers:
            signal.signal(sig, handler)
    result = Result(code, *(raw.getvalue().decode("utf-8") for raw in (out, err, both)))
    for stream in streams:
        stream.detach()
    return result


# --------------------------------------------------------------------------- in a child process


def tree_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child Python that imports this working tree's jacli, not the
    installed copy (a non-editable install would otherwise run the code as it was installed):
    this process's variables with ``env`` on top, the repository first on PYTHONPATH, and
    JACLI_DEBUG off."""
    full = {**os.environ, **(env or {})}
    full.pop("JACLI_DEBUG", None)
    full["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [full.get("PYTHONPATH")])])
    return full


def jacli_process(*args, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    """``jacli ARGS`` in a child process in the current folder: text output captured unless
    ``stdout``/``stderr`` are given."""
    if "stdout" not in kw and "stderr" not in kw:
        kw["capture_output"] = True
    kw.setdefault("text", True)
    return subprocess.run([*JACLI, *map(str, args)], env=tree_env(env), **kw)


def jacli_popen(*args, env: dict[str, str] | None = None, **kw) -> subprocess.Popen:
    """``jacli ARGS`` started in a child process (to be signalled, or watched)."""
    return subprocess.Popen([*JACLI, *map(str, args)], env=tree_env(env), **kw)


def python_process(code: str, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    """``python -c CODE`` in a child process that imports this working tree's jacli."""
    if "stdout" not in kw and "stderr" not in kw:
        kw["capture_output"] = True
    kw.setdefault("text", True)
    return subprocess.run([sys.executable, "-c", code], env=tree_env(env), **kw)
