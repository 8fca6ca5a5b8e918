"""Hostile files, huge requests, killed runs: bounded, refused, nothing left behind.

Bomb files are made small here: what they declare is far over a small --max-memory. Runs
that need a real process (signals, closed streams, encodings, peak memory) are run in a
child process on this working tree (cli_support.jacli_process); the rest in this process
(cli_support.run).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import signal
import struct
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from cli_support import (  # noqa: F401 (isolated: autouse)
    JACLI,
    isolated,
    jacli_popen,
    jacli_process,
    python_process,
    run,
    tree_env,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jacli
from jacli.errors import JacliError
from jacli.io import readers
from jacli.io.specs import parse_spec, read_bindings
from jacli.syntax import parse_expr

POSIX = os.name == "posix"


def refused(result, *words, code=2) -> str:
    """Exit ``code`` and one line ``jacli: error: ...`` on stderr holding every word."""
    info = (result.exit_code, result.stdout, result.stderr)
    assert result.exit_code == code, info
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("jacli: error:"), info
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def peak_rss(*args) -> int:
    """Peak resident memory (bytes) of ``python -m jacli ARGS``, measured by the child itself
    (VmHWM: getrusage would count the forked test process too); the run must succeed."""
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['jacli', *{list(map(str, args))!r}]\n"
        "try:\n    runpy.run_module('jacli', run_name='__main__')\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM:')][0].split()[1]\n"
        "sys.__stderr__.write('RSS %s\\n' % hwm)\n"
    )
    r = python_process(code, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    line = [x for x in r.stderr.splitlines() if x.startswith("RSS ")][-1]
    return int(line.split()[1]) * 1024


# --------------------------------------------------------------------------- bombs


def deflated_member(path, n: int, key: str = "X") -> None:
    """A .npz whose member declares an n×n float64 array of zeros: tiny on disk."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf, zf.open(key + ".npy", "w") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (n, n)})
        row = bytes(8 * n)
        for _ in range(n):
            f.write(row)


def test_npz_member_declaring_far_over_the_limit_is_refused_before_reading():
    deflated_member("bomb.npz", 1000)  # 8 MB declared, a few kB on disk
    assert os.path.getsize("bomb.npz") < 100_000
    line = refused(run("derive", "tr(X) wrt X", "X=bomb.npz", "--max-memory", "100kB"), "X=bomb.npz", "declares")
    assert "8.0 MB" in line and "100.0 kB" in line
    refused(run("derive", "tr(X) wrt X", "--values", "bomb.npz", "--max-memory", "100kB"), "--values", "declares")


def test_symbolic_reads_headers_only(tmp_path):
    deflated_member("bomb.npz", 1000)
    r = run("derive", "tr(X) wrt X", "X=bomb.npz", "--symbolic", "--max-memory", "100kB")
    assert r.exit_code == 0 and r.stdout.strip() == "vec(I₁₀₀₀)ᵀ", (r.stdout, r.stderr)
    r = run("derive", "tr(X) wrt X", "--values", "bomb.npz", "--symbolic", "--max-memory", "100kB")
    assert r.exit_code == 0, r.stderr
    # values that would be refused if read (NaN) are not read with --symbolic
    np.save("nan.npy", np.full((3, 3), np.nan))
    refused(run("derive", "X' X wrt X", "X=nan.npy", "--format", "plain"), "NaN")
    r = run("derive", "X' X wrt X", "X=nan.npy", "--symbolic")
    assert r.exit_code == 0, r.stderr


def _header_bomb(length: int) -> bytes:
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", length)


def test_header_length_is_checked_before_the_header_is_read(tmp_path):
    with open("h.npy", "wb") as f:  # a sparse file: 1 GB that takes no room
        f.write(_header_bomb(10**9))
        f.truncate(12 + 10**9)
    line = refused(run("derive", "tr(X) wrt X", "X=h.npy", "--max-memory", "1MB"), "header claims 1.0 GB")
    assert "10,000 bytes" in line

    class Counting(io.BytesIO):
        asked = 0

        def read(self, n=-1):
            Counting.asked += n if n >= 0 else 10**12
            return super().read(n)

    with pytest.raises(JacliError, match="header claims"):
        readers._read_npy_stream("X", Counting(_header_bomb(4 * 10**9) + b" " * 100), 4 * 10**9 + 12, None)
    assert Counting.asked <= 12  # the magic, the version and the length field: nothing more

    with zipfile.ZipFile("h.npz", "w", compression=zipfile.ZIP_DEFLATED) as zf, zf.open("X.npy", "w") as f:
        f.write(_header_bomb(20_000_000))
        f.write(b" " * 20_000_000)
    refused(run("derive", "tr(X) wrt X", "X=h.npz"), "header claims 20.0 MB")
    refused(run("derive", "tr(X) wrt X", "--values", "h.npz", "--symbolic"), "header claims")


