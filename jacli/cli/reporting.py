"""The one place where jacli's error becomes a message and exit code 2, and anything else
a one-line bug report and exit 70."""

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import typer

from ..errors import ExitCode, JacliError
from .terminal import is_terminal


class Settings(NamedTuple):
    """What the root options set for every command (``ctx.obj``)."""

    debug: bool = False


def settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else Settings(debug=bool(os.environ.get("JACLI_DEBUG")))


BUG_REPORT = "please report it with the command that caused it"


def message_lines(err: JacliError, terminal: bool) -> list[str]:
    lines = [f"jacli: error: {err.message}"]
    if terminal and err.column and err.source and "\n" not in err.source:
        lines.append(f"  {err.source}")
        lines.append("  " + " " * (err.column - 1) + "^")
    return lines


@contextmanager
def reporting(ctx: typer.Context) -> Iterator[None]:
    """Turn jacli's error into a short message and exit 2; anything else is a bug: exit 70."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except JacliError as err:
        sys.stderr.write("\n".join(message_lines(err, is_terminal(sys.stderr))) + "\n")
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    except BrokenPipeError:  # the reader of a pipe stopped early (| head): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(ExitCode.OK) from None
    except RecursionError:
        sys.stderr.write("jacli: error: the expression is nested too deeply or is too long for jacli\n")
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    except MemoryError:
        sys.stderr.write(
            "jacli: error: out of memory; lower --max-memory, or save with -o J.npy (block by block) or --sparse\n"
        )
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    except Exception as exc:
        if settings(ctx).debug:
            traceback.print_exc()
        else:
            sys.stderr.write(
                f"jacli: internal error (a bug): {type(exc).__name__}: {exc}; {BUG_REPORT}; "
                "`jacli --debug ...` shows the traceback\n"
            )
        raise typer.Exit(ExitCode.INTERNAL) from None
