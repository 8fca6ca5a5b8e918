"""Tests for jacli.io: reading bindings and writing outputs."""

from __future__ import annotations

import io
import itertools
import json
import os
import stat
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from jacli.errors import JacliError
from jacli.io.arrays import as_matrix
from jacli.io.readers import load_values_file
from jacli.io.sparse import save_sparse_npz
from jacli.io.specs import Binding, parse_spec
from jacli.io.writers import (
    OUTPUT_SUFFIXES,
    atomic_write,
    check_output_path,
    format_rows,
    save_matrix,
    save_npy_blocks,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def message(fn, *args, **kw) -> str:
    with pytest.raises(JacliError) as info:
        fn(*args, **kw)
    text = str(info.value)
    assert "\n" not in text
    return text


def same(a, b, signed: bool = True) -> bool:
    """Equal dtype, shape and values; with ``signed`` also the sign of zeros (binary formats
    keep -0.0; text formats print it as 0.0, the same number)."""
    a, b = np.asarray(a), np.asarray(b)
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and np.array_equal(a, b)
        and (not signed or a.dtype.kind != "f" or np.array_equal(np.signbit(a), np.signbit(b)))
    )


TRICKY = np.array(
    [
        [1.0, 0.5, -2.25e-10, 1 / 3],
        [-0.0, 5e-324, 1.7976931348623157e308, -123456789.123456789],
        [np.pi, np.e, 1e16 + 2, 0.1 + 0.2],
    ]
)


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    "spec, shape",
    [
        ("3x4", (3, 4)),
        ("3X4", (3, 4)),
        ("3×4", (3, 4)),
        ("3,4", (3, 4)),
        ("3 x 4", (3, 4)),
        (" 2 , 7 ", (2, 7)),
        ("5", (5, 1)),
        ("1x1", (1, 1)),
    ],
)
def test_shape_specs(spec, shape):
    b = parse_spec("A", spec)
    assert b == Binding(shape=shape, value=None, source=spec.strip())


@pytest.mark.parametrize(
    "spec, msg",
    [
        ("3x", "A=3x: dimensions must be positive integers, as in A=3x4"),
        ("0x3", "A=0x3: dimensions must be positive integers, as in A=3x4"),
        ("-1x2", "A=-1x2: dimensions must be positive integers, as in A=3x4"),
        ("x-1", "A=x-1: dimensions must be positive integers, as in A=3x4"),
        ("2.5x3", "A=2.5x3: dimensions must be positive integers, as in A=3x4"),
        ("3x4x5", "A=3x4x5: a shape has two dimensions, as in A=3x4 (or A=5 for a column)"),
        ("0", "A=0: dimensions must be positive integers, as in A=3x4 (for the number 0 write A=0.0)"),
    ],
)
def test_bad_shapes(spec, msg):
    assert message(parse_spec, "A", spec) == msg


# --------------------------------------------------------------------------- JSON literals


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("[[1,2],[3,4]]", [[1.0, 2.0], [3.0, 4.0]]),
        ("[1,2,3]", [[1.0], [2.0], [3.0]]),
        ("2.5", [[2.5]]),
        ("-3", [[-3.0]]),
        ("1e3", [[1000.0]]),
        (".5", [[0.5]]),
        ("[[1.5, -2e-3]]", [[1.5, -0.002]]),
    ],
)
def test_json_specs(spec, expected):
    b = parse_spec("A", spec)
    assert same(b.value, np.array(expected, dtype=np.float64))
    assert b.shape == b.value.shape and b.source == spec


