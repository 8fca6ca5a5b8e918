"""The recursive-descent parser of jacli's expression language.

Each ``_parse_<rule>`` method implements the grammar line in its docstring. Errors are
:class:`JacliError` with a 1-based column and the user's words, never token names. The
binary operators, function names and builtins come from the declared notations
(:mod:`jacli.syntax.notation`), which also hold the precedence table::

    + -          sum and difference
    - (prefix)   negation of what follows up to the next + or -
    ⊗            Kronecker product
    ∘ .* ./      Hadamard product and elementwise division
    * @ · juxtaposition   matrix product (a 1×1 factor makes it a scalar multiple)
    - (prefix)   negation of one operand, after a binary operator (A ⊗ -B)
    ' ᵀ ^T ⁻¹ ^-1 ⁻ᵀ ^-T ^k ²   postfix: transpose, inverse, integer power

The grammar of expressions is here, one method per rule; the rules of sizes and builtins
(``I(3)``, ``K(m,n)``, ``ones(2,3)``, a call's size or offset argument) are in
:mod:`jacli.syntax.reader`, with the token reading they share.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from ..errors import JacliError
from ..expr import Expr
from ..sizes import SizeLike
from .notation import Prec, either, notation, suggest
from .reader import Reader, count, one_name
from .tokens import SUPERSCRIPT, Token

# The binary levels, loosest first; each reads its operators from the vocabulary.
_LEVELS = (Prec.KRON, Prec.HADAMARD, Prec.PRODUCT)


class Parsed(NamedTuple):
    """An expression and the names after ``wrt``, in order."""

    expr: Expr
    wrt: tuple[str, ...]
    source: str


def parse(source: str, *, require_wrt: bool = True) -> Parsed:
    """Parse ``EXPR wrt X[, Y ...]``. Without ``require_wrt`` the tail may be absent."""
    return _Parser(source).parse_input(require_wrt)


def parse_expr(source: str) -> Expr:
    """Parse an expression with no ``wrt`` tail."""
    return _Parser(source).parse_formula_single()


def parse_step(source: str) -> Expr:
    """Parse a step of a derivation: an expression where ``d(...)`` is a differential."""
    parser = _Parser(source)
    parser.differentials = True
    return parser.parse_formula_single()


def parse_formula(source: str) -> list[Expr]:
    """Parse a claimed Jacobian: one expression, or ``[J1, J2, ...]`` for several names."""
    return _Parser(source).parse_formula()


class _Parser(Reader):
    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.differentials = False  # d(...) is the differential (jacli explain's steps)

    # -- grammar -------------------------------------------------------------------
    def parse_input(self, require_wrt: bool) -> Parsed:
        """input = expr ["wrt" NAME {"," NAME}] END"""
        if self.tok.kind == "end":
            raise JacliError("empty expression", column=1, source=self.source)
        if self.at("name", "wrt"):
            raise self.error("expected an expression before 'wrt'")
        expr = self._parse_expr()
        wrt: list[str] = []
        if self.at("name", "wrt"):
            kw = self.advance()
            if self.tok.kind == "end":
                raise self.error("nothing after 'wrt': name the variable, as in 'wrt X',", kw.col)
            while True:
                t = self.tok
                if t.kind != "name" or t.text in self.vocab.reserved:
                    raise self.error(f"expected a name after 'wrt', found {t.shown()}")
                self.advance()
                if t.text in wrt:
                    raise self.error(f"'{t.text}' is named twice after 'wrt'", t.col)
                if t.text not in expr.names():
                    hint = one_name(t.text, expr.names())
                    raise self.error(f"'{t.text}' after 'wrt' does not occur in the expression{hint}", t.col)
                wrt.append(t.text)
                if not self.at("op", ","):
                    break
                self.advance()
        if self.tok.kind != "end":
            raise self._unexpected()
        if require_wrt and not wrt:
            raise self.error("no 'wrt': say what to differentiate by, as in \"A X B wrt X\",")
        return Parsed(expr, tuple(wrt), self.source)

    def parse_formula_single(self) -> Expr:
        if self.tok.kind == "end":
            raise JacliError("empty expression", column=1, source=self.source)
        expr = self._parse_expr()
        if self.tok.kind != "end":
            raise self._unexpected()
        return expr

    def parse_formula(self) -> list[Expr]:
        """formula = expr | "[" expr {"," expr} "]" END"""
        if not self.at("op", "["):
            return [self.parse_formula_single()]
        opener = self.advance()
        blocks = [self._parse_expr()]
        while self.at("op", ","):
            self.advance()
            blocks.append(self._parse_expr())
        if not self.at("op", "]"):
            raise self.error(f"expected ']' to close '[' at column {opener.col}, found {self.tok.shown()}")
        self.advance()
        if self.tok.kind != "end":
            raise self._unexpected()
        return blocks

    def _unexpected(self) -> JacliError:
        t = self.tok
        if t.kind == "op" and t.text == ")":
            return self.error("unmatched ')'")
        if t.kind == "name" and t.text == "wrt":
            return self.error("unexpected 'wrt'")
        return self.error(f"unexpected {t.shown()}")

    def _operand_error(self, after: Token) -> JacliError:
        if self.tok.kind == "end":
            return self.error(f"expected an expression after '{after.text}', found the end")
        return self.error(f"expected an expression after '{after.text}', found {self.tok.shown()}")

    def _parse_expr(self) -> Expr:
        """expr = neg {("+" | "-") neg}"""
        left = self._parse_neg()
        while self.at("op", "+") or self.at("op", "-"):
            op = self.advance()
            if not (self.starts_operand() or self.at("op", "-")):
                raise self._operand_error(op)
            right = self._parse_neg()
            if op.text == "-":
                right = Expr("neg", (right,), col=op.col)
            left = Expr("add", (left, right), col=op.col)
        return left

    def _parse_neg(self) -> Expr:
        """neg = "-" neg | kron"""
        if self.at("op", "-"):
            op = self.advance()
            if not (self.starts_operand() or self.at("op", "-")):
                raise self._operand_error(op)
            return Expr("neg", (self._parse_neg(),), col=op.col)
        return self._parse_level(0)

    def _parse_level(self, level: int) -> Expr:
        """infix(k) = infix(k+1) {OP(k) infix(k+1)}, for k = ⊗, then ∘ ./, then * @ and
        juxtaposition (prod = unary {("*" | "@") unary | unary}); infix(3) = unary"""
        if level == len(_LEVELS):
            return self._parse_unary()
        prec = _LEVELS[level]
        left = self._parse_level(level + 1)
        while True:
            t = self.tok
            entry = self.vocab.infix.get(t.text) if t.kind == "op" else None
            if entry is not None and entry[1] == prec:
                self.advance()
                left = Expr(entry[0], (left, self._parse_operand(t, level + 1)), col=t.col)
            elif prec == Prec.PRODUCT and self.starts_operand():  # juxtaposition multiplies
                left = Expr(self.vocab.infix["*"][0], (left, self._parse_unary()), col=t.col)
            else:
                return left

    def _parse_operand(self, op: Token, level: int) -> Expr:
        if not (self.starts_operand() or self.at("op", "-")):
            raise self._operand_error(op)
        return self._parse_level(level)

    def _parse_unary(self) -> Expr:
        """unary = "-" unary | postfix"""
        if self.at("op", "-"):
            op = self.advance()
            return Expr("neg", (self._parse_operand(op, len(_LEVELS)),), col=op.col)
        return self._parse_postfix()

    def _parse_postfix(self) -> Expr:
        """postfix = atom {"'" | SUPERSCRIPT | "^" power | ".^" exponent | slice}"""
        e = self._parse_atom()
        while True:
            t = self.tok
            if t.kind == "op" and t.text == "[" and self.touching():
                e = Expr("sub", (e,), self._parse_slice(), col=t.col)
            elif t.kind == "op" and t.text == "'":
                self.advance()
                e = Expr("T", (e,), col=t.col)
            elif t.kind == "sup":
                self.advance()
                text = "".join(SUPERSCRIPT[c] for c in t.text)
                pieces = re.findall(r"-T|T|-?\d+|-", text)
                for piece in pieces:
                    if piece == "-":
                        raise self.error(f"cannot read the superscript '{t.text}'", t.col)
                    e = self._apply_power(piece, e, t)
            elif t.kind == "op" and t.text == "^":
                self.advance()
                power = self._parse_integer_power()
                if power is not None:
                    e = self._apply_power(power, e, t)
                else:  # the real power of a 1×1 base: s^0.5, a^b
                    e = Expr("spow", (e, self._parse_exponent(t)), col=t.col)
            elif t.kind == "op" and t.text == ".^":
                self.advance()
                e = Expr("epow", (e, self._parse_exponent(t)), col=t.col)
            else:
                return e

    def _parse_integer_power(self) -> str | None:
        """power = ["-"] (INTEGER | "T") | "(" ["-"] INTEGER ")"   (None, nothing read, if not)"""
        start = self.i
        paren = self.advance() if self.at("op", "(") else None
        text = ""
        if self.at("op", "-"):
            self.advance()
            text = "-"
        t = self.tok
        if t.kind == "name" and t.text == "T" and paren is None:
            text += "T"
        elif t.kind == "num" and t.text.isdigit():
            text += t.text
        else:
            self.i = start
            return None
        self.advance()
        if paren is not None:
            if not self.at("op", ")"):
                self.i = start
                return None
            self.advance()
        return text

    def _parse_exponent(self, op: Token) -> Expr:
        """exponent = ["-"] (NUMBER | NAME | call | "(" expr ")")   (a 1×1 expression)"""
        if self.at("op", "-"):
            minus = self.advance()
            return Expr("neg", (self._parse_exponent(op),), col=minus.col)
        if not self.starts_operand():
            raise self.error(f"expected a power after '{op.text}' at column {op.col}, found {self.tok.shown()}")
        return self._parse_atom()

    def _apply_power(self, text: str, e: Expr, t: Token) -> Expr:
        if text == "T":
            return Expr("T", (e,), col=t.col)
        if text == "-T":
            return Expr("T", (Expr("inv", (e,), col=t.col),), col=t.col)
        if text == "-1":
            return Expr("inv", (e,), col=t.col)
        if re.fullmatch(r"-?\d+", text):
            return Expr("pow", (e,), int(text), col=t.col)
        raise self.error(f"cannot read the superscript '{t.text}'", t.col)

    def _parse_atom(self) -> Expr:
        """atom = NUMBER | NAME | FUNCTION "(" args ")" | BUILTIN [sizes] | "(" expr ")" """
        t = self.tok
        if t.kind == "num":
            self.advance()
            value = float(t.text)
            if not math.isfinite(value):
                raise self.error(f"the number {t.text} is too large for a float", t.col)
            return Expr("num", (), value, col=t.col)
        if t.kind == "op" and t.text == "[":
            return self._parse_blocks()
        if t.kind == "op" and t.text == "(":
            self.advance()
            if self.at("op", ")"):
                raise self.error("empty parentheses")
            e = self._parse_expr()
            self.expect_close(t)
            return e
        if t.kind == "name" and t.text != "wrt":
            self.advance()
            if "_" in t.text and (sized := self._parse_subscripted(t)) is not None:
                return sized
            if t.text in self.vocab.builtins:
                return self._parse_builtin(t)
            if t.text in self.vocab.functions:
                return self._parse_call(t)
            nxt = self.tok
            if nxt.kind == "op" and nxt.text == "(":
                if self.differentials and t.text == "d" and nxt.col == t.col + 1:
                    self.advance()
                    inner = self._parse_expr()
                    self.expect_close(nxt)
                    return Expr("d", (inner,), col=t.col)
                self._refuse_call(t, nxt.col == t.col + len(t.text))
            return Expr("name", (), t.text, col=t.col)
        if t.kind == "end":
            raise self.error("expected an expression, found the end")
        if t.kind == "op" and t.text == ")":
            raise self.error("unmatched ')'")
        raise self.error(f"expected an expression, found {t.shown()}")

    def _parse_blocks(self) -> Expr:
        """blocks = "[" row {";" row} "]";  row = expr {"," expr}   (a block matrix)"""
        opener = self.advance()
        if self.at("op", "]"):
            raise self.error("an empty block matrix '[]'")
        rows = []
        while True:
            row = self._parse_expr()
            while self.at("op", ","):
                t = self.advance()
                row = Expr("hcat", (row, self._parse_expr()), col=t.col)
            rows.append(row)
            if not self.at("op", ";"):
                break
            self.advance()
        if not self.at("op", "]"):
            raise self.error(f"expected ']' to close '[' at column {opener.col}, found {self.tok.shown()}")
        self.advance()
        out = rows[0]
        for r in rows[1:]:
            out = Expr("vcat", (out, r), col=opener.col)
        return out

    def _parse_call(self, fn: Token) -> Expr:
        """call = FUNCTION "(" expr {"," expr} ")" """
        op, arity, known = self.vocab.functions[fn.text]
        if not self.at("op", "("):
            raise self.error(f"expected '(' after '{fn.text}'")
        opener = self.advance()
        if self.at("op", ")"):
            raise self.error(f"{fn.text} needs {count(arity, 'argument')}, got none")
        args = [self._parse_expr()]
        kind = notation(op).attr
        attr: object = None
        while self.at("op", ","):
            self.advance()
            if kind is not None and len(args) == arity:
                attr = self._parse_attr(fn, kind)
                break
            args.append(self._parse_expr())
        self.expect_close(opener)
        if len(args) != arity or (kind == "size" and attr is None):
            more = " and a size" if kind == "size" else ""
            raise self.error(f"{fn.text} needs {count(arity, 'argument')}{more}, got {len(args)}", fn.col)
        if op == "part":  # an output of a decomposition: eigvals(S) is part 0 of eigh(S)
            if not isinstance(known, tuple):
                raise RuntimeError(f"{fn.text} is an output of a decomposition without its place")
            decomposition, k = known
            return Expr("part", (Expr(decomposition, tuple(args), col=fn.col),), k, col=fn.col)
        if known is not None:
            attr = known
        return Expr(op, tuple(args), 0 if kind == "offset" and attr is None else attr, col=fn.col)

    def _parse_attr(self, fn: Token, kind: str) -> SizeLike:
        """size argument = size;  offset = ["-"] INTEGER"""
        if kind == "size":
            return self._parse_size(fn, f"{fn.text}(v, 3)")
        sign = -1 if self.at("op", "-") else 1
        if sign < 0:
            self.advance()
        if not (self.tok.kind == "num" and self.tok.text.isdigit()):
            raise self.error(f"{fn.text} takes an integer offset, as in {fn.text}(X, -1); found {self.tok.shown()}")
        return sign * int(self.advance().text)

    def _refuse_call(self, t: Token, touching: bool) -> None:
        """``f(`` calls a function jacli does not know; so does ``trace (X)`` when one is near."""
        near = suggest(t.text, self.vocab.functions)
        if touching and t.text == "T":  # the seeds' T(q,m)
            self._refuse_commutation(t, "m,n")
        if touching:
            hint = (
                f" (did you mean {either(near)}?)"
                if near
                else f"; for a product write '{t.text} (...)' or '{t.text}*(...)'"
            )
        elif near and len(t.text) > 2 and t.text.islower():  # Dinv (X) is a product
            hint = f" (did you mean {either(near)}?; for a product write '{t.text}*(...)')"
        else:
            return
        raise self.error(f"unknown function '{t.text}'{hint}", t.col)
