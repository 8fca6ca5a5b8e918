"""Running ``jacli``: the console script, its exit code, and what it makes of signals, usage
errors and warnings (the commands themselves are in :mod:`jacli.cli.app`)."""

import os
import signal
import sys
import warnings
from typing import Any

import typer
from typer.exceptions import TyperException  # the argument parser's errors (click's, as Typer ships it)

from ..errors import PREFIX, ExitCode, fit, printable
from ..io import ending
from .app import app, protect_expressions
from .reporting import guard_streams, hold_standard_descriptors


def _one_line_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    sys.stderr.write(fit(f"jacli: warning: {printable(str(message))}") + "\n")


def usage_line(err: TyperException) -> str:
    """A usage error from the argument parser in jacli's words: one line."""
    text = " ".join(err.format_message().split()).rstrip(".")
    if text[:1].isupper() and text[1:2].islower():
        text = text[0].lower() + text[1:]
    ctx = getattr(err, "ctx", None)
    where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
    return fit(PREFIX + printable(text) + where) + "\n"


def run(argv: list[str]) -> int:
    """Run ``jacli ARGV``; the exit code."""
    try:
        rv = app(args=protect_expressions(argv), prog_name="jacli", standalone_mode=False)
        return rv if isinstance(rv, int) else ExitCode.OK
    except TyperException as err:
        if type(err).__name__ == "NoArgsIsHelpError":  # jacli alone: the help
            sys.stderr.write(err.format_message() + "\n")
        else:
            sys.stderr.write(usage_line(err))
        return int(err.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        return 130


def main() -> None:
    """The console script: ``jacli ...``. Usage errors in one line; a closed or full stdout
    keeps the exit code the run would have had where that is not 0, and makes 0 into 74 (the
    output is lost); SIGINT, SIGTERM and SIGHUP, one or several in any order, leave no
    temporary file behind (jacli.io.ending)."""
    hold_standard_descriptors()
    out, err = guard_streams()
    restore = ending.catch()
    warnings.showwarning = _one_line_warning
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # NumPy's: jacli checks results itself
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4000))
    try:
        code = run(sys.argv[1:])
    except ending.Ended as end:
        code = 128 + end.signum
    ending.sweep()  # what an exception raised before its clean-up could run left
    out.flush()
    signum = ending.ending()
    if signum is not None and signum != getattr(signal, "SIGINT", None):  # ended by SIGTERM or SIGHUP
        err.flush()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, (signum,))  # dies here, by the signal
    if signum is None:
        restore()  # a run in a process that goes on (tests) gets its handlers back
    out.flush()
    err.flush()
    if code == ExitCode.OK and out.lost and out.told:  # lost output is no success; a reader gone (| head) is
        code = ExitCode.OUTPUT_LOST
    sys.exit(code)
