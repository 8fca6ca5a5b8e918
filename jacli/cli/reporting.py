"""The one place where jacli's error becomes a message and exit code 2, and anything else
a one-line bug report and exit 70; and the standard streams, made safe to write to.

Every message is at most three lines (the message, and on a terminal the source with a
caret under the column), with control, format (zero-width, right-to-left) and separator
characters shown as their code points, ``<U+200B>``; the message's line holds at most
:data:`~jacli.errors.MESSAGE_LIMIT` characters, long user text shortened with '…'.
"""

import codecs
import errno
import os
import sys
import traceback
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import typer

from ..errors import HIDDEN, PREFIX, ExitCode, JacliError, command_line, fit, printable
from .terminal import is_terminal


class Settings(NamedTuple):
    """What the root options set for every command (``ctx.obj``)."""

    debug: bool = False


def settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else Settings(debug=bool(os.environ.get("JACLI_DEBUG")))


BUG_REPORT = "please report it with the command that caused it"
SOURCE_WINDOW = 100  # characters of the source shown above the caret


def _escape(c: str) -> str:
    """A character as JSON's escape (a surrogate pair beyond U+FFFF)."""
    code = ord(c)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_line(obj: object) -> str:
    """``obj`` as one line of JSON, non-ASCII text kept, every character that would not show as
    itself escaped (a line separator, an escape sequence, a right-to-left mark): a reader that
    splits lines where Unicode breaks them, or a terminal, sees one line of plain text."""
    import json

    text = json.dumps(obj, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(_escape(c) if unicodedata.category(c) in HIDDEN else c for c in text)


def bug_line(exc: BaseException) -> str:
    """The one line that tells of a bug: what was raised, and how to report it."""
    what = fit(printable(f"{type(exc).__name__}: {exc}"), 80)
    return f"jacli: internal error (a bug): {what}; {BUG_REPORT}; `jacli --debug ...` shows the traceback"


def wording(err: JacliError) -> str:
    """The error's message in the command line's words (``--max-memory``, ``X=X.npy``)."""
    return err.text(command_line)


def message_lines(err: JacliError, terminal: bool) -> list[str]:
    """At most three lines: the message, and on a terminal the source with a caret."""
    lines = [fit(PREFIX + printable(wording(err)))]
    if terminal and err.column and err.source and 0 < err.column <= len(err.source) + 1:
        start = max(0, err.column - 1 - SOURCE_WINDOW // 2)
        stop = start + SOURCE_WINDOW
        before = printable(err.source[start : err.column - 1])
        shown = printable(err.source[start:stop])
        lead = "…" if start else ""
        lines.append(f"  {lead}{shown}{'…' if stop < len(err.source) else ''}")
        lines.append("  " + " " * (len(lead) + len(before)) + "^")
    return lines


def bad_input(message: str) -> typer.Exit:
    """Write one line of bad input on stderr; the exit (code 2) to raise."""
    sys.stderr.write(fit(PREFIX + printable(message)) + "\n")
    return typer.Exit(ExitCode.BAD_INPUT)


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
        raise bad_input("the expression is nested too deeply or is too long for jacli") from None
    except MemoryError:
        raise bad_input(
            "out of memory; lower --max-memory, or save with -o J.npy (block by block) or --sparse"
        ) from None
    except Exception as exc:
        if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
            raise bad_input(f"a size has more digits than jacli prints ({sys.get_int_max_str_digits():,})") from None
        if settings(ctx).debug:
            traceback.print_exc()
        else:
            sys.stderr.write(bug_line(exc) + "\n")
        raise typer.Exit(ExitCode.INTERNAL) from None


# -- the standard streams ----------------------------------------------------------------
ASCII = {
    "⊗": "(x)",
    "∘": ".*",
    "⊙": ".*",
    "·": "*",
    "×": "x",
    "∂": "d",
    "ᵀ": "'",
    "ᵣ": "_r",
    "⁻": "^-",
    "…": "...",
    "⋮": ":",
    "⋱": ".",
    "−": "-",
    "–": "-",
    "—": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "≤": "<=",
    "≥": ">=",
    "→": "->",
    **{chr(0x2080 + d): str(d) for d in range(10)},  # subscript digits: I₃ is I3
    **{c: str(d) for d, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")},
}


def _transliterate(err: UnicodeError) -> tuple[str, int]:
    """The codec error handler ``jacli-ascii``: what an encoding lacks, spelt in ASCII, or
    as its code point."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    bad = err.object[err.start : err.end]
    return "".join(ASCII.get(c, f"<U+{ord(c):04X}>") for c in bad), err.end


codecs.register_error("jacli-ascii", _transliterate)


def can_encode(stream: Any, text: str = "⊗ᵀ×∂…") -> bool:
    """Whether ``stream``'s encoding can write ``text`` (jacli's notation) as it is."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class SafeStream:
    """stdout or stderr that never raises: when the stream is closed, full or gone, the rest
    of the output is dropped and, unless a reader merely stopped reading (``| head``), one
    line on stderr says so; the run goes on to the exit code it would have had."""

    def __init__(self, stream: Any, name: str, fd: int, tell: Any = None) -> None:
        self.stream = stream
        self.name = name
        self.fd = fd
        self.tell = tell  # where to say that output was lost (the SafeStream of stderr)
        self.lost: str | None = None if stream is not None else "closed"
        self.told = False
        if stream is not None and not can_encode(stream) and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="jacli-ascii")

    def __getattr__(self, attr: str) -> Any:
        if self.stream is None:
            raise AttributeError(attr)
        return getattr(self.stream, attr)

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"

    def isatty(self) -> bool:
        return self.lost is None and is_terminal(self.stream)

    def fileno(self) -> int:
        if self.stream is None:
            raise OSError(errno.EBADF, f"{self.name} is closed")
        return int(self.stream.fileno())

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.lost is None:
            try:
                return int(self.stream.write(text))
            except (OSError, ValueError) as err:
                self._lose(err)
        self._say()
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self.lost is None:
            try:
                self.stream.flush()
            except (OSError, ValueError) as err:
                self._lose(err)
                self._say()

    def _lose(self, err: Exception) -> None:
        if isinstance(err, BrokenPipeError):
            self.lost, self.told = "", True  # the reader stopped: nothing to say
        else:
            self.lost = getattr(err, "strerror", None) or str(err) or type(err).__name__
        try:  # what is still buffered goes to /dev/null, so the interpreter's last flush succeeds
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.fd)
            os.close(devnull)
            self.stream.flush()
        except (OSError, ValueError, AttributeError):
            pass

    def _say(self) -> None:
        if self.told or self.tell is None:
            return
        self.told = True
        self.tell.write(f"jacli: cannot write to {self.name} ({self.lost}); the output is lost\n")
        self.tell.flush()


def hold_standard_descriptors() -> None:
    """Closed descriptors 0, 1 and 2 are opened on /dev/null, so that no file jacli opens
    takes their number (and output meant for a closed stdout never lands in it)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def guard_streams() -> tuple[SafeStream, SafeStream]:
    """Replace sys.stdout and sys.stderr by :class:`SafeStream` s."""
    err = SafeStream(sys.stderr, "stderr", 2)
    out = SafeStream(sys.stdout, "stdout", 1, tell=err)
    sys.stderr, sys.stdout = err, out
    return out, err
