"""Ending signals (SIGINT, SIGTERM, SIGHUP) and the temporary files they must not leave behind.

The command line installs :func:`catch`: the first ending signal becomes an exception
(KeyboardInterrupt, or :class:`Ended` for SIGTERM and SIGHUP) that unwinds the run, its
temporary files removed on the way; from then on the three are blocked and any that still
arrives is kept, not raised, so no second signal can interrupt the clean-up, in whatever
thread the operating system delivers it. Inside :func:`held` (a temporary file being made
or removed) a signal waits until the block ends. Every temporary file is tracked from the
moment it exists until it is renamed or removed: :func:`sweep` removes what an exception
left (the command line calls it last, with the signals held).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from typing import Any

SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))
_MASKABLE = hasattr(signal, "pthread_sigmask")


class Ended(BaseException):
    """SIGTERM or SIGHUP: unwinds the run like Ctrl-C does (temporary files are removed on
    the way), then the process ends by the same signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _State:
    def __init__(self) -> None:
        self.ending: int | None = None  # the signal that ends the run, once one has arrived
        self.holding = 0  # depth of held() blocks
        self.kept: list[int] = []  # signals that arrived while held, not yet acted on
        self.temporaries: set[str] = set()  # temporary files that exist now


_state = _State()


def _block() -> Any:
    return signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS) if _MASKABLE else None


def _handle(signum: int, frame: object) -> None:
    """The handler of the three: the first one ends the run, unless a clean-up holds it."""
    if _state.ending is not None or _state.holding:
        _state.kept.append(signum)
        return
    _state.ending = signum
    _block()  # in the main thread: what comes next waits (other threads' deliveries are kept)
    raise KeyboardInterrupt if signum == signal.SIGINT else Ended(signum)


def catch() -> Callable[[], None]:
    """Install the handler for each ending signal that is not ignored (``nohup``, a
    background job's SIGINT stay ignored); what puts the handlers and the mask back."""
    saved = [(sig, signal.getsignal(sig)) for sig in SIGNALS]
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, ()) if _MASKABLE else None
    _state.ending, _state.holding, _state.kept = None, 0, []
    for sig, handler in saved:
        if handler not in (signal.SIG_IGN, None):
            signal.signal(sig, _handle)

    def restore() -> None:
        for sig, handler in saved:
            if handler is not None:
                signal.signal(sig, handler)
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    return restore


def ending() -> int | None:
    """The signal that ends the run, if one has arrived."""
    return _state.ending


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends: blocked in this thread, and kept
    by the handler whichever thread the system delivers them to. A signal kept ends the
    run when the block ends (unless the run is ending already)."""
    old = _block()
    _state.holding += 1
    try:
        yield
    finally:
        _state.holding -= 1
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        if not _state.holding and _state.kept and _state.ending is None:
            _handle(_state.kept.pop(0), None)


def track(path: str) -> None:
    """A temporary file now exists at ``path`` (call inside :func:`held`)."""
    _state.temporaries.add(path)


def untrack(path: str) -> None:
    """The temporary file at ``path`` was renamed or removed."""
    _state.temporaries.discard(path)


def remove(path: str) -> None:
    """Remove a temporary file, the signals held."""
    with held():
        with contextlib.suppress(OSError):
            os.unlink(path)
        untrack(path)


def sweep() -> None:
    """Remove every temporary file still tracked (an exception left it), the signals held."""
    with held():
        for path in list(_state.temporaries):
            remove(path)
