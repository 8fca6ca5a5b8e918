"""The terminal: whether a stream is one, Rich's console, warnings on stderr."""

from __future__ import annotations

import os
import sys
from typing import Any

from ..errors import fit, printable


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


MIN_WIDTH = 40  # columns a table is laid out in at least, whatever COLUMNS says


def console() -> Any:
    """Rich on stdout; with NO_COLOR set, no styling escapes at all (bold and dim too). A width
    of no columns (COLUMNS=0) is taken as 80, a narrower one than :data:`MIN_WIDTH` as that:
    Rich would print nothing, or a character a line."""
    from rich.console import Console

    out = Console(highlight=False, color_system=None if os.environ.get("NO_COLOR") else "auto")
    if out.width < MIN_WIDTH:
        out.width = 80 if out.width < 1 else MIN_WIDTH
    return out


def warning(text: str) -> None:
    """A warning, one line on stderr."""
    sys.stderr.write(fit(f"jacli: warning: {printable(text)}") + "\n")


def told(wrote: str | None, warnings: tuple[str, ...] = ()) -> None:
    """After what is printed, so that on a terminal the last lines say where it went: the file
    written, then what the user should know about it."""
    if wrote:
        sys.stdout.flush()
        sys.stderr.write(f"jacli: wrote {printable(wrote)}\n")  # a name's control characters shown, not run
    for w in warnings:
        warning(w)