@pytest.mark.skipif(sys.platform != "linux", reason="VmHWM is Linux's")
def test_a_member_is_read_without_a_second_copy(tmp_path):
    n = 3000  # 72 MB of float64
    a = np.arange(n * n, dtype=np.float64).reshape(n, n)
    np.savez("big.npz", A=a)  # stored, not compressed
    del a
    base = peak_rss("derive", "tr(A) x wrt x", "A=3000x3000", "x=2", "--symbolic")
    header = peak_rss("derive", "tr(A) x wrt x", "A=big.npz", "x=2", "--symbolic")
    read = peak_rss("derive", "tr(A) x wrt x", "A=big.npz", "x=[1, 2]", "--format", "plain")
    assert header - base < 8 * n * n * 0.1  # --symbolic: the header only
    assert read - base < 8 * n * n * 1.5  # the array and a chunk; a second copy would make it 2


# --------------------------------------------------------------------------- work before the guard


def test_random_values_are_guarded_before_they_are_drawn(monkeypatch):
    t = time.perf_counter()
    line = refused(run("derive", "tr(X) wrt X", "X=20000x20000", "--random", "--max-memory", "1MB"), "random values")
    assert "3,200,000,000 bytes" in line and time.perf_counter() - t < 5
    refused(run("check", "tr(X) wrt X", "X=20000x20000", "--max-memory", "1MB"), "random values")
    refused(run("hessian", "tr(X' X) wrt X", "X=20000x20000", "--random", "--max-memory", "1MB"), "random values")

    import jacli.numeric.draws as draws

    def no_draws(*a, **k):
        raise AssertionError("values drawn for --symbolic")

    monkeypatch.setattr(draws, "fill", no_draws)
    r = run("derive", "tr(X) wrt X", "X=20000x20000", "--random", "--symbolic", "--max-memory", "1MB")
    assert r.exit_code == 0, r.stderr
    assert jacli.derive("tr(X) wrt X", X=(20000, 20000), random=True, symbolic=True).formula == "vec(I₂₀₀₀₀)ᵀ"
    r = run("hessian", "tr(X' X) wrt X", "X=20000x20000", "--random", "--symbolic", "--max-memory", "1MB")
    assert r.exit_code == 0, r.stderr
    with pytest.raises(JacliError, match=re.escape("hessian() always evaluates")):
        jacli.hessian("tr(X' X) wrt X", X=(2, 2), symbolic=True)


def test_text_file_size_is_guarded_before_parsing(monkeypatch):
    np.savetxt("big.csv", np.ones((100, 100)), delimiter=",")

    def no_parse(*a, **k):
        raise AssertionError("parsed")

    monkeypatch.setattr(np, "loadtxt", no_parse)
    line = refused(run("derive", "tr(X) wrt X", "X=big.csv", "--max-memory", "10kB"), "X=big.csv")
    assert "about 10,000 numbers" in line and "80.0 kB" in line


def test_the_api_guards_memory_by_default(monkeypatch):
    import jacli.io.specs as specs

    monkeypatch.setattr(specs, "default_max_memory", lambda: 1e6)
    a = np.ones((30, 30))
    with pytest.raises(
        JacliError, match=r"900×900: 6,480,000 bytes .* above the limit of 1,000,000 bytes; raise max_bytes"
    ):
        jacli.jacobian("A X B wrt X", A=a, B=a, X=(30, 30))
    with pytest.raises(JacliError, match="random values"):
        jacli.derive("tr(X) wrt X", X=(1000, 1000), random=True)
    assert jacli.jacobian("A X B wrt X", A=a, B=a, X=(30, 30), max_bytes=math.inf).shape == (900, 900)
    assert jacli.jacobian("A X B wrt X", A=a, B=a, X=(30, 30), max_bytes="10MB").shape == (900, 900)
    with pytest.raises(JacliError, match="random values"):
        jacli.check("tr(X) wrt X", X=(1000, 1000))


