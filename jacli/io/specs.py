"""NAME=SPEC: a shape, a JSON literal or a file; --values files; --max-memory sizes."""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from typing import NamedTuple

import numpy

from .. import sizes
from ..errors import JacliError
from ..sizes import SizeLike
from .arrays import MAX_DIM, error, finish, label_of, short
from .readers import INPUT_SUFFIXES, load_values_file, read_npy_file, read_npz_file, read_text_file

MAX_BYTES = 2**62  # no limit means this one: NumPy allocates nothing larger

_INPUT_HELP = "use .npy, .npz, .csv, .txt, a shape like 3x4, or a JSON literal"


VALUES = "--values "  # how the source of a binding from a --values file begins


class Binding(NamedTuple):
    """What ``NAME=SPEC`` on the command line gave: a shape, and a value unless only a shape;
    ``structure`` a declared one (``S=3x3:sym``): sym, diag, lower or upper."""

    shape: tuple[SizeLike, SizeLike]  # positive integers or dimension names (jacli.sizes)
    value: numpy.ndarray | None
    source: str
    structure: str | None = None


STRUCTURES = ("sym", "diag", "lower", "upper")  # what a square variable may be declared


def structured(label: str, b: Binding, structure: str | None) -> Binding:
    """``b`` declared ``structure``: square, and its value (if any) of that structure, refused
    naming the largest violation; a symmetric value within rounding is made exactly so."""
    if structure is None:
        return b
    r, c = b.shape
    if r != c:
        raise error(label, f"a {structure} matrix is square, not {sizes.shape_text(b.shape)}")
    if b.value is None:
        return b._replace(structure=structure)
    a = b.value
    bad = {
        "sym": a - a.T,
        "diag": a - numpy.diag(numpy.diag(a)),
        "lower": numpy.triu(a, 1),
        "upper": numpy.tril(a, -1),
    }[structure]
    worst = float(numpy.max(numpy.abs(bad), initial=0.0))
    scale = max(1.0, float(numpy.max(numpy.abs(a), initial=0.0)))
    if worst > (1e-12 * scale if structure == "sym" else 0.0):
        i, j = numpy.unravel_index(int(numpy.argmax(numpy.abs(bad))), bad.shape)
        what = {
            "sym": f"entries [{i},{j}] and [{j},{i}] differ by {worst:.3g}",
            "diag": f"entry [{i},{j}] off the diagonal is {a[i, j]:.6g}",
            "lower": f"entry [{i},{j}] above the diagonal is {a[i, j]:.6g}",
            "upper": f"entry [{i},{j}] below the diagonal is {a[i, j]:.6g}",
        }[structure]
        raise error(label, f"not {_WORDS[structure]}: {what}")
    if structure == "sym":
        a = 0.5 * (a + a.T)
    return b._replace(value=a, structure=structure)


_WORDS = {"sym": "symmetric", "diag": "diagonal", "lower": "lower triangular", "upper": "upper triangular"}


def split_structure(spec: str) -> tuple[str, str | None]:
    """``3x3:sym`` → (``3x3``, ``sym``): a declared structure at the end of a SPEC."""
    before, sep, after = spec.rpartition(":")
    if sep and after.strip() in STRUCTURES:
        return before, after.strip()
    return spec, None


_DIGITS = re.compile(r"[0-9]+")
_SHAPE_LIKE = re.compile(r"[0-9\s.+\-]*(?:[xX×,][0-9\s.+\-]*)+")
_SHAPE_SEP = re.compile(r"[xX×,]")
_JSON_START = tuple('[-+.{"0123456789')


def _dimension(label: str, digits: str) -> int:
    """A dimension's digits as an int, refused beyond NumPy's largest dimension."""
    if len(digits.lstrip("0")) > len(str(MAX_DIM)) or int(digits) > MAX_DIM:
        raise error(label, f"a dimension of {len(digits.lstrip('0')):,} digits is beyond NumPy's largest, {MAX_DIM:,}")
    return int(digits)


_ONE_LETTER_X = re.compile(r"\s*([0-9]+|[A-Za-z])\s*[xX]\s*([0-9]+|[A-Za-z])\s*")


