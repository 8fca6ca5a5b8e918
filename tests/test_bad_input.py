"""Bad input is refused cleanly: exit 2, one line `jacli: error: ...`, no traceback, nothing lost."""

from __future__ import annotations

import os
import re
import stat

import numpy as np
import pytest
from cli_support import A_NPY, AXB, B_NPY, isolated, run  # noqa: F401 (isolated: autouse)

import jacli.api.saving


def refused(result, *words, code=2) -> str:
    """Exit `code`, stderr is one line `jacli: error: ...` holding every word; returns that line."""
    info = (result.exit_code, result.stdout, result.stderr)
    assert result.exit_code == code, info
    assert "Traceback" not in result.stderr, info
    lines = result.stderr.splitlines()
    assert len(lines) == 1, info
    line = lines[0]
    assert line.startswith("jacli: error:"), info
    for w in words:
        assert w in line, (w, line)
    return line


def has_column(line: str, n: int) -> None:
    """The message points at column n."""
    assert re.search(rf"\bcolumn {n}\b", line), (n, line)


def xs(line: str) -> str:
    return line.replace("×", "x")


def no_bad_numbers(result) -> None:
    text = result.stdout.lower()
    assert "nan" not in text and "inf" not in text, result.stdout


# --------------------------------------------------------------------------- parse errors


@pytest.mark.parametrize(
    "expr, message",
    [
        ("(A X wrt X", "expected ')' to close '(' at column 1, found 'wrt' at column 6"),
        ("(A X", "expected ')' to close '(' at column 1, found the end at column 5"),
        ("A X) wrt X", "unmatched ')' at column 4"),
        ("A + wrt A", "expected an expression after '+', found 'wrt' at column 5"),
        ("A +", "expected an expression after '+', found the end at column 4"),
        ("wrt X", "expected an expression before 'wrt' at column 1"),
        ("A X B", """no 'wrt': say what to differentiate by, as in "A X B wrt X", at column 6"""),
        ("A X wrt", "nothing after 'wrt': name the variable, as in 'wrt X', at column 5"),
        ("A X wrt Y", "'Y' after 'wrt' does not occur in the expression at column 9"),
        ("I(0) X wrt X", "I needs positive sizes, as in I(3); got 0 at column 3"),
        ("K(2) X wrt X", "K takes 2 sizes, as in K(2,3); got 1 at column 1"),
        ("A $ X wrt X", "unexpected character '$' at column 3"),
    ],
)
def test_parse_errors(expr, message):
    r = run("derive", expr, "--symbolic")
    assert refused(r) == "jacli: error: " + message
    assert r.stdout == ""


def test_empty_expression():
    assert refused(run("derive", "", "--symbolic")) == "jacli: error: empty expression"


def test_wrt_name_not_in_expression():
    line = refused(run("derive", "A X wrt Y", "--symbolic"))
    assert line == "jacli: error: 'Y' after 'wrt' does not occur in the expression at column 9"


def test_unknown_function_suggests_tr():
    line = refused(run("derive", "trce(X) wrt X", "--symbolic"))
    assert line == "jacli: error: unknown function 'trce' (did you mean 'tr'?) at column 1"


def test_builtin_size_errors():
    line = refused(run("derive", "I(0) X wrt X", "--symbolic"), "0")
    has_column(line, 3)
    line = refused(run("derive", "K(2) X wrt X", "--symbolic"), "K")
    has_column(line, 1)


# --------------------------------------------------------------------------- shape errors


def test_product_shapes():
    line = refused(run("derive", "A X wrt X", "A=2x3", "X=4x5", "--symbolic"))
    assert "2x3" in xs(line) and "4x5" in xs(line)
    has_column(line, 3)


@pytest.mark.parametrize(
    "expr, words",
    [
        ("A + B wrt A", ["2x3", "3x2"]),
        ("A ∘ B wrt A", ["2x3", "3x2"]),
    ],
)
def test_elementwise_shapes(expr, words):
    line = xs(refused(run("derive", expr, "A=2x3", "B=3x2", "--symbolic")))
    for w in words:
        assert w in line
    has_column(line, 3)


@pytest.mark.parametrize("fn", ["det", "inv", "logdet", "tr"])
def test_square_functions(fn):
    line = refused(run("derive", f"{fn}(X) wrt X", "X=2x3", "--symbolic"), fn)
    assert "square" in line
    assert "2x3" in xs(line)
    has_column(line, 1)


