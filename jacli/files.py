"""Reading user values (shapes, JSON literals, .npy/.npz/.csv/.txt files) and writing results.

Every problem with user input is reported as a one-line :class:`JacliError` that names the
binding (``A=foo.npy: ...``).  Files are never unpickled.  Outputs are written atomically:
an existing file is either replaced whole or left byte-for-byte unchanged.
"""
from __future__ import annotations

import io
import os
import re
import stat
import warnings
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable, Iterator, Sequence

import numpy
from numpy.lib import format as _npformat

from .errors import JacliError

__all__ = [
    'Binding',
    'parse_spec',
    'load_values_file',
    'as_matrix',
    'OUTPUT_SUFFIXES',
    'check_output_path',
    'atomic_write',
    'format_rows',
    'save_matrix',
    'save_npy_blocks',
    'save_sparse_npz',
]

INPUT_SUFFIXES = ('.npy', '.npz', '.csv', '.txt')
OUTPUT_SUFFIXES = ('.npy', '.npz', '.csv', '.txt', '.json', '.tex')

_INPUT_HELP = 'use .npy, .npz, .csv, .txt, a shape like 3x4, or a JSON literal'
_OUTPUT_HELP = 'use .npy, .npz, .csv, .txt, .json or .tex'
_INT32_MAX = 2**31 - 1
_COPY_CHUNK = 1 << 22  # bytes copied at a time when streaming spooled data


# --------------------------------------------------------------------------- helpers


def _fmt_shape(shape: Sequence[int]) -> str:
    if len(shape) == 0:
        return 'scalar'
    return '×'.join(str(int(d)) for d in shape)


def _fmt_size(nbytes: int) -> str:
    if nbytes < 1000:
        return f'{nbytes} bytes'
    value = float(nbytes)
    for unit in ('kB', 'MB', 'GB', 'TB', 'PB', 'EB'):
        value /= 1000.0
        if value < 1000.0:
            return f'{value:.1f} {unit}'
    return f'{nbytes:.3g} bytes'


def _short(text: str, limit: int = 40) -> str:
    text = text.replace('\n', ' ').replace('\r', ' ')
    return text if len(text) <= limit else text[: limit - 1] + '…'


def _label(name: str, spec: str) -> str:
    return f'{name}={_short(spec)}'


def _err(label: str, problem: str, **kw) -> JacliError:
    return JacliError(f'{label}: {problem}', **kw)


# --------------------------------------------------------------------------- Binding


@dataclass(frozen=True)
class Binding:
    """What ``NAME=SPEC`` on the command line gave: a shape, and a value unless only a shape."""

    shape: tuple[int, int]
    value: numpy.ndarray | None
    source: str


# --------------------------------------------------------------------------- validation


def _check_dtype(label: str, dtype: numpy.dtype) -> None:
    """Refuse anything but real numbers (bool, int, uint, float)."""
    if dtype.hasobject:
        raise _err(label, 'refused: object arrays would need unpickling; jacli never unpickles files')
    if dtype.fields is not None or dtype.subdtype is not None:
        raise _err(label, 'refused: structured dtype; jacli needs a plain numeric array')
    kind = dtype.kind
    if kind == 'c':
        raise _err(label, 'complex values are not supported; give the real and imaginary parts separately')
    if kind in 'SUa':
        raise _err(label, f'refused: string dtype ({dtype.str}); jacli needs a numeric array')
    if kind in 'Mm':
        raise _err(label, f'refused: {dtype.name} values are not numbers; jacli needs a numeric array')
    if kind not in 'biuf':
        raise _err(label, f'refused: unsupported dtype {dtype.str}; jacli needs a numeric array')


def _check_ndim_and_size(label: str, shape: tuple[int, ...]) -> None:
    if len(shape) > 2:
        raise _err(label, f'{len(shape)}-D array ({_fmt_shape(shape)}); '
                          'jacli needs a matrix, a vector or a scalar')
    if any(d == 0 for d in shape):
        raise _err(label, f'empty array ({_fmt_shape(shape)}); jacli needs at least one value')


