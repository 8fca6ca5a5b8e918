"""A derivation as a reader follows it, in Magnus & Neudecker's order: the differential,
one rule at a time; the simplifications, named; then the identification of the derivative
(df = tr(Gᵀ dX) gives the gradient G; vec(dF) = J vec(dX) gives the Jacobian J).

Each step is an equation whose right side is an expression of jacli's language, where
``d(E)`` stands for the differential of E not yet expanded and ``dX`` for the variable's;
evaluated along a direction, every right side is the same number (tests check this).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from ..errors import JacliError
from ..expr import Expr, T, add, comm, eye, kron, matmul, name, neg, vec, zeros
from ..syntax.printer import to_text
from .adjoint import gradient
from .chain import identify
from .ops import REGISTRY, Op
from .shapes import Shapes
from .simplify import Simplifier

VEC_IDENTITY = "vec(A B C) = (Cᵀ ⊗ A) vec(B), vec(Bᵀ) = K vec(B)"
IDENTIFICATION = "M&N ch. 9"


class Step(NamedTuple):
    """``lhs = expr``, by ``why`` (a rule in jacli's language, or what was simplified),
    written in ``cite``."""

    lhs: str
    expr: Expr
    why: str
    cite: str = ""
    rule: tuple[Expr, Expr] | None = None  # the rule applied, d(A B) and dA B + A dB, for LaTeX
    words: str = ""  # ``why`` in plain ASCII words, for LaTeX's \text{}


def differential_steps(expr: Expr, names: dict[str, str], shapes: Shapes) -> list[Step]:
    """d(expr) expanded one rule at a time, outermost first; ``names`` maps each variable
    to its differential's name (dX), which ``shapes`` knows."""
    lhs = "df" if shapes(expr) == (1, 1) else "dF"
    if expr.op == "name":
        return [Step(lhs, name(names[expr.attr]) if expr.attr in names else zeros(*shapes(expr)), "")]
    variables = set(names)
    tidy = Simplifier(shapes)  # the rule's result written as jacli writes it: d(det X) / det(X)
    cur = Expr("d", (expr,))
    steps = []
    while (target := _first_unexpanded(cur)) is not None:
        e = target.args[0]
        got, op = _rule_applied(e, names, variables, shapes)
        got = zeros(*shapes(e)) if got is None else tidy(got)
        cur = _replace(cur, target, got)
        rule = generic_rule(e, shapes)
        steps.append(Step(lhs, cur, f"{to_text(rule[0])} = {to_text(rule[1])}", op.cite, rule))
    return steps


def simplified(expr: Expr, shapes: Shapes, lhs: str) -> Step | None:
    """The simplified right side, with what was done, or None if nothing changed."""
    trace: list[str] = []
    got = Simplifier(shapes, trace)(expr)
    what = "; ".join(trace) or "simplified"
    return None if got == expr else Step(lhs, got, what, words=what)


def gradient_steps(expr: Expr, names: dict[str, str], shapes: Shapes) -> tuple[list[Step], dict[str, Expr]]:
    """For a scalar f: df collected as Σ tr(Gᵀ dX) (gᵀ dx for a column), and each gradient."""
    simp = Simplifier(shapes)
    grads = {v: gradient(expr, v, shapes, simp) for v in names}
    terms = []
    for v, g in grads.items():
        dv, gt = name(names[v]), simp(T(g))
        r, c = shapes.names[v]
        terms.append(matmul(g, dv) if (r, c) == (1, 1) else matmul(gt, dv) if c == 1 else Expr("tr", (matmul(gt, dv),)))
    form = terms[0]
    for t in terms[1:]:
        form = add(form, t)
    several = len(grads) > 1
    forms = {v: _linear_form(v, names[v], shapes.names[v], several) for v in grads}
    collected = " + ".join(f[0] for f in forms.values())
    words = " + ".join(dict.fromkeys(f[1] for f in forms.values()))  # in words, no names (LaTeX's \\text{})
    steps = [Step("df", form, f"collected as {collected}", "", words=f"collected as {words}")]
    for v, g in grads.items():
        said, _, letter = forms[v]
        why = f"df = {'… + ' if several else ''}{said}{' + …' if several else ''} ⇔ ∂f/∂{v} = {letter}"
        steps.append(Step(f"∂f/∂{v}", g, why, IDENTIFICATION, words="the first identification theorem"))
    return steps, grads


def _linear_form(v: str, dv: str, shape: tuple[object, object], several: bool) -> tuple[str, str, str]:
    """How df is written in the variable's own differential (tr(Gᵀ dX) for a matrix X, gᵀ dx
    for a column x, g dx for a scalar), in words for LaTeX's \\text{}, and the gradient's
    letter (G_X where there are several variables)."""
    letter = ("g" if shape[1] == 1 else "G") + (f"_{v}" if several else "")
    if shape == (1, 1):
        return f"{letter} {dv}", "the gradient times the differential", letter
    if shape[1] == 1:
        return f"{letter}ᵀ {dv}", "the gradient transposed times the differential", letter
    return f"tr({letter}ᵀ {dv})", "the trace of the gradient transposed times the differential", letter


KRON_VEC = "vec(A ⊗ B) = (I(n) ⊗ K(q,m) ⊗ I(p)) (vec(A) ⊗ vec(B)) for A m×n, B p×q"
KRON_COLUMNS = "vec(A) ⊗ b = (I(m n) ⊗ b) vec(A), a ⊗ vec(B) = (a ⊗ I(p q)) vec(B)"


def kron_steps(dF: Expr, names: dict[str, str], shapes: Shapes) -> list[Step]:
    """Where dF holds dX ⊗ B (or A ⊗ dX): vec of it by M&N's theorem 3.10, then the
    differential's vec taken out, the two steps that vec_step's products combine."""
    diffs = set(names.values())
    terms = _terms(dF)
    if not any(_with_differential(core, diffs) for _, core in terms):
        return []
    spread, taken = [], []
    for negative, core in terms:
        if _with_differential(core, diffs):
            a, b = core.args
            (m, n), (p, q) = shapes(a), shapes(b)
            permute = kron(kron(eye(n), comm(q, m)), eye(p))
            first = matmul(permute, kron(vec(a), vec(b)))
            if a.op == "name" and a.attr in diffs:
                second = matmul(matmul(permute, kron(eye(m * n), vec(b))), vec(a))
            else:
                second = matmul(matmul(permute, kron(vec(a), eye(p * q))), vec(b))
        else:
            first = second = vec(core)
        spread.append(neg(first) if negative else first)
        taken.append(neg(second) if negative else second)
    words = "vec of a Kronecker product, Magnus and Neudecker's theorem 3.10"
    return [
        Step("vec(dF)", functools.reduce(add, spread), KRON_VEC, "M&N ch. 3, thm 3.10", words=words),
        Step("vec(dF)", functools.reduce(add, taken), KRON_COLUMNS, "", words="the vec of the differential taken out"),
    ]


def _terms(e: Expr) -> list[tuple[bool, Expr]]:
    """The terms of a sum, each with whether it is negated."""
    if e.op == "add":
        return _terms(e.args[0]) + _terms(e.args[1])
    if e.op == "neg":
        return [(not negative, core) for negative, core in _terms(e.args[0])]
    return [(False, e)]


def _with_differential(e: Expr, diffs: set[str]) -> bool:
    """Whether ``e`` is dX ⊗ B or A ⊗ dX, a differential itself one factor."""
    return e.op == "kron" and any(a.op == "name" and a.attr in diffs for a in e.args)


def vec_step(dF: Expr, names: dict[str, str], shapes: Shapes) -> tuple[Step, dict[str, Expr]]:
    """vec(dF) = Σ J_X vec(dX): the vec identities applied to each term of dF."""
    trace: list[str] = []
    simp = Simplifier(shapes, trace)
    blocks = {v: identify(dF, dv, shapes, simp) for v, dv in names.items()}
    if not blocks:
        raise JacliError("a derivation needs a variable after wrt")
    terms = [
        matmul(J, vec(name(names[v]))) if J.op != "neg" else Expr("neg", (matmul(J.args[0], vec(name(names[v]))),))
        for v, J in blocks.items()
    ]
    total = functools.reduce(add, terms)
    why = VEC_IDENTITY + ("; " + "; ".join(trace) if trace else "")
    A, B, C = name("A"), name("B"), name("C")
    rule = (vec(matmul(matmul(A, B), C)), matmul(Expr("kron", (T(C), A)), vec(B)))
    step = Step("vec(dF)", total, why, "M&N ch. 2 and 3; Cookbook sec. 10.2", rule, "; ".join(trace))
    return step, blocks


def _rule_applied(e: Expr, names: dict[str, str], variables: set[str], shapes: Shapes) -> tuple[Expr | None, Op]:
    """d(e) by e's record, its arguments' differentials not yet expanded; an output of a
    decomposition (eigvals(S)) by the decomposition's rule, its own part taken."""
    if e.op == "part":
        whole = e.args[0]
        op = REGISTRY[whole.op]
        ds = tuple(_d(a, names, variables) for a in whole.args)
        out = op.differential(whole, ds, shapes) if op.differential else None
        return (None if out is None else out.args[e.attr]), op
    op = REGISTRY[e.op]
    ds = tuple(_d(a, names, variables) for a in e.args)
    return (op.differential(e, ds, shapes) if op.differential else None), op


def generic_rule(e: Expr, shapes: Shapes) -> tuple[Expr, Expr]:
    """The operator's differential rule on arguments A, B, ...: the record's own rule applied
    to names, (d(A B), dA B + A dB); for an output of a decomposition, d(eigvals(A))."""
    inner = e.args[0] if e.op == "part" else e
    letters = "ABCDE"
    args = tuple(name(letters[i]) for i in range(len(inner.args)))
    generic = {letters[i]: shapes(a) for i, a in enumerate(inner.args)}
    sh = Shapes({**generic, **{f"d{k}": s for k, s in generic.items()}})
    node = Expr(inner.op, args, inner.attr)
    rule = REGISTRY[inner.op].differential
    got = rule(node, tuple(name(f"d{a.attr}") for a in args), sh) if rule else None
    if e.op == "part":
        node = Expr("part", (node,), e.attr)
        got = None if got is None else got.args[e.attr]
    return Expr("d", (node,)), zeros(*shapes(e)) if got is None else Simplifier(sh)(got)


def _d(a: Expr, names: dict[str, str], variables: set[str]) -> Expr | None:
    if variables.isdisjoint(a.names()):
        return None
    if a.op == "name":
        return name(names[a.attr])
    return Expr("d", (a,))


def _first_unexpanded(e: Expr) -> Expr | None:
    """The first d(E) in reading order (outermost first)."""
    if e.op == "d":
        return e
    for a in e.args:
        got = _first_unexpanded(a)
        if got is not None:
            return got
    return None


def _replace(e: Expr, old: Expr, new: Expr) -> Expr:
    if e == old:
        return new
    if not e.args:
        return e
    args = tuple(_replace(a, old, new) for a in e.args)
    return e if args == e.args else Expr(e.op, args, e.attr, e.col)