@pytest.mark.parametrize(
    "spec, msg",
    [
        ("[[1,2],[3]]", "A=[[1,2],[3]]: not a rectangular array of numbers (row 1 has 1 entries, row 0 has 2)"),
        ("[1,true]", "A=[1,true]: not a rectangular array of numbers (entry [1] is a boolean)"),
        ('[1,"a"]', 'A=[1,"a"]: not a rectangular array of numbers (entry [1] is a string)'),
        ("[[1],[null]]", "A=[[1],[null]]: not a rectangular array of numbers (entry [1, 0] is null)"),
        ("[[[1]]]", "A=[[[1]]]: not a rectangular array of numbers (entry [0, 0] is a list)"),
        ("[[1],2]", "A=[[1],2]: not a rectangular array of numbers (row 1 is a number, not a list)"),
        ("[]", "A=[]: empty array; jacli needs at least one value"),
        ("[[]]", "A=[[]]: empty array (1×0); jacli needs at least one value"),
        ('{"a": 1}', 'A={"a": 1}: not a number or an array of numbers (it is an object)'),
        ("[NaN, 1]", "A=[NaN, 1]: has NaN or infinite entries (first at [0, 0])"),
        ("[1, -Infinity]", "A=[1, -Infinity]: has NaN or infinite entries (first at [1, 0])"),
        ("1e999", "A=1e999: has NaN or infinite entries (first at [0, 0])"),
        (
            "[1,2",
            "A=[1,2: not a valid JSON literal (Expecting ',' delimiter at column 5); "
            "write a number, [1, 2] or [[1, 2], [3, 4]]",
        ),
    ],
)
def test_bad_json(spec, msg):
    assert message(parse_spec, "A", spec) == msg


def test_long_spec_is_shortened_in_message():
    text = message(parse_spec, "A", "[" + "1," * 100 + '"x"]')
    assert text.startswith("A=[1,1,1,") and "…:" in text and len(text) < 150


# --------------------------------------------------------------------------- files: good


@pytest.mark.parametrize(
    "arr",
    [
        np.array(2.5),
        np.array([1.0, 2.0, 3.0]),
        np.arange(6.0).reshape(2, 3),
        np.arange(6).reshape(3, 2),
        np.arange(4, dtype=np.uint8),
        np.array([True, False]),
        np.array([[1.5, 2.25]], dtype=np.float32),
        np.array([0.5, 1.0], dtype=np.float16),
        np.arange(6.0).reshape(2, 3).astype(">f8"),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    ],
)
def test_npy_specs(arr):
    np.save("x.npy", arr)
    b = parse_spec("A", "x.npy")
    expected = np.atleast_1d(arr).astype(np.float64)
    if expected.ndim == 1:
        expected = expected.reshape(-1, 1)
    assert same(b.value, expected)
    assert b.value.dtype.isnative and b.shape == expected.shape and b.source == "x.npy"


def test_npy_uppercase_suffix_and_subfolder():
    os.mkdir("sub")
    with open("sub/X.NPY", "wb") as f:  # np.save would append .npy
        np.save(f, np.eye(2))
    assert same(parse_spec("A", "sub/X.NPY").value, np.eye(2))


def test_npz_specs():
    np.savez("v.npz", A=np.eye(2), B=np.array([1, 2, 3]))
    assert same(parse_spec("A", "v.npz").value, np.eye(2))
    assert same(parse_spec("A", "v.npz:B").value, np.array([[1.0], [2.0], [3.0]]))
    np.savez_compressed("c.npz", A=np.arange(4.0))
    assert same(parse_spec("A", "c.npz").value, np.arange(4.0).reshape(-1, 1))


def test_csv_and_txt_specs():
    Path("m.csv").write_text("# a comment\n1, 2.5,-3\n\n4,5e-3 , 6  # trailing\r\n")
    assert same(parse_spec("A", "m.csv").value, np.array([[1, 2.5, -3], [4, 5e-3, 6]]))
    Path("m.txt").write_text("# J\n 1  2\t3\n4 5 6\n\n# end\n")
    assert same(parse_spec("A", "m.txt").value, np.array([[1.0, 2, 3], [4, 5, 6]]))
    Path("col.txt").write_text("1\n2\n")
    assert parse_spec("A", "col.txt").shape == (2, 1)


# --------------------------------------------------------------------------- files: refused

UNPICKLED: list[str] = []


