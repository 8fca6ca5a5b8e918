"""The one error type jacli raises, and the exit codes it maps to."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The exit codes of the command line."""

    OK = 0  # done; for check and batch, everything agreed
    DISAGREE = 1  # check or a batch line found a disagreement
    BAD_INPUT = 2  # parse, shape, binding, file or domain error
    INTERNAL = 70  # a bug in jacli (EX_SOFTWARE)


class JacliError(Exception):
    """Bad input: a parse or shape error, an unusable binding or file, an undefined value.

    ``column`` (1-based) points into ``source``, the text that was being read, when known.

    Examples
    --------
    >>> import jacli
    >>> try:
    ...     jacli.derive("A X wrt X", A=(2, 3), X=(4, 5))
    ... except jacli.JacliError as err:
    ...     print(err, "|", err.column)
    cannot multiply 2×3 by 4×5 at column 3 | 3
    """

    def __init__(self, message: str, *, column: int | None = None, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.source = source

    def __str__(self) -> str:
        return self.message
