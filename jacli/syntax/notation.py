"""How operators are written: the one precedence table, and each operator's notation.

The parser and the printer both read this module. Each operator's record in the registry
(:mod:`jacli.calculus.ops`) declares its :class:`Notation` here when it is registered, so
the parser learns a function name, an infix symbol or a builtin from the record that
defines the operator, and the printer prints it from the same record.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # the printer's type, for the render hooks' signature (no import at run time)
    from ..expr import Expr


class Prec(enum.IntEnum):
    """How tightly an operator binds, loosest first. All binary operators associate left."""

    SUM = 1  # + -
    NEG = 2  # prefix -, up to the next + or -
    KRON = 3  # ⊗
    HADAMARD = 4  # ∘ .* ./
    PRODUCT = 5  # * @ · juxtaposition
    OPERAND_NEG = 6  # prefix - of one operand, after a binary operator (A ⊗ -B)
    POSTFIX = 7  # ' ᵀ ^T ⁻¹ ^-1 ⁻ᵀ ^k
    ATOM = 8  # names, numbers, calls, builtins, parentheses


class Infix(NamedTuple):
    """A binary operator: its symbol in Unicode, ASCII (None: printed as a call in ASCII)
    and LaTeX, and every spelling the parser reads as it."""

    unicode: str
    ascii: str | None
    latex: str
    spellings: tuple[str, ...]


class Builtin(NamedTuple):
    """A name of the language that takes sizes: ``I(3)``, ``K(2,3)``, ``ones(2,3)``."""

    bare: bool  # may stand without sizes, sized by where it stands
    sizes: tuple[int, ...]  # how many sizes it takes
    example: str
    constant: bool = False  # takes a number instead, its size from where it stands: vector(1)
    named: bool = False  # without sizes it is a name, a matrix of the user's: K(m,n) and K, D(n) and D


#: A custom printing rule: (printer, node) -> text. The printer is
#: :class:`jacli.syntax.printer.Printer`; see its methods ``show``, ``wrap``, ``postfix``.
Render = Callable[[Any, "Expr"], str]


class Notation(NamedTuple):
    """How one operator is written.

    ``call`` is its spelling as a function (``tr``), ``text`` the name printed when it
    is not called by that spelling (``diagonal`` prints as ``diag``), ``latex`` the LaTeX of
    the function name; ``infix`` makes it a binary operator, ``builtin`` a sized name;
    ``render`` prints what none of these forms describe (postfix operators, leaves);
    ``attr`` makes the call take a last argument that is not an expression: ``"size"`` (a
    size, ``unvec(v, m)``) or ``"offset"`` (an optional integer, ``tril(X, -1)``).
    """

    prec: Prec = Prec.ATOM
    call: str | None = None
    text: str | None = None
    latex: str | None = None
    infix: Infix | None = None
    builtin: Builtin | None = None
    render: Render | None = None
    aliases: tuple[str, ...] = ()  # other spellings the parser reads as the call: asin for arcsin
    attr: str | None = None  # "size" or "offset": the call's last argument, kept as the node's attr
    frechet: bool = False  # a matrix function: d<call>(X, E) is its Fréchet derivative, D<call>(X) its J
    parts: tuple[str, ...] = ()  # a decomposition: the names of its outputs, each called as a function

    @property
    def name(self) -> str | None:
        return self.call or self.text


NOTATIONS: dict[str, Notation] = {}  # operator name -> notation, filled by the registry
ARITY: dict[str, int] = {}  # operator name -> number of arguments

# The records that declare the language, loaded by name the first time the language is asked
# for (as an entry point is): the parser and the printer then know every operator whatever
# was imported first, and this layer needs no import of the layer above it.
RECORDS = "jacli.calculus.ops"


def _load_records() -> None:
    import importlib

    importlib.import_module(RECORDS)


def declare(op: str, notation: Notation, arity: int) -> None:
    """Make the operator ``op`` (with ``arity`` arguments) readable and printable."""
    NOTATIONS[op] = notation
    ARITY[op] = arity
    vocabulary.cache_clear()


def notation(op: str) -> Notation:
    try:
        return NOTATIONS[op]
    except KeyError:
        _load_records()
        return NOTATIONS[op]


class Vocabulary(NamedTuple):
    """What the parser reads, derived from the declared notations."""

    functions: dict[str, tuple[str, int, object]]  # spelling -> (operator, arity, attribute)
    builtins: dict[str, Builtin]  # spelling -> builtin (the operator has the same name)
    infix: dict[str, tuple[str, Prec]]  # spelling -> (operator, precedence)
    reserved: frozenset[str]


@functools.lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    _load_records()
    functions: dict[str, tuple[str, int, object]] = {
        s: (op, ARITY[op], None) for op, n in NOTATIONS.items() if n.call for s in (n.call, *n.aliases)
    }
    for op, n in NOTATIONS.items():  # the outputs of a decomposition: part k of op(args)
        for k, part in enumerate(n.parts):
            functions[part] = ("part", ARITY[op], (op, k))
    for op, n in NOTATIONS.items():  # the Fréchet derivative of a matrix function, and its J
        if n.frechet and n.call:
            functions[f"d{n.call}"] = ("frechet", 2, op)
            functions[f"D{n.call}"] = ("dform", 1, op)
    builtins = {op: n.builtin for op, n in NOTATIONS.items() if n.builtin}
    infix = {s: (op, n.prec) for op, n in NOTATIONS.items() if n.infix for s in n.infix.spellings}
    reserved = frozenset(functions) | frozenset(n for n, b in builtins.items() if not b.named) | {"wrt"}
    return Vocabulary(functions, builtins, infix, reserved)


# Words users type for functions that jacli spells otherwise.
_ALIASES = {
    "trace": "tr",
    "Tr": "tr",
    "inverse": "inv",
    "determinant": "det",
    "ln": "log",
    "logabsdet": "logdet",
    "log_det": "logdet",
    "kronecker": "kron",
    "Diag": "diag",
    "eye": "I",
    "transpose": None,
    "norm": "norm2",
    "logistic": "sigmoid",
    "ReLU": "relu",
    "heaviside": "step",
    "adjugate": "adj",
}


# Functions that come in two kinds, said beside a suggestion so that a misspelling does not
# lead to the other kind: exp, log, sqrt act entry by entry; expm, logm, sqrtm are matrix functions.
_GLOSSES = {
    "exp": "entrywise",
    "log": "entrywise",
    "sqrt": "entrywise",
    "expm": "the matrix exponential",
    "logm": "the matrix logarithm",
    "sqrtm": "the matrix square root",
}


def suggest(word: str, known: Iterable[str]) -> list[str]:
    """The functions a user probably meant by ``word``, nearest first (none if nothing is near).
    An entrywise function comes with its matrix function (exp with expm), and the other way
    round; a Fréchet derivative (dexpm, Dexpm) only for a word that starts as it does."""
    import difflib

    if word in _ALIASES:
        alias = _ALIASES[word]
        return [alias] if alias else []
    known = list(known)
    close = difflib.get_close_matches(word, known, n=3, cutoff=0.6)
    ratio = [difflib.SequenceMatcher(None, word, c).ratio() for c in close]
    near = [c for c, r in zip(close, ratio, strict=True) if r >= ratio[0] - 0.15]  # the near, not the far
    frechet = {f"{p}{fn}" for fn in _GLOSSES for p in "dD"}
    near = [c for c in near if c not in frechet or word[:1] in "dD"]
    out: list[str] = []
    for c in near:
        partner = c[:-1] if c.endswith("m") else c + "m"
        for w in (c, partner) if c in _GLOSSES and partner in _GLOSSES and partner in known else (c,):
            if w not in out:
                out.append(w)
    return out


def either(words: list[str]) -> str:
    """``'a'``, ``'a' or 'b'``, ``'a', 'b' or 'c'``; a function of two kinds with its kind:
    ``'exp' (entrywise) or 'expm' (the matrix exponential)``."""
    quoted = [f"'{w}' ({gloss})" if (gloss := _gloss(w)) else f"'{w}'" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _gloss(word: str) -> str | None:
    """What kind of function ``word`` is, where a misspelling could lead to the other kind."""
    if word in _GLOSSES:
        return _GLOSSES[word]
    if word[:1] in "dD" and word[1:] in _GLOSSES and word.endswith("m"):  # dexpm, Dexpm
        return f"the {'Fréchet derivative' if word[0] == 'd' else 'Jacobian'} of {word[1:]}"
    return None