def _parse_shape(name: str, text: str) -> tuple[SizeLike, SizeLike] | None:
    """A shape like 3x4 / 3,4 / 3×4, m×n / m,n / mxn / 3×n, or a bare size (a column: 5, n);
    None if it is not shape-like."""
    label = label_of(name, text)
    if _DIGITS.fullmatch(text):
        n = _dimension(label, text)
        if n <= 0:
            raise error(
                label, f"dimensions must be positive integers, as in {name}=3x4 (for the number 0 write {name}=0.0)"
            )
        return (n, 1)
    m = _ONE_LETTER_X.fullmatch(text)
    if m is None and sizes.is_dimension_name(text):
        return (sizes.dim(text), 1)
    parts = [p.strip() for p in (m.groups() if m else re.split("[×,]", text))]
    if len(parts) == 2 and all(_DIGITS.fullmatch(p) or sizes.is_dimension_name(p) for p in parts):
        if any(_DIGITS.fullmatch(p) and not p.strip("0") for p in parts):
            raise error(label, f"dimensions must be positive integers, as in {name}=3x4")
        rows, cols = (_dimension(label, p) if _DIGITS.fullmatch(p) else sizes.dim(p) for p in parts)
        return (rows, cols)
    if not _SHAPE_LIKE.fullmatch(text):
        return None
    parts = [p.strip() for p in _SHAPE_SEP.split(text)]
    if len(parts) != 2:
        raise error(label, f"a shape has two dimensions, as in {name}=3x4 (or {name}=5 for a column)")
    raise error(label, f"dimensions must be positive integers, as in {name}=3x4")


def _json_kind(x: object) -> str:
    if isinstance(x, bool):
        return "a boolean"
    if x is None:
        return "null"
    if isinstance(x, str):
        return "a string"
    if isinstance(x, dict):
        return "an object"
    if isinstance(x, list):
        return "a list"
    return "a number"


def _is_num(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _json_value(label: str, v: object) -> numpy.ndarray:
    bad = "not a rectangular array of numbers"
    if _is_num(v):
        rows = v
    elif isinstance(v, list):
        if not v:
            raise error(label, "empty array; jacli needs at least one value")
        if isinstance(v[0], list):
            width = len(v[0])
            for i, row in enumerate(v):
                if not isinstance(row, list):
                    raise error(label, f"{bad} (row {i} is {_json_kind(row)}, not a list)")
                if len(row) != width:
                    raise error(label, f"{bad} (row {i} has {len(row)} entries, row 0 has {width})")
                for j, x in enumerate(row):
                    if not _is_num(x):
                        raise error(label, f"{bad} (entry [{i}, {j}] is {_json_kind(x)})")
            if width == 0:
                raise error(label, f"empty array ({len(v)}×0); jacli needs at least one value")
        else:
            for i, x in enumerate(v):
                if not _is_num(x):
                    raise error(label, f"{bad} (entry [{i}] is {_json_kind(x)})")
        rows = v
    else:
        raise error(label, f"not a number or an array of numbers (it is {_json_kind(v)})")
    try:
        arr = numpy.array(rows, dtype=numpy.float64)
    except OverflowError:
        raise error(label, "a number is too large for float64") from None
    return arr


# Plain number syntax that JSON lacks (.5, 1., +2, -inf), in ASCII digits only: Python's
# float() also takes "1_000" and other scripts' digits ("৪"), which no other reader does.
_NUMBER = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE)


def _parse_json(name: str, text: str, max_bytes: int | None) -> numpy.ndarray:
    import json

    label = label_of(name, text)
    try:
        v = json.loads(text, parse_int=float)  # float: an integer of 5,000 digits is a (too large) number
    except RecursionError:
        raise error(label, "the JSON literal is nested too deeply") from None
    except ValueError as e:
        if _NUMBER.fullmatch(text):
            v = float(text)
        else:
            msg = getattr(e, "msg", str(e))
            col = getattr(e, "colno", None)
            where = f" at column {col}" if col else ""
            raise error(
                label,
                f"not a valid JSON literal ({msg}{where}); write a number, [1, 2] or [[1, 2], [3, 4]]",
                column=col,
                source=text,
            ) from None
    return finish(label, _json_value(label, v), max_bytes)


def _looks_like_path(text: str) -> bool:
    lower = text.lower()
    if "/" in text or "\\" in text:
        return True
    if os.path.splitext(lower)[1] in INPUT_SUFFIXES:
        return True
    before, sep, _ = lower.rpartition(":")
    return bool(sep) and before.endswith(".npz")


