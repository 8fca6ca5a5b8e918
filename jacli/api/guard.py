"""The API's errors: every failure of bad input a JacliError, in the API's words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import JacliError

# The command line's words in shared messages, and the API's.
_API_WORDS = [
    (
        r"; save it with -o J\.npy \(written block by block\) or --sparse -o J\.npz, or raise --max-memory",
        "; raise max_bytes (the command line saves larger ones block by block: jacli derive ... -o J.npy)",
    ),
    (r"\(e\.g\. (\w+)=\1\.npy\)", r"(e.g. \1=numpy.ones(...))"),
    (r"\(e\.g\. (\w+)=file\.npy\)", r"(e.g. \1=numpy.ones(...))"),
    (r"use --random", "use random=True"),
    (r"--symbolic", "symbolic=True"),
    (r"--max-memory", "max_bytes"),
    (r"--(seed|tol|vec|method|against)\b", r"\1"),
]


def api_words(message: str) -> str:
    """A message of the shared pipeline in the API's words (no command-line flags)."""
    for pattern, repl in _API_WORDS:
        message = re.sub(pattern, repl, message)
    return message


@contextmanager
def api_errors() -> Iterator[None]:
    """Every failure of bad input is a JacliError in the API's words."""
    try:
        yield
    except JacliError as err:
        raise JacliError(api_words(err.message), column=err.column, source=err.source) from None
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