def test_json_output_is_streamed_and_unchanged():
    from jacli.cli.render import to_json, write_json

    r = jacli.derive("X' X wrt X", X=np.arange(12.0).reshape(4, 3) - 5.0)
    for gradient, result in ((False, r), (True, jacli.derive("tr(X' X) wrt X", X=np.eye(3) - 1))):
        m = result.gradient if gradient else result.matrix
        out = io.StringIO()
        write_json(result, m, out, gradient)
        assert out.getvalue() == to_json(result, m, gradient) + "\n"
        json.loads(out.getvalue())
    big = np.arange(200_000.0).reshape(1000, 200)  # more than one block of rows
    out = io.StringIO()
    write_json(r, big, out)
    assert json.loads(out.getvalue())["matrix"] == big.tolist()


@pytest.mark.skipif(sys.platform != "linux", reason="VmHWM is Linux's")
def test_json_output_takes_little_memory_beyond_the_matrix():
    args = ["derive", "A X B wrt X", "A=30x30", "B=30x30", "--random", "--format", "json"]  # J: 6.5 MB
    base = peak_rss("derive", "A X B wrt X", "A=30x30", "B=30x30", "--random", "--symbolic")
    assert peak_rss(*args) - base < 4 * 6.48e6  # all at once it was 13.5× J


@pytest.mark.skipif(sys.platform != "linux", reason="VmHWM is Linux's")
@pytest.mark.parametrize("wrt", ["x, Y", "Y, x"])
def test_blocks_of_several_names_stay_within_the_limit(tmp_path, wrt):
    args = ["derive", f"x * Y wrt {wrt}", "x=1x1", "Y=3000x1", "--random", "--max-memory", "1MB"]
    base = peak_rss(*args, "--symbolic")
    grown = peak_rss(*args, "-o", str(tmp_path / "J.npy")) - base  # J: 3000×3001, 72 MB
    assert grown < 20e6  # blocks sized by all the columns (the first name's alone: 110 MB)


# --------------------------------------------------------------------------- exit 2, never 70

BIG = "9" * 5000


@pytest.mark.parametrize(
    "args",
    [
        ["derive", f"X^{BIG} wrt X", "X=2x2"],
        ["derive", f"I({BIG}) X wrt X", "X=2x2", "--symbolic"],
        ["derive", f"K({BIG}, 2) x wrt x", "--symbolic"],
        ["derive", f"{BIG} X wrt X", "X=2x2", "--symbolic"],
        ["derive", "X wrt X", f"X={BIG}x2", "--symbolic"],
        ["derive", "X wrt X", f"X={BIG}"],
        ["derive", "X wrt X", "X=99999999999999999999x2"],
        ["derive", "X wrt X", f"X=[{BIG}]"],
        ["derive", "X wrt X", "X=" + "[" * 100_000],
        ["derive", "x ⊗ x ⊗ x ⊗ x wrt x", "x=100000", "--random", "--sparse", "-o", "J.npz"],
        ["derive", "x ⊗ x ⊗ x ⊗ x wrt x", "x=100000", "--random"],
        ["derive", "x ⊗ x ⊗ x ⊗ x wrt x", "x=100000", "--random", "-o", "J.npy"],
        ["check", "x ⊗ x ⊗ x ⊗ x wrt x", "x=100000"],
    ],
)
def test_what_python_or_numpy_cannot_hold_is_bad_input(args):
    r = run(*args)
    refused(r)
    assert not os.listdir(".")


def test_a_huge_max_memory_means_no_limit():
    r = run("derive", "A X wrt X", "A=[[1, 2]]", "X=2x1", "--max-memory", BIG, "--format", "plain")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "1.0 2.0"


