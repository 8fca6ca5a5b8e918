"""Memory under attack, measured as peak RSS in a child process: every command either stays
within --max-memory (above the interpreter's own, measured on the same command at a tiny
size) or refuses in one line, exit 2. Text output of one wide row is formatted in pieces,
sparse output spooled in blocks the limit sizes, and the values, directions, a gradient's
intermediates and the output all counted against the one limit; parse and explain read
headers only, and text files within the limit.
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


@pytest.mark.parametrize("fmt", ["plain", "csv", "json"])
def test_text_of_one_wide_row_is_formatted_in_pieces(fmt):
    # J is 1×2,250,000: 18 MB of numbers, and its text (about 50 MB) never whole in memory
    args = ["derive", "sum(X) wrt X", "X=1500x1500", "--random", "--format", fmt]
    within(args, ["derive", "sum(X) wrt X", "X=3x3", "--random", "--format", fmt], 60 * MB)
    within([*args, "-o", f"J.{fmt if fmt != 'plain' else 'txt'}"], [*args[:2], "X=3x3", *args[3:]], 60 * MB)


def test_a_sparse_file_is_built_in_blocks_the_limit_sizes():
    pytest.importorskip("scipy")
    # 22,500×22,500 with 6,750,000 stored entries: about 700 MB built at once before
    args = ["derive", "X' X wrt X", "X=150x150", "--random", "--sparse", "-o", "J.npz"]
    tiny = ["derive", "X' X wrt X", "X=5x5", "--random", "--sparse", "-o", "small.npz"]
    within(args, tiny, 40 * MB)
    import scipy.sparse

    J = scipy.sparse.load_npz("J.npz")
    assert J.shape == (22500, 22500) and J.nnz == 6_727_500


@pytest.mark.parametrize("limit", [35 * MB, 80 * MB])
def test_a_direction_is_read_and_applied_within_what_the_values_leave(limit):
    np.save("V.npy", np.ones((1000, 1000)))  # 8 MB, as A and X
    args = ["derive", "A X wrt X", "A=1000x1000", "X=1000x1000", "--random", "--direction", "X=V.npy"]
    np.save("v.npy", np.ones((3, 3)))
    tiny = ["derive", "A X wrt X", "A=3x3", "X=3x3", "--random", "--direction", "X=v.npy"]
    code = within(args, tiny, limit, may_refuse=True)
    assert code == (2 if limit == 35 * MB else 0)  # A, X, V, A dV and dF take 40 MB


@pytest.mark.parametrize("limit", [40 * MB, 70 * MB])
def test_a_gradients_intermediates_are_counted(limit):
    # A and X take 16 MB, J 8 MB, (A + Aᵀ) X two contractions of 8 MB and a copy of J's size
    args = ["derive", "tr(X' A X) wrt X", "A=1000x1000", "X=1000x1000", "--random", "--gradient", "--format", "plain"]
    tiny = [*args[:2], "A=3x3", "X=3x3", *args[4:]]
    code = within(args, tiny, limit, may_refuse=True)
    assert code == (2 if limit == 40 * MB else 0)


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
