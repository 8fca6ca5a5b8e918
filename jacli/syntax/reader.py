"""Reading tokens, and the grammar of sizes and builtins that the parser shares.

:class:`Reader` holds the tokens and the position, and implements the rules that read
sizes: the builtins ``I(3)``, ``K(m,n)``, ``ones(2,3)``, ``vector(1)``, and a call's last
argument when it is a size or an integer offset (``unvec(v, m)``, ``tril(X, -1)``).
"""

from __future__ import annotations

import re

from .. import sizes
from ..errors import JacliError
from ..expr import Expr
from ..sizes import SizeLike
from .notation import vocabulary
from .tokens import SUBSCRIPT, SUPERSCRIPT, Token, tokenize


class Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.vocab = vocabulary()

    # -- helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def at(self, kind: str, text: str | None = None) -> bool:
        t = self.tok
        return t.kind == kind and (text is None or t.text == text)

    def error(self, message: str, col: int | None = None) -> JacliError:
        col = self.tok.col if col is None else col
        return JacliError(f"{message} at column {col}", column=col, source=self.source)

    def expect_close(self, opener: Token) -> None:
        if not self.at("op", ")"):
            raise self.error(f"expected ')' to close '(' at column {opener.col}, found {self.tok.shown()}")
        self.advance()

    def starts_operand(self) -> bool:
        t = self.tok
        return (t.kind in ("num", "name") and t.text != "wrt") or (t.kind == "op" and t.text in ("(", "["))

    def touching(self) -> bool:
        """Whether the current token follows the previous one with no space: ``G[0:2, :]``."""
        prev = self.tokens[self.i - 1] if self.i else None
        return prev is not None and prev.col + len(prev.text) == self.tok.col

    def _parse_slice(self) -> tuple[SizeLike, SizeLike | None, SizeLike, SizeLike | None]:
        """slice = "[" range "," range "]";  range = [bound] ":" [bound];  bound = 0 | size"""
        opener = self.advance()
        r0, r1 = self._parse_range(opener)
        if not self.at("op", ","):
            raise self.error(f"a block is taken as G[rows, columns], as in G[0:2, :]; found {self.tok.shown()}")
        self.advance()
        c0, c1 = self._parse_range(opener)
        if not self.at("op", "]"):
            raise self.error(f"expected ']' to close '[' at column {opener.col}, found {self.tok.shown()}")
        self.advance()
        return r0, r1, c0, c1

    def _parse_range(self, opener: Token) -> tuple[SizeLike, SizeLike | None]:
        start: SizeLike = 0 if self.at("op", ":") else self._parse_bound(opener)
        if not self.at("op", ":"):
            raise self.error(f"a range of rows or columns is start:stop, as in 0:2 or ':'; found {self.tok.shown()}")
        self.advance()
        stop = None if self.at("op", ",") or self.at("op", "]") else self._parse_bound(opener)
        return start, stop

    def _parse_bound(self, opener: Token) -> SizeLike:
        if self.tok.kind == "num" and self.tok.text == "0":
            self.advance()
            return 0
        return self._parse_size(Token("op", "a block's bound", opener.col), "G[0:2, 1:3]")

    # -- sizes and builtins -----------------------------------------------------------
    def _parse_builtin(self, t: Token) -> Expr:
        """builtin = "I" [SUBSCRIPT | "(" size ")"] | "K" "(" size "," size ")"
        | ("ones" | "zeros") ["(" size ["," size] ")"]"""
        spec = self.vocab.builtins[t.text]
        if t.text == "I" and self.tok.kind == "sub":
            sub = self.advance()
            n = int("".join(SUBSCRIPT[c] for c in sub.text))
            if n < 1:
                raise self.error("I needs a positive size", sub.col)
            return Expr("I", (), n, col=t.col)
        if spec.constant:
            return self._parse_constant(t, spec.example)
        if not self.at("op", "(") or self.tok.col != t.col + len(t.text):
            if spec.bare:
                return Expr(t.text, (), None, col=t.col)
            if spec.named:  # K or D alone is a matrix of the user's
                return Expr("name", (), t.text, col=t.col)
            raise self.error(f"{t.text} needs its sizes, as in {spec.example}", t.col)
        opener = self.advance()
        sizes = [self._parse_size(t, spec.example)]
        while self.at("op", ","):
            self.advance()
            sizes.append(self._parse_size(t, spec.example))
        self.expect_close(opener)
        if len(sizes) not in spec.sizes:
            raise self.error(
                f"{t.text} takes {' or '.join(map(str, spec.sizes))} sizes, as in {spec.example}; got {len(sizes)}",
                t.col,
            )
        if spec.sizes == (1,):  # I(n), D(n): one size
            return Expr(t.text, (), sizes[0], col=t.col)
        if len(sizes) == 1:
            sizes.append(1)
        return Expr(t.text, (), tuple(sizes), col=t.col)

    def _parse_subscripted(self, t: Token) -> Expr | None:
        """subscripted = "I_" (SIZE | "{" size "}") | "K_" "{" size ("," | " ") size "}"
        (the seeds' and jacli's LaTeX: I_m, I_3, I_{m n}, K_{q m}, K_{5,2}); None for a name
        that merely holds '_' (x_1, log_det)."""
        m = _SUBSCRIPTED.fullmatch(t.text)
        if m is None or m.group(1) not in ("I", "K", "T") or (m.group(1) == "T" and "{" not in t.text):  # T_qm: a name
            if "{" in t.text:
                plain = re.sub(r"[{}\s]", "", t.text)
                raise self.error(f"'{t.text}': a name is letters, digits and '_', without braces: write {plain}", t.col)
            return None
        base, inner = m.group(1), (m.group(2) if m.group(2) is not None else m.group(3)).strip()
        words = [w for w in re.split(r"[\s,]+", inner) if w]
        pair = words if len(words) == 2 else list(inner) if len(inner) == 2 and inner.isalpha() else ["m", "n"]
        guess = ",".join(pair)
        if base == "T" or (base == "K" and len(words) != 2):
            return self._refuse_commutation(t, guess)
        if base == "I" and len(words) == 1 and len(inner) > 1 and inner.isalpha():  # mn: m n, or one name?
            raise self.error(
                f"'{t.text}' is ambiguous: write I({' '.join(inner)}) for the identity of size "
                f"{' '.join(inner)}, or I({inner}) for a dimension named {inner}",
                t.col,
            )
        parts = [inner] if base == "I" else words
        got = []
        for part in parts:
            sub = Reader(part)
            got.append(sub._parse_size(Token("name", base, t.col), "I_{m n} or K_{q m}"))
            if sub.tok.kind != "end":
                raise self.error(f"cannot read the size '{part}' of '{t.text}'", t.col)
        return Expr(base, (), got[0] if base == "I" else tuple(got), col=t.col)

    def _refuse_commutation(self, t: Token, guess: str) -> Expr:
        raise self.error(
            f"'{t.text}': the commutation matrix is written K({guess}) in jacli (K(m,n) vec(A) = vec(Aᵀ) for A m×n)",
            t.col,
        )

    def _parse_constant(self, t: Token, example: str) -> Expr:
        """constant = ("vector" | "matrix") "(" ["-"] NUMBER ")"   (every entry the number)"""
        if not self.at("op", "("):
            raise self.error(f"{t.text} takes the value of its entries, as in {example}", t.col)
        opener = self.advance()
        sign = -1.0 if self.at("op", "-") else 1.0
        if sign < 0:
            self.advance()
        if self.tok.kind != "num":
            raise self.error(f"{t.text} takes a number, as in {example}; found {self.tok.shown()}")
        value = sign * float(self.advance().text)
        self.expect_close(opener)
        return Expr(t.text, (), value, col=t.col)

    def _parse_size(self, builtin: Token, example: str) -> SizeLike:
        """size = factor {["*"] factor};  factor = INTEGER | NAME [SUPERSCRIPT | "^" INTEGER]"""
        factors = [self._parse_size_factor(builtin, example)]
        while self.at("op", "*") or self.tok.kind in ("num", "name"):
            if self.at("op", "*"):
                self.advance()
            factors.append(self._parse_size_factor(builtin, example))
        return sizes.product(factors)

    def _parse_size_factor(self, builtin: Token, example: str) -> SizeLike:
        s = self.tok
        if s.kind == "num" and s.text.isdigit():
            self.advance()
            if int(s.text) < 1:
                raise self.error(f"{builtin.text} needs positive sizes, as in {example}; got {s.text}", s.col)
            return int(s.text)
        if s.kind == "name" and sizes.is_dimension_name(s.text) and s.text != "wrt":
            self.advance()
            power = 1
            if (
                self.tok.kind == "sup"
                and self.tok.text.isascii() is False
                and all(c in "⁰¹²³⁴⁵⁶⁷⁸⁹" for c in self.tok.text)
            ):
                power = int("".join(SUPERSCRIPT[c] for c in self.advance().text))
            elif self.at("op", "^"):
                self.advance()
                if not (self.tok.kind == "num" and self.tok.text.isdigit()):
                    raise self.error(f"expected an integer power after '^', found {self.tok.shown()}")
                power = int(self.advance().text)
            if power < 1:
                raise self.error(f"{builtin.text} needs positive powers of sizes; got {s.text}^{power}", s.col)
            return sizes.Size(1, ((s.text, power),))
        raise self.error(
            f"{builtin.text} takes sizes (positive integers or dimension names), as in {example}; found {s.shown()}"
        )


# a name with a subscript: I_m, I_3, K_{q m}, T_{qm}
_SUBSCRIPTED = re.compile(r"([A-Za-z])_(?:\{([^{}]*)\}|([A-Za-z0-9]+))")


def commutation_hint(name: str) -> str:
    """For a name such as the seeds' commutation matrix ``T_qm``: what jacli calls it."""
    m = re.fullmatch(r"T_([A-Za-z])([A-Za-z])", name)
    return f" (the commutation matrix is written K({m.group(1)},{m.group(2)}) in jacli)" if m else ""


def one_name(var: str, names: list[str]) -> str:
    """Where ``var`` is part of a longer name (``Wa``, ``AXB``): the words that say the name is
    one name, and how a product is written."""
    for n in names:
        if var in n and var != n:
            spaced = " ".join(re.findall(r"[A-Za-z\u0370-\u03ff][0-9_]*", n))
            return f" ('{n}' is one name; a product is written with spaces: '{spaced}')"
    return ""


def count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
