"""Validating arrays from users: real numbers only, at most 2-D, non-empty, finite.

Every problem is reported as a one-line :class:`JacliError` that names the binding
(``A=foo.npy: ...``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy

from ..errors import JacliError

MAX_DIM = 2**63 - 1  # NumPy's largest dimension (and index)


def shape_text(shape: Sequence[int]) -> str:
    if len(shape) == 0:
        return "scalar"
    return "×".join(str(int(d)) for d in shape)


def size_text(nbytes: int) -> str:
    if nbytes < 1000:
        return f"{nbytes} bytes"
    if nbytes >= 10**21:  # beyond any memory (and, far enough, beyond a float)
        return "over 1,000 EB"
    value = float(nbytes)
    for unit in ("kB", "MB", "GB", "TB", "PB", "EB"):
        value /= 1000.0
        if value < 1000.0:
            return f"{value:.1f} {unit}"
    return f"{nbytes:.3g} bytes"


def short(text: str, limit: int = 40) -> str:
    text = text.replace("\n", " ").replace("\r", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def label_of(name: str, spec: str) -> str:
    return f"{name}={short(spec)}"


def error(label: str, problem: str, **kw: Any) -> JacliError:
    return JacliError(f"{label}: {problem}", **kw)


def check_dtype(label: str, dtype: numpy.dtype) -> None:
    """Refuse anything but real numbers (bool, int, uint, float)."""
    if dtype.hasobject:
        raise error(label, "refused: object arrays would need unpickling; jacli never unpickles files")
    if dtype.fields is not None or dtype.subdtype is not None:
        raise error(label, "refused: structured dtype; jacli needs a plain numeric array")
    kind = dtype.kind
    if kind == "c":
        raise error(label, "complex values are not supported; give the real and imaginary parts separately")
    if kind in "SUa":
        raise error(label, f"refused: string dtype ({dtype.str}); jacli needs a numeric array")
    if kind in "Mm":
        raise error(label, f"refused: {dtype.name} values are not numbers; jacli needs a numeric array")
    if kind not in "biuf":
        raise error(label, f"refused: unsupported dtype {dtype.str}; jacli needs a numeric array")


def check_ndim_and_size(label: str, shape: tuple[int, ...]) -> None:
    if len(shape) > 2:
        raise error(
            label, f"{len(shape)}-D array ({short(shape_text(shape))}); jacli needs a matrix, a vector or a scalar"
        )
    if any(d == 0 for d in shape):
        raise error(label, f"empty array ({shape_text(shape)}); jacli needs at least one value")


def finish(label: str, arr: numpy.ndarray, max_bytes: int | None = None) -> numpy.ndarray:
    """A validated numeric array -> 2-D float64 matrix, refusing NaN/inf entries."""
    check_dtype(label, arr.dtype)
    check_ndim_and_size(label, arr.shape)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if max_bytes is not None:
        check_max_bytes(label, arr.shape, max_bytes)
    with numpy.errstate(over="ignore", invalid="ignore"):
        m = arr.astype(numpy.float64, copy=False)  # also makes big-endian data native
    finite = numpy.isfinite(m)
    if not finite.all():
        i, j = numpy.argwhere(~finite)[0]
        raise error(label, f"has NaN or infinite entries (first at [{int(i)}, {int(j)}])")
    return m


def check_max_bytes(label: str, shape: Sequence[int], max_bytes: int) -> None:
    count = 1
    for d in shape:
        count *= int(d)
    need = count * 8
    if need > max_bytes:
        raise error(
            label,
            f"{shape_text(shape)} array needs {size_text(need)} as float64, "
            f"more than the limit of {size_text(max_bytes)}",
        )


def as_matrix(name: str, array: Any) -> numpy.ndarray:
    """Validate a value given through the Python API and return it as a 2-D float64 matrix.

    Accepts NumPy arrays, Python numbers and nested lists; a masked array when no entry is
    masked; a PyTorch tensor (read detached, on the CPU); anything NumPy converts. Same rules
    as for files: real numbers only, at most 2-D, non-empty, finite; 1-D becomes a column,
    0-D a 1×1. Whatever cannot be read is a JacliError, never a silent loss.
    """
    label = str(name)
    if isinstance(array, (str, bytes)):
        raise error(label, "not a number or an array of numbers")
    if numpy.ma.isMaskedArray(array):
        masked = int(numpy.ma.getmaskarray(array).sum())  # numpy.ma.count_masked, whose stub is untyped
        if masked:
            raise error(
                label,
                f"a masked array with {masked:,} masked entr{'y' if masked == 1 else 'ies'}; jacli needs every "
                f"value: give {label}.filled(...) or the unmasked part",
            )
        array = numpy.ma.getdata(array)
    elif callable(getattr(array, "detach", None)) and callable(getattr(array, "numpy", None)):  # a tensor
        try:
            t = array.detach()
            array = (t.cpu() if callable(getattr(t, "cpu", None)) else t).numpy()
        except Exception as e:
            raise error(label, f"cannot read the tensor ({type(e).__name__}: {short(str(e), 60)})") from None
    try:
        arr = numpy.asarray(array)
    except (ValueError, TypeError, OverflowError):
        raise error(label, "not a rectangular array of numbers") from None
    except Exception as e:  # an object whose __array__ fails in its own way
        raise error(label, f"cannot be read as an array ({type(e).__name__}: {short(str(e), 60)})") from None
    if arr.dtype == object:
        # In-memory objects (e.g. Fractions) need no unpickling: try to convert them.
        if any(x is None for x in arr.flat):
            raise error(label, "holds None, not a number")
        try:
            with numpy.errstate(over="ignore", invalid="ignore"):
                arr = arr.astype(numpy.float64)
        except (ValueError, TypeError, OverflowError, ArithmeticError):
            raise error(label, "not a rectangular array of real numbers") from None
    elif arr.dtype.kind == "c":
        raise error(label, "complex values are not supported; give the real and imaginary parts separately")
    elif arr.dtype.kind in "SUa":
        raise error(label, "not a number or an array of numbers")
    return finish(label, arr)


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_OPEN_FLAGS = (
    os.O_RDONLY | _NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


def open_input(label: str, path: str) -> BinaryIO:
    """Open a user file for binary reading, with one-line errors: a regular file only.

    The file is opened without waiting (a FIFO or a device opens at once) and what was
    opened is then checked, so a file swapped for a FIFO between a check and the opening
    cannot make jacli wait for a writer."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise error(label, "no such file (check the path)") from None
    except NotADirectoryError:
        raise error(label, "no such file (a part of the path is not a folder)") from None
    except (OSError, ValueError) as e:  # ValueError: a NUL in the path
        raise error(label, f"cannot read it: {getattr(e, 'strerror', None) or e}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise error(label, "is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise error(label, "not a regular file")
        if _NONBLOCK:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except OSError as e:
        os.close(fd)
        raise error(label, f"cannot read it: {e.strerror or e}") from None
    except BaseException:
        os.close(fd)
        raise
