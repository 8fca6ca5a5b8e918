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

import io
import os
import struct
import warnings
from collections.abc import Collection, Sequence
from typing import Any, BinaryIO

import numpy
from numpy.lib import format as _npformat

from .arrays import (
    MAX_DIM,
    check_dtype,
    check_max_bytes,
    check_ndim_and_size,
    error,
    finish,
    open_input,
    shape_text,
    short,
    size_text,
)
from .text import read_text_file

INPUT_SUFFIXES = (".npy", ".npz", ".csv", ".txt")
MAX_HEADER = 10000  # numpy.load's max_header_size: longer .npy headers are refused
CHUNK = 1 << 24  # bytes read at a time into an array

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
    except Exception:  # whatever the header's text makes NumPy's reader raise (a TokenError too)
        raise error(label, corrupt) from None
    if not isinstance(shape, tuple) or not all(type(d) is int for d in shape):  # (True, True) is no shape
        raise error(label, f"corrupt {what} (its header's shape is not a tuple of integers)")
    if any(d > MAX_DIM for d in shape):
        raise error(label, f"corrupt {what} (its header's shape has a dimension beyond NumPy's largest, {MAX_DIM:,})")
    return shape, bool(fortran), dtype, consumed


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


def read_npy_file(label: str, path: str, max_bytes: int | None, *, shapes_only: bool = False) -> numpy.ndarray | Shape:
    """A .npy file as a 2-D float64 matrix (or its shape alone), within ``max_bytes``."""
    with open_input(label, path) as f:
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
    with open_input(label, path) as f:
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
    with open_input(label, path) as f:
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


__all__ = [
    "INPUT_SUFFIXES",
    "load_values_file",
    "matrix_shape",
    "open_input",
    "read_npy_file",
    "read_npz_file",
    "read_text_file",
]
