"""The Python API's arguments: each checked in the API's words before any work, then made
into the pipeline's :class:`~jacli.api.request.Request` (the expression read once)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import JacliError
from ..io.arrays import short
from .problem import Source, bindings_of, is_size
from .request import Options, Request

VECS = ("col", "row")
METHODS = ("complex", "central")


def shown(value: object) -> str:
    """A bad argument as a message shows it: a short repr of a plain value, else its type."""
    if isinstance(value, (str, bytes, int, float, complex, np.generic)) or value is None:
        return short(repr(value), 40)
    return f"a {type(value).__name__}"


def api_source(source: object) -> str:
    if not isinstance(source, str):
        raise JacliError(f'the expression is a str such as "A X B wrt X", not {type(source).__name__}')
    return source


def api_flag(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise JacliError(f"{name} is True or False, not {shown(value)}")
    return bool(value)


def api_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise JacliError(f"{name} is {' or '.join(repr(c) for c in choices)}, not {shown(value)}")
    return value


def api_seed(value: object) -> int:
    if not is_size(value) or int(value) < 0:
        raise JacliError(f"seed is a non-negative integer, not {shown(value)}")
    return int(value)


def api_number(name: str, value: object) -> float:
    """A positive, finite real number (``tol``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise JacliError(f"{name} is a positive number, not {shown(value)}")
    x = float(value)
    if not (np.isfinite(x) and x > 0):
        raise JacliError(f"{name} is a positive number, not {shown(value)}")
    return x


def api_max_bytes(value: object) -> float:
    """``max_bytes``: None for half the available memory (as the command line's default), a
    number of bytes (``math.inf`` for no limit), or a size such as "2GB" or "512MiB"."""
    from ..io.specs import MAX_BYTES, default_max_memory, parse_size

    if value is None:
        return default_max_memory()
    if isinstance(value, str):
        try:
            return parse_size(value)
        except JacliError:
            raise JacliError(
                f"max_bytes {shown(value)}: give a number of bytes or a size such as '2GB' or '512MiB'"
            ) from None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise JacliError(f"max_bytes is a number of bytes or a size such as '2GB', not {shown(value)}")
    x = float(value)
    if np.isnan(x) or x < 0:
        raise JacliError(f"max_bytes is a non-negative number of bytes, not {shown(value)}")
    return min(x, float(MAX_BYTES))


def api_request(
    function: str,
    options: tuple[str, ...],
    source: object,
    bindings: Mapping[str, Any] | None,
    names: dict[str, Any],
    **given: Any,
) -> Request:
    """The request of an API call: the expression read (a parse error raised now), every keyword
    a name in it (a misspelt option never passes for a binding), the bindings checked, and the
    options ``given`` (already checked)."""
    read = Source.read(api_source(source))
    in_expr = read.expression().expr.names()
    for n in names:
        if n in in_expr:
            continue
        if function in ("jacobian", "hessian") and n == "symbolic":
            full = "derive" if function == "jacobian" else "derive_hessian"
            raise JacliError(
                f"{function}() always evaluates: it takes no symbolic (jacli.{full}(..., symbolic=True) "
                "gives the formula alone)"
            )
        close = difflib.get_close_matches(n, list(options) + list(in_expr), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        what = f"neither an option ({', '.join(options)}) nor a name" if options else "not a name"
        raise JacliError(f"{function}() got the keyword {short(n)!r}, which is {what} in the expression{hint}")
    return Request(read, bindings_of(bindings, names), Options(**given))


def derivation_request(
    function: str,
    options: tuple[str, ...],
    source: object,
    bindings: Mapping[str, Any] | None,
    names: dict[str, Any],
    vec: object,
    random: object,
    seed: object,
    symbolic: object,
    max_bytes: object,
) -> Request:
    """The request of derive, jacobian, hessian and derive_hessian, its arguments checked."""
    vec_ = api_choice("vec", vec, VECS)
    random_, symbolic_ = api_flag("random", random), api_flag("symbolic", symbolic)
    seed_, limit = api_seed(seed), api_max_bytes(max_bytes)
    return api_request(
        function,
        options,
        source,
        bindings,
        names,
        vec=vec_,
        random=random_,
        seed=seed_,
        symbolic=symbolic_,
        max_bytes=limit,
    )


def check_request(
    source: object,
    bindings: Mapping[str, Any] | None,
    names: dict[str, Any],
    against: object,
    tol: object,
    seed: object,
    vec: object,
    method: object,
    max_bytes: object,
    options: tuple[str, ...],
) -> Request:
    """The request of check, its arguments checked."""
    if against is not None and not isinstance(against, str):
        raise JacliError(f'against is a formula (a str) such as "B\' ⊗ A", not {type(against).__name__}')
    tol_, seed_, limit = api_number("tol", tol), api_seed(seed), api_max_bytes(max_bytes)
    vec_, method_ = api_choice("vec", vec, VECS), api_choice("method", method, METHODS)
    return api_request(
        "check", options, source, bindings, names, against=against, tol=tol_, seed=seed_, vec=vec_, method=method_,
        max_bytes=limit,
    )  # fmt: skip
