"""The language: tokens, the parser, the printer and the notation both read."""

from .parser import Parsed, parse, parse_expr, parse_formula
from .printer import to_latex, to_text

__all__ = ["Parsed", "parse", "parse_expr", "parse_formula", "to_latex", "to_text"]