def _mark_unpickled():
    UNPICKLED.append("yes")
    return "boom"


class Evil:
    def __reduce__(self):
        return (_mark_unpickled, ())


def test_pickled_object_npy_is_refused_without_unpickling():
    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = Evil(), Evil()
    np.save("evil.npy", arr, allow_pickle=True)
    np.load("evil.npy", allow_pickle=True)  # control: the file really runs code when unpickled
    assert UNPICKLED
    UNPICKLED.clear()
    assert (
        message(parse_spec, "A", "evil.npy")
        == "A=evil.npy: refused: object arrays would need unpickling; jacli never unpickles files"
    )
    np.savez("evil.npz", A=arr, allow_pickle=True)
    assert (
        message(parse_spec, "A", "evil.npz")
        == "A=evil.npz: refused: object arrays would need unpickling; jacli never unpickles files"
    )
    assert (
        message(load_values_file, "evil.npz")
        == "--values evil.npz, array 'A': refused: object arrays would need unpickling; "
        "jacli never unpickles files"
    )
    assert UNPICKLED == []


def _npy_header_only(path, shape, descr="<f8"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    Path(path).write_bytes(buf.getvalue())


def test_huge_header_refused_as_truncated_quickly():
    _npy_header_only("huge.npy", (10**6, 10**6))
    t0 = time.perf_counter()
    assert message(parse_spec, "A", "huge.npy") == (
        "A=huge.npy: truncated or corrupt .npy file (the header promises 1000000×1000000 "
        "float64 values, 8.0 TB, but only 0 bytes follow)"
    )
    assert time.perf_counter() - t0 < 1.0
    with zipfile.ZipFile("huge.npz", "w") as zf:
        zf.write("huge.npy", "A.npy")
    assert message(parse_spec, "A", "huge.npz") == (
        "A=huge.npz: truncated or corrupt .npy array in the .npz (the header promises "
        "1000000×1000000 float64 values, 8.0 TB, but only 0 bytes follow)"
    )


def test_truncated_npy():
    np.save("t.npy", np.arange(10.0))
    data = Path("t.npy").read_bytes()
    Path("t.npy").write_bytes(data[:-3])
    assert message(parse_spec, "A", "t.npy") == (
        "A=t.npy: truncated or corrupt .npy file (the header promises 10 float64 values, "
        "80 bytes, but only 77 bytes follow)"
    )
    Path("h.npy").write_bytes(data[:20])
    assert (
        message(parse_spec, "A", "h.npy")
        == "A=h.npy: corrupt .npy file (unreadable .npy header); save it again with numpy.save"
    )


@pytest.mark.parametrize(
    "arr, problem",
    [
        (
            np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]),
            "refused: structured dtype; jacli needs a plain numeric array",
        ),
        (np.array(["a", "bc"]), "refused: string dtype (<U2); jacli needs a numeric array"),
        (np.array([b"a"]), "refused: string dtype (|S1); jacli needs a numeric array"),
        (np.array([1 + 2j]), "complex values are not supported; give the real and imaginary parts separately"),
        (
            np.array(["2020-01-01"], dtype="M8[D]"),
            "refused: datetime64[D] values are not numbers; jacli needs a numeric array",
        ),
        (np.zeros((2, 3, 4)), "3-D array (2×3×4); jacli needs a matrix, a vector or a scalar"),
        (np.zeros((0, 3)), "empty array (0×3); jacli needs at least one value"),
        (np.zeros(0), "empty array (0); jacli needs at least one value"),
        (np.array([[1.0, 2.0], [np.nan, 3.0]]), "has NaN or infinite entries (first at [1, 0])"),
        (np.array([1.0, 2.0, np.inf]), "has NaN or infinite entries (first at [2, 0])"),
        (
            np.array([1e300], dtype=np.longdouble) * 1e300
            if np.finfo(np.longdouble).max > 1e600
            else np.array([np.inf]),
            "has NaN or infinite entries (first at [0, 0])",
        ),
    ],
)
def test_npy_refusals(arr, problem):
    np.save("x.npy", arr)
    assert message(parse_spec, "A", "x.npy") == f"A=x.npy: {problem}"
    np.savez("x.npz", A=arr)
    assert message(parse_spec, "A", "x.npz") == f"A=x.npz: {problem}"
    assert message(as_matrix, "A", arr) == f"A: {problem}" or arr.dtype.kind in "SUM"


