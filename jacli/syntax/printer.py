"""Printing expressions: Unicode (default), ASCII, LaTeX, and fully parenthesised.

Whatever :func:`to_text` prints, :func:`jacli.syntax.parser.parse_expr` reads back to an
equal expression. Each operator prints by its declared notation (a call, an infix symbol,
or its own ``render`` rule); parentheses are written where the precedence table needs
them, plus a few for the reader: around a tighter binary operand of an infix operator, as
in ``(A X) ⊗ B`` and ``(A X) ∘ (X B)``.
"""

from __future__ import annotations

from .. import sizes
from ..expr import Expr
from ..sizes import SizeLike
from .latexnames import latex_name as latex_name  # also the name in labels and fractions
from .notation import Prec, notation

_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
STYLES = ("unicode", "ascii", "parens", "latex")


def to_text(e: Expr, style: str = "unicode") -> str:
    """Print ``e`` in jacli's language. ``style``: ``unicode``, ``ascii`` or ``parens``
    (Unicode, every operation in parentheses: how jacli read the expression)."""
    return Printer(style).show(e, 0)


def to_latex(e: Expr, differentials: dict[str, str] | None = None) -> str:
    """Print ``e`` as LaTeX (math mode); ``differentials`` maps the names that stand for a
    differential to their variable (``dX`` to ``X``), printed ``\\mathrm{d}X``."""
    return Printer("latex", differentials).show(e, 0)


def format_number(x: float) -> str:
    """A number as the language writes it: integers without a point, others in full."""
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def prec(e: Expr) -> int:
    """How tightly ``e`` binds when printed."""
    return notation(e.op).prec


class Printer:
    """Prints in one style; operators' ``render`` rules call its methods."""

    def __init__(self, style: str, differentials: dict[str, str] | None = None) -> None:
        if style not in STYLES:
            raise ValueError(f"unknown style {style!r}")
        self.differentials = differentials or {}
        self.style = style
        self.latex = style == "latex"
        self.ascii = style == "ascii"
        self.parens = style == "parens"

    def show(self, e: Expr, need: int) -> str:
        """``e`` printed where an operand binding at least ``need`` is expected."""
        text = self.render(e)
        p = prec(e)
        sym = notation(e.op).infix
        if self.ascii and sym is not None and sym.ascii is None:
            p = Prec.ATOM  # printed as a call: kron(A, B)
        if p < need or (self.parens and need > 0 and p < Prec.ATOM):
            return self.wrap(text)
        return text

    def wrap(self, text: str) -> str:
        return rf"\left({text}\right)" if self.latex else f"({text})"

    def render(self, e: Expr) -> str:
        """``e`` without parentheses around it."""
        n = notation(e.op)
        if n.render is not None:
            return n.render(self, e)
        if n.infix is not None:
            return self.infix(e)
        return self.call(e)

    def call(self, e: Expr) -> str:
        """``e`` as a function call: ``tr(X)``, ``\\operatorname{tr}\\left(X\\right)``."""
        n = notation(e.op)
        fn = n.latex if self.latex else n.name
        args = ", ".join(self.show(x, 0) for x in e.args)
        if n.attr == "size":
            args += f", {self.size(e.attr)}"
        elif n.attr == "offset" and e.attr:
            args += f", {e.attr}"
        return rf"{fn}\left({args}\right)" if self.latex else f"{fn}({args})"

    def infix(self, e: Expr) -> str:
        n = notation(e.op)
        sym = n.infix
        if sym is None:
            raise ValueError(f"{e.op} is not an infix operator")
        a, b = e.args
        if self.ascii and sym.ascii is None:
            return f"{n.call}({self.show(a, 0)}, {self.show(b, 0)})"
        p = n.prec
        text = sym.latex if self.latex else (sym.ascii if self.ascii else sym.unicode)
        if self.latex and text == " " and a.op == "num" and b.op == "num":
            text = r" \cdot "  # juxtaposed numbers
        # for the reader: a tighter binary operand is parenthesised, (A X) ⊗ B
        left = Prec.OPERAND_NEG if p < prec(a) < Prec.OPERAND_NEG else p
        right = Prec.OPERAND_NEG if p < prec(b) < Prec.OPERAND_NEG else p + 1
        return f"{self.show(a, left)}{text}{self.show(b, right)}"

    def postfix(self, base: Expr, what: str) -> str:
        """``base`` with a superscript: ``T``, ``-T``, ``-1`` or an integer power."""
        return self.base(base) + self.superscript(what)

    def base(self, e: Expr) -> str:
        text = self.show(e, Prec.ATOM if e.op in ("pow", "inv") else Prec.POSTFIX)
        if self.latex and prec(e) == Prec.POSTFIX and not text.startswith(r"\left("):
            return "{" + text + "}"  # X^{\top}^{-1} is not LaTeX; {X^{\top}}^{-1} is
        return text

    def superscript(self, what: str) -> str:
        if self.latex:
            return {"T": r"^{\top}", "-T": r"^{-\top}"}.get(what, f"^{{{what}}}")
        if self.ascii:
            return {"T": "'", "-T": "^-T"}.get(what, f"^{what}")
        return {"T": "ᵀ", "-T": "⁻ᵀ"}.get(what, what.translate(_SUP))

    def name(self, n: str) -> str:
        if not self.latex:
            return n
        if n in self.differentials:
            return r"\,\mathrm{d}" + self.name(self.differentials[n])
        return latex_name(n)

    def size(self, s: SizeLike) -> str:
        """A size: ``3``, ``m n``, ``n²`` (ASCII ``n^2``, LaTeX ``n^{2}``)."""
        return sizes.text(s, "latex" if self.latex else ("ascii" if self.ascii else "unicode"))

    def number(self, x: float) -> str:
        return format_number(x) if x >= 0 else self.wrap("-" + format_number(-x))
