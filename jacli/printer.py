"""Printing expressions: Unicode (default), ASCII, LaTeX, and fully parenthesised.

Whatever :func:`to_text` prints, :func:`jacli.parser.parse_expr` reads back to an equal
expression. Parentheses are written only where the precedence table of the parser needs
them, plus a few for the reader: around a product or Hadamard product inside ``⊗``, and
around ``⊗`` after a minus sign, as in ``-(X⁻ᵀ ⊗ X⁻¹)``.
"""
from __future__ import annotations

from .expr import Expr
from .ops import REGISTRY

_ATOM = 8
_POSTFIX = 7

_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
          "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
          "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi",
          "Omega"}


def to_text(e: Expr, style: str = "unicode") -> str:
    """Print ``e`` in jacli's language. ``style``: ``unicode``, ``ascii`` or ``parens``
    (Unicode, every operation in parentheses: how jacli read the expression)."""
    return _Printer(style).show(e, 0)


def to_latex(e: Expr) -> str:
    return _Printer("latex").show(e, 0)


def format_number(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def prec(e: Expr) -> int:
    """How tightly e binds when printed (the registry's ``prec``; see jacli.parser)."""
    return REGISTRY[e.op].prec


class _Printer:
    def __init__(self, style: str):
        self.style = style
        self.latex = style == "latex"
        self.ascii = style == "ascii"
        self.parens = style == "parens"

    def show(self, e: Expr, need: int) -> str:
        text = self.render(e)
        p = prec(e)
        if p < need or (self.parens and need > 0 and p < _ATOM):
            return self.wrap(text)
        return text

    def wrap(self, text: str) -> str:
        return rf"\left({text}\right)" if self.latex else f"({text})"

    def render(self, e: Expr) -> str:
        op, a = e.op, e.args
        if op == "name":
            return self.name(e.attr)
        if op == "num":
            return format_number(e.attr) if e.attr >= 0 else self.wrap("-" + format_number(-e.attr))
        if op in ("I", "K", "ones", "zeros"):
            return self.builtin(e)
        if op == "add":
            left = self.show(a[0], 1)
            if a[1].op == "neg":
                return f"{left} - {self.show(a[1].args[0], 2)}"
            return f"{left} + {self.show(a[1], 2)}"
        if op == "neg":
            inner = a[0]
            if inner.op in ("kron", "had", "ediv") and not self.parens:
                return "-" + self.wrap(self.render(inner))
            return "-" + self.show(inner, 2)
        spec = REGISTRY[op]
        if spec.infix:
            if self.ascii and spec.infix[1] is None:
                return f"{spec.call}({self.show(a[0], 0)}, {self.show(a[1], 0)})"
            p = spec.prec
            sym = spec.infix[2] if self.latex else (spec.infix[1] if self.ascii else spec.infix[0])
            # for the reader: (A X) ⊗ B, (A X) ∘ (X B), though precedence alone would do
            grouped = ("matmul", "smul", "mul", "had", "ediv") if op == "kron" else ("matmul", "smul", "mul")
            left_need = 6 if a[0].op in grouped else p
            right_need = 6 if a[1].op in grouped else p + 1
            return f"{self.show(a[0], left_need)}{sym}{self.show(a[1], right_need)}"
        if op in ("matmul", "smul", "mul"):
            sep = " \\cdot " if self.latex and a[0].op == "num" and a[1].op == "num" else " "
            return f"{self.show(a[0], 5)}{sep}{self.show(a[1], 6)}"
        if op == "T":
            if a[0].op == "inv":
                return self.base(a[0].args[0]) + self.postfix("-T")
            return self.base(a[0]) + self.postfix("T")
        if op == "inv":
            return self.base(a[0]) + self.postfix("-1")
        if op == "pow":
            return self.base(a[0]) + self.postfix(str(e.attr))
        if op == "sqrt" and self.latex:
            return rf"\sqrt{{{self.show(a[0], 0)}}}"
        fn = spec.latex if self.latex else spec.text
        args = ", ".join(self.show(x, 0) for x in a)
        return rf"{fn}\left({args}\right)" if self.latex else f"{fn}({args})"

    def base(self, e: Expr) -> str:
        text = self.show(e, _ATOM if e.op in ("pow", "inv") else _POSTFIX)
        if self.latex and prec(e) == _POSTFIX and not text.startswith(r"\left("):
            return "{" + text + "}"  # X^{\top}^{-1} is not LaTeX; {X^{\top}}^{-1} is
        return text

    def postfix(self, what: str) -> str:
        if self.latex:
            return {"T": r"^{\top}", "-T": r"^{-\top}"}.get(what, f"^{{{what}}}")
        if self.ascii:
            return {"T": "'", "-T": "^-T"}.get(what, f"^{what}")
        return {"T": "ᵀ", "-T": "⁻ᵀ"}.get(what, what.translate(_SUP))

    def name(self, n: str) -> str:
        if not self.latex:
            return n
        if n in _GREEK:
            return "\\" + n
        if "_" in n:
            base, _, sub = n.partition("_")
            return f"{self.name(base)}_{{{sub}}}"
        if len(n) > 1 and n[-1].isdigit() and n.rstrip("0123456789").isalpha():
            base = n.rstrip("0123456789")
            return f"{self.name(base)}_{{{n[len(base):]}}}"
        return n if len(n) == 1 else rf"\mathit{{{n}}}"

    def builtin(self, e: Expr) -> str:
        op, attr = e.op, e.attr
        if attr is None:
            return r"\mathbf{1}" if self.latex and op == "ones" else op
        if op == "I":
            if self.latex:
                return f"I_{{{attr}}}"
            return f"I({attr})" if self.ascii else "I" + str(attr).translate(_SUB)
        m, n = attr
        if self.latex:
            return {"K": f"K_{{{m},{n}}}", "ones": rf"\mathbf{{1}}_{{{m}\times {n}}}",
                    "zeros": rf"0_{{{m}\times {n}}}"}[op]
        return f"{op}({m},{n})"
