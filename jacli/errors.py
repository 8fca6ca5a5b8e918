"""The one error type jacli raises, and the exit codes it maps to.

A message is text and parts that each front end words its own way: an option
(:class:`Option`: ``--max-memory`` on the command line, ``max_bytes`` in Python), a way to
give a name values (:class:`Values`: ``X=X.npy``, ``X=numpy.ones(...)``), a hint
(:class:`Hint`). The error is made in jacli's own words, the command line's
(:func:`command_line`); :meth:`JacliError.worded` words it for another front end.
"""

from __future__ import annotations

import enum
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
        """The message with its parts in ``words``."""
        return "".join(p if isinstance(p, str) else words(p) for p in self.parts)

    def worded(self, words: Words) -> JacliError:
        """The same error in another front end's words."""
        return JacliError(self.parts, column=self.column, source=self.source, words=words)

    def __str__(self) -> str:
        return self.message
