"""Running ``jacli``: the console script, its exit code, and what it makes of signals, usage
errors and warnings (the commands themselves are in :mod:`jacli.cli.app`)."""

import os
import signal
import sys
import warnings
from typing import Any

import typer
from typer.exceptions import TyperException  # the argument parser's errors (click's, as Typer ships it)

from ..errors import ExitCode
from .app import app, protect_expressions
from .reporting import guard_streams, hold_standard_descriptors, printable


class Ended(BaseException):
    """SIGTERM or SIGHUP: unwinds the run like Ctrl-C does (temporary files are removed on
    the way), then the process ends by the same signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _end(signum: int, frame: object) -> None:
    raise Ended(signum)


def _catch_signals() -> None:
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) not in (signal.SIG_IGN, None):  # nohup stays nohup
            signal.signal(sig, _end)


def _one_line_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    sys.stderr.write(f"jacli: warning: {printable(str(message))}\n")


def usage_line(err: TyperException) -> str:
    """A usage error from the argument parser in jacli's words: one line."""
    text = " ".join(err.format_message().split()).rstrip(".")
    if text[:1].isupper() and text[1:2].islower():
        text = text[0].lower() + text[1:]
    ctx = getattr(err, "ctx", None)
    where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
    return f"jacli: error: {printable(text)}{where}\n"


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
    keeps the exit code the run would have had where that is not 0, and makes 0 into 74
    (the output is lost); SIGINT, SIGTERM and SIGHUP leave no temporary file behind."""
    hold_standard_descriptors()
    out, err = guard_streams()
    _catch_signals()
    warnings.showwarning = _one_line_warning
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # NumPy's: jacli checks results itself
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4000))
    try:
        code = run(sys.argv[1:])
    except Ended as end:
        out.flush()
        signal.signal(end.signum, signal.SIG_DFL)
        os.kill(os.getpid(), end.signum)
        code = 128 + end.signum
    out.flush()
    err.flush()
    if code == ExitCode.OK and out.lost and out.told:  # lost output is no success; a reader gone (| head) is
        code = ExitCode.OUTPUT_LOST
    sys.exit(code)
