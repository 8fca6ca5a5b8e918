"""Reading user files: .npy, .npz, .csv and .txt, within a memory limit.

Files are never unpickled. A .npy header is read as numpy.load reads it, but its length
field is checked first (numpy.load refuses headers over 10,000 bytes; jacli refuses them
before reading them), then parsed with :mod:`numpy.lib.format`; its dtype is checked and
the data size it implies compared with what the file holds and with the memory limit
before anything is allocated. A .npz member's declared size is checked before it is
opened; data is read in chunks straight into the array (no second copy). With
``shapes_only`` only headers are read. Text files are parsed by :func:`numpy.loadtxt`
from the file itself, as ``numpy.loadtxt(path)`` reads it, after a bounded scan that
estimates the array's size; its errors are told with the file's line and column.
"""

from __future__ import annotations

import ast
import io
import os
import re
import stat
import struct
import warnings
from collections.abc import Collection, Sequence
from typing import Any, BinaryIO

import numpy
from numpy.lib import format as _npformat

from .arrays import (
    check_dtype,
    check_max_bytes,
    check_ndim_and_size,
    error,
    finish,
    shape_text,
    short,
    size_text,
)

INPUT_SUFFIXES = (".npy", ".npz", ".csv", ".txt")
MAX_HEADER = 10000  # numpy.load's max_header_size: longer .npy headers are refused
CHUNK = 1 << 24  # bytes read at a time into an array
TEXT_CHUNK = 1 << 22  # bytes of a text file scanned at a time

Shape = tuple[int, int]


def matrix_shape(shape: Sequence[int]) -> Shape:
    """The 2-D shape a 0-, 1- or 2-D array binds as: a scalar 1×1, a vector a column."""
    if len(shape) == 0:
        return (1, 1)
    if len(shape) == 1:
        return (int(shape[0]), 1)
    return (int(shape[0]), int(shape[1]))


def _read_exact(fp: Any, n: int) -> bytes:
    """Up to ``n`` bytes (fewer only at the end of the data)."""
    parts, got = [], 0
    while got < n:
        b = fp.read(n - got)
        if not b:
            break
        parts.append(b)
        got += len(b)
    return b"".join(parts)


def _read_npy_header(label: str, fp: Any, available: int, what: str) -> tuple[tuple[int, ...], bool, numpy.dtype, int]:
    """The magic bytes and the header: (shape, fortran order, dtype, bytes consumed).

    The header's length field is checked before the header is read; the header is parsed by
    numpy.lib.format (a literal, never unpickled)."""
    corrupt = f"corrupt {what} (unreadable .npy header); save it again with numpy.save"
    head = _read_exact(fp, _npformat.MAGIC_LEN)
    if len(head) < _npformat.MAGIC_LEN or not head.startswith(_npformat.MAGIC_PREFIX):
        raise error(label, f"not a {what} (it does not start with the .npy magic bytes); save it with numpy.save")
    version = (head[-2], head[-1])
    if version == (1, 0):
        length_format = "<H"
    elif version in ((2, 0), (3, 0)):
        # 3.0 differs from 2.0 only by a UTF-8 header, used for non-ASCII field names,
        # i.e. structured arrays, which are refused anyway.
        length_format = "<I"
    else:
        raise error(label, f"corrupt {what} (unknown .npy format version {version[0]}.{version[1]})")
    length_field = _read_exact(fp, struct.calcsize(length_format))
    if len(length_field) < struct.calcsize(length_format):
        raise error(label, corrupt)
    (length,) = struct.unpack(length_format, length_field)
    consumed = len(head) + len(length_field) + length
    if length > MAX_HEADER:
        raise error(
            label,
            f"refused: its .npy header claims {size_text(length)} (numpy.load refuses headers over "
            f"{MAX_HEADER:,} bytes); save it again with numpy.save",
        )
    if consumed > available:
        raise error(label, corrupt)
    header = _read_exact(fp, length)
    if len(header) < length:
        raise error(label, corrupt)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read = _npformat.read_array_header_1_0 if version == (1, 0) else _npformat.read_array_header_2_0
            shape, fortran, dtype = read(io.BytesIO(length_field + header))
    except (ValueError, TypeError, SyntaxError, UnicodeDecodeError, EOFError, MemoryError, RecursionError):
        raise error(label, corrupt) from None
    return shape, fortran, dtype, consumed


def check_reading(label: str, shape: Sequence[int], dtype: numpy.dtype, left: int | None) -> None:
    """Refuse, before allocating, an array whose reading would take more than ``left`` bytes:
    the data as stored, and its float64 copy when it is not float64 already."""
    if left is None:
        return
    check_max_bytes(label, shape, left)
    count = 1
    for d in shape:
        count *= int(d)
    need = count * dtype.itemsize + (0 if dtype == numpy.dtype(numpy.float64) else count * 8)
    if need > left:
        raise error(
            label,
            f"{shape_text(shape)} {dtype.name} array needs {size_text(need)} to read and turn into "
            f"float64, more than the limit of {size_text(left)}",
        )


