"""The operator record and the registry that holds one record per operator.

An operator's record holds everything about it: its shape rule, its value rule, its
differential, its domain check, the random values it needs, how it is written
(:class:`jacli.syntax.notation.Notation`), how the simplifier writes its transpose, how the
structured evaluator writes it where it has a structural path, and how it is written as
NumPy code (:mod:`jacli.numeric.codegen`). Registering a record makes the parser read it,
the printer print it and the tests test it.

The derivative contract is JAX's split, written in jacli's own language:

* every operator gives its **differential**: d(node) from its arguments' differentials, an
  expression of the language (d(X⁻¹) = -X⁻¹ dX X⁻¹, d exp(A) = exp(A) ∘ dA). A nonlinear
  operator gives nothing else.
* an operator that is **linear** in an argument (sum, negation, transpose, vec, diag,
  trace, sum of entries, a block; a product in each of its factors) gives, for that
  argument, its **Kronecker form** (d vec(node) / d vec(argument), an expression: vec(A dX B)
  = (Bᵀ ⊗ A) vec(dX)) and its **adjoint** (the transposed map in matrix form: Ḡ ↦ Aᵀ Ḡ Bᵀ).

A differential is linear in the variables' differentials and is built from linear
operators only, so the Jacobian is identified from dF by the Kronecker forms
(:mod:`jacli.calculus.chain`), the gradient is dF transposed by the adjoints
(:mod:`jacli.calculus.adjoint`), and the Hessian is the differential of the gradient.
``vec`` stacks columns; ``K(m,n) vec(A) = vec(Aᵀ)`` for A m×n.

The rules receive the machinery they work with as their first argument (a unifier for
shape rules, the shapes of explicit expressions for derivative rules, the structured
compiler for structure rules), so this package imports none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Never, Protocol

import numpy as np

from ...errors import JacliError
from ...expr import Expr
from ...syntax.notation import Notation, declare
from ...syntax.printer import to_text

Shape = tuple[Any, Any]  # (rows, cols): sizes, or dimension variables during inference


class Unifier(Protocol):
    """What shape rules ask of the shapes being worked out (:mod:`jacli.calculus.unify`):
    inference for the user's expression, plain sizes for jacli's own."""

    inferring: bool

    def known(self, d: Any) -> Any: ...
    def same(self, a: Any, b: Any, message: Callable[[], str]) -> None: ...
    def mul(self, a: Any, b: Any, node: Expr) -> Any: ...
    def add(self, a: Any, b: Any, node: Expr) -> Any: ...
    def is_one(self, shape: Shape) -> bool: ...
    def maybe_one(self, shape: Shape) -> bool: ...
    def defer(self, message: str | None = None) -> None: ...
    def fail(self, message: str) -> Never: ...
    def show(self, shape: Shape) -> str: ...
    def fresh(self, node: Expr | None = None) -> Any: ...
    def name_shape(self, name: str, node: Expr) -> Shape: ...


class Printer(Protocol):
    """What printing rules ask of the printer (:class:`jacli.syntax.printer.Printer`)."""

    latex: bool
    ascii: bool
    parens: bool

    def show(self, e: Expr, need: int) -> str: ...
    def render(self, e: Expr) -> str: ...
    def wrap(self, text: str) -> str: ...
    def call(self, e: Expr) -> str: ...
    def infix(self, e: Expr) -> str: ...
    def postfix(self, base: Expr, what: str) -> str: ...
    def name(self, n: str) -> str: ...
    def size(self, s: Any) -> str: ...
    def number(self, x: float) -> str: ...


class CodeWriter(Protocol):
    """What Python rules ask of the code writer (:class:`jacli.numeric.codegen.Writer`)."""

    def __call__(self, e: Expr) -> str: ...
    def let(self, code: str, count: int = 1) -> str: ...
    def size(self, s: Any) -> str: ...
    def scalar(self, e: Expr) -> str: ...
    def module(self, name: str) -> str: ...
    def helper(self, name: str) -> str: ...
    def name(self, n: str) -> str: ...
    def product(self, a: Expr, b: Expr) -> str: ...
    def kron(self, a: Expr, b: Expr, sign: str = "") -> str: ...
    def commutation(self, m: Any, n: Any) -> str: ...


ShapeOf = Callable[[Expr], tuple[Any, Any]]  # the shapes of explicit expressions (jacli.calculus.shapes.Shapes)
Differentials = tuple["Expr | None", ...]  # the arguments' differentials, None where an argument is constant

ShapeRule = Callable[..., Any]  # (unifier, node, *argument shapes) -> shape
ValueRule = Callable[..., np.ndarray]  # (node, *argument values) -> value, batched over leading axes
# (a node with several outputs, a decomposition, gives an object array of them: jacli.calculus.ops.outputs)
DifferentialRule = Callable[[Expr, Differentials, ShapeOf], "Expr | None"]  # (node, dargs, shapes) -> d(node)
KroneckerRule = Callable[[Expr, ShapeOf], Expr]  # (node, shapes) -> d vec(node) / d vec(argument)
AdjointRule = Callable[[Expr, Expr, ShapeOf], Expr]  # (node, its adjoint Ḡ, shapes) -> the argument's adjoint
DomainRule = Callable[[Expr, list[np.ndarray], bool], "np.ndarray | None"]  # (node, argument values,
# derivative needed); raises where undefined; may return the node's value when the check computed it
TransposedRule = Callable[[Expr], Expr]  # node -> an equal of its transpose
StructureRule = Callable[[Any, Expr], Any]  # (structured compiler, node) -> the node's terms
PythonRule = Callable[[CodeWriter, Expr], str]  # (code writer, node) -> the node's value as NumPy code


class Op(NamedTuple):
    """One operator of the language, or of jacli's answers.

    ``differential`` writes d(node) in matrix form from the arguments' differentials (None
    where an argument is constant), as Magnus & Neudecker do: d(A B) = dA B + A dB. Where the
    operator is linear in argument i, ``kronecker[i]`` is d vec(node) / d vec(argument i)
    and ``adjoint[i]`` the argument's adjoint Ā from the node's Ḡ, ⟨Ḡ, dF⟩ = ⟨Ā, dA⟩ (None
    at the other positions; both empty for a nonlinear operator).
    ``random_hints`` say, per argument, what random values must allow: ``"invertible"`` or
    ``"positive"``. ``transposed`` writes the node's transpose (``(A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ``);
    ``structure`` is the node's rule in the structured evaluator, which evaluates every
    other operator densely. ``analytic`` is False for an operator that is not analytic
    where it is differentiable (abs, relu, norm1), or whose value rule the complex step does
    not pass through exactly (a Schur decomposition, as in logm and sqrtm): check then uses
    central differences. ``cite`` says where the differential
    rule is written (``jacli explain`` shows it beside each step). ``python`` writes the
    node's value as a Python expression on NumPy, a 2-D array, asking the code writer for
    its arguments' code (``w(arg)``), sizes read at run time (``w.size(n)``) and products
    that keep structure (``w.product(a, b)``).
    """

    name: str
    arity: int
    shape: ShapeRule
    value: ValueRule | None = None
    differential: DifferentialRule | None = None
    kronecker: tuple[KroneckerRule | None, ...] = ()
    adjoint: tuple[AdjointRule | None, ...] = ()
    domain: DomainRule | None = None
    random_hints: tuple[str | None, ...] = ()
    notation: Notation = Notation()
    transposed: TransposedRule | None = None
    structure: StructureRule | None = None
    analytic: bool = True
    cite: str = ""
    python: PythonRule | None = None

    def linear_in(self, i: int) -> bool:
        """Whether the operator is linear in its argument i (the others held)."""
        return i < len(self.kronecker) and self.kronecker[i] is not None


REGISTRY: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add ``op`` to the registry and its notation to the language."""
    REGISTRY[op.name] = op
    declare(op.name, op.notation, op.arity)
    return op