def _finish(label: str, arr: numpy.ndarray, max_bytes: int | None = None) -> numpy.ndarray:
    """A validated numeric array -> 2-D float64 matrix, refusing NaN/inf entries."""
    _check_dtype(label, arr.dtype)
    _check_ndim_and_size(label, arr.shape)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if max_bytes is not None:
        _check_max_bytes(label, arr.shape, max_bytes)
    with numpy.errstate(over='ignore', invalid='ignore'):
        m = arr.astype(numpy.float64, copy=False)  # also makes big-endian data native
    finite = numpy.isfinite(m)
    if not finite.all():
        i, j = numpy.argwhere(~finite)[0]
        raise _err(label, f'has NaN or infinite entries (first at [{int(i)}, {int(j)}])')
    return m


def _check_max_bytes(label: str, shape: Sequence[int], max_bytes: int) -> None:
    count = 1
    for d in shape:
        count *= int(d)
    need = count * 8
    if need > max_bytes:
        raise _err(label, f'{_fmt_shape(shape)} array needs {_fmt_size(need)} as float64, '
                          f'more than the limit of {_fmt_size(max_bytes)}')


def as_matrix(name: str, array) -> numpy.ndarray:
    """Validate a value given through the Python API and return it as a 2-D float64 matrix.

    Accepts NumPy arrays, Python numbers and nested lists.  Same rules as for files:
    real numbers only, at most 2-D, non-empty, finite; 1-D becomes a column, 0-D a 1×1.
    """
    label = str(name)
    if isinstance(array, (str, bytes)):
        raise _err(label, 'not a number or an array of numbers')
    try:
        arr = numpy.asarray(array)
    except (ValueError, TypeError, OverflowError):
        raise _err(label, 'not a rectangular array of numbers') from None
    if arr.dtype == object:
        # In-memory objects (e.g. Fractions) need no unpickling: try to convert them.
        try:
            with numpy.errstate(over='ignore', invalid='ignore'):
                arr = arr.astype(numpy.float64)
        except (ValueError, TypeError, OverflowError):
            raise _err(label, 'not a rectangular array of real numbers') from None
    elif arr.dtype.kind == 'c':
        raise _err(label, 'complex values are not supported; give the real and imaginary parts separately')
    elif arr.dtype.kind in 'SUa':
        raise _err(label, 'not a number or an array of numbers')
    return _finish(label, arr)


# --------------------------------------------------------------------------- shapes and JSON

_DIGITS = re.compile(r'[0-9]+')
_SHAPE_LIKE = re.compile(r'[0-9\s.+\-]*(?:[xX×,][0-9\s.+\-]*)+')
_SHAPE_SEP = re.compile(r'[xX×,]')
_JSON_START = tuple('[-+.{"0123456789')


def _parse_shape(name: str, text: str) -> tuple[int, int] | None:
    """A shape like 3x4 / 3,4 / 3×4, or a bare integer (column); None if it is not shape-like."""
    label = _label(name, text)
    if _DIGITS.fullmatch(text):
        n = int(text)
        if n <= 0:
            raise _err(label, f'dimensions must be positive integers, as in {name}=3x4 '
                              f'(for the number 0 write {name}=0.0)')
        return (n, 1)
    if not _SHAPE_LIKE.fullmatch(text):
        return None
    parts = [p.strip() for p in _SHAPE_SEP.split(text)]
    if len(parts) != 2:
        raise _err(label, f'a shape has two dimensions, as in {name}=3x4 (or {name}=5 for a column)')
    if not all(_DIGITS.fullmatch(p) and int(p) > 0 for p in parts):
        raise _err(label, f'dimensions must be positive integers, as in {name}=3x4')
    return (int(parts[0]), int(parts[1]))


def _json_kind(x) -> str:
    if isinstance(x, bool):
        return 'a boolean'
    if x is None:
        return 'null'
    if isinstance(x, str):
        return 'a string'
    if isinstance(x, dict):
        return 'an object'
    if isinstance(x, list):
        return 'a list'
    return 'a number'