# --------------------------------------------------------------------------- bindings


@pytest.mark.parametrize("spec", ["3x", "0x3", "-1x2", "3x4x5", "x-1", "m×"])
def test_malformed_shape_spec(spec):
    refused(run("derive", "A X wrt X", "A=2x3", f"X={spec}", "--symbolic"), f"X={spec}")


def test_bound_twice():
    assert (
        refused(run("derive", "A X wrt X", "A=2x3", "X=3x4", "X=3x4", "--symbolic")) == "jacli: error: X is bound twice"
    )


def test_binding_unused_name_is_a_warning():
    r = run("derive", "A X wrt X", "A=2x3", "X=3x4", "Z=3x3", "--symbolic")
    assert r.exit_code == 0, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert r.stderr == "jacli: warning: Z is bound but does not occur in the expression\n"
    assert r.stdout.strip().endswith("I₄ ⊗ A")


def test_nonexistent_file():
    refused(run("derive", "A X wrt X", "A=nothere.npy", "X=3x4", "--symbolic"), "nothere.npy", "no such file")


def test_directory(tmp_path):
    (tmp_path / "d.npy").mkdir()
    refused(run("derive", "A X wrt X", "A=d.npy", "X=3x4", "--symbolic"), "d.npy", "directory")


def test_truncated_npy(tmp_path):
    np.save("good.npy", np.arange(12.0).reshape(3, 4))
    data = (tmp_path / "good.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[:-20])
    line = refused(run("derive", "A X wrt X", "A=cut.npy", "X=4x2", "--symbolic"), "cut.npy")
    assert line == (
        "jacli: error: A=cut.npy: truncated or corrupt .npy file (the header promises 3×4 float64 values, "
        "96 bytes, but only 76 bytes follow)"
    )


def test_text_named_npy(tmp_path):
    (tmp_path / "text.npy").write_text("1 2\n3 4\n")
    line = refused(run("derive", "A X wrt X", "A=text.npy", "X=2x2", "--symbolic"))
    assert line == (
        "jacli: error: A=text.npy: not a .npy file (it does not start with the .npy magic bytes); "
        "save it with numpy.save"
    )


class _Payload:
    """Unpickling this calls open(marker, 'w'): the marker file proves something was unpickled."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _evil_npy(path: str, marker: str) -> None:
    arr = np.empty((2, 2), dtype=object)
    arr[:] = 1.0
    arr[0, 0] = _Payload(marker)
    np.save(path, arr, allow_pickle=True)


def test_object_array_refused_and_never_unpickled(tmp_path):
    # the payload works: loading it with pickle allowed creates its marker
    probe = tmp_path / "probe_marker"
    _evil_npy("probe.npy", str(probe))
    np.load("probe.npy", allow_pickle=True)
    assert probe.exists()

    marker = tmp_path / "marker"
    _evil_npy("evil.npy", str(marker))
    line = refused(run("derive", "A X wrt X", "A=evil.npy", "X=2x2", "--random"), "evil.npy")
    assert line == "jacli: error: A=evil.npy: refused: object arrays would need unpickling; jacli never unpickles files"
    assert not marker.exists()


def test_npz_without_the_key(tmp_path):
    np.savez("v.npz", A=np.ones((2, 3)))
    line = refused(run("derive", "A X wrt X", "A=v.npz:B", "X=3x4", "--symbolic"))
    assert line == "jacli: error: A=v.npz:B: has no array 'B' (it has 'A'); write A=v.npz:KEY"
    line = refused(run("derive", "A B wrt B", "B=v.npz", "A=2x2", "--symbolic"))
    assert line == "jacli: error: B=v.npz: has no array 'B' (it has 'A'); write B=v.npz:KEY"


def test_3d_array(tmp_path):
    np.save("cube.npy", np.ones((2, 2, 2)))
    line = refused(run("derive", "A X wrt X", "A=cube.npy", "X=2x2", "--symbolic"), "cube.npy")
    assert line == "jacli: error: A=cube.npy: 3-D array (2×2×2); jacli needs a matrix, a vector or a scalar"


def test_nan_values(tmp_path):
    np.save("nan.npy", np.array([[1.0, np.nan], [1.0, 2.0]]))
    refused(run("derive", "A X wrt X", "A=nan.npy", "X=2x2", "--random"), "nan.npy", "NaN")


def test_non_numeric_csv(tmp_path):
    (tmp_path / "bad.csv").write_text("1,2\n3,abc\n")
    refused(run("derive", "A X wrt X", "A=bad.csv", "X=2x2", "--random"), "bad.csv", "abc")


def test_json_not_rectangular():
    refused(run("derive", "A X wrt X", "A=[[1,2],[3]]", "X=2x2", "--random"), "rectangular")


def test_complex_npy_refused(tmp_path):
    np.save("c.npy", np.ones((2, 2)) + 1j)
    refused(run("derive", "A X wrt X", "A=c.npy", "X=2x2", "--random"), "c.npy", "complex")


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32])
def test_int_and_float32_read_as_float64(tmp_path, dtype):
    A = (np.arange(6).reshape(2, 3) * (0.1 if dtype == np.float32 else 1)).astype(dtype)
    np.save("A.npy", A)
    r = run("derive", "A X wrt X", "A=A.npy", "X=3x1", "-o", "J.npz")
    assert r.exit_code == 0, (r.stdout, r.stderr)
    assert r.stderr == "jacli: wrote J.npz\n"
    with np.load("J.npz") as z:
        J = z["J"]
    assert J.dtype == np.float64
    np.testing.assert_array_equal(J, A.astype(np.float64))


# --------------------------------------------------------------------------- output


def test_output_missing_folder(tmp_path):
    refused(run(*AXB, "-o", "nodir/J.npy"), "nodir")
    assert not (tmp_path / "nodir").exists()


@pytest.mark.parametrize("path, word", [("J.mat", ".mat"), ("J", "suffix")])
def test_output_bad_suffix(tmp_path, path, word):
    refused(run(*AXB, "-o", path), word)
    assert os.listdir(tmp_path) == []


def test_output_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: chmod does not stop writing")
        refused(run(*AXB, "-o", "ro/J.csv"), "ro")
        assert os.listdir(ro) == []
    finally:
        ro.chmod(stat.S_IRWXU)


def _singular(tmp_path) -> str:
    np.save("sing.npy", np.array([[1.0, 2.0], [2.0, 4.0]]))
    return "X=sing.npy"


FAILING = {
    "parse": lambda tp: ["derive", "(A X B wrt X", f"A={A_NPY}", f"B={B_NPY}"],
    "shape": lambda tp: ["derive", "A X wrt X", "A=2x3", "X=4x5", "--random"],
    "binding": lambda tp: ["derive", "A X wrt X", "A=nothere.npy", "X=3x4"],
    "missing values": lambda tp: ["derive", "A X B wrt X", "A=2x3", "B=4x5"],
    "singular": lambda tp: ["derive", "inv(X) wrt X", _singular(tp)],
    "max memory": lambda tp: ["derive", "A X B wrt X", "A=4x5", "B=6x7", "--random", "--max-memory", "1000"],
}


def _cases(suffixes):
    # -o J.npy is written block by block, so --max-memory does not refuse it (README)
    return [(c, s) for c in sorted(FAILING) for s in suffixes if not (c == "max memory" and s == ".npy")]


@pytest.mark.parametrize("case, suffix", _cases([".npy", ".csv", ".json"]))
def test_error_keeps_existing_output(tmp_path, case, suffix):
    args = FAILING[case](tmp_path)
    out = tmp_path / ("J" + suffix)
    old = b"precious \x00\x01 bytes\n" * 10
    out.write_bytes(old)
    before = sorted(os.listdir(tmp_path))
    refused(run(*args, "-o", out.name))
    assert out.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == before  # no temp files left


@pytest.mark.parametrize("case, suffix", _cases([".npy", ".txt"]))
def test_error_creates_no_output(tmp_path, case, suffix):
    args = FAILING[case](tmp_path)
    before = sorted(os.listdir(tmp_path))
    refused(run(*args, "-o", "new" + suffix))
    assert sorted(os.listdir(tmp_path)) == before


def test_internal_error_keeps_existing_output(tmp_path, monkeypatch):
    _break_derive(monkeypatch)
    (tmp_path / "J.csv").write_bytes(b"keep me")
    r = run(*AXB, "-o", "J.csv")
    assert r.exit_code == 70
    assert (tmp_path / "J.csv").read_bytes() == b"keep me"
    assert os.listdir(tmp_path) == ["J.csv"]


# --------------------------------------------------------------------------- undefined values


def test_singular_inverse(tmp_path):
    r = run("derive", "inv(X) wrt X", _singular(tmp_path))
    line = refused(r)
    assert "condition number" in line
    no_bad_numbers(r)


def test_logdet_negative_determinant(tmp_path):
    np.save("neg.npy", np.array([[0.0, 1.0], [1.0, 0.0]]))
    r = run("derive", "logdet(X) wrt X", "X=neg.npy")
    line = refused(r, "logdet")
    assert "determinant" in line
    no_bad_numbers(r)


def test_log_non_positive(tmp_path):
    np.save("np.npy", np.array([[1.0, -1.0], [1.0, 2.0]]))
    r = run("derive", "log(X) wrt X", "X=np.npy")
    refused(r, "log", "-1")
    no_bad_numbers(r)
    np.save("z.npy", np.array([[1.0, 0.0], [1.0, 2.0]]))
    r = run("derive", "log(X) wrt X", "X=z.npy")
    refused(r, "log")
    no_bad_numbers(r)


def test_sqrt_zero(tmp_path):
    np.save("z.npy", np.array([[1.0, 0.0], [1.0, 2.0]]))
    r = run("derive", "sqrt(X) wrt X", "X=z.npy")
    line = refused(r, "sqrt")
    assert line == (
        "jacli: error: sqrt(X) at column 1: entry [0,1] of the argument is 0, where the derivative of sqrt is infinite"
    )
    no_bad_numbers(r)


def test_division_by_zero(tmp_path):
    np.save("z.npy", np.array([[1.0, 0.0], [1.0, 2.0]]))
    r = run("derive", "A ./ X wrt X", "X=z.npy", "A=[[1,2],[3,4]]")
    line = refused(r)
    assert line == "jacli: error: A ./ X at column 3: division by zero (entry [0,1] of the denominator)"
    no_bad_numbers(r)


# --------------------------------------------------------------------------- internal errors


def _break_derive(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom from the test")

    monkeypatch.setattr(jacli.api.saving, "jacobian_blocks", boom)


def test_internal_error_is_a_bug_report(monkeypatch):
    _break_derive(monkeypatch)
    r = run(*AXB)
    assert r.exit_code == 70, (r.exit_code, r.stdout, r.stderr)
    assert "internal error" in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.splitlines()) == 1
    assert "--debug" in r.stderr


def test_debug_shows_the_traceback(monkeypatch):
    _break_derive(monkeypatch)
    r = run("--debug", *AXB)
    assert r.exit_code == 70, (r.exit_code, r.stdout, r.stderr)
    assert "Traceback" in r.stderr
    assert "boom from the test" in r.stderr


# --------------------------------------------------------------------------- memory limit


def test_max_memory():
    r = run("derive", "A X B wrt X", "A=4x5", "B=6x7", "--random", "--max-memory", "1000")
    line = refused(r, "-o J.npy")
    assert line == (  # J is 28×30 float64: 6,720 bytes
        "jacli: error: the Jacobian is 28×30: 6,720 bytes of float64, above the limit of 1,000 bytes; save it with "
        "-o J.npy (written block by block) or --sparse -o J.npz, or raise --max-memory"
    )


def test_max_memory_advice_works(tmp_path):
    rng = np.random.default_rng(5)
    A, B = rng.standard_normal((4, 5)), rng.standard_normal((6, 7))
    np.save("A.npy", A)
    np.save("B.npy", B)
    r = run("derive", "A X B wrt X", "A=A.npy", "B=B.npy", "--max-memory", "1000", "-o", "J.npy")
    assert r.exit_code == 0, (r.exit_code, r.stdout, r.stderr)
    assert r.stderr == "jacli: wrote J.npy\n"
    J = np.load("J.npy")
    assert J.dtype == np.float64 and J.shape == (28, 30)
    np.testing.assert_allclose(J, np.kron(B.T, A), rtol=1e-15, atol=1e-15)


def test_terminal_messages_put_a_caret_under_the_column():
    from jacli.cli.reporting import message_lines
    from jacli.errors import JacliError
    from jacli.syntax import parse

    try:
        parse("A X + trce(X) wrt X")
    except JacliError as err:
        lines = message_lines(err, terminal=True)
        assert lines == [
            "jacli: error: unknown function 'trce' (did you mean 'tr'?) at column 7",
            "  A X + trce(X) wrt X",
            "        ^",
        ]
        assert message_lines(err, terminal=False) == lines[:1]
    else:
        raise AssertionError("no error")
