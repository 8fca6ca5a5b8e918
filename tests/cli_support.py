"""What the command-line test files share: sample paths, an isolated folder, and the two ways
to run jacli, both on this working tree's code whatever copy of jacli is installed.

- ``run(*args)`` runs ``jacli ARGS`` in this process through Typer's runner.
- ``jacli_process(*args)`` (and ``jacli_popen``, ``python_process``) run it in a child process,
  for what needs one: real signals, closed or full stdout, pipes, encodings, peak memory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jacli.cli import app

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


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


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