def _is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _json_value(label: str, v) -> numpy.ndarray:
    bad = 'not a rectangular array of numbers'
    if _is_num(v):
        rows = v
    elif isinstance(v, list):
        if not v:
            raise _err(label, 'empty array; jacli needs at least one value')
        if isinstance(v[0], list):
            width = len(v[0])
            for i, row in enumerate(v):
                if not isinstance(row, list):
                    raise _err(label, f'{bad} (row {i} is {_json_kind(row)}, not a list)')
                if len(row) != width:
                    raise _err(label, f'{bad} (row {i} has {len(row)} entries, row 0 has {width})')
                for j, x in enumerate(row):
                    if not _is_num(x):
                        raise _err(label, f'{bad} (entry [{i}, {j}] is {_json_kind(x)})')
            if width == 0:
                raise _err(label, f'empty array ({len(v)}×0); jacli needs at least one value')
        else:
            for i, x in enumerate(v):
                if not _is_num(x):
                    raise _err(label, f'{bad} (entry [{i}] is {_json_kind(x)})')
        rows = v
    else:
        raise _err(label, f'not a number or an array of numbers (it is {_json_kind(v)})')
    try:
        arr = numpy.array(rows, dtype=numpy.float64)
    except OverflowError:
        raise _err(label, 'a number is too large for float64') from None
    return arr


def _parse_json(name: str, text: str, max_bytes: int | None) -> numpy.ndarray:
    import json

    label = _label(name, text)
    try:
        v = json.loads(text)
    except ValueError as e:
        # Plain Python number syntax that JSON lacks (.5, 1., +2, -inf) is accepted too.
        try:
            v = float(text)
        except ValueError:
            msg = getattr(e, 'msg', str(e))
            col = getattr(e, 'colno', None)
            where = f' at column {col}' if col else ''
            raise _err(label, f'not a valid JSON literal ({msg}{where}); '
                              f"write a number, [1, 2] or [[1, 2], [3, 4]]",
                       column=col, source=text) from None
    return _finish(label, _json_value(label, v), max_bytes)


# --------------------------------------------------------------------------- .npy reading


class _CountingReader:
    """Counts the bytes numpy's header readers consume."""

    def __init__(self, fp):
        self.fp = fp
        self.n = 0

    def read(self, size=-1):
        b = self.fp.read(size)
        self.n += len(b)
        return b


def _read_npy_stream(label: str, fp, available: int, max_bytes: int | None,
                     what: str = '.npy file') -> numpy.ndarray:
    """Read one .npy array from ``fp``, which holds ``available`` bytes from its start.

    The header is parsed with numpy.lib.format (never with pickle); the data size it implies is
    checked against ``available`` before anything is allocated.
    """
    cfp = _CountingReader(fp)
    head = cfp.read(_npformat.MAGIC_LEN)
    if len(head) < _npformat.MAGIC_LEN or not head.startswith(_npformat.MAGIC_PREFIX):
        raise _err(label, f'not a {what} (it does not start with the .npy magic bytes); '
                          'save it with numpy.save')
    try:
        version = _npformat.read_magic(io.BytesIO(head))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            if version == (1, 0):
                shape, fortran, dtype = _npformat.read_array_header_1_0(cfp)
            elif version in ((2, 0), (3, 0)):
                # 3.0 differs from 2.0 only by a UTF-8 header, used for non-ASCII field names,
                # i.e. structured arrays, which are refused below anyway.
                shape, fortran, dtype = _npformat.read_array_header_2_0(cfp)
            else:
                raise ValueError(f'unknown .npy format version {version}')
    except (ValueError, TypeError, SyntaxError, UnicodeDecodeError, EOFError, MemoryError,
            RecursionError):
        raise _err(label, f'corrupt {what} (unreadable .npy header); save it again with numpy.save') from None
    if any(d < 0 for d in shape):
        raise _err(label, f'corrupt {what} (negative dimension in the header)')
    _check_dtype(label, dtype)
    _check_ndim_and_size(label, shape)
    count = 1
    for d in shape:
        count *= d
    nbytes = count * dtype.itemsize
    remaining = available - cfp.n
    if nbytes > remaining:
        raise _err(label, f'truncated or corrupt {what} (the header promises {_fmt_shape(shape)} '
                          f'{dtype.name} values, {_fmt_size(nbytes)}, but only '
                          f'{_fmt_size(max(remaining, 0))} follow)')
    if max_bytes is not None:
        _check_max_bytes(label, shape, max_bytes)
    try:
        buf = numpy.empty(count, dtype=dtype)
    except MemoryError:
        raise _err(label, f'{_fmt_shape(shape)} array ({_fmt_size(nbytes)}) does not fit in memory') from None
    view = memoryview(buf).cast('B')
    got = 0
    while got < nbytes:
        k = fp.readinto(view[got:])
        if not k:
            break
        got += k
    del view
    if got < nbytes:
        raise _err(label, f'truncated or corrupt {what} (data ends after {_fmt_size(got)} '
                          f'of {_fmt_size(nbytes)})')
    if fortran and len(shape) > 1:
        arr = buf.reshape(shape[::-1]).T
    else:
        arr = buf.reshape(shape)
    return _finish(label, arr, max_bytes)