def _read_npy_stream(
    label: str, fp: Any, available: int, left: int | None, what: str = ".npy file", shapes_only: bool = False
) -> numpy.ndarray | Shape:
    """Read one .npy array from ``fp``, which holds ``available`` bytes from its start.

    The data size the header implies is checked against ``available`` and against ``left``
    (the memory limit) before anything is allocated. With ``shapes_only``: the shape alone.
    """
    shape, fortran, dtype, consumed = _read_npy_header(label, fp, available, what)
    if any(d < 0 for d in shape):
        raise error(label, f"corrupt {what} (negative dimension in the header)")
    check_dtype(label, dtype)
    check_ndim_and_size(label, shape)
    count = 1
    for d in shape:
        count *= d
    nbytes = count * dtype.itemsize
    remaining = available - consumed
    if nbytes > remaining:  # known from the file's (or member's) size: nothing is read
        raise error(
            label,
            f"truncated or corrupt {what} (the header promises {shape_text(shape)} "
            f"{dtype.name} values, {size_text(nbytes)}, but only "
            f"{size_text(max(remaining, 0))} follow)",
        )
    if shapes_only:
        return matrix_shape(shape)
    check_reading(label, shape, dtype, left)
    try:
        buf = numpy.empty(count, dtype=dtype)
    except (MemoryError, ValueError):
        raise error(label, f"{shape_text(shape)} array ({size_text(nbytes)}) does not fit in memory") from None
    view = buf.data.cast("B")
    got = 0
    while got < nbytes:  # chunk by chunk into the array: a zip member's read() makes a copy of what it returns
        k = fp.readinto(view[got : got + CHUNK])
        if not k:
            break
        got += k
    del view
    if got < nbytes:
        raise error(label, f"truncated or corrupt {what} (data ends after {size_text(got)} of {size_text(nbytes)})")
    arr = buf.reshape(shape[::-1]).T if fortran and len(shape) > 1 else buf.reshape(shape)
    return finish(label, arr)


def _open_input(label: str, path: str) -> BinaryIO:
    """Open a user file for binary reading, with one-line errors."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(label, "no such file (check the path)") from None
    except NotADirectoryError:
        raise error(label, "no such file (a part of the path is not a folder)") from None
    except (OSError, ValueError) as e:  # ValueError: a NUL in the path
        raise error(label, f"cannot read it: {getattr(e, 'strerror', None) or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(label, "is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise error(label, "not a regular file")
    try:
        return open(path, "rb")
    except OSError as e:
        raise error(label, f"cannot read it: {e.strerror or e}") from None


def read_npy_file(label: str, path: str, max_bytes: int | None, *, shapes_only: bool = False) -> numpy.ndarray | Shape:
    """A .npy file as a 2-D float64 matrix (or its shape alone), within ``max_bytes``."""
    with _open_input(label, path) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            return _read_npy_stream(label, f, size, max_bytes, shapes_only=shapes_only)
        except OSError as e:
            raise error(label, f"cannot read it: {e.strerror or e}") from None


# --------------------------------------------------------------------------- .npz reading


def _npz_members(zf: Any) -> dict[str, list[Any]]:
    """Key -> the members numpy.load would name so (``KEY.npy`` and ``KEY`` both give ``KEY``),
    in the archive's order. A key with more than one member is ambiguous."""
    members: dict[str, list[Any]] = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        members.setdefault(key, []).append(info)
    return members


def _only_member(label: str, key: str, infos: list[Any]) -> Any:
    if len(infos) > 1:
        names = sorted({i.filename for i in infos})
        raise error(
            label,
            f"refused: {len(infos)} arrays are named {key!r} ({' and '.join(repr(n) for n in names)}); "
            "numpy.load would read one and hide the others: save the file again with numpy.savez",
        )
    return infos[0]


def _open_zip(label: str, f: BinaryIO) -> Any:
    import zipfile

    try:
        return zipfile.ZipFile(f)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError):
        raise error(label, "not a .npz file (not a zip archive); save it with numpy.savez") from None
    except OSError as e:
        raise error(label, f"cannot read it: {e.strerror or e}") from None


def _read_npz_member(
    label: str, zf: Any, info: Any, left: int | None, shapes_only: bool = False
) -> numpy.ndarray | Shape:
    import zipfile
    import zlib

    if not shapes_only and left is not None and info.file_size > left + MAX_HEADER + 64:
        raise error(
            label,
            f"the array declares {size_text(info.file_size)} uncompressed, more than the limit of {size_text(left)}",
        )
    try:
        with zf.open(info) as mf:
            what = ".npy array in the .npz"
            return _read_npy_stream(label, mf, info.file_size, left, what=what, shapes_only=shapes_only)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as e:
        raise error(label, f"corrupt .npz file ({short(str(e), 60)})") from None
    except OSError as e:
        raise error(label, f"cannot read it: {e.strerror or e}") from None


