"""The tokenizer: source text to tokens with 1-based columns."""

from __future__ import annotations

import re
import sys
from typing import NamedTuple

from ..errors import JacliError

SUPERSCRIPT = {
    "⁰": "0",
    "¹": "1",
    "²": "2",
    "³": "3",
    "⁴": "4",
    "⁵": "5",
    "⁶": "6",
    "⁷": "7",
    "⁸": "8",
    "⁹": "9",
    "⁻": "-",
    "ᵀ": "T",
}
SUBSCRIPT = {"₀": "0", "₁": "1", "₂": "2", "₃": "3", "₄": "4", "₅": "5", "₆": "6", "₇": "7", "₈": "8", "₉": "9"}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<latexname>\\(?:operatorname|text|mathrm)\{[A-Za-z]+\})
  | (?P<name>[A-Za-z\u0370-\u03ff][A-Za-z0-9_\u0370-\u03ff]*(?:(?<=_)\{[^{}]*\})?)
  | (?P<latexsup>\^\{\s*-?\s*(?:T|\\top|⊤|[0-9]+)\s*\}|\^\s*\\top\b|\^?⊤)
  | (?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵀ]+)
  | (?P<sub>[₀₁₂₃₄₅₆₇₈₉]+)
  | (?P<op>\\(?:otimes|oplus|odot|cdot)(?![A-Za-z])|\\left\(|\\right\)|\.\*|\./|\.\^|[-+*@·⊗⊕∘⊙'(),^\[\]/;:\\])
    """,
    re.VERBOSE,
)

# Spellings that mean the same operator: the token carries the first form. The seeds' LaTeX
# (\otimes, a^{T}, a^\top, a^⊤, \text{vec}, \left( \right); I_m and I_{m n} in the reader)
# reads as jacli's own notation.
ALIASES = {
    "·": "*",
    "⊙": "∘",
    ".*": "∘",
    **{"\\otimes": "⊗", "\\oplus": "⊕", "\\odot": "∘", "\\cdot": "*", "\\left(": "(", "\\right)": ")"},
}
_LATEX_SUP = str.maketrans({"T": "ᵀ", "⊤": "ᵀ", "-": "⁻", **dict(zip("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹", strict=True))})


def _superscript(text: str) -> str:
    """A LaTeX superscript (``^{T}``, ``^{-1}``, ``^\\top``, ``^⊤``) as jacli's own: ``ᵀ``, ``⁻¹``."""
    inner = re.sub(r"[\s^{}]|\\top", lambda m: "T" if m.group() == "\\top" else "", text)
    return inner.translate(_LATEX_SUP)


class Token(NamedTuple):
    kind: str  # num, name, sup, sub, op, end
    text: str
    col: int  # 1-based

    def shown(self) -> str:
        return "the end" if self.kind == "end" else f"'{self.text}'"


def max_digits() -> int:
    """The most digits a number may have: what Python converts to an integer (4,300 by default)."""
    return sys.get_int_max_str_digits() or 4300


def tokenize(source: str) -> list[Token]:
    """The tokens of ``source``, ending with an ``end`` token.

    Digits are ASCII only (``৪`` is not 4) and a number has at most :func:`max_digits` of them."""
    tokens = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            ch = source[pos]
            what = f"digit '{ch}' (write digits 0-9)" if ch.isdigit() else f"character '{ch}'"
            raise JacliError(f"unexpected {what} at column {pos + 1}", column=pos + 1, source=source)
        kind = m.lastgroup
        if kind != "space":
            text = m.group()
            if kind in ("num", "sup", "sub") and len(text) > max_digits():
                raise JacliError(
                    f"a number of {len(text):,} digits at column {pos + 1}; jacli reads numbers of at most "
                    f"{max_digits():,} digits",
                    column=pos + 1,
                    source=source,
                )
            if kind == "num" and re.match(r"\.?\.[0-9]", source[m.end() - text.endswith(".") :]):
                bad = re.match(r"[0-9.eE+-]*", source[pos:])
                shown = bad.group() if bad else text
                raise JacliError(f"malformed number '{shown}' at column {pos + 1}", column=pos + 1, source=source)
            if kind == "latexsup":
                kind, text = "sup", _superscript(text)
            elif kind == "latexname":  # \operatorname{vec}, \text{vec}: the function vec
                kind, text = "name", text[text.index("{") + 1 : -1]
            tokens.append(Token(str(kind), ALIASES.get(text, text), pos + 1))
        pos = m.end()
    tokens.append(Token("end", "", len(source) + 1))
    return tokens
