"""On a real terminal: jacli run with stderr (and sometimes stdout) on a pseudo-terminal, as a
user at a shell has them, the progress bar made to appear at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from cli_support import jacli_popen, python_process

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


def test_plain_text_stops_at_once_when_the_reader_leaves():
    import pty

    master, terminal = pty.openpty()
    args = ["derive", "A X B wrt X", "A=60x60", "B=60x60", "X=60x60", "--random"]  # J: 3600², 13 million numbers
    try:
        p = jacli_popen(*args, stdout=subprocess.PIPE, stderr=terminal)
    finally:
        os.close(terminal)
    assert p.stdout is not None
    head = [p.stdout.readline() for _ in range(3)]  # | head -3
    p.stdout.close()
    left = time.perf_counter()
    code = p.wait(60)
    assert time.perf_counter() - left < 5  # formatting the rest took 10-30 s
    assert code == 0 and _drain(master) == b""  # a reader that left is no error
    assert head[0].startswith(b"# J = ") and len(head[2].split()) == 3600


def test_plain_text_is_written_at_the_speed_of_savetxt():
    import io

    import numpy as np

    from jacli.cli.render import write_lines
    from jacli.io.writers import format_rows

    J = np.random.default_rng(0).standard_normal((400, 400))
    mine, theirs = [], []
    for _ in range(3):
        start = time.perf_counter()
        write_lines(format_rows(J), io.StringIO())
        mine.append(time.perf_counter() - start)
        start = time.perf_counter()
        np.savetxt(io.StringIO(), J)
        theirs.append(time.perf_counter() - start)
    assert min(mine) < 1.5 * min(theirs), (mine, theirs)
    text = io.StringIO()
    write_lines(format_rows(J), text)
    assert np.array_equal(np.loadtxt(io.StringIO(text.getvalue())), J)  # full precision


@pytest.mark.parametrize("command", ["derive", "hessian"])
def test_a_large_output_shows_its_formula_first_then_a_progress_bar(tmp_path, command):
    import pty

    expr = "A X B wrt X" if command == "derive" else "tr(X' A X) wrt X"
    args = [command, expr, "A=60x60", "X=60x60", "--random", "-o", str(tmp_path / "J.npy")]
    if command == "derive":
        args.append("B=60x60")
    master, terminal = pty.openpty()
    try:
        r = python_process(_main_with_a_quick_bar(*args), stdout=terminal, stderr=terminal)
    finally:
        os.close(terminal)
    shown = _drain(master).decode("utf-8", "replace")
    assert r.returncode == 0, shown
    formula, bar, wrote = (shown.find(s) for s in ("⊗", f"writing {tmp_path / 'J.npy'}", "jacli: wrote"))
    assert 0 <= formula < bar < wrote, shown  # the formula, then the bar while the file is written
