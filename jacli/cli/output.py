"""stdout for results, whose failures stop the printing and not the run."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


class Output:
    """stdout for results; a reader that went away (``| head``) or a write that fails
    stops the printing, not the run, so the exit code is the run's."""

    def __init__(self) -> None:
        self.lost = False

    def write(self, text: str) -> None:
        self._do(lambda stream: stream.write(text))

    def flush(self) -> None:
        self._do(lambda stream: stream.flush())

    def _do(self, action: Callable[[Any], object]) -> None:
        if self.lost:
            return
        if sys.stdout is None:  # started with stdout closed (>&-)
            self.lost = True
            sys.stderr.write("jacli: warning: stdout is closed: the results are not shown\n")
            return
        try:
            action(sys.stdout)
        except (OSError, ValueError) as err:  # EPIPE, ENOSPC (> /dev/full), a closed file
            self.gone(err)

    def gone(self, err: Exception) -> None:
        """Stop printing; tell why unless the reader simply left (a broken pipe)."""
        import os

        self.lost = True
        if not isinstance(err, BrokenPipeError):
            sys.stderr.write(f"jacli: warning: cannot write the results: {getattr(err, 'strerror', None) or err}\n")
        try:  # what is left in the buffer goes nowhere, and the interpreter exits quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass
