"""Reading user files: .npy, .npz, .csv and .txt.

Files are never unpickled: a .npy header is parsed with :mod:`numpy.lib.format`, its
dtype checked and the data size it implies compared with the file's size before anything
is allocated. Text files are parsed by :func:`numpy.loadtxt`, so jacli reads exactly what
NumPy reads; its errors are told with the file's line and column.
"""

from __future__ import annotations

import ast
import io
import os
import re
import stat
import warnings
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy
from numpy.lib import format as _npformat

from .arrays import check_dtype, check_max_bytes, check_ndim_and_size, error, finish, shape_text, short, size_text

INPUT_SUFFIXES = (".npy", ".npz", ".csv", ".txt")


class _CountingReader:
    """Counts the bytes numpy's header readers consume."""

    def __init__(self, fp: Any) -> None:
        self.fp = fp
        self.n = 0

    def read(self, size: int = -1) -> bytes:
        b = self.fp.read(size)
        self.n += len(b)
        return b


def _read_npy_header(label: str, cfp: _CountingReader, what: str) -> tuple[tuple[int, ...], bool, numpy.dtype]:
    """The magic bytes and the header: (shape, fortran order, dtype), never unpickled."""
    head = cfp.read(_npformat.MAGIC_LEN)
    if len(head) < _npformat.MAGIC_LEN or not head.startswith(_npformat.MAGIC_PREFIX):
        raise error(label, f"not a {what} (it does not start with the .npy magic bytes); save it with numpy.save")
    try:
        version = _npformat.read_magic(io.BytesIO(head))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if version == (1, 0):
                return _npformat.read_array_header_1_0(cfp)
            if version in ((2, 0), (3, 0)):
                # 3.0 differs from 2.0 only by a UTF-8 header, used for non-ASCII field names,
                # i.e. structured arrays, which are refused anyway.
                return _npformat.read_array_header_2_0(cfp)
            raise ValueError(f"unknown .npy format version {version}")
    except (ValueError, TypeError, SyntaxError, UnicodeDecodeError, EOFError, MemoryError, RecursionError):
        raise error(label, f"corrupt {what} (unreadable .npy header); save it again with numpy.save") from None


def _read_npy_stream(
    label: str, fp: Any, available: int, max_bytes: int | None, what: str = ".npy file"
) -> numpy.ndarray:
    """Read one .npy array from ``fp``, which holds ``available`` bytes from its start.

    The header is parsed with numpy.lib.format (never with pickle); the data size it implies is
    checked against ``available`` before anything is allocated.
    """
    cfp = _CountingReader(fp)
    shape, fortran, dtype = _read_npy_header(label, cfp, what)
    if any(d < 0 for d in shape):
        raise error(label, f"corrupt {what} (negative dimension in the header)")
    check_dtype(label, dtype)
    check_ndim_and_size(label, shape)
    count = 1
    for d in shape:
        count *= d
    nbytes = count * dtype.itemsize
    remaining = available - cfp.n
    if nbytes > remaining:
        raise error(
            label,
            f"truncated or corrupt {what} (the header promises {shape_text(shape)} "
            f"{dtype.name} values, {size_text(nbytes)}, but only "
            f"{size_text(max(remaining, 0))} follow)",
        )
    if max_bytes is not None:
        check_max_bytes(label, shape, max_bytes)
    try:
        buf = numpy.empty(count, dtype=dtype)
    except MemoryError:
        raise error(label, f"{shape_text(shape)} array ({size_text(nbytes)}) does not fit in memory") from None
    view = buf.data.cast("B")
    got = 0
    while got < nbytes:
        k = fp.readinto(view[got:])
        if not k:
            break
        got += k
    del view
    if got < nbytes:
        raise error(label, f"truncated or corrupt {what} (data ends after {size_text(got)} of {size_text(nbytes)})")
    arr = buf.reshape(shape[::-1]).T if fortran and len(shape) > 1 else buf.reshape(shape)
    return finish(label, arr, max_bytes)