def test_an_output_encoding_without_the_notation_gets_ascii():
    r = jacli_process("derive", "A X B wrt X", "A=2x3", "B=4x5", "--symbolic", env={"PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "kron(B', A)\n"
    assert parse_expr("kron(B', A)") == parse_expr("Bᵀ ⊗ A")
    r = jacli_process(
        "derive", "tr(X' A X) wrt X", "A=2x2", "X=2x2", "--random", "--gradient", env={"PYTHONIOENCODING": "ascii"}
    )
    assert r.returncode == 0 and r.stdout.isascii(), r.stderr
    assert "# df/dX = (A + A') X" in r.stdout.splitlines()
    r = jacli_process("check", "A X B wrt X", "A=2x2", "B=2x2", "--against", "A ⊗ B", env={"PYTHONIOENCODING": "ascii"})
    assert r.returncode == 1 and r.stdout.isascii(), r.stderr
    assert "  claim kron(A, B): DISAGREES" in r.stdout
    r = jacli_process("derive", "A X wrt X", "A=2x3", "X=4x5", "--symbolic", env={"PYTHONIOENCODING": "ascii"})
    assert (r.returncode, r.stderr) == (2, "jacli: error: cannot multiply 2x3 by 4x5 at column 3\n")  # 2×3 by 4×5


@pytest.mark.skipif(not POSIX, reason="shell redirections")
@pytest.mark.parametrize(
    "args, code",
    [
        (["derive", "A X B wrt X", "A=2x2", "B=2x2", "--random"], 74),  # lost output is no success, as for cat
        (["check", "A X B wrt X", "A=2x2", "B=2x2", "--against", "B' ⊗ A"], 74),
        (["check", "A X B wrt X", "A=2x2", "B=2x2", "--against", "A ⊗ B"], 1),  # the disagreement stays told
        (["batch", "-"], 74),
    ],
)
def test_a_closed_or_full_stdout_keeps_the_exit_code_or_says_the_output_is_lost(args, code):
    import shlex

    line = shlex.join([*JACLI, *args])
    targets = [">&-"] + ([">/dev/full"] if os.path.exists("/dev/full") else [])
    for target in targets:
        r = subprocess.run(
            ["sh", "-c", f"{line} {target}"],
            capture_output=True,
            text=True,
            env=tree_env(),
            input="derive 'X wrt X' X=2x2",
        )
        assert r.returncode == code, (target, r.stderr)
        assert r.stderr.count("\n") == 1 and "the output is lost" in r.stderr, (target, r.stderr)
        assert "Traceback" not in r.stderr
        r = subprocess.run(
            ["sh", "-c", f"{line} {target} 2>&-"],
            capture_output=True,
            text=True,
            env=tree_env(),
            input="derive 'X wrt X' X=2x2",
        )
        assert r.returncode == code, (target, r.stderr)


@pytest.mark.skipif(not POSIX, reason="pipes")
@pytest.mark.parametrize("against, code", [("A ⊗ B", 1), ("B' ⊗ A", 0)])
def test_a_reader_that_stops_changes_no_exit_code(against, code):
    rd, wr = os.pipe()
    os.close(rd)  # nobody reads: every write fails with EPIPE
    try:
        r = jacli_process(
            "check", "A X B wrt X", "A=2x2", "B=2x2", "--against", against, stdout=wr, stderr=subprocess.PIPE
        )
    finally:
        os.close(wr)
    assert r.returncode == code and r.stderr == "", r.stderr


# --------------------------------------------------------------------------- killed runs


def _kill_during(args, target: str, sig: int) -> tuple[subprocess.Popen, bool]:
    """Start jacli, send ``sig`` once its temporary file exists: the finished process, and
    whether the signal was sent. The child starts with the signal's default action: run in
    the background or under nohup, the tests would pass it SIGINT or SIGHUP ignored, which
    jacli keeps ignored."""

    inherited = signal.signal(sig, signal.SIG_DFL)  # an ignored signal stays ignored across exec; a handler does not
    try:
        p = jacli_popen(*args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finally:
        signal.signal(sig, inherited)
    sent = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and p.poll() is None:
        if any(n.startswith("." + target) and n.endswith(".tmp") for n in os.listdir(".")):
            p.send_signal(sig)
            sent = True
            break
        time.sleep(0.002)
    p.wait(60)
    return p, sent


@pytest.mark.skipif(not POSIX, reason="signals")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP", "SIGINT"])
@pytest.mark.parametrize(
    "args, target",
    [
        (["derive", "A X B wrt X", "A=90x90", "B=90x90", "--random", "-o", "J.npy"], "J.npy"),  # 525 MB
        (["derive", "X' X wrt X", "X=200x200", "--random", "--sparse", "-o", "J.npz"], "J.npz"),
    ],
)
def test_a_killed_run_leaves_no_temporary_file_and_the_target_as_it_was(sig, args, target):
    if target == "J.npz":
        pytest.importorskip("scipy")
    Path(target).write_text("as it was")
    signum = getattr(signal, sig)
    p, sent = _kill_during(args, target, signum)
    stderr = p.stderr.read().decode() if p.stderr else ""
    if not sent and p.returncode == 0:
        pytest.skip("the run ended before its temporary file was seen")
    assert sent, (p.returncode, stderr)  # a signal that came and went unanswered fails, it is not skipped
    assert p.returncode == (130 if sig == "SIGINT" else -signum), (p.returncode, stderr)
    assert "Traceback" not in stderr
    assert sorted(os.listdir(".")) == [target]
    if Path(target).read_bytes() != b"as it was":  # the signal came after the file was complete
        got = np.load(target) if target.endswith(".npy") else np.load(target, allow_pickle=False)
        assert got is not None and Path(target).stat().st_size > 1000


def test_a_long_valid_file_name_stays_valid():
    name = "a" * 250 + ".npy"  # 254 characters: the limit is 255
    r = run("derive", "A X wrt X", "A=[[1, 2]]", "X=2x1", "-o", name)
    assert r.exit_code == 0, r.stderr
    assert os.listdir(".") == [name]
    np.testing.assert_array_equal(np.load(name), [[1.0, 2.0]])


def test_no_temporary_file_after_an_interrupt_in_the_writer(monkeypatch):
    from jacli.io.writers import atomic_write

    Path("J.npy").write_text("as it was")

    def write(f):
        f.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write("J.npy", write)
    assert os.listdir(".") == ["J.npy"] and Path("J.npy").read_text() == "as it was"


# --------------------------------------------------------------------------- readers agree with NumPy


def _member(a) -> bytes:
    b = io.BytesIO()
    np.lib.format.write_array(b, np.asarray(a))
    return b.getvalue()


@pytest.mark.parametrize("names", [("X.npy", "X.npy"), ("X", "X.npy")])
def test_npz_with_two_members_of_one_name_is_refused(names):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
        with zipfile.ZipFile("d.npz", "w") as zf:
            zf.writestr(names[0], _member([[1.0]]))
            zf.writestr(names[1], _member([[2.0]]))
            zf.writestr("Y.npy", _member([[3.0]]))
    refused(run("derive", "X wrt X", "X=d.npz", "--format", "plain"), "2 arrays are named 'X'")
    refused(run("derive", "X wrt X", "--values", "d.npz", "--format", "plain"), "2 arrays are named 'X'")
    assert parse_spec("Y", "d.npz").value.tolist() == [[3.0]]  # the other names read as numpy.load reads them


@pytest.mark.parametrize(
    "text",
    [
        "1 2\n3 4\n",
        "1,2\r\n3,4\r\n",
        "1 2\r3 4\r",
        "# a, b\n1 2\n\n  3 4  # x, y\n",
        "1\u30002\n3\u00a04\n",
        "\ufeff1,2\n3,4\n",
        "1e3 -2.5E-1\n.5 +3\n",
    ],
)
def test_text_files_read_as_numpy_reads_them(text):
    Path("t.txt").write_bytes(text.encode("utf-8"))
    got = parse_spec("A", "t.txt").value
    comma = "," in "".join(line.partition("#")[0] for line in text.splitlines())
    want = np.loadtxt("t.txt", delimiter="," if comma else None, ndmin=2, encoding="utf-8-sig")
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "text, what",
    [
        ("1 2\v3 4\n", "line 1 holds a vertical tab (U+000B)"),
        ("1 2\n3 4\f\n", "line 2 holds a form feed (U+000C)"),
        ("1,2\u20283,4\n", "line 1 holds a line separator (U+2028)"),
        ("# c\n1 2\u0085 3 4\n", "line 2 holds a next-line character (U+0085)"),
        ("1 2\r\n3 4\x1e\n", "line 2 holds a record separator (U+001E)"),
    ],
)
def test_line_breaks_numpy_reads_as_spaces_are_refused(text, what):
    Path("t.csv").write_bytes(text.encode("utf-8"))
    refused(run("derive", "X wrt X", "X=t.csv"), "X=t.csv", what)


@pytest.mark.parametrize("spec", ["1_000", "-৪", "৪", "+1_0"])
def test_numbers_are_ascii_digits_without_underscores(spec):
    refused(run("derive", "X wrt X", f"X={spec}"), f"X={spec}")


def test_other_scripts_digits_are_refused_in_expressions_and_files():
    line = refused(run("derive", "৪ X wrt X", "X=2x2", "--symbolic"), "unexpected digit '৪'", "column 1")
    assert "0-9" in line
    refused(run("derive", "X^৪ wrt X", "X=2x2", "--symbolic"), "'৪'")
    Path("b.csv").write_text("1,৪\n", encoding="utf-8")
    refused(run("derive", "X wrt X", "X=b.csv"), "'৪' is not a number")
    Path("u.csv").write_text("1_000,2\n")
    refused(run("derive", "X wrt X", "X=u.csv"), "'1_000' is not a number")


# --------------------------------------------------------------------------- the API


def test_api_refusals_in_the_apis_words():
    a = np.ones((2, 2))
    cases = [
        (lambda: jacli.derive(42), 'the expression is a str such as "A X B wrt X", not int'),
        (lambda: jacli.jacobian("X wrt X", X=(2.0, 2)), "X=(2.0, 2): a tuple is a shape"),
        (lambda: jacli.jacobian("X wrt X", X=(True, 2)), "a tuple is a shape"),
        (lambda: jacli.jacobian("X wrt X", X=(2, 2), symbolic=True), "jacobian() always evaluates"),
        (lambda: jacli.jacobian("X wrt X", X=a, maxbytes=10), "did you mean max_bytes?"),
        (lambda: jacli.derive("X wrt X", X=a, sed=1), "'sed', which is neither an option"),
        (lambda: jacli.derive("X wrt X", X=(2, 2), max_bytes="lots"), "max_bytes 'lots'"),
        (lambda: jacli.derive("X wrt X", X=(2, 2), max_bytes=-1), "max_bytes is a non-negative number"),
        (lambda: jacli.derive("X wrt X", X=(2, 2), vec="rows"), "vec is 'col' or 'row', not 'rows'"),
        (lambda: jacli.derive("X wrt X", X=(2, 2), random=1), "random is True or False"),
        (lambda: jacli.derive("X wrt X", X=(2, 2), seed=-1, random=True), "seed is a non-negative integer"),
        (lambda: jacli.check("X wrt X", X=(2, 2), tol="a"), "tol is a positive number"),
        (lambda: jacli.check("X wrt X", X=(2, 2), method="exact"), "method is 'complex' or 'central'"),
        (lambda: jacli.check("X wrt X", X=(2, 2), against=3), "against is a formula"),
        (lambda: jacli.derive("X wrt X", X=None), "X=None: give an array or a shape tuple"),
        (lambda: jacli.derive("X wrt X", [("X", (2, 2))]), "bindings are a dict"),
        (lambda: jacli.derive("X wrt X", {1: a}), "a binding's name is a str"),
        (lambda: jacli.derive("(" * 5000 + "X" + ")" * 5000 + " wrt X", X=a), "nested too deeply"),
        (lambda: jacli.derive("X wrt X", X=(10**30, 2), symbolic=True), "NumPy's largest"),
        (lambda: jacli.derive("X wrt X", X=np.ma.masked_array([1.0, 2.0], mask=[0, 1])), "1 masked entry"),
        (lambda: jacli.derive("A X wrt A", A=a, X=(2, 2)), "(e.g. X=numpy.ones(...)), or use random=True, or"),
        (lambda: jacli.jacobian("A X wrt X", A=np.ones((300, 300)), X=(300, 300), max_bytes=1e6), "raise max_bytes"),
    ]
    for call, words in cases:
        with pytest.raises(JacliError) as info:
            call()
        text = str(info.value)
        assert words in text, (words, text)
        assert "\n" not in text and " --" not in text and not text.startswith("--"), text


def test_masked_arrays_and_tensors_lose_nothing():
    m = np.ma.masked_array([[1.0, 2.0]], mask=[[False, False]])
    assert jacli.derive("X wrt X", X=m).problem.values["X"].tolist() == [[1.0, 2.0]]

    class Tensor:  # what a PyTorch tensor that requires grad looks like to jacli
        def __init__(self, a, grad=True):
            self.a, self.grad = np.asarray(a), grad

        def __array__(self, *args, **kw):
            if self.grad:
                raise RuntimeError("Can't call numpy() on Tensor that requires grad.")
            return self.a

        def detach(self):
            return Tensor(self.a, grad=False)

        def cpu(self):
            return self

        def numpy(self):
            return self.__array__()

    r = jacli.derive("sum(X) wrt X", X=Tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert r.problem.values["X"].tolist() == [[1.0, 2.0], [3.0, 4.0]]

    class Broken:
        def __array__(self, *args, **kw):
            raise RuntimeError("no")

    with pytest.raises(JacliError, match=r"X: cannot be read as an array \(RuntimeError: no\)"):
        jacli.derive("X wrt X", X=Broken())


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.binary(max_size=3),
    st.tuples(st.integers(-3, 5)),
    st.tuples(st.integers(-3, 5), st.integers(-3, 5)),
    st.tuples(st.floats(0, 5), st.integers(1, 3)),
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    st.lists(st.floats(-3, 3), max_size=4),
    st.lists(st.lists(st.integers(-3, 3), min_size=1, max_size=3), max_size=3),
    st.builds(lambda n, m: np.ones((n, m)), st.integers(0, 3), st.integers(0, 3)),
    st.builds(lambda m: np.ma.masked_array(np.ones(3), mask=m), st.lists(st.booleans(), min_size=3, max_size=3)),
    st.just(np.array([1 + 2j])),
    st.just(np.zeros((1, 2, 2))),
    st.just({"a": 1}),
    st.just(object()),
)
_option = st.sampled_from(["vec", "random", "seed", "symbolic", "max_bytes", "X", "A", "Y", "symbolc", "tol"])
_sources = st.one_of(
    st.sampled_from(["A X wrt X", "X' X wrt X", "tr(X) wrt X", "inv(X) wrt X", "x' A x wrt x", "A X", "", "wrt"]),
    st.text(max_size=12),
    st.none(),
    st.integers(),
)


@settings(
    max_examples=int(os.environ.get("JACLI_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    function=st.sampled_from(
        ["derive", "jacobian", "check", "differential", "operator", "compile", "hessian", "derive_hessian", "explain"]
    ),
    source=_sources,
    kwargs=st.dictionaries(_option, _values, max_size=4),
    bindings=st.one_of(st.none(), st.dictionaries(st.sampled_from(["X", "A", "x", "Q"]), _values, max_size=2)),
)
def test_the_api_raises_only_jacli_error(function, source, kwargs, bindings):
    if function == "check":
        kwargs = {("tol" if k == "symbolic" else k): v for k, v in kwargs.items()}
    if function in ("jacobian", "hessian"):
        kwargs.pop("symbolic", None)
    if function in ("derive", "jacobian", "check", "hessian", "derive_hessian"):
        kwargs.setdefault("max_bytes", 1e7)
    fn = getattr(jacli, function)
    try:
        got = fn(source, bindings, **kwargs)
    except JacliError as err:
        text = str(err)
        assert text and "\n" not in text and " --" not in text and not text.startswith("--"), text
        return
    if function in ("jacobian", "hessian"):
        assert isinstance(got, np.ndarray) and got.dtype == np.float64 and np.all(np.isfinite(got))
    elif function == "derive":
        assert got.matrix is None or np.all(np.isfinite(got.matrix))
    elif function == "check":
        assert isinstance(got.agree, bool)


# --------------------------------------------------------------------------- messages


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["derive", "X wrt X", "--format", "foo"],
            "invalid value for '--format': 'foo' is not one of 'auto', 'table', 'plain', 'csv', 'json', 'latex', "
            "'markdown', 'python' (see jacli derive --help)",
        ),
        (["derive"], "missing argument 'expr' (see jacli derive --help)"),
        (["frob"], "no such command 'frob' (see jacli --help)"),
        (
            ["derive", "X wrt X", "--seed", "-1"],
            "invalid value for '--seed': -1 is not in the range x>=0 (see jacli derive --help)",
        ),
        (["check", "X wrt X", "--tol"], "option '--tol' requires an argument"),
    ],
)
def test_usage_errors_are_one_line_in_jacli_style(args, message):
    r = jacli_process(*args)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", f"jacli: error: {message}\n")


@pytest.mark.xfail(
    strict=True,
    reason="an option given without its value is the one kind of usage error that does not point at the command's "
    "--help: the parser's error carries no context, so jacli.cli.app.usage_line adds nothing",
)
def test_an_option_without_its_value_points_at_the_help_too():
    r = run("check", "X wrt X", "--tol")
    assert (r.exit_code, r.stderr) == (
        2,
        "jacli: error: option '--tol' requires an argument (see jacli check --help)\n",
    )


def test_unused_names_of_a_values_file_are_one_warning():
    np.savez("v.npz", X=np.eye(2), **{f"n{i}": np.zeros(1) for i in range(1000)})
    r = run("derive", "X wrt X", "--values", "v.npz", "--symbolic")
    assert r.exit_code == 0
    assert r.stderr == "jacli: warning: 1,000 names in v.npz are not in the expression\n"
    np.savez("w.npz", X=np.eye(2), a=1.0, b=2.0)
    r = run("derive", "X wrt X", "--values", "w.npz", "--symbolic")
    assert r.stderr == "jacli: warning: a, b in w.npz are not in the expression\n"
    r = run("derive", "X wrt X", "X=2x2", *[f"N{i}=1x1" for i in range(10)], "--symbolic")
    assert r.stderr.startswith("jacli: warning: 10 bound names do not occur in the expression (N0, N1")
    assert r.stderr.count("\n") == 1


def test_numpy_warnings_do_not_leak():
    pytest.importorskip("scipy")
    r = jacli_process("derive", "exp(X)*1e308 wrt X", "X=[[1.0, 1]]", "--sparse", "-o", "s.npz")
    assert r.returncode == 2
    assert r.stderr == "jacli: error: the Jacobian has infinite or NaN entries for these values (overflow)\n"
    assert not os.listdir(".")


@pytest.mark.parametrize("ch", ["\x00", "\u200b", "\u202e", "\u2066", "\ufeff", "\x1b"])
def test_hidden_characters_are_shown_as_code_points(ch):
    r = run("derive", f"A{ch}X wrt X", "A=2x2", "X=2x2")
    line = refused(r, f"<U+{ord(ch):04X}>")
    assert ch not in line
    from jacli.cli.reporting import message_lines

    err = JacliError(f"unexpected character '{ch}' at column 2", column=2, source=f"A{ch}X wrt X")
    lines = message_lines(err, terminal=True)
    assert len(lines) == 3 and all(ch not in x for x in lines)
    assert lines[2].index("^") == lines[1].index("<")  # the caret under the escaped character


def test_a_long_source_is_shown_around_the_column():
    from jacli.cli.reporting import message_lines

    source = "A + " * 10_000 + "$"
    lines = message_lines(JacliError("x", column=len(source), source=source), terminal=True)
    assert len(lines) == 3 and len(lines[1]) < 120 and lines[1][lines[2].index("^")] == "$"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["derive", "A X wrt X", "A=2x2", "X=2x2", "--random", "-o", ""], "such as J.npy"),
        (["derive", "A X wrt X", "--values", "", "--symbolic"], "--values needs a file name"),
        (["check", "A X wrt X", "A=2x2", "X=2x2", "--save-values", ""], "such as values.npz"),
    ],
)
def test_empty_file_names_are_errors(args, words):
    refused(run(*args), words)
    assert not os.listdir(".")


