"""The command line: the Typer app, the commands, the rendering."""

from .app import app, main

__all__ = ["app", "main"]
