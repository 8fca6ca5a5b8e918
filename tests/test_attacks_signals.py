"""Signals sent for real, in quick succession: two or three of SIGINT, SIGTERM and SIGHUP in
any order, while a temporary file is being written. The first ends the run; none that
follows may stop its clean-up. Nothing is left behind and the target is as it was, or whole.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from cli_support import isolated, jacli_popen  # noqa: F401 (isolated: autouse)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals")

SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
NPY = ["derive", "A X B wrt X", "A=64x64", "B=64x64", "X=64x64", "--random", "-o", "J.npy"]  # 134 MB
NPZ = ["derive", "X' X wrt X", "X=150x150", "--random", "--sparse", "-o", "J.npz"]


def signalled(args: list[str], target: str, names: tuple[str, ...], gap: float) -> tuple[int, str, bool]:
    """Start jacli, send the signals ``names`` ``gap`` seconds apart once its temporary file
    exists: the exit code, stderr, and whether they were sent. The child starts with each
    signal's default action (a test run under nohup would pass SIGHUP ignored)."""
    sigs = [getattr(signal, n) for n in names]
    inherited = {s: signal.signal(s, signal.SIG_DFL) for s in set(sigs)}
    try:
        p = jacli_popen(*args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finally:
        for s, handler in inherited.items():
            signal.signal(s, handler)
    sent = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and p.poll() is None:
        if any(n.startswith("." + target) and n.endswith(".tmp") for n in os.listdir(".")):
            for s in sigs:
                p.send_signal(s)
                time.sleep(gap)
            sent = True
            break
        time.sleep(0.001)
    p.wait(60)
    return p.returncode, p.stderr.read().decode() if p.stderr else "", sent


def left_as_it_was_or_whole(target: str) -> None:
    assert sorted(os.listdir(".")) == [target], os.listdir(".")
    if Path(target).read_bytes() != b"as it was":  # the signals came after the file was complete
        assert np.load(target, allow_pickle=False) is not None


def check_run(args: list[str], target: str, names: tuple[str, ...], gap: float) -> None:
    Path(target).write_text("as it was")
    code, stderr, sent = signalled(args, target, names, gap)
    if not sent and code == 0:
        pytest.skip("the run ended before its temporary file was seen")
    assert sent, (code, stderr)
    ended_by = {-getattr(signal, n) for n in names} | ({130} if "SIGINT" in names else set())
    assert code in ended_by | {0}, (names, code, stderr)
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    left_as_it_was_or_whole(target)
    if code == 0:  # the run ended before the first signal came: the file is whole
        assert Path(target).read_bytes() != b"as it was"
    os.remove(target)


@pytest.mark.parametrize("second", SIGNALS)
@pytest.mark.parametrize("first", SIGNALS)
def test_two_signals_leave_no_temporary_file(first, second):
    for gap in (0.0, 0.0002, 0.001, 0.003):
        check_run(NPY, "J.npy", (first, second), gap)


@pytest.mark.parametrize("names", [("SIGTERM", "SIGINT"), ("SIGINT", "SIGTERM"), ("SIGHUP", "SIGHUP", "SIGINT")])
def test_signals_during_a_sparse_file_leave_nothing(names):
    pytest.importorskip("scipy")
    for gap in (0.0, 0.002):
        check_run(NPZ, "J.npz", names, gap)


def test_three_signals_in_every_order_leave_nothing():
    for names in [("SIGTERM", "SIGHUP", "SIGINT"), ("SIGINT", "SIGINT", "SIGTERM"), ("SIGHUP", "SIGTERM", "SIGTERM")]:
        check_run(NPY, "J.npy", names, 0.0)