def _open_input(label: str, path: str):
    """Open a user file for binary reading, with one-line errors."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _err(label, 'no such file (check the path)') from None
    except NotADirectoryError:
        raise _err(label, 'no such file (a part of the path is not a folder)') from None
    except OSError as e:
        raise _err(label, f'cannot read it: {e.strerror or e}') from None
    if stat.S_ISDIR(st.st_mode):
        raise _err(label, 'is a directory, not a file')
    if not stat.S_ISREG(st.st_mode):
        raise _err(label, 'not a regular file')
    try:
        return open(path, 'rb')
    except OSError as e:
        raise _err(label, f'cannot read it: {e.strerror or e}') from None


def _read_npy_file(label: str, path: str, max_bytes: int | None) -> numpy.ndarray:
    with _open_input(label, path) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            return _read_npy_stream(label, f, size, max_bytes)
        except OSError as e:
            raise _err(label, f'cannot read it: {e.strerror or e}') from None


# --------------------------------------------------------------------------- .npz reading


def _npz_members(zf) -> dict[str, object]:
    """Key -> ZipInfo, the way numpy.load names them (``KEY.npy`` -> ``KEY``)."""
    members: dict[str, object] = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        key = info.filename[:-4] if info.filename.endswith('.npy') else info.filename
        members.setdefault(key, info)
    return members


def _open_zip(label: str, f):
    import zipfile

    try:
        return zipfile.ZipFile(f)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError):
        raise _err(label, 'not a .npz file (not a zip archive); save it with numpy.savez') from None


def _read_npz_member(label: str, zf, info, max_bytes: int | None) -> numpy.ndarray:
    import zipfile
    import zlib

    try:
        with zf.open(info) as mf:
            return _read_npy_stream(label, mf, info.file_size, max_bytes, what='.npy array in the .npz')
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as e:
        raise _err(label, f'corrupt .npz file ({_short(str(e), 60)})') from None
    except OSError as e:
        raise _err(label, f'cannot read it: {e.strerror or e}') from None


def _list_keys(keys: Sequence[str]) -> str:
    if not keys:
        return 'it has none'
    shown = ', '.join(repr(k) for k in keys[:10])
    if len(keys) > 10:
        shown += f' and {len(keys) - 10} more'
    return f'it has {shown}'


def _read_npz_file(label: str, name: str, path: str, key: str,
                   max_bytes: int | None) -> numpy.ndarray:
    with _open_input(label, path) as f:
        zf = _open_zip(label, f)
        with zf:
            members = _npz_members(zf)
            if key not in members:
                raise _err(label, f"has no array '{key}' ({_list_keys(list(members))}); "
                                  f'write {name}={path}:KEY')
            return _read_npz_member(label, zf, members[key], max_bytes)


def load_values_file(path: str) -> dict[str, numpy.ndarray]:
    """``--values FILE.npz``: every array in the file, validated, as 2-D float64 matrices."""
    label = f'--values {_short(path)}'
    out: dict[str, numpy.ndarray] = {}
    with _open_input(label, path) as f:
        zf = _open_zip(label, f)
        with zf:
            for key, info in _npz_members(zf).items():
                out[key] = _read_npz_member(f"{label}, array '{key}'", zf, info, None)
    return out


# --------------------------------------------------------------------------- .csv / .txt reading
# Parsed by hand (not numpy.loadtxt) so that errors can name the line and column.


def _read_text_file(label: str, path: str, max_bytes: int | None) -> numpy.ndarray:
    with _open_input(label, path) as f:
        try:
            raw = f.read()
        except OSError as e:
            raise _err(label, f'cannot read it: {e.strerror or e}') from None
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError:
        raise _err(label, 'not a text file (not UTF-8); write numbers separated by commas or spaces') from None
    del raw
    content = []
    for lineno, line in enumerate(text.splitlines(), 1):
        cut = line.find('#')
        if cut >= 0:
            line = line[:cut]
        if line.strip():
            content.append((lineno, line))
    del text
    if not content:
        raise _err(label, 'no numbers in the file (it is empty or only comments)')
    comma = any(',' in line for _, line in content)
    flat: list[float] = []
    width = None
    first = 0
    for lineno, line in content:
        fields = [s.strip() for s in line.split(',')] if comma else line.split()
        if width is None:
            width, first = len(fields), lineno
        elif len(fields) != width:
            raise _err(label, f'line {lineno} has {len(fields)} values but line {first} has {width}; '
                              'every row needs the same number')
        try:
            flat.extend(map(float, fields))
        except ValueError:
            for col, s in enumerate(fields, 1):
                try:
                    float(s)
                except ValueError:
                    problem = 'empty value' if not s else f'{_short(s, 20)!r} is not a number'
                    raise _err(label, f'line {lineno}, column {col}: {problem}') from None
            raise  # pragma: no cover - unreachable
    arr = numpy.array(flat, dtype=numpy.float64).reshape(len(content), width)
    return _finish(label, arr, max_bytes)


# --------------------------------------------------------------------------- parse_spec


def _looks_like_path(text: str) -> bool:
    lower = text.lower()
    if '/' in text or '\\' in text:
        return True
    if os.path.splitext(lower)[1] in INPUT_SUFFIXES:
        return True
    before, sep, _ = lower.rpartition(':')
    return bool(sep) and before.endswith('.npz')


def parse_spec(name: str, spec: str, *, max_bytes: int | None = None) -> Binding:
    """Read the text after ``NAME=``: a shape, a JSON literal, or a .npy/.npz/.csv/.txt file."""
    text = spec.strip()
    if not text:
        raise _err(f'{name}=', f'empty value ({_INPUT_HELP})')
    shape = _parse_shape(name, text)
    if shape is not None:
        return Binding(shape=shape, value=None, source=text)
    if not _looks_like_path(spec) and text.startswith(_JSON_START):
        m = _parse_json(name, text, max_bytes)
        return Binding(shape=(m.shape[0], m.shape[1]), value=m, source=text)

    label = _label(name, spec)
    path, key = spec, name
    before, sep, after = spec.rpartition(':')
    if sep and before.lower().endswith('.npz'):
        path, key = before, after
        if not key:
            raise _err(label, f'no array name after ":"; write {name}={path}:KEY')
    suffix = os.path.splitext(path)[1].lower()
    if suffix == '.npy':
        m = _read_npy_file(label, path, max_bytes)
    elif suffix == '.npz':
        m = _read_npz_file(label, name, path, key, max_bytes)
    elif suffix in ('.csv', '.txt'):
        m = _read_text_file(label, path, max_bytes)
    elif suffix:
        raise _err(label, f'unknown file type {suffix!r} ({_INPUT_HELP})')
    else:
        raise _err(label, f'not a shape, a number or a file name ({_INPUT_HELP})')
    return Binding(shape=(m.shape[0], m.shape[1]), value=m, source=spec)


# --------------------------------------------------------------------------- writing


def _suffix_of(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[1].lower()


def _unknown_output(path: str, suffix: str) -> JacliError:
    if not suffix:
        return JacliError(f'cannot write {_short(path, 60)}: no file suffix ({_OUTPUT_HELP})')
    return JacliError(f'cannot write {_short(path, 60)}: unknown output type {suffix!r} ({_OUTPUT_HELP})')


def check_output_path(path: str) -> str:
    """Check, before any computation, that ``path`` can be written; return its lower-case suffix."""
    shown = _short(path, 60)
    suffix = _suffix_of(path)
    if os.path.isdir(path):
        raise JacliError(f'cannot write {shown}: it is a directory')
    if suffix not in OUTPUT_SUFFIXES:
        raise _unknown_output(path, suffix)
    folder = os.path.dirname(path) or '.'
    if not os.path.exists(folder):
        raise JacliError(f"cannot write {shown}: folder '{_short(folder, 60)}' does not exist")
    if not os.path.isdir(folder):
        raise JacliError(f"cannot write {shown}: '{_short(folder, 60)}' is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise JacliError(f"cannot write {shown}: folder '{_short(folder, 60)}' is not writable")
    if os.path.lexists(path):
        real = os.path.realpath(path)
        if os.path.exists(real) and not os.path.isfile(real):
            raise JacliError(f'cannot write {shown}: it exists and is not a regular file')
        if os.path.isfile(real) and not os.access(real, os.W_OK):
            raise JacliError(f'cannot write {shown}: the file is read-only')
    return suffix


def _umask() -> int:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` through a temporary file in the same folder, then ``os.replace`` it.

    On any exception the temporary file is removed and the target is left as it was.
    OSErrors become ``JacliError('cannot write PATH: ...')``.
    """
    import tempfile

    shown = _short(path, 60)
    target = os.path.realpath(path) if os.path.islink(path) else path
    folder = os.path.dirname(target) or '.'
    try:
        fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(target), suffix='.tmp', dir=folder)
    except OSError as e:
        raise JacliError(f'cannot write {shown}: {e.strerror or e}') from None
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise JacliError(f'cannot write {shown}: {e.strerror or e}') from None
        raise
    try:  # make the rename durable; best effort
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _as_2d(J) -> numpy.ndarray:
    J = numpy.asarray(J, dtype=numpy.float64)
    if J.ndim == 0:
        return J.reshape(1, 1)
    if J.ndim == 1:
        return J.reshape(-1, 1)
    return J


