"""A name of the language as LaTeX that pdflatex compiles with no package: Greek letters as
their macros (whether written ``alpha`` or ``α``), digits and what follows ``_`` as one
subscript (``x1_2`` is ``x_{1,2}``, never the double subscript ``x_{1}_{2}``), longer names
in ``\\mathit``; a character with no macro as its code point, ``\\mathrm{U{+}037E}``.
"""

from __future__ import annotations

import unicodedata

# the Greek letters LaTeX has macros for, by their ASCII names
GREEK_WORDS = frozenset(
    [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu",
        "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
        "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
    ]
)  # fmt: skip

# Unicode's Greek letters: LaTeX's macro, or the Latin letter a capital looks like (upright,
# as LaTeX sets capital Greek); the variant forms (ϑ, ϕ, ϵ, ϖ, ϱ, ς) their own macros
_SMALL = "alpha beta gamma delta varepsilon zeta eta theta iota kappa lambda mu nu xi o pi rho varsigma sigma tau "
_SMALL += "upsilon varphi chi psi omega"
_CAPITAL = "A B Gamma Delta E Z H Theta I K Lambda M N Xi O Pi P - Sigma T Upsilon Phi X Psi Omega"


def _letters() -> dict[str, str]:
    table = {}
    for start, words in ((0x3B1, _SMALL), (0x391, _CAPITAL)):
        for k, word in enumerate(words.split()):
            if word != "-":  # U+03A2 is unassigned
                table[chr(start + k)] = rf"\mathrm{{{word}}}" if len(word) == 1 else "\\" + word
    table["ο"] = "o"  # omicron, as LaTeX writes it
    table.update({"ϑ": r"\vartheta", "ϕ": r"\phi", "ϵ": r"\epsilon", "ϖ": r"\varpi", "ϱ": r"\varrho", "ϐ": r"\beta"})
    table.update({"ϒ": r"\Upsilon", "ϴ": r"\Theta", "ϲ": "c", "Ϲ": r"\mathrm{C}", "ϳ": "j", "Ϳ": r"\mathrm{J}"})
    return table


LETTERS = _letters()
_ACCENTS = {"\u0301": r"\acute", "\u0300": r"\grave", "\u0308": r"\ddot", "\u0342": r"\tilde", "\u0304": r"\bar"}


def char(c: str) -> str:
    """One character of a name as LaTeX."""
    if c.isascii():
        return r"\_" if c == "_" else c
    got = LETTERS.get(c)
    if got is not None:
        return got
    decomposed = unicodedata.normalize("NFD", c)  # ά is α with an acute accent
    base, marks = decomposed[0], decomposed[1:]
    if base != c and base in LETTERS and all(m in _ACCENTS for m in marks):
        out = LETTERS[base]
        for m in marks:
            out = f"{_ACCENTS[m]}{{{out}}}"
        return out
    return rf"\mathrm{{U{{+}}{ord(c):04X}}}"


def _spelt(text: str) -> str:
    """Characters as LaTeX, a macro braced where a letter could follow it."""
    return "".join(f"{{{got}}}" if (got := char(c)).startswith("\\") else got for c in text)


def word(text: str) -> str:
    """A name without a subscript: ``A``, ``\\alpha``, ``\\mathit{Sigma2b}``."""
    if text in GREEK_WORDS:
        return "\\" + text
    if len(text) == 1:
        return char(text)
    return rf"\mathit{{{_spelt(text)}}}"


def latex_name(n: str) -> str:
    """A name as LaTeX: ``x1`` is ``x_{1}``, ``x_b`` is ``x_{b}``, ``x1_2`` is ``x_{1,2}``,
    ``alpha`` and ``α`` are ``\\alpha``; anything else whole in ``\\mathit`` (``x1y``, ``A_``)."""
    base = n
    for k, c in enumerate(n):
        if c.isdigit() or c == "_":
            base = n[:k]
            break
    rest = n[len(base) :]
    digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
    after = rest[len(digits) :]
    items = ([digits] if digits else []) + (after[1:].split("_") if after else [])
    if not base or (after and not after.startswith("_")) or "" in items:
        return word(n) if n in GREEK_WORDS or len(n) == 1 else rf"\mathit{{{_spelt(n)}}}"
    if not items:
        return word(base)
    return f"{word(base)}_{{{','.join(i if i.isascii() else _spelt(i) for i in items)}}}"