# -- helpers the families share ---------------------------------------------------------
def plus(*terms: Expr | None) -> Expr | None:
    """The sum of the terms that are not None (None if all are)."""
    out = None
    for t in terms:
        if t is not None:
            out = t if out is None else Expr("add", (out, t))
    return out


def linear(node: Expr, d: Differentials, sh: ShapeOf | None = None) -> Expr | None:
    """d f(A) = f(dA) for f linear (vec, transpose, trace, ...)."""
    return None if d[0] is None else Expr(node.op, (d[0],), node.attr)


def bilinear(node: Expr, d: Differentials, sh: ShapeOf | None = None) -> Expr | None:
    """d (A · B) = dA · B + A · dB for a product · (matrix, Kronecker, Hadamard, scalar)."""
    a, b = node.args
    return plus(
        None if d[0] is None else Expr(node.op, (d[0], b)),
        None if d[1] is None else Expr(node.op, (a, d[1])),
    )


def same_shape(verb: str) -> ShapeRule:
    """A binary shape rule: both arguments of one shape, the result of that shape."""

    def rule(u: Unifier, node: Expr, a: Shape, b: Shape) -> Shape:
        u.same(a[0], b[0], lambda: f"{verb} {u.show(a)} and {u.show(b)}")
        u.same(a[1], b[1], lambda: f"{verb} {u.show(a)} and {u.show(b)}")
        return a

    return rule


def square(fn: str, result: str) -> ShapeRule:
    """A unary shape rule for a square argument; the result is 1×1 (``scalar``) or alike."""

    def rule(u: Unifier, node: Expr, a: Shape) -> Shape:
        u.same(a[0], a[1], lambda: f"{fn} needs a square matrix, got {u.show(a)}")
        return (1, 1) if result == "scalar" else a

    return rule


def unary_same(u: Unifier, node: Expr, a: Shape) -> Shape:
    return a


def scalar(u: Unifier, node: Expr, a: Shape) -> Shape:
    return (1, 1)


def size(shapes: ShapeOf, e: Expr) -> Any:
    """The number of entries of ``e`` (a size: an int, or a monomial in dimension names)."""
    r, c = shapes(e)
    return r * c


def refuse_where(fn: str, bad: Callable[[np.ndarray], np.ndarray], always: bool = False, why: str = "") -> DomainRule:
    """A domain rule: refuse the entries where ``bad`` holds, naming the first; where the
    derivative is needed only, unless ``always`` (the value itself is undefined there)."""
    reason = why or f"where {fn} has no derivative"

    def check(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
        a = args[0]
        if not (always or derivative_needed) or a.ndim > 2:
            return
        mask = bad(a)
        if np.any(mask):
            val = a[tuple(np.argwhere(mask)[0])]
            raise JacliError(
                f"{describe(node)}: entry {where(mask)} of the argument is {val:.6g}, {reason}", column=node.col
            )

    return check


def where(mask: np.ndarray) -> str:
    """The first entry of ``mask`` that is set, as ``[i,j]``."""
    idx = np.argwhere(mask)[0]
    return f"[{idx[-2]},{idx[-1]}]"


def describe(node: Expr) -> str:
    """The node as the user wrote it, with its column: how a domain error names it."""
    text = to_text(node)
    return f"{text} at column {node.col}" if node.col else text