def parse_spec(name: str, spec: str, *, max_bytes: int | None = None, shapes_only: bool = False) -> Binding:
    """Read the text after ``NAME=``: a shape, a JSON literal, or a .npy/.npz/.csv/.txt file,
    refusing before reading what would take more than ``max_bytes``. With ``shapes_only``, a
    .npy or .npz file's values are not read: the binding has its shape alone."""
    spec, structure = split_structure(spec)
    if structure is not None:
        plain = parse_spec(name, spec, max_bytes=max_bytes, shapes_only=shapes_only)
        return structured(label_of(name, spec), plain, structure)
    text = spec.strip()
    if not text:
        raise error(f"{name}=", f"empty value ({_INPUT_HELP})")
    shape = _parse_shape(name, text)
    if shape is not None:
        return Binding(shape=shape, value=None, source=text)
    if not _looks_like_path(spec) and text.startswith(_JSON_START):
        literal = _parse_json(name, text, max_bytes)
        return Binding(shape=(literal.shape[0], literal.shape[1]), value=literal, source=text)

    label = label_of(name, spec)
    path, key = spec, name
    before, sep, after = spec.rpartition(":")
    if sep and before.lower().endswith(".npz"):
        path, key = before, after
        if not key:
            raise error(label, f'no array name after ":"; write {name}={path}:KEY')
    suffix = os.path.splitext(path)[1].lower()
    m: numpy.ndarray | tuple[int, int]
    if suffix == ".npy":
        m = read_npy_file(label, path, max_bytes, shapes_only=shapes_only)
    elif suffix == ".npz":
        m = read_npz_file(label, name, path, key, max_bytes, shapes_only=shapes_only)
    elif suffix in (".csv", ".txt"):
        m = read_text_file(label, path, max_bytes)
    elif suffix:
        raise error(label, f"unknown file type {suffix!r} ({_INPUT_HELP})")
    else:
        raise error(label, f"not a shape, a number or a file name ({_INPUT_HELP})")
    if isinstance(m, tuple):
        return Binding(shape=m, value=None, source=spec)
    return Binding(shape=(m.shape[0], m.shape[1]), value=m, source=spec)


# --------------------------------------------------------------------------- NAME=SPEC words
_NAME = re.compile(r"[A-Za-z\u0370-\u03ff][A-Za-z0-9_\u0370-\u03ff]*")


def read_bindings(
    specs: list[str] | None,
    values_file: str | None,
    max_bytes: float | None,
    *,
    shapes_only: bool = False,
    only: Collection[str] | None = None,
) -> dict[str, Binding]:
    """NAME=SPEC words (and a --values file, which they override) to bindings, all the values
    together within ``max_bytes``; with ``shapes_only`` (``--symbolic``) files' values are not
    read; with ``only`` (the expression's names), the --values file's other arrays are not read."""
    bindings: dict[str, Binding] = {}
    left = None if max_bytes is None else int(min(max_bytes, MAX_BYTES))
    if values_file is not None:
        if not values_file.strip():
            raise JacliError("--values needs a file name")
        for n, got in load_values_file(values_file, left, shapes_only=shapes_only, only=only).items():
            if isinstance(got, tuple):
                bindings[n] = Binding(got, None, VALUES + values_file)
            else:
                bindings[n] = Binding((got.shape[0], got.shape[1]), got, VALUES + values_file)
                left = None if left is None else left - got.nbytes
    seen = set()
    for spec in specs or []:
        name, eq, text = spec.partition("=")
        name = name.strip()
        if spec.startswith("-"):
            raise JacliError(f"unknown option {spec.split('=')[0]!r} (see --help)")
        if not eq or not _NAME.fullmatch(name):
            raise JacliError(f"expected NAME=SPEC (as in A=A.npy or X=3x4), got {spec!r}")
        if name in seen:
            raise JacliError(f"{name} is bound twice")
        seen.add(name)
        earlier = bindings[name].value if name in bindings else None
        if earlier is not None and left is not None:
            left += earlier.nbytes  # a NAME=SPEC given too wins over --values
        b = bindings[name] = parse_spec(name, text, max_bytes=left, shapes_only=shapes_only)
        if b.value is not None and left is not None:
            left -= b.value.nbytes
    return bindings


def parse_size(text: str | None) -> float:
    """--max-memory: bytes, or a number with kB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/TiB."""
    if text is None:
        return default_max_memory()
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKMGT]i?B?|B)?\s*", text)
    if not m:
        raise JacliError(f"--max-memory {short(text)!r}: give bytes or a size such as 2GB or 512MiB")
    unit = (m.group(2) or "B").upper().rstrip("B").replace("I", "i")
    factor = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}[unit]
    return min(float(m.group(1)) * factor, float(MAX_BYTES))  # float() of 5,000 digits is inf: no limit


def default_max_memory() -> float:
    """Half the memory available now."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 * 0.5
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * 0.5
    except (ValueError, OSError, AttributeError):
        return 4e9
