"""Memory under attack, measured as peak RSS in a child process: every command either stays
within --max-memory (above the interpreter's own, measured on the same command at a tiny
size) or refuses in one line, exit 2. parse and explain read headers only, and text files
within the limit.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from cli_support import isolated, python_process  # noqa: F401 (isolated: autouse)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="VmHWM is Linux's")

MB = 10**6
_MEASURE = (
    "import sys, runpy\n"
    "sys.argv = ['jacli', *{args!r}]\n"
    "try:\n    runpy.run_module('jacli', run_name='__main__')\n"
    "except SystemExit as e:\n    code = e.code\n"
    "hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM:')][0].split()[1]\n"
    "sys.__stderr__.write('RSS %s %s\\n' % (hwm, code))\n"
)


def measured(*args: str) -> tuple[int, int, list[str]]:
    """``python -m jacli ARGS`` in a child: its exit code, its peak resident memory (bytes),
    and the lines it wrote on stderr (the measurement's own line aside)."""
    r = python_process(_MEASURE.format(args=list(args)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines = r.stderr.splitlines()
    rss, code = lines[-1].split()[1:]
    return int(code) if code != "None" else 0, int(rss) * 1024, lines[:-1]


def within(args: list[str], tiny: list[str], limit: int, may_refuse: bool = False) -> int:
    """Run ``args`` (with ``--max-memory limit``): done within the limit above the peak of
    ``tiny`` (the same command at a tiny size), or, where ``may_refuse``, refused in one line."""
    _, base, _ = measured(*tiny)
    code, peak, err = measured(*args, "--max-memory", str(limit))
    if code == 2 and may_refuse:
        assert len(err) == 1 and err[0].startswith("jacli: error:") and "memory limit" in err[0], err
        return code
    assert code == 0, err
    assert peak - base <= limit, f"{(peak - base) / MB:.0f} MB above the interpreter's, over {limit / MB:.0f} MB"
    return code


@pytest.mark.parametrize("command", ["parse", "explain"])
def test_parse_and_explain_read_headers_and_text_within_the_limit(command):
    np.save("big.npy", np.ones((4000, 2000)))  # 64 MB
    _, base, _ = measured(command, "sum(X) wrt X", "X=3x3")
    code, peak, err = measured(command, "sum(X) wrt X", "X=big.npy")
    assert code == 0 and peak - base < 16 * MB, (err, (peak - base) / MB)  # the header alone
    code, peak, err = measured(command, "sum(X) wrt X", "X=big.npy", "--max-memory", "10MB")
    assert code == 0 and peak - base < 16 * MB, (err, (peak - base) / MB)
    np.savetxt("big.csv", np.ones((1000, 1000)), delimiter=",")  # 8 MB as float64
    code, _, err = measured(command, "sum(X) wrt X", "X=big.csv", "--max-memory", "4MB")
    assert code == 2 and len(err) == 1 and "more than the limit of 4.0 MB" in err[0], err