def _list_keys(keys: Sequence[str]) -> str:
    if not keys:
        return "it has none"
    shown = ", ".join(repr(short(k, 40)) for k in keys[:10])
    if len(keys) > 10:
        shown += f" and {len(keys) - 10:,} more"
    return f"it has {shown}"


def read_npz_file(
    label: str, name: str, path: str, key: str, max_bytes: int | None, *, shapes_only: bool = False
) -> numpy.ndarray | Shape:
    """The array under ``key`` in a .npz file (or its shape alone), within ``max_bytes``."""
    with _open_input(label, path) as f:
        zf = _open_zip(label, f)
        with zf:
            members = _npz_members(zf)
            if key not in members:
                raise error(label, f"has no array '{key}' ({_list_keys(list(members))}); write {name}={path}:KEY")
            return _read_npz_member(label, zf, _only_member(label, key, members[key]), max_bytes, shapes_only)


UNREAD: Shape = (0, 0)  # the shape given for an array that was not read (``only``)


def load_values_file(
    path: str, max_bytes: int | None = None, *, shapes_only: bool = False, only: Collection[str] | None = None
) -> dict[str, numpy.ndarray | Shape]:
    """``--values FILE.npz``: every array in the file, validated, as 2-D float64 matrices (or
    their shapes alone); all of them together within ``max_bytes``. With ``only``, the arrays
    of other names are not read: their key maps to :data:`UNREAD`."""
    label = f"--values {short(path)}"
    out: dict[str, numpy.ndarray | Shape] = {}
    left = max_bytes
    with _open_input(label, path) as f:
        zf = _open_zip(label, f)
        with zf:
            for key, infos in _npz_members(zf).items():
                if only is not None and key not in only:
                    out[key] = UNREAD
                    continue
                where = f"{label}, array {short(key)!r}"
                got = _read_npz_member(where, zf, _only_member(where, key, infos), left, shapes_only)
                if left is not None and isinstance(got, numpy.ndarray):
                    left -= got.nbytes
                out[key] = got
    return out


# --------------------------------------------------------------------------- .csv / .txt reading
_NOT_A_NUMBER = re.compile(
    r"could not convert string (?P<field>'.*'|\".*\") to \w+ at row (?P<row>\d+), column (?P<col>\d+)"
)
_COLUMNS = re.compile(r"the number of columns changed from (?P<was>\d+) to (?P<now>\d+) at row (?P<row>\d+)")
_COMMENT = re.compile(rb"#[^\r\n]*")
# Bytes that separate numbers (ASCII white space and the comma) map to 0, others to 1.
_SEPARATORS = b" \t\n\r\v\f\x1c\x1d\x1e\x1f,"
_TOKEN_TABLE = bytes(0 if b in _SEPARATORS else 1 for b in range(256))
# White space numpy.loadtxt also separates numbers by (in UTF-8), counted as separators.
_UNICODE_SPACE = re.compile(rb"\xc2\xa0|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xaf]|\xe2\x81\x9f|\xe3\x80\x80")
# Line breaks by Unicode's rules (and Python's str.splitlines) that numpy.loadtxt reads as
# spaces within a line: a file holding them reads as different rows to different readers.
_ODD_BREAKS = {
    b"\x0b": "a vertical tab (U+000B)",
    b"\x0c": "a form feed (U+000C)",
    b"\x1c": "a file separator (U+001C)",
    b"\x1d": "a group separator (U+001D)",
    b"\x1e": "a record separator (U+001E)",
    b"\xc2\x85": "a next-line character (U+0085)",
    b"\xe2\x80\xa8": "a line separator (U+2028)",
    b"\xe2\x80\xa9": "a paragraph separator (U+2029)",
}