def test_file_refusals():
    assert message(parse_spec, "A", "nope.npy") == "A=nope.npy: no such file (check the path)"
    assert message(parse_spec, "A", "nope.csv") == "A=nope.csv: no such file (check the path)"
    os.mkdir("d.npy")
    assert message(parse_spec, "A", "d.npy") == "A=d.npy: is a directory, not a file"
    Path("t.npy").write_text("1 2 3\n")
    assert message(parse_spec, "A", "t.npy") == (
        "A=t.npy: not a .npy file (it does not start with the .npy magic bytes); save it with numpy.save"
    )
    Path("foo.mat").write_bytes(b"")
    assert message(parse_spec, "A", "foo.mat") == (
        "A=foo.mat: unknown file type '.mat' (use .npy, .npz, .csv, .txt, a shape like 3x4, or a JSON literal)"
    )
    assert message(parse_spec, "A", "foo bar") == (
        "A=foo bar: not a shape, a number or a file name (use .npy, .npz, .csv, .txt, a shape like 3x4, or a JSON "
        "literal)"
    )
    assert message(parse_spec, "A", "") == (
        "A=: empty value (use .npy, .npz, .csv, .txt, a shape like 3x4, or a JSON literal)"
    )


def test_unreadable_file(monkeypatch):
    import errno

    import jacli.io.arrays as files  # open_input lives there

    np.save("x.npy", np.eye(2))
    if IS_ROOT or os.name != "posix":  # root reads anything: simulate the refusal
        real_open = os.open

        def fake_open(path, *a, **k):
            if os.fspath(path).endswith("x.npy"):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            return real_open(path, *a, **k)

        monkeypatch.setattr(files.os, "open", fake_open)
    else:
        os.chmod("x.npy", 0)
    assert message(parse_spec, "A", "x.npy") == "A=x.npy: cannot read it: Permission denied"


def test_npz_refusals():
    Path("z.npz").write_text("not a zip")
    assert message(parse_spec, "A", "z.npz") == "A=z.npz: not a .npz file (not a zip archive); save it with numpy.savez"
    np.savez("v.npz", B=np.eye(2), C=np.ones(2))
    assert message(parse_spec, "A", "v.npz") == "A=v.npz: has no array 'A' (it has 'B', 'C'); write A=v.npz:KEY"
    assert message(parse_spec, "A", "v.npz:D") == "A=v.npz:D: has no array 'D' (it has 'B', 'C'); write A=v.npz:KEY"
    assert message(parse_spec, "A", "v.npz:") == 'A=v.npz:: no array name after ":"; write A=v.npz:KEY'
    with zipfile.ZipFile("e.npz", "w"):
        pass
    assert message(parse_spec, "A", "e.npz") == "A=e.npz: has no array 'A' (it has none); write A=e.npz:KEY"
    np.savez("c.npz", A=np.array([1j]))
    assert (
        message(parse_spec, "A", "c.npz")
        == "A=c.npz: complex values are not supported; give the real and imaginary parts separately"
    )
    with zipfile.ZipFile("t.npz", "w") as zf:
        zf.writestr("A.npy", b"hello")
    assert message(parse_spec, "A", "t.npz") == (
        "A=t.npz: not a .npy array in the .npz (it does not start with the .npy magic bytes); save it with numpy.save"
    )


