"""The API's errors: every failure of bad input a JacliError, in the API's words."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import Hint, JacliError, Option, Part, Values

# how the Python API spells what the command line spells --max-memory, --random, --symbolic
_OPTIONS = {"max_memory": "max_bytes", "random": "random=True", "symbolic": "symbolic=True"}
_HINTS = {"larger": "raise max_bytes (the command line saves larger ones block by block: jacli derive ... -o J.npy)"}


def python_words(part: Option | Values | Hint) -> str:
    """The API's words: ``max_bytes``, ``random=True``, ``X=numpy.ones(...)``; other options
    by their keyword (``seed``, ``tol``)."""
    if isinstance(part, Option):
        return _OPTIONS.get(part.name, part.name)
    if isinstance(part, Values):
        return f"{part.name}=numpy.ones(...)"
    return _HINTS[part.name]


# jacli.numeric writes two of its messages in the command line's words (the Evaluator's and
# the structured evaluator's memory limit, and a name without values): read back exactly
# into parts here, so that the API words them as it words every other message.
_LIMIT = " (--max-memory)"
_NO_VALUES = " has no values: bind it to values (e.g. "


def _parts(err: JacliError) -> tuple[Part, ...]:
    if len(err.parts) != 1 or not isinstance(err.parts[0], str):
        return err.parts
    text = err.parts[0]
    if text.endswith(_LIMIT):
        return (text[: -len(_LIMIT)] + " (", Option("max_memory"), ")")
    name, found, rest = text.partition(_NO_VALUES)
    if found and rest == f"{name}=file.npy) or use --random":
        return (name + _NO_VALUES, Values(name, "file.npy"), ") or use ", Option("random"))
    return err.parts


@contextmanager
def api_errors() -> Iterator[None]:
    """Every failure of bad input is a JacliError in the API's words."""
    try:
        yield
    except JacliError as err:
        raise JacliError(_parts(err), column=err.column, source=err.source, words=python_words) from None
    except RecursionError:
        raise JacliError("the expression is nested too deeply or is too long for jacli") from None
    except MemoryError:
        raise JacliError("out of memory: lower max_bytes") from None
    except ValueError as err:
        if "integer string conversion" not in str(err):
            raise
        raise JacliError("a size has more digits than Python prints (sys.get_int_max_str_digits())") from None


# the options each function takes besides its bindings
DERIVE = ("vec", "random", "seed", "symbolic", "max_bytes")
JACOBIAN = ("vec", "random", "seed", "max_bytes")
CHECK = ("against", "tol", "seed", "vec", "method", "max_bytes")
VEC_ONLY = ("vec",)