def _open_input(label: str, path: str) -> BinaryIO:
    """Open a user file for binary reading, with one-line errors."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(label, "no such file (check the path)") from None
    except NotADirectoryError:
        raise error(label, "no such file (a part of the path is not a folder)") from None
    except OSError as e:
        raise error(label, f"cannot read it: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(label, "is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise error(label, "not a regular file")
    try:
        return open(path, "rb")
    except OSError as e:
        raise error(label, f"cannot read it: {e.strerror or e}") from None


def read_npy_file(label: str, path: str, max_bytes: int | None) -> numpy.ndarray:
    with _open_input(label, path) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            return _read_npy_stream(label, f, size, max_bytes)
        except OSError as e:
            raise error(label, f"cannot read it: {e.strerror or e}") from None


# --------------------------------------------------------------------------- .npz reading


def _npz_members(zf: Any) -> dict[str, object]:
    """Key -> ZipInfo, the way numpy.load names them (``KEY.npy`` -> ``KEY``)."""
    members: dict[str, object] = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        members.setdefault(key, info)
    return members


def _open_zip(label: str, f: BinaryIO) -> Any:
    import zipfile

    try:
        return zipfile.ZipFile(f)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError):
        raise error(label, "not a .npz file (not a zip archive); save it with numpy.savez") from None


def _read_npz_member(label: str, zf: Any, info: Any, max_bytes: int | None) -> numpy.ndarray:
    import zipfile
    import zlib

    try:
        with zf.open(info) as mf:
            return _read_npy_stream(label, mf, info.file_size, max_bytes, what=".npy array in the .npz")
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as e:
        raise error(label, f"corrupt .npz file ({short(str(e), 60)})") from None
    except OSError as e:
        raise error(label, f"cannot read it: {e.strerror or e}") from None


def _list_keys(keys: Sequence[str]) -> str:
    if not keys:
        return "it has none"
    shown = ", ".join(repr(k) for k in keys[:10])
    if len(keys) > 10:
        shown += f" and {len(keys) - 10} more"
    return f"it has {shown}"


def read_npz_file(label: str, name: str, path: str, key: str, max_bytes: int | None) -> numpy.ndarray:
    with _open_input(label, path) as f:
        zf = _open_zip(label, f)
        with zf:
            members = _npz_members(zf)
            if key not in members:
                raise error(label, f"has no array '{key}' ({_list_keys(list(members))}); write {name}={path}:KEY")
            return _read_npz_member(label, zf, members[key], max_bytes)


def load_values_file(path: str) -> dict[str, numpy.ndarray]:
    """``--values FILE.npz``: every array in the file, validated, as 2-D float64 matrices."""
    label = f"--values {short(path)}"
    out: dict[str, numpy.ndarray] = {}
    with _open_input(label, path) as f:
        zf = _open_zip(label, f)
        with zf:
            for key, info in _npz_members(zf).items():
                out[key] = _read_npz_member(f"{label}, array '{key}'", zf, info, None)
    return out


# --------------------------------------------------------------------------- .csv / .txt reading
_NOT_A_NUMBER = re.compile(
    r"could not convert string (?P<field>'.*'|\".*\") to \w+ at row (?P<row>\d+), column (?P<col>\d+)"
)
_COLUMNS = re.compile(r"the number of columns changed from (?P<was>\d+) to (?P<now>\d+) at row (?P<row>\d+)")


def read_text_file(label: str, path: str, max_bytes: int | None) -> numpy.ndarray:
    """Numbers separated by commas (if any line has one) or by white space; ``#`` comments."""
    with _open_input(label, path) as f:
        try:
            raw = f.read()
        except OSError as e:
            raise error(label, f"cannot read it: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error(label, "not a text file (not UTF-8); write numbers separated by commas or spaces") from None
    del raw
    lines = text.split("\n")
    data = [i for i, line in enumerate(lines, 1) if line.partition("#")[0].strip()]
    if not data:
        raise error(label, "no numbers in the file (it is empty or only comments)")
    comma = any("," in lines[i - 1].partition("#")[0] for i in data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = numpy.loadtxt(lines, delimiter="," if comma else None, comments="#", ndmin=2, dtype=numpy.float64)
    except ValueError as e:
        raise error(label, _where_in_text(str(e), lines, data)) from None
    return finish(label, arr, max_bytes)


def _where_in_text(message: str, lines: list[str], data: list[int]) -> str:
    """numpy.loadtxt's error told with the file's line and column (numpy counts data rows)."""
    m = _NOT_A_NUMBER.search(message)
    if m:
        try:
            field = str(ast.literal_eval(m.group("field")))  # numpy quotes the field with repr
        except (ValueError, SyntaxError):
            field = m.group("field")[1:-1]
        problem = "empty value" if not field.strip() else f"{short(field.strip(), 20)!r} is not a number"
        return f"line {data[int(m.group('row'))]}, column {m.group('col')}: {problem}"
    m = _COLUMNS.search(message)
    if m:
        line = data[int(m.group("row")) - 1]
        return (
            f"line {line} has {m.group('now')} values but line {data[0]} has {m.group('was')}; "
            "every row needs the same number"
        )
    return f"not a table of numbers ({short(message, 80)})"
