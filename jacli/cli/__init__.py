"""The command line: the Typer app, the commands, the rendering.

Ctrl-C while the command line loads ends it quietly (exit 130, no traceback): ``jacli``
itself imports nothing before this package.
"""

try:
    from .app import app
    from .running import main
except KeyboardInterrupt:
    raise SystemExit(130) from None

__all__ = ["app", "main"]