def format_rows(J: numpy.ndarray, sep: str = ' ') -> Iterator[str]:
    """Each row of J as one line of shortest round-trip floats, e.g. ``1.0 0.5 -2.25e-10\\n``."""
    J = _as_2d(J)
    n, c = J.shape
    step = max(1, (1 << 16) // max(c, 1))
    for start in range(0, n, step):
        for row in (J[start:start + step] + 0.0).tolist():  # + 0.0: -0.0 prints as 0.0
            yield sep.join(map(repr, row)) + '\n'


def _write_lines(f: BinaryIO, lines: Iterable[str]) -> None:
    batch: list[str] = []
    size = 0
    for line in lines:
        batch.append(line)
        size += len(line)
        if size >= 1 << 20:
            f.write(''.join(batch).encode('utf-8'))
            batch, size = [], 0
    if batch:
        f.write(''.join(batch).encode('utf-8'))


def _write_npz(f: BinaryIO, arrays: dict[str, numpy.ndarray]) -> None:
    import zipfile

    with zipfile.ZipFile(f, mode='w', compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, val in arrays.items():
            with zf.open(key + '.npy', 'w', force_zip64=True) as fid:
                _npformat.write_array(fid, numpy.asanyarray(val), allow_pickle=False)


def save_matrix(path: str, J: numpy.ndarray, *, formula: str = '', latex: str = '',
                comments: Sequence[str] = ()) -> None:
    """Save J by the suffix of ``path`` (.npy .npz .csv .txt .json .tex), atomically."""
    import json

    suffix = _suffix_of(path)
    if suffix not in OUTPUT_SUFFIXES:
        raise _unknown_output(path, suffix)
    J = _as_2d(J)

    def write(f: BinaryIO) -> None:
        if suffix == '.npy':
            _npformat.write_array(f, J, allow_pickle=False)
        elif suffix == '.npz':
            arrays = {'J': J}
            if formula:
                arrays['formula'] = numpy.array(formula)
            _write_npz(f, arrays)
        elif suffix == '.csv':
            _write_lines(f, format_rows(J, ','))
        elif suffix == '.txt':
            head = []
            for c in comments:
                for line in (str(c).splitlines() or ['']):
                    head.append(f'# {line}\n')
            f.write(''.join(head).encode('utf-8'))
            _write_lines(f, format_rows(J, ' '))
        elif suffix == '.json':
            r, c = J.shape
            f.write(('{"formula": %s, "shape": [%d, %d], "matrix": [\n'
                     % (json.dumps(formula), r, c)).encode('utf-8'))
            last = r - 1

            def lines() -> Iterator[str]:
                i = 0
                step = max(1, (1 << 16) // max(c, 1))
                for start in range(0, r, step):
                    for row in (J[start:start + step] + 0.0).tolist():  # -0.0 as 0.0
                        yield '  ' + json.dumps(row) + (',\n' if i < last else '\n')
                        i += 1
            _write_lines(f, lines())
            f.write(b']}\n')
        else:  # .tex
            f.write((latex + '\n').encode('utf-8'))

    atomic_write(path, write)


def _npy_header(fp: BinaryIO, shape: tuple[int, ...], dtype) -> None:
    d = {'descr': _npformat.dtype_to_descr(numpy.dtype(dtype)), 'fortran_order': False,
         'shape': tuple(int(s) for s in shape)}
    try:
        _npformat.write_array_header_1_0(fp, d)
    except ValueError:  # header too long for format 1.0 (cannot happen for 1-D or 2-D)
        _npformat.write_array_header_2_0(fp, d)


def _write_array_bytes(f: BinaryIO, arr: numpy.ndarray) -> None:
    if arr.size:
        f.write(memoryview(arr).cast('B'))


def save_npy_blocks(path: str, shape: tuple[int, int], blocks: Iterable[numpy.ndarray]) -> None:
    """Write a dense float64 .npy of ``shape`` block of rows by block of rows, atomically.

    The file equals what ``numpy.save`` writes; only one block is in memory at a time.
    Blocks that do not add up to ``shape`` are a bug: RuntimeError, and no file is left.
    """
    rows_total, cols = int(shape[0]), int(shape[1])

    def write(f: BinaryIO) -> None:
        _npy_header(f, (rows_total, cols), numpy.float64)
        done = 0
        for block in blocks:
            b = numpy.ascontiguousarray(block, dtype=numpy.float64)
            if b.ndim != 2 or b.shape[1] != cols:
                raise RuntimeError(f'save_npy_blocks: block of shape {b.shape}, expected (k, {cols})')
            done += b.shape[0]
            if done > rows_total:
                raise RuntimeError(f'save_npy_blocks: blocks exceed {rows_total} rows')
            _write_array_bytes(f, b)
        if done != rows_total:
            raise RuntimeError(f'save_npy_blocks: blocks gave {done} rows, expected {rows_total}')

    atomic_write(path, write)


def _copy_spool(src: BinaryIO, dst: BinaryIO, nbytes: int, src_dtype, dst_dtype) -> None:
    src.seek(0)
    src_dtype, dst_dtype = numpy.dtype(src_dtype), numpy.dtype(dst_dtype)
    left = nbytes
    if src_dtype == dst_dtype:
        while left:
            chunk = src.read(min(left, _COPY_CHUNK))
            if not chunk:
                raise RuntimeError('save_sparse_npz: spool file shorter than expected')
            dst.write(chunk)
            left -= len(chunk)
        return
    step = (_COPY_CHUNK // src_dtype.itemsize) * src_dtype.itemsize
    while left:
        chunk = src.read(min(left, step))
        if not chunk or len(chunk) % src_dtype.itemsize:
            raise RuntimeError('save_sparse_npz: spool file shorter than expected')
        dst.write(memoryview(numpy.frombuffer(chunk, dtype=src_dtype).astype(dst_dtype)).cast('B'))
        left -= len(chunk)


def save_sparse_npz(path: str, shape: tuple[int, int],
                    row_blocks: Iterable[tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]]) -> None:
    """Write a CSR matrix as a SciPy ``save_npz``-compatible .npz, from successive row blocks.

    Each block is ``(row_counts, indices, data)``: stored entries per row, their column indices
    (sorted within each row) and values.  Indices and data are spooled to unnamed temporary
    files in the target folder, so memory holds one block plus ``indptr``.  Index dtypes follow
    SciPy: int32 when the shape and the number of entries fit, else int64.
    """
    import tempfile

    import zipfile

    nrows, ncols = int(shape[0]), int(shape[1])
    folder = os.path.dirname(os.path.realpath(path)) or '.'

    def write(f: BinaryIO) -> None:
        spool_idx_dtype = numpy.int32 if ncols - 1 <= _INT32_MAX else numpy.int64
        indptr = numpy.zeros(nrows + 1, dtype=numpy.int64)
        with tempfile.TemporaryFile(dir=folder, prefix='.jacli-indices', suffix='.tmp') as ispool, \
                tempfile.TemporaryFile(dir=folder, prefix='.jacli-data', suffix='.tmp') as dspool:
            nnz = 0
            row = 0
            for counts, indices, data in row_blocks:
                counts = numpy.asarray(counts, dtype=numpy.int64).reshape(-1)
                indices = numpy.asarray(indices).reshape(-1)
                data = numpy.ascontiguousarray(data, dtype=numpy.float64).reshape(-1)
                k = counts.shape[0]
                if row + k > nrows:
                    raise RuntimeError(f'save_sparse_npz: blocks exceed {nrows} rows')
                if indices.shape[0] != data.shape[0] or int(counts.sum()) != data.shape[0] \
                        or (k and counts.min() < 0):
                    raise RuntimeError('save_sparse_npz: row counts, indices and data disagree')
                if indices.size and (indices.dtype.kind not in 'iu' or indices.min() < 0
                                     or indices.max() >= ncols):
                    raise RuntimeError('save_sparse_npz: column index out of range')
                numpy.cumsum(counts, out=indptr[row + 1:row + k + 1])
                indptr[row + 1:row + k + 1] += nnz
                row += k
                nnz += data.shape[0]
                _write_array_bytes(ispool, numpy.ascontiguousarray(indices, dtype=spool_idx_dtype))
                _write_array_bytes(dspool, data)
            if row != nrows:
                raise RuntimeError(f'save_sparse_npz: blocks gave {row} rows, expected {nrows}')
            # scipy's CSR constructor picks int32 for both index arrays when everything fits.
            idx_dtype = numpy.int32 if max(nrows, ncols, nnz) <= _INT32_MAX else numpy.int64
            with zipfile.ZipFile(f, mode='w', compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                with zf.open('indices.npy', 'w', force_zip64=True) as fid:
                    _npy_header(fid, (nnz,), idx_dtype)
                    _copy_spool(ispool, fid, nnz * numpy.dtype(spool_idx_dtype).itemsize,
                                spool_idx_dtype, idx_dtype)
                for key, val in (('indptr', indptr.astype(idx_dtype, copy=False)),
                                 ('format', numpy.array(b'csr')),
                                 ('shape', numpy.array((nrows, ncols), dtype=numpy.int64))):
                    with zf.open(key + '.npy', 'w', force_zip64=True) as fid:
                        _npformat.write_array(fid, val, allow_pickle=False)
                with zf.open('data.npy', 'w', force_zip64=True) as fid:
                    _npy_header(fid, (nnz,), numpy.float64)
                    _copy_spool(dspool, fid, nnz * 8, numpy.float64, numpy.float64)

    atomic_write(path, write)
