"""What the command-line test files share: sample paths, an isolated folder, a runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from jacli.cli import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
A_NPY = str(SAMPLES / "A.npy")
B_NPY = str(SAMPLES / "B.npy")
AXB = ["derive", "A X B wrt X", f"A={A_NPY}", f"B={B_NPY}"]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test in its own folder, with --debug off."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JACLI_DEBUG", raising=False)


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])