class _TextScan:
    """One bounded pass over a text file's bytes: whether a comma separates numbers (outside
    ``#`` comments), how many numbers there are at most, and where the first line break is
    that numpy.loadtxt would not take for one."""

    def __init__(self) -> None:
        self.comma = False
        self.numbers = 0
        self.lines = 0  # newlines seen
        self.odd: tuple[int, str] | None = None  # (line, what) of the first odd line break
        self.carry = b""  # the last bytes of the last chunk: a UTF-8 sequence may straddle chunks
        self.in_comment = False  # the last chunk ended inside a comment
        self.after_separator = True  # the last chunk ended on a separator (or the file starts)

    def feed(self, chunk: bytes) -> None:
        ascii = chunk.isascii()
        if self.odd is None:
            seen = chunk if ascii else self.carry + chunk
            found = []
            for b, what in _ODD_BREAKS.items():
                i = -1 if ascii and len(b) > 1 else seen.find(b)
                if i >= 0:
                    found.append((i, what))
            if found:
                i, what = min(found)
                self.odd = (self.lines + seen.count(b"\n", 0, i) - (0 if ascii else self.carry.count(b"\n")) + 1, what)
        self.lines += chunk.count(b"\n")
        self.carry = chunk[-2:]
        if self.in_comment:
            m = re.search(rb"[\r\n]", chunk)
            if m is None:
                return
            chunk = chunk[m.start() :]
        tail = chunk.rfind(b"#")
        self.in_comment = tail >= 0 and re.search(rb"[\r\n]", chunk[tail:]) is None
        data = _COMMENT.sub(b" ", chunk) if tail >= 0 else chunk
        if not ascii:
            data = _UNICODE_SPACE.sub(b" ", data)
        self.comma = self.comma or b"," in data
        marks = data.translate(_TOKEN_TABLE)  # 0 for a separator, 1 for a byte of a number
        self.numbers += marks.count(b"\x00\x01") + (1 if marks[0] and self.after_separator else 0)
        self.after_separator = not marks[-1]


def read_text_file(label: str, path: str, max_bytes: int | None) -> numpy.ndarray:
    """Numbers separated by commas (if any line has one) or by white space; ``#`` comments.

    The numbers are parsed by numpy.loadtxt from the file, after a scan that refuses, before
    parsing, a file whose numbers would take more than ``max_bytes`` as float64."""
    with _open_input(label, path) as f:
        scan = _TextScan()
        try:
            while chunk := f.read(TEXT_CHUNK):
                scan.feed(chunk)
            f.seek(0)
        except OSError as e:
            raise error(label, f"cannot read it: {e.strerror or e}") from None
        if scan.odd is not None:
            line, what = scan.odd
            raise error(
                label,
                f"line {line} holds {what}, a line break to some readers and a space to others; end rows with newlines",
            )
        if not scan.numbers:
            raise error(label, "no numbers in the file (it is empty or only comments)")
        if max_bytes is not None and scan.numbers * 8 > max_bytes:
            raise error(
                label,
                f"about {scan.numbers:,} numbers need {size_text(scan.numbers * 8)} as float64, "
                f"more than the limit of {size_text(max_bytes)}",
            )
        text = io.TextIOWrapper(f, encoding="utf-8-sig")  # as numpy.loadtxt(path) opens it: universal newlines
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                arr = numpy.loadtxt(
                    text, delimiter="," if scan.comma else None, comments="#", ndmin=2, dtype=numpy.float64
                )
        except UnicodeDecodeError:
            raise error(label, "not a text file (not UTF-8); write numbers separated by commas or spaces") from None
        except ValueError as e:
            text.seek(0)
            raise error(label, _where_in_text(str(e), text)) from None
        except OSError as e:
            raise error(label, f"cannot read it: {e.strerror or e}") from None
        finally:
            text.detach()
    if arr.size == 0:
        raise error(label, "no numbers in the file (it is empty or only comments)")
    return finish(label, arr, max_bytes)


def _data_line(lines: Any, row: int) -> int:
    """The file's line number (1-based) of data row ``row`` (0-based), as numpy.loadtxt counts
    rows: lines with something before any ``#``."""
    seen = -1
    number = 0
    for number, line in enumerate(lines, 1):
        if line.partition("#")[0].strip():
            seen += 1
            if seen == row:
                return number
    return number


def _where_in_text(message: str, lines: Any) -> str:
    """numpy.loadtxt's error told with the file's line and column (numpy counts data rows)."""
    m = _NOT_A_NUMBER.search(message)
    if m:
        try:
            field = str(ast.literal_eval(m.group("field")))  # numpy quotes the field with repr
        except (ValueError, SyntaxError):
            field = m.group("field")[1:-1]
        problem = "empty value" if not field.strip() else f"{short(field.strip(), 20)!r} is not a number"
        return f"line {_data_line(lines, int(m.group('row')))}, column {m.group('col')}: {problem}"
    m = _COLUMNS.search(message)
    if m:
        row = int(m.group("row"))
        first, line = _first_and_row(lines, row - 1)
        return (
            f"line {line} has {m.group('now')} values but line {first} has {m.group('was')}; "
            "every row needs the same number"
        )
    return f"not a table of numbers ({short(message, 80)})"


def _first_and_row(lines: Any, row: int) -> tuple[int, int]:
    """The line numbers of the first data row and of data row ``row`` (0-based)."""
    first, seen = 0, -1
    number = 0
    for number, line in enumerate(lines, 1):
        if line.partition("#")[0].strip():
            seen += 1
            if seen == 0:
                first = number
            if seen == row:
                return first, number
    return first, number
