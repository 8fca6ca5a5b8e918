"""The language: tokens, the parser, the printer and the notation both read."""

from .parser import Parsed, parse, parse_expr, parse_formula
from .printer import to_latex, to_text

__all__ = ["Parsed", "names_in", "parse", "parse_expr", "parse_formula", "to_latex", "to_text"]


def names_in(source: str) -> set[str] | None:
    """The names of ``source`` (an expression, ``wrt`` optional), whose values a --values
    file need hold; None if it does not parse (the error is then told where it always is)."""
    from ..errors import JacliError

    try:
        return set(parse(source, require_wrt=False).expr.names())
    except (JacliError, RecursionError):
        return None
