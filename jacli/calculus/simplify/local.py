"""Rewrites of one node: scalars, transposes, vec, diag, inverses, powers, Hadamard and
Kronecker products.

Every rewrite is an identity; the tests check each simplified form against the
unsimplified one numerically.
"""

from __future__ import annotations

from ...expr import Expr, T, eye, num, vec, zeros
from ..ops import REGISTRY
from .base import Base


def scalar_multiple(s: Base, e: Expr) -> Expr:
    """neg, smul and div: one coefficient, the scalar factors, one body; 1×1 identities dropped."""
    c, scalars, b = s.split(e)
    if e.op in ("smul", "div"):
        scalars = [x for x in scalars if not (x.op == "I" or (x.op == "ones" and x.attr == (1, 1)))]
        if b is not None and b.op in ("I", "ones") and s.shape(b) == (1, 1) and scalars:
            b, scalars = scalars[-1], scalars[:-1]
    return s.build(c, scalars, b, s.shape(e))


def transpose(s: Base, e: Expr) -> Expr:
    """(A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ, (A B)ᵀ = Bᵀ Aᵀ, ...: each operator's record says how it transposes."""
    a = e.args[0]
    if s.shape(a) == (1, 1) and a.op != "T":
        return a
    if symmetric(a, getattr(s.shape, "symmetric", frozenset())):  # Sᵀ = S, S⁻ᵀ = S⁻¹ for S declared symmetric
        return a
    if a.op == "add" and all(_is_named(t) for t in flatten(a, "add")):
        return e  # (x - m)ᵀ stays as written: a difference of names
    rule = REGISTRY[a.op].transposed
    if rule is not None:
        got = s(rule(a))
        if a.op == "add" and sorted(map(repr, flatten(got, "add"))) == sorted(map(repr, flatten(a, "add"))):
            return a  # a symmetric sum, (A + Aᵀ)ᵀ = A + Aᵀ: kept as written
        return got
    if a.op in ("neg", "smul", "div"):
        pulled = s.pull_scalars(e, T)
        if pulled is not None:
            return pulled
    return e


_KEEPS_SYMMETRY = frozenset(
    {"inv", "pow", "neg", "add", "had", "ediv", "kron", "expm", "logm", "sqrtm", "adj", "tril", "triu"}
)


def symmetric(e: Expr, names: frozenset[str]) -> bool:
    """Whether ``e`` equals its transpose because the names it is built of are declared
    symmetric (S, S⁻¹, S², S + Sᵀ, expm(S), ...): a sufficient test, not a complete one."""
    return bool(names) and is_symmetric(e, names)


