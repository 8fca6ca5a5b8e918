"""Reading .csv and .txt files within a memory limit: a bounded scan estimates the array's
size and refuses what NumPy would misread, then :func:`numpy.loadtxt` parses the file
itself, as ``numpy.loadtxt(path)`` reads it; its errors are told with the file's line and
column."""

from __future__ import annotations

import ast
import io
import re
import warnings
from typing import Any

import numpy

from .arrays import error, finish, open_input, short, size_text

TEXT_CHUNK = 1 << 22  # bytes of a text file scanned at a time


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
    with open_input(label, path) as f:
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
