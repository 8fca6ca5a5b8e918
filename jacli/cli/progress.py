"""A progress bar on stderr for work that takes more than a second, on a terminal only."""

from __future__ import annotations

import os
import sys
import threading
from types import TracebackType
from typing import Any

from .terminal import is_terminal

DELAY = 1.0  # seconds before the bar appears: quick work shows nothing


class LazyBar:
    """A transient Rich progress bar on stderr that appears after :data:`DELAY` seconds.

    ``update(done, total)`` may be called from the work at any time; the bar is drawn (and
    Rich imported) by a timer thread only once the work has lasted a second, and never
    when stderr is not a terminal. Use it as a context manager: it is gone on exit,
    whatever the exit (an error, Ctrl-C)."""

    def __init__(self, description: str, total: int | None = None, *, enabled: bool | None = None) -> None:
        self.description = description
        self.total = total
        self.done = 0
        self._lock = threading.Lock()
        self._bar: Any = None
        self._task: Any = None
        self._stopped = False
        on = is_terminal(sys.stderr) if enabled is None else enabled
        self._timer = threading.Timer(DELAY, self._show) if on else None
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import Progress

        with self._lock:
            if self._stopped:
                return
            # what is written to stdout meanwhile goes through the bar's console (on stderr) only
            # where both streams are the one terminal: a redirected stdout keeps every line
            shared = _same_terminal(sys.stdout, sys.stderr)
            self._bar = Progress(console=Console(stderr=True), transient=True, redirect_stdout=shared)
            self._task = self._bar.add_task(self.description, total=self.total, completed=self.done)
            self._bar.start()

    def update(self, done: int, total: int | None = None) -> None:
        with self._lock:
            self.done = done
            if total is not None:
                self.total = total
            if self._bar is not None:
                self._bar.update(self._task, completed=done, total=self.total)

    def advance(self) -> None:
        self.update(self.done + 1)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._timer is not None:
                self._timer.cancel()
            if self._bar is not None:
                self._bar.stop()
                self._bar = None

    def __enter__(self) -> LazyBar:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def _same_terminal(out: Any, err: Any) -> bool:
    """Whether ``out`` and ``err`` are both the one terminal (a file or a pipe is not)."""
    if not (is_terminal(out) and is_terminal(err)):
        return False
    try:
        return os.path.samestat(os.fstat(out.fileno()), os.fstat(err.fileno()))
    except (OSError, ValueError, AttributeError):
        return False
