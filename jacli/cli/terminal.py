"""The terminal: whether a stream is one, Rich's console, warnings on stderr."""

from __future__ import annotations

import os
import sys
from typing import Any


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def console() -> Any:
    """Rich on stdout; with NO_COLOR set, no styling escapes at all (bold and dim too)."""
    from rich.console import Console

    return Console(highlight=False, color_system=None if os.environ.get("NO_COLOR") else "auto")


def warn(problem: Any) -> None:
    """The problem's warnings, one line each on stderr."""
    for w in problem.warnings:
        sys.stderr.write(f"jacli: warning: {w}\n")
