"""On a real terminal: jacli run with stderr (and sometimes stdout) on a pseudo-terminal, as a
user at a shell has them, the progress bar made to appear at once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cli_support import python_process

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")


def _main_with_a_quick_bar(*args: str) -> str:
    """Python code that runs ``jacli ARGS`` with the progress bar shown from the start."""
    return (
        "import sys, jacli.cli.progress as progress\n"
        "progress.DELAY = 0.0\n"
        f"sys.argv = ['jacli', *{list(args)!r}]\n"
        "from jacli.cli import main\n"
        "main()\n"
    )


def _drain(fd: int) -> bytes:
    """What a pseudo-terminal's other end holds, once every writer closed it."""
    chunks = []
    try:
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    except OSError:  # EIO: no writer is left
        pass
    finally:
        os.close(fd)
    return b"".join(chunks)


def _on_terminal(code: str, **kw) -> tuple[subprocess.CompletedProcess, str]:
    """Run ``code`` with stderr on a pseudo-terminal: the process and what the terminal showed."""
    import pty

    master, terminal = pty.openpty()
    try:
        r = python_process(code, stderr=terminal, **kw)
    finally:
        os.close(terminal)
    return r, _drain(master).decode("utf-8", "replace")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_output_redirected_to_a_file_keeps_every_line_while_the_bar_shows(tmp_path, jobs):
    lines = ['check "X\' wrt X" X=2x2'] * 40 + ['derive "A X wrt X" A=2x2 --symbolic']
    (tmp_path / "ids.txt").write_text("\n".join(lines) + "\n")
    with open(tmp_path / "out.txt", "w") as out:
        r, shown = _on_terminal(_main_with_a_quick_bar("batch", str(tmp_path / "ids.txt"), "--jobs", jobs), stdout=out)
    assert r.returncode == 0
    got = (tmp_path / "out.txt").read_text().splitlines()
    assert len(got) == 2 * len(lines) + 1 and got[-1].startswith("41 lines: 40 agree, 1 ok")
    assert "agree" not in shown  # the terminal shows the bar, never a result line


def test_batch_on_one_terminal_prints_its_lines_above_the_bar(tmp_path):
    lines = ['check "X\' wrt X" X=2x2'] * 20
    (tmp_path / "ids.txt").write_text("\n".join(lines) + "\n")
    import pty

    master, terminal = pty.openpty()
    try:
        code = _main_with_a_quick_bar("batch", str(tmp_path / "ids.txt"))
        r = python_process(code, stdout=terminal, stderr=terminal)
    finally:
        os.close(terminal)
    shown = _drain(master).decode("utf-8", "replace")
    assert r.returncode == 0
    assert shown.count("agree") == 20 + 1 and "20 lines: 20 agree" in shown
