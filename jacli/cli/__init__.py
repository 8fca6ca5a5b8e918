"""The command line: the Typer app, the commands, the rendering.

Ctrl-C while the command line loads ends it quietly (exit 130, no traceback): ``jacli``
itself imports nothing heavy before this package.
"""

import sys

try:
    from .app import app, main
except KeyboardInterrupt:
    sys.exit(130)

__all__ = ["app", "main"]
