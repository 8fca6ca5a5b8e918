"""Matrix products: a chain of factors, simplified pair by pair.

Identities vanish, the mixed-product rule ``(A ⊗ B)(C ⊗ D) = A C ⊗ B D``,
``(A ⊗ B) vec(M) = vec(B M Aᵀ)``, ``vec(M)ᵀ (A ⊗ B) = vec(Bᵀ M A)ᵀ``,
``K(m,n) vec(M) = vec(Mᵀ)``, ``K(p,m) (A ⊗ B) K(n,q) = B ⊗ A``, diagonal scalings, powers
of one base merge. The rules for a pair of factors are a table keyed by the operators of
the two factors (:data:`PAIRS`), tried in order.
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import TYPE_CHECKING

from ...expr import Expr, T, add, comm, eye, kron, matmul, vec, zeros
from .base import ONE, Base
from .local import chain, flatten

if TYPE_CHECKING:
    from ..ops.registry import Shape

Factors = list[Expr]
PairRule = Callable[[Base, Expr, Expr], "Factors | None"]


def product(s: Base, e: Expr) -> Expr:
    """The matmul rewrite: scalars out, the chain of factors combined, 1×1 runs made scalars."""
    shape = s.shape(e)
    coef, scalars, factors = ONE, [], []
    for arg in e.args:
        c, sc, b = s.split(arg)
        coef *= c
        scalars += sc
        if b is not None:
            for f in flatten(b, "matmul"):
                c2, s2, b2 = s.split(f)
                coef *= c2
                scalars += s2
                if b2 is not None:
                    factors.append(b2)
    if coef == 0 or any(f.op == "zeros" for f in factors):
        return zeros(*shape)
    rest = []
    for f in factors:  # a 1×1 factor of a product is a scalar multiple
        if s.shape(f) == (1, 1) and len(factors) > 1:
            if f.op not in ("I", "ones"):
                scalars.append(f)
        else:
            rest.append(f)
    factors = scalar_subchains(s, combine(s, rest), scalars)
    if not factors:
        return s.build(coef, scalars, None if scalars else eye(shape[0]), shape)
    return s.build(coef, scalars, chain(factors, "matmul"), shape)


def scalar_subchains(s: Base, factors: Factors, scalars: list[Expr]) -> Factors:
    """Take out a run of factors whose product is 1×1, as in bᵀ x aᵀ = (bᵀ x) aᵀ: a 1×1
    product is a scalar multiple (what the parser makes of the same text)."""
    n = len(factors)
    for i in range(n):
        if s.shape(factors[i])[0] != 1:
            continue
        for j in range(i + 1, n):
            if s.shape(factors[j])[1] == 1 and (i, j) != (0, n - 1):
                scalars.append(chain(factors[i : j + 1], "matmul"))
                return scalar_subchains(s, factors[:i] + factors[j + 1 :], scalars)
    return factors


def combine(s: Base, factors: Factors) -> Factors:
    """Rewrite neighbouring factors (three, then two) until no rule applies."""
    factors = [f for f in factors if f.op != "I"] or factors[:1]
    changed = True
    while changed:
        changed = False
        for i in range(len(factors) - 1):
            if i + 2 < len(factors):
                three = triple(s, factors[i], factors[i + 1], factors[i + 2])
                if three is not None:
                    factors[i : i + 3] = three
                    changed = True
                    break
            got = pair(s, factors[i], factors[i + 1])
            if got is not None:
                keep = len(factors) > 2 or any(f.op != "I" for f in got)
                factors[i : i + 2] = [f for f in got if f.op != "I"] if keep else got[:1]
                changed = True
                break
            run = _vector_run(s, factors, i)
            if run is not None:
                start, stop, replacement = run
                factors[start:stop] = replacement
                changed = True
                break
    return factors


def _vector_run(s: Base, factors: Factors, i: int) -> tuple[int, int, Factors] | None:
    """(A ⊗ B) M v where the product M v of the factors after is a column: taken as one vec,
    (A ⊗ B) vec(N) = vec(B N Aᵀ) sees it whole; likewise a row uᵀ M before a Kronecker product."""
    x, y = factors[i], factors[i + 1]
    if x.op == "kron" and i + 2 < len(factors) and s.shape(factors[-1])[1] == 1:
        got = _kron_vec(s, x, chain(factors[i + 1 :], "matmul"))
        return None if got is None else (i, len(factors), got)
    if y.op == "kron" and i >= 1 and s.shape(factors[0])[0] == 1:
        got = _vec_t_kron(s, chain(factors[: i + 1], "matmul"), y)
        return None if got is None else (0, i + 2, got)
    return None


def pair(s: Base, x: Expr, y: Expr) -> Factors | None:
    """A simpler equal of the product x y, as a list of factors, or None."""
    for left, right, rule, what in PAIRS:
        if (left is None or left == x.op) and (right is None or right == y.op):
            got = rule(s, x, y)
            if got is not None:
                s.note(what)
                return got
    return None


def _diagonal_selection(s: Base, x: Expr, y: Expr) -> object:
    """n where x y = (1ᵀₙ ⊗ Iₙ) diag(vec(Iₙ)), the Kronecker form of diag(M) for M n×n."""
    if x.op != "kron" or y.op != "diag" or y.args[0].op != "vec":
        return None
    one, ident = x.args
    n = s.shape(ident)[0]
    if one.op == "ones" and one.attr == (1, n) and ident.op == "I" and y.args[0].args[0] == eye(n):
        return n
    return None


def triple(s: Base, x: Expr, y: Expr, z: Expr) -> Factors | None:
    # (1ᵀ ⊗ I) diag(vec I) (Aᵀ ⊗ Bᵀ) = (A ⊙ B)ᵀ: row i is aᵢᵀ ⊗ bᵢᵀ, the diagonal of Bᵀ M A
    if z.op == "kron" and _diagonal_selection(s, x, y) is not None:
        a, b = z.args
        if s.shape(a)[0] == s.shape(b)[0] == _diagonal_selection(s, x, y):
            s.note("the diagonal of a product made a Khatri–Rao product")
            return [s(T(Expr("khatrirao", (s(T(a)), s(T(b))))))]
    # K(p,m) (A ⊗ B) K(n,q) = B ⊗ A for A m×n, B p×q   (M&N ch. 3, commutation matrix)
    if x.op == "K" and y.op == "kron" and z.op == "K":
        a, b = y.args
        (m, n), (p, q) = s.shape(a), s.shape(b)
        if x.attr == (p, m) and z.attr == (n, q):
            s.note("K around a Kronecker product swaps it")
            return [s(kron(b, a))]
    # (P ⊗ Q) K(p,m) (A ⊗ B) = (P ⊗ Q) (B ⊗ A) K(q,n), where the mixed product then applies
    # (to each term of a sum of Kronecker products: a Hessian's X⁻¹ chains)
    if y.op == "K" and z.op == "kron":
        a, b = z.args
        (m, n), (p, q) = s.shape(a), s.shape(b)
        if y.attr == (p, m) and _mixes(s, x, s.shape(b)[0], s.shape(a)[0]):
            s.note("K moved through a Kronecker product")
            return [x, s(kron(b, a)), comm(q, n)]
    return None


def _mixes(s: Base, e: Expr, rows_left: object, rows_right: object) -> bool:
    """Every term of ``e`` is a Kronecker product P ⊗ Q with P rows_left and Q rows_right
    columns, so that its product with a Kronecker product of those rows is one again."""
    for t in flatten(e, "add"):
        b = s.split(t)[2]
        if b is None or b.op != "kron":
            return False
        if (s.shape(b.args[0])[1], s.shape(b.args[1])[1]) != (rows_left, rows_right):
            return False
    return True


def unvec(s: Base, e: Expr, shape: Shape | None) -> Expr | None:
    """M with vec(M) = e and M of the given shape (any shape when None), or None."""
    if e.op == "vec":
        m = e.args[0]
        if shape is None or s.shape(m) == shape:
            return m
    r, c = s.shape(e)
    if c != 1 or shape is None:
        return None
    if shape == (r, 1):
        return e
    if shape == (1, r):
        return s(T(e))
    return None


def unvec_t(s: Base, e: Expr, shape: Shape | None) -> Expr | None:
    """M with vec(M)ᵀ = e, or None."""
    if e.op == "T":
        return unvec(s, e.args[0], shape)
    if s.shape(e)[0] == 1 and shape is not None:
        return unvec(s, s(T(e)), shape)
    return None


# -- the pair rules, keyed by the operators of the two factors --------------------------
def _mixed_product(s: Base, x: Expr, y: Expr) -> Factors | None:
    """(A ⊗ B)(C ⊗ D) = A C ⊗ B D, trying every split of both Kronecker chains."""
    xs, ys = flatten(x, "kron"), flatten(y, "kron")
    for i in range(1, len(xs)):
        cols = prod(s.shape(f)[1] for f in xs[:i])
        for j in range(1, len(ys)):
            if cols == prod(s.shape(f)[0] for f in ys[:j]):
                left = s(matmul(chain(xs[:i], "kron"), chain(ys[:j], "kron")))
                right = s(matmul(chain(xs[i:], "kron"), chain(ys[j:], "kron")))
                return [s(kron(left, right))]
    return None


def _kron_vec(s: Base, x: Expr, y: Expr) -> Factors | None:
    a, b = x.args
    m = unvec(s, y, (s.shape(b)[1], s.shape(a)[1]))
    if m is None:
        return None
    return [s(vec(s(matmul(s(matmul(b, m)), s(T(a))))))]  # (A ⊗ B) vec(M) = vec(B M Aᵀ)


def _vec_t_kron(s: Base, x: Expr, y: Expr) -> Factors | None:
    a, b = y.args
    m = unvec_t(s, x, (s.shape(b)[0], s.shape(a)[0]))
    if m is None:
        return None
    return [s(T(s(vec(s(matmul(s(matmul(s(T(b)), m)), a))))))]  # vec(M)ᵀ (A ⊗ B) = vec(Bᵀ M A)ᵀ


def _commutation_vec(s: Base, x: Expr, y: Expr) -> Factors | None:
    m = unvec(s, y, x.attr)
    return None if m is None else [s(vec(s(T(m))))]  # K(m,n) vec(M) = vec(Mᵀ)


def _vec_t_commutation(s: Base, x: Expr, y: Expr) -> Factors | None:
    r, c = y.attr
    m = unvec_t(s, x, (c, r))
    return None if m is None else [s(T(s(vec(s(T(m))))))]  # vec(M)ᵀ K(r,c) = vec(Mᵀ)ᵀ


def _commutations(s: Base, x: Expr, y: Expr) -> Factors | None:
    return [eye(s.shape(x)[0])] if x.attr == tuple(reversed(y.attr)) else None  # K(n,m) K(m,n) = I


def diag_inside(s: Base, e: Expr) -> Expr | None:
    """A with e = diag(vec A): the argument of vec, or a vector itself (vec(v) is v or vᵀ)."""
    if e.op != "diag":
        return None
    a = e.args[0]
    if a.op == "vec":
        return a.args[0]
    return a if 1 in s.shape(a) else None


def _diag_left(s: Base, x: Expr, y: Expr) -> Factors | None:
    a = diag_inside(s, x)
    if a is None:
        return None
    b = diag_inside(s, y)
    if b is not None and s.shape(b) == s.shape(a):  # diag(vec A) diag(vec B) = diag(vec(A ∘ B))
        return [s(Expr("diag", (s(vec(s(Expr("had", (a, b))))),)))]
    m = unvec(s, y, s.shape(a))
    return None if m is None else [s(vec(s(Expr("had", (a, m)))))]  # diag(vec A) vec(M) = vec(A ∘ M)


def _diag_right(s: Base, x: Expr, y: Expr) -> Factors | None:
    a = diag_inside(s, y)
    if a is None:
        return None
    m = unvec_t(s, x, s.shape(a))
    return None if m is None else [s(T(s(vec(s(Expr("had", (m, a)))))))]  # vec(M)ᵀ diag(vec A) = vec(M ∘ A)ᵀ


def _kron_commutation(s: Base, x: Expr, y: Expr) -> Factors | None:
    # K(p,m) (A ⊗ B) K(n,q) = B ⊗ A for A m×n, B p×q, where K(p,m) = I (p or m is 1):
    # (aᵀ ⊗ I) K = I ⊗ aᵀ
    a, b = x.args
    (m, n), (p, q) = s.shape(a), s.shape(b)
    return [s(kron(b, a))] if (p == 1 or m == 1) and y.attr == (n, q) else None


def _commutation_kron(s: Base, x: Expr, y: Expr) -> Factors | None:
    # ... and where K(n,q) = I (n or q is 1): K(p,m) (A ⊗ B) = B ⊗ A
    a, b = y.args
    (m, n), (p, q) = s.shape(a), s.shape(b)
    return [s(kron(b, a))] if (n == 1 or q == 1) and x.attr == (p, m) else None


def _distribute(s: Base, total: Expr, other: Expr, left: bool) -> Factors | None:
    """A product with a sum, multiplied out when every term then simplifies:
    vec(M)ᵀ (P + Q), (P + Q) vec(M), and sums of Kronecker products times one."""
    out = []
    for t in flatten(total, "add"):
        c, sc, b = s.split(t)
        if b is None or b.op == "add":
            return None
        # only where the product really simplifies; otherwise taking the common factor
        # out of the sum again would undo it, and the two would alternate forever
        prod_ = s(matmul(other, b) if left else matmul(b, other))
        factors = flatten(s.split(prod_)[2] or prod_, "matmul")
        if len(factors) > 1 and (factors[0] == other if left else factors[-1] == other):
            return None
        out.append(s.build(c, sc, prod_))
    acc = out[0]
    for t in out[1:]:
        acc = add(acc, t)
    return [s(acc)]


def _sum_times(s: Base, x: Expr, y: Expr) -> Factors | None:
    if unvec(s, y, None) is not None or y.op == "kron":
        return _distribute(s, x, y, left=False)
    return None


def _times_sum(s: Base, x: Expr, y: Expr) -> Factors | None:
    if unvec_t(s, x, None) is not None or x.op == "kron":
        return _distribute(s, y, x, left=True)
    return None


def _power_of(e: Expr) -> tuple[Expr, int, bool] | None:
    """(base, exponent, transposed) for X, X⁻¹, Xᵏ and their transposes."""
    t = False
    if e.op == "T":
        e, t = e.args[0], True
    if e.op == "inv":
        return e.args[0], -1, t
    if e.op == "pow":
        return e.args[0], e.attr, t
    if e.op == "name":
        return e, 1, t
    return None


def _powers(s: Base, x: Expr, y: Expr) -> Factors | None:
    """Xʲ Xᵏ = X^(j+k), for powers of one base (transposed alike)."""
    px, py = _power_of(x), _power_of(y)
    sx = s.shape(x)
    if not (px and py and px[0] == py[0] and px[2] == py[2] and sx[0] == sx[1]):
        return None
    k = px[1] + py[1]
    if k == 0:
        return [eye(sx[0])]
    p = s(Expr("pow", (px[0],), k))
    return [s(T(p)) if px[2] else p]


PAIRS: list[tuple[str | None, str | None, PairRule, str]] = [
    ("I", None, lambda s, x, y: [y], "identities dropped"),
    (None, "I", lambda s, x, y: [x], "identities dropped"),
    ("kron", "kron", _mixed_product, "the mixed-product rule"),
    ("kron", "K", _kron_commutation, "K moved through a Kronecker product"),
    ("K", "kron", _commutation_kron, "K moved through a Kronecker product"),
    ("kron", None, _kron_vec, "a Kronecker product times a vec made a product"),
    (None, "kron", _vec_t_kron, "a vec times a Kronecker product made a product"),
    ("K", None, _commutation_vec, "K absorbed into a vec"),
    (None, "K", _vec_t_commutation, "K absorbed into a vec"),
    ("K", "K", _commutations, "K K = I"),
    ("diag", None, _diag_left, "diagonal matrices merged"),
    (None, "diag", _diag_right, "diagonal matrices merged"),
    ("add", None, _sum_times, "a sum multiplied out"),
    (None, "add", _times_sum, "a sum multiplied out"),
    (None, None, _powers, "powers merged"),
]  # (left operator, right operator, rule, its name as jacli explain shows it)