@pytest.mark.parametrize(
    "text, problem",
    [
        ("1,2\n3,x\n", "line 2, column 2: 'x' is not a number"),
        ("1 2\n3 4 abc\n", "line 2 has 3 values but line 1 has 2; every row needs the same number"),
        ("# c\n1,2\n\n3\n", "line 4 has 1 values but line 2 has 2; every row needs the same number"),
        ("1,2,\n", "line 1, column 3: empty value"),
        ("", "no numbers in the file (it is empty or only comments)"),
        ("# only\n\n  \n", "no numbers in the file (it is empty or only comments)"),
        ("1,nan\n", "has NaN or infinite entries (first at [0, 1])"),
    ],
)
def test_csv_refusals(text, problem):
    Path("m.csv").write_text(text)
    assert message(parse_spec, "A", "m.csv") == f"A=m.csv: {problem}"


def test_text_not_utf8():
    Path("b.txt").write_bytes(b"\xff\xfe\x00\x01")
    assert (
        message(parse_spec, "A", "b.txt")
        == "A=b.txt: not a text file (not UTF-8); write numbers separated by commas or spaces"
    )


def test_max_bytes():
    np.save("x.npy", np.zeros((100, 100)))
    assert parse_spec("A", "x.npy", max_bytes=80000).shape == (100, 100)
    assert (
        message(parse_spec, "A", "x.npy", max_bytes=1000)
        == "A=x.npy: 100×100 array needs 80.0 kB as float64, more than the limit of 1.0 kB"
    )
    assert (
        message(parse_spec, "A", "[1,2,3]", max_bytes=16)
        == "A=[1,2,3]: 3×1 array needs 24 bytes as float64, more than the limit of 16 bytes"
    )


# --------------------------------------------------------------------------- load_values_file, as_matrix


def test_load_values_file():
    np.savez("vals.npz", x=np.arange(3), y=np.array(2.0), M=np.eye(2, dtype=np.float32))
    got = load_values_file("vals.npz")
    assert list(got) == ["x", "y", "M"]
    assert same(got["x"], np.arange(3.0).reshape(3, 1))
    assert same(got["y"], np.array([[2.0]]))
    assert same(got["M"], np.eye(2))
    np.savez("bad.npz", x=np.ones(2), y=np.ones((1, 2, 2)))
    assert (
        message(load_values_file, "bad.npz")
        == "--values bad.npz, array 'y': 3-D array (1×2×2); jacli needs a matrix, a vector or a scalar"
    )
    assert message(load_values_file, "none.npz") == "--values none.npz: no such file (check the path)"
    Path("t.npz").write_text("x")
    assert (
        message(load_values_file, "t.npz")
        == "--values t.npz: not a .npz file (not a zip archive); save it with numpy.savez"
    )


