"""The one error type jacli raises, and the exit codes it maps to.

A message is text and parts that each front end words its own way: an option
(:class:`Option`: ``--max-memory`` on the command line, ``max_bytes`` in Python), a way to
give a name values (:class:`Values`: ``X=X.npy``, ``X=numpy.ones(...)``), a hint
(:class:`Hint`). The error is made in jacli's own words, the command line's
(:func:`command_line`); :meth:`JacliError.worded` words it for another front end.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import NamedTuple


class ExitCode(enum.IntEnum):
    """The exit codes of the command line."""

    OK = 0  # done; for check and batch, everything agreed
    DISAGREE = 1  # check or a batch line found a disagreement
    BAD_INPUT = 2  # parse, shape, binding, file or domain error
    INTERNAL = 70  # a bug in jacli (EX_SOFTWARE)
    OUTPUT_LOST = 74  # stdout could not be written (full, closed): the output is lost (EX_IOERR)


class Option(NamedTuple):
    """An option, by the command line's name with ``_`` for ``-``: max_memory, random,
    symbolic, seed, tol, vec, method, against."""

    name: str


class Values(NamedTuple):
    """How to give ``name`` values; ``example`` is the command line's file (``X.npy``)."""

    name: str
    example: str


class Hint(NamedTuple):
    """Advice that each front end gives in its own terms: ``larger`` (what to do with a
    matrix above the memory limit)."""

    name: str


Part = str | Option | Values | Hint
Words = Callable[[Option | Values | Hint], str]  # a front end's words for the parts

_COMMAND_LINE_HINTS = {
    "larger": "save it with -o J.npy (written block by block) or --sparse -o J.npz, or raise --max-memory",
}


def command_line(part: Option | Values | Hint) -> str:
    """The command line's words: ``--max-memory``, ``X=X.npy``."""
    if isinstance(part, Option):
        return "--" + part.name.replace("_", "-")
    if isinstance(part, Values):
        return f"{part.name}={part.example}"
    return _COMMAND_LINE_HINTS[part.name]


# -- user text in messages ---------------------------------------------------------------
MESSAGE_LIMIT = 200  # characters in a line that tells of an error or a warning, "jacli: error: " included
PREFIX = "jacli: error: "
HIDDEN = frozenset(("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"))
_KEPT = 24  # characters a long word keeps when a message is shortened
_WORDS = re.compile(r"(\s+)")


def printable(text: str) -> str:
    """``text`` with every character that would not show as itself (NUL, newlines, escape
    sequences, zero-width and right-to-left marks, unassigned code points) written as its
    code point, ``<U+200B>``."""
    if text.isprintable():
        return text
    return "".join(f"<U+{ord(c):04X}>" if unicodedata.category(c) in HIDDEN else c for c in text)


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: its head and its tail around '…'."""
    if len(text) <= limit:
        return text
    if limit < 8:
        return text[: max(limit - 1, 0)] + "…"
    tail = (limit - 1) // 3
    return text[: limit - 1 - tail] + "…" + text[len(text) - tail :]


def fit(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """A message in at most ``limit`` characters: its longest words (a number of 4,300 digits,
    a path, a name) shortened first, each to no fewer than a few characters, then the end cut.

    >>> fit("cannot read " + "9" * 300 + ": no such file", 50)
    'cannot read 9999999999999999…9999999: no such file'
    """
    if len(text) <= limit:
        return text
    parts = _WORDS.split(text)  # words at even places, the spaces between at odd ones
    excess = len(text) - limit
    for i in sorted(range(0, len(parts), 2), key=lambda k: -len(parts[k])):
        if excess <= 0 or len(parts[i]) <= _KEPT:
            break
        short = shorten(parts[i], max(_KEPT, len(parts[i]) - excess))
        excess -= len(parts[i]) - len(short)
        parts[i] = short
    text = "".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class JacliError(Exception):
    """Bad input: a parse or shape error, an unusable binding or file, an undefined value.

    ``column`` (1-based) points into ``source``, the text that was being read, when known.
    ``message`` is a str, or text and parts (:class:`Option`, :class:`Values`,
    :class:`Hint`) that a front end words (:meth:`worded`); ``parts`` keeps them.

    Examples
    --------
    >>> import jacli
    >>> try:
    ...     jacli.derive("A X wrt X", A=(2, 3), X=(4, 5))
    ... except jacli.JacliError as err:
    ...     print(err, "|", err.column)
    cannot multiply 2×3 by 4×5 at column 3 | 3
    >>> err = JacliError(("lower ", Option("max_memory")))
    >>> str(err), str(err.worded(lambda part: part.name))
    ('lower --max-memory', 'lower max_memory')
    """

    def __init__(
        self,
        message: str | Sequence[Part],
        *,
        column: int | None = None,
        source: str | None = None,
        words: Words = command_line,
    ) -> None:
        self.parts: tuple[Part, ...] = (message,) if isinstance(message, str) else tuple(message)
        self.message = self.text(words)
        super().__init__(self.message)
        self.column = column
        self.source = source

    def text(self, words: Words) -> str:
        """The message with its parts in ``words``, long user text shortened to fit a line."""
        return fit("".join(p if isinstance(p, str) else words(p) for p in self.parts), MESSAGE_LIMIT - len(PREFIX))

    def worded(self, words: Words) -> JacliError:
        """The same error in another front end's words."""
        return JacliError(self.parts, column=self.column, source=self.source, words=words)

    def __str__(self) -> str:
        return self.message