@pytest.mark.skipif(not POSIX, reason="a pseudo-terminal")
def test_refusals_are_at_most_three_lines_with_a_caret():
    import pty

    args = ("derive", "A X + trce(X) wrt X", "A=2x2", "X=2x2")
    message = "jacli: error: unknown function 'trce' (did you mean 'tr'?) at column 7\n"
    r = jacli_process(*args)  # not a terminal: the message alone
    assert (r.returncode, r.stdout, r.stderr) == (2, "", message)
    master, terminal = pty.openpty()  # stderr on a terminal: the source and a caret under the column
    try:
        r = jacli_process(*args, stdout=subprocess.PIPE, stderr=terminal)
    finally:
        os.close(terminal)
    shown = _read_to_the_end(master).decode().replace("\r\n", "\n")
    assert (r.returncode, r.stdout) == (2, "")
    assert shown == message + "  A X + trce(X) wrt X\n" + "        ^\n"


def _read_to_the_end(fd: int) -> bytes:
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


@pytest.mark.skipif(not POSIX, reason="signals")
def test_ctrl_c_while_starting_prints_no_traceback():
    code = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'typer':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "sys.argv = ['jacli', '--version']\n"
        "from jacli.cli import main\n"
        "main()\n"
    )
    r = python_process(code)
    assert r.returncode == 130 and "Traceback" not in r.stderr, r.stderr
    code = (
        "import sys\n"
        "import jacli.cli.commands as c\n"
        "def stop(*a, **k):\n"
        "    raise KeyboardInterrupt\n"
        "c.do_derive = stop\n"
        "sys.argv = ['jacli', 'derive', 'X wrt X', '--symbolic']\n"
        "from jacli.cli import main\n"
        "main()\n"
    )
    r = python_process(code)
    assert r.returncode == 130 and "Traceback" not in r.stderr, r.stderr


def test_read_bindings_share_one_budget():
    np.save("a.npy", np.ones((100, 100)))  # 80 kB each
    read_bindings(["A=a.npy", "B=a.npy"], None, 200_000)
    with pytest.raises(
        JacliError, match=re.escape("B=a.npy: 100×100 array needs 80.0 kB as float64, more than the limit of 40.0 kB")
    ):
        read_bindings(["A=a.npy", "B=a.npy"], None, 120_000)


def test_arrays_of_a_values_file_that_the_expression_lacks_are_not_read():
    with zipfile.ZipFile("v.npz", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("X.npy", _member(np.eye(2)))
        with zf.open("Big.npy", "w") as f:  # declares 8 MB: refused if it were read
            np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (1000, 1000)})
            f.write(bytes(8_000_000))
    r = run("derive", "X wrt X", "--values", "v.npz", "--max-memory", "100kB", "--format", "plain")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == "jacli: warning: Big in v.npz is not in the expression\n"
    refused(run("derive", "Big wrt Big", "--values", "v.npz", "--max-memory", "100kB"), "declares")