def test_as_matrix():
    assert same(as_matrix("A", 3), np.array([[3.0]]))
    assert same(as_matrix("A", 2.5), np.array([[2.5]]))
    assert same(as_matrix("A", [1, 2]), np.array([[1.0], [2.0]]))
    assert same(as_matrix("A", [[1, 2], [3, 4]]), np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert same(as_matrix("A", np.arange(6, dtype=np.int8).reshape(2, 3)), np.arange(6.0).reshape(2, 3))
    from fractions import Fraction

    assert same(as_matrix("A", [Fraction(1, 2)]), np.array([[0.5]]))
    assert message(as_matrix, "A", [[1, 2], [3]]) == "A: not a rectangular array of numbers"
    assert message(as_matrix, "A", "abc") == "A: not a number or an array of numbers"
    assert message(as_matrix, "A", [1, None]) == "A: holds None, not a number"
    assert message(as_matrix, "A", [1, "x"]) == "A: not a number or an array of numbers"
    assert message(as_matrix, "A", [object()]) == "A: not a rectangular array of real numbers"
    assert (
        message(as_matrix, "A", 1j)
        == "A: complex values are not supported; give the real and imaginary parts separately"
    )
    assert message(as_matrix, "A", []) == "A: empty array (0); jacli needs at least one value"


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize("suffix", OUTPUT_SUFFIXES)
def test_check_output_path_ok(suffix):
    assert check_output_path("out" + suffix.upper()) == suffix
    assert check_output_path(os.path.join(os.getcwd(), "x" + suffix)) == suffix


def test_check_output_path_refusals(monkeypatch):
    known = "(use .npy, .npz, .csv, .txt, .json, .tex, .md or .py)"
    assert message(check_output_path, "out.mat") == f"cannot write out.mat: unknown output type '.mat' {known}"
    assert message(check_output_path, "out") == f"cannot write out: no file suffix {known}"
    assert (
        message(check_output_path, "missing/out.npy") == "cannot write missing/out.npy: folder 'missing' does not exist"
    )
    os.mkdir("d.npy")
    assert message(check_output_path, "d.npy") == "cannot write d.npy: it is a directory"
    Path("f").write_text("")
    assert message(check_output_path, "f/out.npy") == "cannot write f/out.npy: 'f' is not a folder"
    os.mkdir("ro")
    monkeypatch.setattr(os, "access", lambda p, m: os.path.basename(p) != "ro")
    assert message(check_output_path, "ro/out.npy") == "cannot write ro/out.npy: folder 'ro' is not writable"
    Path("locked.csv").write_text("")
    monkeypatch.setattr(os, "access", lambda p, m: os.path.basename(p) != "locked.csv")
    assert message(check_output_path, "locked.csv") == "cannot write locked.csv: the file is read-only"


def _dir_listing():
    return sorted(os.listdir("."))


@pytest.mark.parametrize("exc", [ValueError("bug"), KeyboardInterrupt()])
def test_atomic_write_failure_keeps_target(exc):
    Path("out.npy").write_bytes(b"original bytes")
    before = _dir_listing()

    def write(f):
        f.write(b"partial")
        raise exc

    with pytest.raises(type(exc)):
        atomic_write("out.npy", write)
    assert Path("out.npy").read_bytes() == b"original bytes"
    assert _dir_listing() == before
    with pytest.raises(type(exc)):
        atomic_write("new.npy", write)
    assert _dir_listing() == before


def test_atomic_write_oserror_becomes_jacli_error():
    import errno

    Path("out.csv").write_bytes(b"old")

    def write(f):
        f.write(b"x")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    assert message(atomic_write, "out.csv", write) == "cannot write out.csv: No space left on device"
    assert Path("out.csv").read_bytes() == b"old"
    assert _dir_listing() == ["out.csv"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_atomic_write_modes():
    old = os.umask(0o022)
    try:
        atomic_write("new.txt", lambda f: f.write(b"hi"))
        assert stat.S_IMODE(os.stat("new.txt").st_mode) == 0o644
        os.chmod("new.txt", 0o600)
        atomic_write("new.txt", lambda f: f.write(b"again"))
        assert stat.S_IMODE(os.stat("new.txt").st_mode) == 0o600
        assert Path("new.txt").read_bytes() == b"again"
    finally:
        os.umask(old)
    assert _dir_listing() == ["new.txt"]


def test_atomic_write_through_symlink():
    Path("real.csv").write_text("old")
    os.symlink("real.csv", "link.csv")
    atomic_write("link.csv", lambda f: f.write(b"new"))
    assert os.path.islink("link.csv") and Path("real.csv").read_text() == "new"


def test_format_rows():
    assert list(format_rows(np.array([[1.0, 0.5, -2.25e-10]]))) == ["1.0 0.5 -2.25e-10\n"]
    assert list(format_rows(np.array([[1.0, 2.0], [3.0, 4.0]]), ",")) == ["1.0,2.0\n", "3.0,4.0\n"]
    text = "".join(format_rows(TRICKY))
    assert same(np.loadtxt(io.StringIO(text), ndmin=2), TRICKY, signed=False)
    assert "-0.0" not in text


def test_format_rows_property():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    @settings(max_examples=30, deadline=None)
    @given(
        arrays(
            np.float64,
            st.tuples(st.integers(1, 4), st.integers(1, 4)),
            elements=st.floats(allow_nan=False, allow_infinity=False),
        )
    )
    def check(m):
        back = np.loadtxt(io.StringIO("".join(format_rows(m, ","))), delimiter=",", ndmin=2)
        assert same(back, m, signed=False)

    check()
    del hypothesis


@pytest.mark.parametrize("suffix", [s for s in OUTPUT_SUFFIXES if s not in (".md", ".py")])  # those hold formulas
def test_save_matrix_round_trip(suffix):
    path = "J" + suffix
    save_matrix(
        path,
        TRICKY,
        formula="f(x) = x^2",
        latex=r"\begin{pmatrix}1\end{pmatrix}",
        comments=["jacli output", "two\nlines"],
    )
    if suffix == ".npy":
        ref = io.BytesIO()
        np.save(ref, TRICKY)
        assert Path(path).read_bytes() == ref.getvalue()
        assert same(np.load(path, allow_pickle=False), TRICKY)
    elif suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            assert z.files == ["J", "formula"]
            assert same(z["J"], TRICKY) and z["formula"].item() == "f(x) = x^2"
        assert same(parse_spec("J", path).value, TRICKY)
    elif suffix == ".csv":
        assert same(np.loadtxt(path, delimiter=",", ndmin=2), TRICKY, signed=False)
        assert same(parse_spec("J", path).value, TRICKY, signed=False)
        assert not Path(path).read_text().startswith("#")
    elif suffix == ".txt":
        text = Path(path).read_text()
        assert text.startswith("# jacli output\n# two\n# lines\n")
        assert same(np.loadtxt(path, ndmin=2), TRICKY, signed=False)
        assert same(parse_spec("J", path).value, TRICKY, signed=False)
    elif suffix == ".json":
        d = json.loads(Path(path).read_text())
        assert d["formula"] == "f(x) = x^2" and d["shape"] == [3, 4]
        assert same(np.array(d["matrix"], dtype=np.float64), TRICKY, signed=False)
    else:
        assert Path(path).read_text() == "\\begin{pmatrix}1\\end{pmatrix}\n"
    assert _dir_listing() == [path]


def test_save_matrix_npz_without_formula_and_column():
    save_matrix("c.npz", np.array([1.0, 2.0]))
    with np.load("c.npz", allow_pickle=False) as z:
        assert z.files == ["J"] and same(z["J"], np.array([[1.0], [2.0]]))


def test_save_matrix_unknown_suffix():
    assert (
        message(save_matrix, "J.mat", np.eye(2))
        == "cannot write J.mat: unknown output type '.mat' (use .npy, .npz, .csv, .txt, .json, .tex, .md or .py)"
    )
    assert _dir_listing() == []


def test_save_npy_blocks_equals_numpy_save():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((23, 7))
    save_npy_blocks("b.npy", M.shape, (M[i : i + 5].copy() for i in range(0, 23, 5)))
    ref = io.BytesIO()
    np.save(ref, M)
    assert Path("b.npy").read_bytes() == ref.getvalue()
    save_npy_blocks("one.npy", (1, 1), [np.array([[2.0]])])
    assert same(np.load("one.npy"), np.array([[2.0]]))


def test_save_npy_blocks_wrong_total_leaves_no_file():
    M = np.ones((4, 3))
    with pytest.raises(RuntimeError, match="blocks gave 4 rows, expected 5"):
        save_npy_blocks("b.npy", (5, 3), [M])
    with pytest.raises(RuntimeError, match="blocks exceed 3 rows"):
        save_npy_blocks("b.npy", (3, 3), [M])
    assert _dir_listing() == []
    Path("b.npy").write_bytes(b"keep")
    with pytest.raises(RuntimeError, match="blocks gave 4 rows, expected 5"):
        save_npy_blocks("b.npy", (5, 3), [M])
    assert Path("b.npy").read_bytes() == b"keep" and _dir_listing() == ["b.npy"]


def _csr_blocks(csr, cuts):
    for a, b in itertools.pairwise(cuts):
        part = csr[a:b]
        yield (np.diff(part.indptr).astype(np.int64), part.indices.astype(np.int32), part.data.astype(np.float64))


def test_save_sparse_npz_matches_scipy():
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(1)
    dense = np.where(rng.random((40, 25)) < 0.15, rng.standard_normal((40, 25)), 0.0)
    dense[[0, 7, 8, 39]] = 0.0  # empty rows, including first and last
    ref = sp.csr_matrix(dense)
    ref.sort_indices()
    cuts = [0, 5, 5, 17, 18, 40]  # includes an empty block
    save_sparse_npz("s.npz", dense.shape, _csr_blocks(ref, cuts))
    got = sp.load_npz("s.npz")
    assert got.format == "csr" and got.shape == ref.shape
    assert (got != ref).nnz == 0 and same(got.toarray(), dense)
    sp.save_npz("ref.npz", ref)
    with np.load("s.npz", allow_pickle=False) as z, np.load("ref.npz", allow_pickle=False) as r:
        assert z.files == ["indices", "indptr", "format", "shape", "data"]
        for key in z.files:
            assert same(z[key], r[key]), key
    assert _dir_listing() == ["ref.npz", "s.npz"]


def test_save_sparse_npz_all_zero_and_errors():
    sp = pytest.importorskip("scipy.sparse")
    save_sparse_npz("z.npz", (3, 4), [(np.zeros(3, np.int64), np.zeros(0, np.int32), np.zeros(0))])
    assert sp.load_npz("z.npz").nnz == 0 and sp.load_npz("z.npz").shape == (3, 4)
    before = Path("z.npz").read_bytes()
    with pytest.raises(RuntimeError, match="blocks gave 2 rows, expected 3"):
        save_sparse_npz("z.npz", (3, 4), [(np.zeros(2, np.int64), np.zeros(0, np.int32), np.zeros(0))])
    with pytest.raises(RuntimeError, match="row counts, indices and data disagree"):
        save_sparse_npz("z.npz", (1, 4), [(np.array([2]), np.array([0], np.int32), np.array([1.0]))])
    with pytest.raises(RuntimeError, match="column index out of range"):
        save_sparse_npz("z.npz", (1, 4), [(np.array([1]), np.array([4], np.int32), np.array([1.0]))])
    assert Path("z.npz").read_bytes() == before and _dir_listing() == ["z.npz"]


@pytest.mark.parametrize(
    "spec, shape",
    [
        ("m×n", ("m", "n")),
        ("m,n", ("m", "n")),
        ("mxn", ("m", "n")),
        ("3×n", (3, "n")),
        ("3xn", (3, "n")),
        ("n", ("n", 1)),
        ("n1×k", ("n1", "k")),
        ("x", ("x", 1)),
    ],
)
def test_symbolic_shapes(spec, shape):
    from jacli.sizes import dim

    want = tuple(dim(d) if isinstance(d, str) else d for d in shape)
    b = parse_spec("A", spec)
    assert b.shape == want and b.value is None


def test_nan_and_inf_are_not_sizes():
    for word in ("nan", "inf", "Infinity"):
        assert "not a shape" in message(parse_spec, "A", word)


@pytest.mark.parametrize("suffix", [".json", ".npz", ".txt"])
def test_a_saved_gradient_carries_the_gradient_formula(tmp_path, suffix):
    from cli_support import run

    path = tmp_path / f"g{suffix}"
    r = run("derive", "tr(X' X) wrt X", "X=2x3", "--random", "--gradient", "-o", path)
    assert r.exit_code == 0, r.output
    if suffix == ".json":
        doc = json.loads(path.read_text())
        assert doc["formula"] == "2 X" and doc["shape"] == [2, 3]
    elif suffix == ".npz":
        with np.load(path) as d:
            assert str(d["formula"]) == "2 X" and d["J"].shape == (2, 3)
    else:
        assert path.read_text().startswith("# ∂f/∂X = 2 X\n# shape 2x3\n")
