"""Writing results: atomically, by suffix, streamed block by block, or as SciPy CSR.

An existing file is either replaced whole or left byte for byte unchanged: everything is
written to a temporary file in the target's folder and renamed over it.
"""

from __future__ import annotations

import os
import stat
import struct
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any, BinaryIO

import numpy
from numpy.lib import format as _npformat

from ..errors import JacliError
from . import ending
from .arrays import short

OUTPUT_SUFFIXES = (".npy", ".npz", ".csv", ".txt", ".json", ".tex", ".md", ".py")
_OUTPUT_HELP = "use .npy, .npz, .csv, .txt, .json, .tex, .md or .py"


def _suffix_of(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[1].lower()


def _unknown_output(path: str, suffix: str) -> JacliError:
    if not suffix:
        return JacliError(f"cannot write {short(path, 60)}: no file suffix ({_OUTPUT_HELP})")
    return JacliError(f"cannot write {short(path, 60)}: unknown output type {suffix!r} ({_OUTPUT_HELP})")


def check_output_path(path: str, example: str = "J.npy") -> str:
    """Check, before any computation, that ``path`` can be written; return its lower-case suffix."""
    shown = short(path, 60)
    if not path.strip():
        raise JacliError(f"the output file name is empty: give one, such as {example}")
    if "\0" in path:
        raise JacliError(f"cannot write {shown}: a file name cannot hold a NUL character")
    suffix = _suffix_of(path)
    if os.path.isdir(path):
        raise JacliError(f"cannot write {shown}: it is a directory")
    if suffix not in OUTPUT_SUFFIXES:
        raise _unknown_output(path, suffix)
    folder = os.path.dirname(path) or "."
    if not os.path.exists(folder):
        raise JacliError(f"cannot write {shown}: folder '{short(folder, 60)}' does not exist")
    if not os.path.isdir(folder):
        raise JacliError(f"cannot write {shown}: '{short(folder, 60)}' is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise JacliError(f"cannot write {shown}: folder '{short(folder, 60)}' is not writable")
    refuse_sealed(folder, shown)
    if os.path.lexists(path):
        real = os.path.realpath(path)
        if os.path.exists(real) and not os.path.isfile(real):
            raise JacliError(f"cannot write {shown}: it exists and is not a regular file")
        if os.path.isfile(real) and not os.access(real, os.W_OK):
            raise JacliError(f"cannot write {shown}: the file is read-only")
    return suffix


# Linux's ioctl for a file's attributes (chattr): _IOR('f', 1, long), as most architectures encode it
_FS_IOC_GETFLAGS = (2 << 30) | (struct.calcsize("l") << 16) | (ord("f") << 8) | 1
_SEALED = {0x10: "immutable (chattr +i)", 0x20: "append-only (chattr +a)"}  # FS_IMMUTABLE_FL, FS_APPEND_FL


def refuse_sealed(folder: str, shown: str) -> None:
    """Refuse a folder where a file may be made but not renamed nor removed (append-only or
    immutable): a temporary file written there would be left behind."""
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (ImportError, OSError):
        return  # no such attributes here; the write itself tells what goes wrong
    try:
        flags = int.from_bytes(fcntl.ioctl(fd, _FS_IOC_GETFLAGS, bytes(8))[:4], sys.byteorder)
    except OSError:
        return  # a file system without them
    finally:
        os.close(fd)
    for bit, what in _SEALED.items():
        if flags & bit:
            raise JacliError(
                f"cannot write {shown}: folder '{short(folder, 60)}' is {what}: a file written there could "
                "not be renamed into place nor removed"
            )


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


TEMP_PREFIX_CHARS = 32  # of the target's name in its temporary file's: a long valid name stays valid


_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _temporary_names(folder: str, prefix: str) -> Iterator[str]:
    """Names ``folder/prefix…XXXXXXXX.tmp`` to try, as tempfile.mkstemp tries them."""
    import secrets

    for _ in range(100):
        yield os.path.join(folder, f"{prefix}{secrets.token_hex(4)}.tmp")


def atomic_write(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` through a temporary file in the same folder, then ``os.replace`` it.

    On any exception (also KeyboardInterrupt, and the exceptions cli.app makes of SIGTERM
    and SIGHUP) the temporary file is removed and the target is left as it was. OSErrors
    become ``JacliError('cannot write PATH: ...')``. The temporary file's name is
    ``.NAME…XXXXXXXX.tmp`` with at most 32 characters of the target's name.
    """
    shown = short(path, 60)
    target = os.path.realpath(path) if os.path.islink(path) else path
    folder = os.path.dirname(target) or "."
    prefix = "." + os.path.basename(target)[:TEMP_PREFIX_CHARS]
    tmp = None
    refuse_sealed(folder, shown)
    try:
        with ending.held():  # a signal arriving now is told once the file is tracked
            for tmp in _temporary_names(folder, prefix):
                try:
                    fd = os.open(tmp, _TEMP_FLAGS, 0o600)
                    ending.track(tmp)
                    break
                except FileExistsError:
                    tmp = None  # somebody else's
            else:
                raise FileExistsError(f"no free temporary name in {folder}")
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        with ending.held():
            os.replace(tmp, target)
            ending.untrack(tmp)
    except BaseException as e:
        if tmp is not None:  # the signals held (a second one cannot stop it), the file removed
            ending.remove(tmp)
        if isinstance(e, OSError):
            raise JacliError(f"cannot write {shown}: {e.strerror or e}") from None
        raise
    try:  # make the rename durable; best effort
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _as_2d(J: Any) -> numpy.ndarray:
    a = numpy.asarray(J, dtype=numpy.float64)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(-1, 1)
    return a


TEXT_PIECE = 1 << 13  # entries formatted at a time: a piece of text takes about 200 kB, however wide J is


def format_rows(J: numpy.ndarray, sep: str = " ") -> Iterator[str]:
    """J as text, each row one line of shortest round-trip floats (``1.0 0.5 -2.25e-10\\n``),
    given in pieces of at most :data:`TEXT_PIECE` entries: a row of millions of entries is
    never one string (nor one list of floats)."""
    for piece, last in _pieces(_as_2d(J)):
        yield sep.join(map(repr, piece)) + ("\n" if last else sep)


def json_rows(J: numpy.ndarray, between: str = ", ") -> Iterator[str]:
    """The rows of J as JSON arrays, ``between`` them (``[1.0, 2.0], [3.0, 4.0]``), in pieces of
    at most :data:`TEXT_PIECE` entries."""
    import json

    first, row_starts = True, True
    for piece, last in _pieces(_as_2d(J)):
        head = ("" if first else between) + "[" if row_starts else ", "
        yield head + json.dumps(piece)[1:-1] + ("]" if last else "")
        first, row_starts = False, last


def _pieces(J: numpy.ndarray) -> Iterator[tuple[list[float], bool]]:
    """J's entries row by row as lists of at most :data:`TEXT_PIECE` floats (``-0.0`` as
    ``0.0``), each with whether it ends its row."""
    n, c = J.shape
    if c <= TEXT_PIECE:  # whole rows, several at a time
        step = TEXT_PIECE // c
        for first in range(0, n, step):
            for row in (J[first : first + step] + 0.0).tolist():
                yield row, True
        return
    for i in range(n):
        for start in range(0, c, TEXT_PIECE):
            stop = min(start + TEXT_PIECE, c)
            yield (J[i, start:stop] + 0.0).tolist(), stop == c


def _write_lines(f: BinaryIO, lines: Iterable[str]) -> None:
    batch: list[str] = []
    size = 0
    for line in lines:
        batch.append(line)
        size += len(line)
        if size >= 1 << 20:
            f.write("".join(batch).encode("utf-8"))
            batch, size = [], 0
    if batch:
        f.write("".join(batch).encode("utf-8"))


def _write_npz(f: BinaryIO, arrays: dict[str, numpy.ndarray]) -> None:
    import zipfile

    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, val in arrays.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as fid:
                _npformat.write_array(fid, numpy.asanyarray(val), allow_pickle=False)


def save_matrix(
    path: str, J: numpy.ndarray, *, formula: str = "", latex: str = "", comments: Sequence[str] = ()
) -> None:
    """Save J by the suffix of ``path`` (.npy .npz .csv .txt .json .tex), atomically."""
    import json

    suffix = _suffix_of(path)
    if suffix not in OUTPUT_SUFFIXES:
        raise _unknown_output(path, suffix)
    if suffix in (".md", ".py"):
        raise JacliError(f"cannot write numbers to {short(path, 60)}: {suffix} holds a formula (a note, code)")
    J = _as_2d(J)

    def write(f: BinaryIO) -> None:
        if suffix == ".npy":
            _npformat.write_array(f, J, allow_pickle=False)
        elif suffix == ".npz":
            arrays = {"J": J}
            if formula:
                arrays["formula"] = numpy.array(formula)
            _write_npz(f, arrays)
        elif suffix == ".csv":
            _write_lines(f, format_rows(J, ","))
        elif suffix == ".txt":
            head = []
            for c in comments:
                for line in str(c).splitlines() or [""]:
                    head.append(f"# {line}\n")
            f.write("".join(head).encode("utf-8"))
            _write_lines(f, format_rows(J, " "))
        elif suffix == ".json":
            r, c = J.shape
            f.write(f'{{"formula": {json.dumps(formula)}, "shape": [{r}, {c}], "matrix": [\n'.encode())
            f.write(b"  ")
            _write_lines(f, json_rows(J, between=",\n  "))
            f.write(b"\n]}\n")
        else:  # .tex
            f.write((latex + "\n").encode("utf-8"))

    atomic_write(path, write)


def npy_header(fp: IO[bytes], shape: tuple[int, ...], dtype: Any) -> None:
    d = {
        "descr": _npformat.dtype_to_descr(numpy.dtype(dtype)),
        "fortran_order": False,
        "shape": tuple(int(s) for s in shape),
    }
    try:
        _npformat.write_array_header_1_0(fp, d)
    except ValueError:  # header too long for format 1.0 (cannot happen for 1-D or 2-D)
        _npformat.write_array_header_2_0(fp, d)


def write_array_bytes(f: IO[bytes], arr: numpy.ndarray) -> None:
    if arr.size:
        f.write(arr.data.cast("B"))


def save_npy_blocks(path: str, shape: tuple[int, int], blocks: Iterable[numpy.ndarray]) -> None:
    """Write a dense float64 .npy of ``shape`` block of rows by block of rows, atomically.

    The file equals what ``numpy.save`` writes; only one block is in memory at a time.
    Blocks that do not add up to ``shape`` are a bug: RuntimeError, and no file is left.
    """
    rows_total, cols = int(shape[0]), int(shape[1])

    def write(f: BinaryIO) -> None:
        npy_header(f, (rows_total, cols), numpy.float64)
        done = 0
        for block in blocks:
            b = numpy.ascontiguousarray(block, dtype=numpy.float64)
            if b.ndim != 2 or b.shape[1] != cols:
                raise RuntimeError(f"save_npy_blocks: block of shape {b.shape}, expected (k, {cols})")
            done += b.shape[0]
            if done > rows_total:
                raise RuntimeError(f"save_npy_blocks: blocks exceed {rows_total} rows")
            write_array_bytes(f, b)
        if done != rows_total:
            raise RuntimeError(f"save_npy_blocks: blocks gave {done} rows, expected {rows_total}")

    atomic_write(path, write)