def is_symmetric(e: Expr, names: frozenset[str] = frozenset()) -> bool:
    """Whether ``e`` equals its transpose as written, ``names`` symmetric: Xᵀ X, B S Bᵀ,
    Xᵀ A X for a symmetric A, A + Aᵀ, S⁻¹, expm(S), ... (sufficient, not complete)."""
    if e.op == "name":
        return e.attr in names
    if e.op in ("I", "num") or (e.op == "ones" and isinstance(e.attr, tuple) and e.attr[0] == e.attr[1]):
        return True
    if e.op == "smul":
        return is_symmetric(e.args[1], names)
    if e.op in ("tril", "triu"):
        return False
    if e.op == "add":  # each term symmetric, or its transpose another term
        terms = flatten(e, "add")
        while terms:
            t = terms.pop(0)
            if is_symmetric(t, names):
                continue
            partner = next((k for k, u in enumerate(terms) if _transposes(t, u, names)), None)
            if partner is None:
                return False
            terms.pop(partner)
        return True
    if e.op in _KEEPS_SYMMETRY or REGISTRY[e.op].notation.frechet:
        return all(is_symmetric(a, names) for a in e.args)
    if e.op == "matmul":  # A Aᵀ, Aᵀ A, B S Bᵀ, Xᵀ A X: the factors a palindrome up to transposes
        factors = flatten(e, "matmul")
        k = len(factors)
        ends = all(_transposes(factors[i], factors[k - 1 - i], names) for i in range(k // 2))
        return ends and (k % 2 == 0 or is_symmetric(factors[k // 2], names))
    return REGISTRY[e.op].arity == 1 and e.op in _ELEMENTWISE and is_symmetric(e.args[0], names)


_ELEMENTWISE = frozenset({"exp", "log", "sin", "cos", "tan", "sqrt", "tanh", "sinh", "cosh", "abs", "sigmoid"})


def _transposes(a: Expr, b: Expr, names: frozenset[str]) -> bool:
    """Whether b = aᵀ as written."""
    return b == Expr("T", (a,)) or a == Expr("T", (b,)) or (a == b and is_symmetric(a, names))


def _is_named(e: Expr) -> bool:
    while e.op in ("neg", "smul") and (e.op == "neg" or e.args[0].op == "num"):
        e = e.args[-1]
    return e.op == "name"


def commutation(s: Base, e: Expr) -> Expr:
    m, n = e.attr
    return eye(m * n) if m == 1 or n == 1 else e


def vectorise(s: Base, e: Expr) -> Expr:
    got = s.pull_scalars(e, vec)
    if got is not None:
        return got
    a = e.args[0]
    if a.op == "unvec":  # vec(unvec(v)) = v
        return a.args[0]
    r, cols = s.shape(a)
    if cols == 1:
        return a
    if r == 1 and a.op == "T":
        return a.args[0]
    if r == 1:
        return s(T(a))
    if a.op == "zeros":
        return zeros(r * cols, 1)
    return e


def unvectorise(s: Base, e: Expr) -> Expr:
    """unvec(vec(M)) = M; unvec of a column into a column is the column, into a row its transpose."""
    got = s.pull_scalars(e, lambda b: Expr("unvec", (b,), e.attr))
    if got is not None:
        return got
    a, shape = e.args[0], s.shape(e)
    if a.op == "vec" and s.shape(a.args[0]) == shape:
        return a.args[0]
    if shape[1] == 1:
        return a
    if shape[0] == 1:
        return s(T(a))
    if a.op == "zeros":
        return zeros(*shape)
    return e


def frechet(s: Base, e: Expr) -> Expr:
    """L_f(X, E) is linear in E: scalars out, zero at E = 0; L_f(X, I) = f'(X)."""
    from ..ops.functions import AT_IDENTITY

    x, d = e.args
    c, scalars, body = s.split(d)
    if body is None or body.op == "zeros":
        return zeros(*s.shape(e)) if body is not None or c == 0 else e
    if c != 1 or scalars:
        return s.build(c, scalars, s(Expr("frechet", (x, body), e.attr)), s.shape(e))
    if body.op == "I" and e.attr in AT_IDENTITY:
        return s(AT_IDENTITY[e.attr](x))
    return e


def solution(s: Base, e: Expr) -> Expr:
    """solve(A, B) and sylvester(A, B, C) are linear in their last argument: scalars out, zero
    at zero; solve(A, I) = A⁻¹, solve(I, B) = B."""
    *rest, b = e.args
    c, scalars, body = s.split(b)
    if body is None or body.op == "zeros":
        return zeros(*s.shape(e)) if body is not None or c == 0 else e
    if c != 1 or scalars:
        return s.build(c, scalars, s(Expr(e.op, (*rest, body), e.attr)), s.shape(e))
    if e.op == "solve" and body.op == "I":
        return s(Expr("inv", (rest[0],)))
    if e.op == "solve" and rest[0].op == "I":
        return body
    return e


def diagonal_matrix(s: Base, e: Expr) -> Expr:
    got = s.pull_scalars(e, lambda b: Expr("diag", (b,)))
    if got is not None:
        return got
    a = e.args[0]
    if a.op == "zeros":
        return zeros(*s.shape(e))
    if (a.op == "vec" and a.args[0].op == "ones") or a.op == "ones":
        return eye(s.shape(e)[0])
    if s.shape(a) == (1, 1):
        return a
    return e


def inverse(s: Base, e: Expr) -> Expr:
    a = e.args[0]
    if a.op == "inv":
        return a.args[0]
    if a.op == "I":
        return a
    if a.op == "T":
        return s(T(s(Expr("inv", (a.args[0],)))))
    return e


def elementwise_power(s: Base, e: Expr) -> Expr:
    a, p = e.args
    if p.op == "num" and p.attr == 1:
        return a
    if p.op == "num" and p.attr == 0:
        return Expr("ones", (), s.shape(e))
    return e


def adjugate(s: Base, e: Expr) -> Expr:
    return num(1.0) if s.shape(e) == (1, 1) else e  # adj of a 1×1 matrix is 1


def power(s: Base, e: Expr) -> Expr:
    k = e.attr
    if k == 1:
        return e.args[0]
    if k == 0:
        return eye(s.shape(e)[0])
    if k == -1:
        return s(Expr("inv", e.args))
    return e


def hadamard(s: Base, e: Expr) -> Expr:
    a, b = e.args
    if a.op == "zeros" or b.op == "zeros":
        return zeros(*s.shape(e))
    if s.shape(e) == (1, 1):  # of scalars, the product
        return s(Expr("matmul", (a, b)))
    (c1, s1, b1), (c2, s2, b2) = s.split(a), s.split(b)
    if b1 is not None and b2 is not None and (c1 != 1 or c2 != 1 or s1 or s2):  # (c A) ∘ B = c (A ∘ B)
        return s.build(c1 * c2, s1 + s2, s(Expr("had", (b1, b2))), s.shape(e))
    for x, y in ((a, b), (b, a)):
        if y.op == "ediv":  # x ∘ (ones ./ c) = x ./ c, and x ∘ (y ./ c) = (x ∘ y) ./ c
            top, c = y.args
            return s(Expr("ediv", (x if top.op == "ones" else s(Expr("had", (x, top))), c)))
    if a.op == "ones":
        return b
    if b.op == "ones":
        return a
    return e


def division(s: Base, e: Expr) -> Expr:
    a, b = e.args
    if a.op == "zeros":
        return a
    if b.op == "ones":
        return a
    if s.shape(e) == (1, 1):  # of scalars, a times the reciprocal b⁻¹
        return s(Expr("matmul", (a, Expr("inv", (b,)))))
    c, scalars, body = s.split(a)
    if body is not None and (c != 1 or scalars):  # (c A) ./ B = c (A ./ B)
        return s.build(c, scalars, s(Expr("ediv", (body, b))), s.shape(e))
    return e


def kronecker(s: Base, e: Expr) -> Expr:
    """Scalars out, factors flattened, I ⊗ I merged, 1×1 factors made scalars."""
    c1, s1, b1 = s.split(e.args[0])
    c2, s2, b2 = s.split(e.args[1])
    coef, scalars = c1 * c2, s1 + s2
    factors: list[Expr] = []
    for b in (b1, b2):
        if b is not None:
            factors.extend(flatten(b, "kron"))
    if any(f.op == "zeros" for f in factors) or coef == 0:
        return zeros(*s.shape(e))
    merged: list[Expr] = []
    for f in factors:
        if s.shape(f) == (1, 1):
            if f.op not in ("I", "ones"):
                scalars.append(f)
            continue
        if merged and merged[-1].op == "I" and f.op == "I":
            merged[-1] = eye(merged[-1].attr * f.attr)
            continue
        merged.append(f)
    body = chain(merged, "kron") if merged else None
    return s.build(coef, scalars, body, s.shape(e))


def flatten(e: Expr, op: str) -> list[Expr]:
    """The operands of a run of one associative operator."""
    if e.op != op:
        return [e]
    return flatten(e.args[0], op) + flatten(e.args[1], op)


def chain(parts: list[Expr], op: str) -> Expr:
    """parts joined by one associative operator, left to right."""
    out = parts[0]
    for p in parts[1:]:
        out = Expr(op, (out, p))
    return out
