"""Simplification of Jacobian expressions, so closed forms read as in the textbooks.

Bottom-up rewriting to a normal form:

* scalars are pulled to the front of products and folded (``2 (3 A)`` → ``6 A``), a sign
  becomes one ``-`` in front;
* transposes move to the leaves (``(A ⊗ B)ᵀ`` → ``Aᵀ ⊗ Bᵀ``, ``(A B)ᵀ`` → ``Bᵀ Aᵀ``);
* products: identities vanish, the mixed-product rule ``(A ⊗ B)(C ⊗ D) = A C ⊗ B D``,
  ``(A ⊗ B) vec(M) = vec(B M Aᵀ)``, ``vec(M)ᵀ (A ⊗ B) = vec(Bᵀ M A)ᵀ``,
  ``K(m,n) vec(M) = vec(Mᵀ)``, ``K(p,m) (A ⊗ B) K(n,q) = B ⊗ A``, diagonal scalings,
  powers of one base merge;
* Kronecker products: ``I ⊗ I`` → ``I``, a 1×1 factor becomes a scalar;
* sums: equal terms merge, ``vec(A)ᵀ + vec(B)ᵀ`` → ``vec(A + B)ᵀ``, common Kronecker and
  product factors are taken out (``A X + Aᵀ X`` → ``(A + Aᵀ) X``).

Every rewrite is an identity; the tests check each simplified form against the
unsimplified one numerically.
"""
from __future__ import annotations

import math

from .errors import JacliError
from .expr import Expr, T, eye, kron, matmul, neg, num, smul, vec, zeros, add
from .shapes import Shapes

class Simplifier:
    def __init__(self, shapes: Shapes):
        self.shape = shapes
        self.memo: dict[Expr, Expr] = {}

    def __call__(self, e: Expr) -> Expr:
        got = self.memo.get(e)
        if got is None:
            args = tuple(self(a) for a in e.args)
            node = e if args == e.args else Expr(e.op, args, e.attr, e.col)
            handler = getattr(self, "_" + node.op, None)
            got = handler(node) if handler else node
            self.memo[e] = got
            self.memo[got] = got
        return got

    # -- scalars ---------------------------------------------------------------------
    def split(self, e: Expr):
        """(coefficient, scalar factors, body): e = coefficient · Π scalars · body."""
        if e.op == "num":
            return e.attr, [], None
        if e.op == "neg":
            c, s, b = self.split(e.args[0])
            return -c, s, b
        if e.op == "smul":
            c1, s1, b1 = self.split(e.args[0])
            c2, s2, b2 = self.split(e.args[1])
            scalars = s1 + ([b1] if b1 is not None else []) + s2
            return c1 * c2, scalars, b2
        return 1.0, [], e

    def build(self, c: float, scalars: list, body: Expr | None, shape=None) -> Expr:
        if not math.isfinite(c):
            raise JacliError("a number in the expression overflows (its product is not a finite float)")
        if c == 0:
            return zeros(*(shape or self.shape(body)))
        if body is None:
            if not scalars:
                return num(c) if c >= 0 else neg(num(-c))
            body, scalars = scalars[-1], scalars[:-1]
        if body.op == "zeros":
            return body
        s = num(abs(c)) if abs(c) != 1 else None
        for x in scalars:
            s = x if s is None else smul(s, x)
        r = body if s is None else smul(s, body)
        return neg(r) if c < 0 else r

    def _neg(self, e):
        c, s, b = self.split(e)
        return self.build(c, s, b, self.shape(e))

    def _smul(self, e):
        c, s, b = self.split(e)
        s = [x for x in s if not (x.op == "I" or (x.op == "ones" and x.attr == (1, 1)))]
        if b is not None and b.op in ("I", "ones") and self.shape(b) == (1, 1) and s:
            b, s = s[-1], s[:-1]
        return self.build(c, s, b, self.shape(e))

    def pull_scalars(self, e: Expr, wrap):
        """A linear operator commutes with scalars: op(c s B) = c s op(B). The rewritten e,
        the argument itself when it is a pure number, or None when there is nothing to pull."""
        c, s, b = self.split(e.args[0])
        if b is None:
            return e.args[0]
        if c != 1 or s:
            return self.build(c, s, self(wrap(b)), self.shape(e))
        return None

    # -- transposes -------------------------------------------------------------------
    def _T(self, e):
        a = e.args[0]
        op = a.op
        if self.shape(a) == (1, 1) and op not in ("T",):
            return a
        if op == "T":
            return a.args[0]
        if op == "I":
            return a
        if op == "K":
            m, n = a.attr
            return Expr("K", (), (n, m))
        if op in ("ones", "zeros"):
            r, c = a.attr
            return Expr(op, (), (c, r))
        if op == "diag":
            return a
        if op in ("neg", "smul"):
            got = self.pull_scalars(e, T)
            if got is not None:
                return got
        if op == "kron":
            return self(kron(self(T(a.args[0])), self(T(a.args[1]))))
        if op == "add":
            return self(add(self(T(a.args[0])), self(T(a.args[1]))))
        if op == "matmul":
            return self(matmul(self(T(a.args[1])), self(T(a.args[0]))))
        return e

    def _K(self, e):
        m, n = e.attr
        return eye(m * n) if m == 1 or n == 1 else e

    # -- vec, diag, inverse, powers ---------------------------------------------------
    def _vec(self, e):
        got = self.pull_scalars(e, vec)
        if got is not None:
            return got
        a = e.args[0]
        r, cols = self.shape(a)
        if cols == 1:
            return a
        if r == 1 and a.op == "T":
            return a.args[0]
        if r == 1:
            return self(T(a))
        if a.op == "zeros":
            return zeros(r * cols, 1)
        return e

    def _diag(self, e):
        got = self.pull_scalars(e, lambda b: Expr("diag", (b,)))
        if got is not None:
            return got
        a = e.args[0]
        if a.op == "zeros":
            return zeros(*self.shape(e))
        if a.op == "vec" and a.args[0].op == "ones" or a.op == "ones":
            return eye(self.shape(e)[0])
        if self.shape(a) == (1, 1):
            return a
        return e

    def _inv(self, e):
        a = e.args[0]
        if a.op == "inv":
            return a.args[0]
        if a.op == "I":
            return a
        if a.op == "T":
            return self(T(self(Expr("inv", (a.args[0],)))))
        return e

    def _pow(self, e):
        k = e.attr
        if k == 1:
            return e.args[0]
        if k == 0:
            return eye(self.shape(e)[0])
        if k == -1:
            return self(Expr("inv", e.args))
        return e

    def _had(self, e):
        a, b = e.args
        if a.op == "zeros" or b.op == "zeros":
            return zeros(*self.shape(e))
        if a.op == "ones":
            return b
        if b.op == "ones":
            return a
        return e

    def _ediv(self, e):
        a, b = e.args
        if a.op == "zeros":
            return a
        if b.op == "ones":
            return a
        return e

    # -- Kronecker products -----------------------------------------------------------
    def _kron(self, e):
        c1, s1, b1 = self.split(e.args[0])
        c2, s2, b2 = self.split(e.args[1])
        coef, scalars = c1 * c2, s1 + s2
        factors = []
        for b in (b1, b2):
            if b is None:
                continue
            factors.extend(_flatten(b, "kron"))
        if any(f.op == "zeros" for f in factors) or coef == 0:
            return zeros(*self.shape(e))
        merged: list[Expr] = []
        for f in factors:
            if self.shape(f) == (1, 1):
                if f.op not in ("I", "ones"):
                    scalars.append(f)
                continue
            if merged and merged[-1].op == "I" and f.op == "I":
                merged[-1] = eye(merged[-1].attr * f.attr)
                continue
            merged.append(f)
        if not merged:
            body = None
        else:
            body = merged[0]
            for f in merged[1:]:
                body = kron(body, f)
        return self.build(coef, scalars, body, self.shape(e))

    # -- matrix products --------------------------------------------------------------
    def _matmul(self, e):
        shape = self.shape(e)
        coef, scalars, chain = 1.0, [], []
        for arg in e.args:
            c, s, b = self.split(arg)
            coef *= c
            scalars += s
            if b is not None:
                for f in _flatten(b, "matmul"):
                    c2, s2, b2 = self.split(f)
                    coef *= c2
                    scalars += s2
                    if b2 is not None:
                        chain.append(b2)
        if coef == 0 or any(f.op == "zeros" for f in chain):
            return zeros(*shape)
        # a 1×1 factor of a product is a scalar multiple
        rest = []
        for f in chain:
            if self.shape(f) == (1, 1) and len(chain) > 1:
                if f.op not in ("I", "ones"):
                    scalars.append(f)
            else:
                rest.append(f)
        chain = self.scalar_subchains(self.combine(rest), scalars)
        if not chain:
            return self.build(coef, scalars, None if scalars else eye(shape[0]), shape)
        body = chain[0]
        for f in chain[1:]:
            body = matmul(body, f)
        return self.build(coef, scalars, body, shape)

    def scalar_subchains(self, chain: list[Expr], scalars: list) -> list[Expr]:
        """Take out a run of factors whose product is 1×1, as in bᵀ x aᵀ = (bᵀ x) aᵀ: a 1×1
        product is a scalar multiple (what the parser makes of the same text)."""
        n = len(chain)
        for i in range(n):
            if self.shape(chain[i])[0] != 1:
                continue
            for j in range(i + 1, n):
                if self.shape(chain[j])[1] == 1 and (i, j) != (0, n - 1):
                    sub = chain[i]
                    for f in chain[i + 1:j + 1]:
                        sub = matmul(sub, f)
                    scalars.append(sub)
                    return self.scalar_subchains(chain[:i] + chain[j + 1:], scalars)
        return chain

    def combine(self, chain: list[Expr]) -> list[Expr]:
        chain = [f for f in chain if f.op != "I"] or chain[:1]
        changed = True
        while changed:
            changed = False
            for i in range(len(chain) - 1):
                if i + 2 < len(chain):
                    three = self.triple(chain[i], chain[i + 1], chain[i + 2])
                    if three is not None:
                        chain[i:i + 3] = three
                        changed = True
                        break
                got = self.pair(chain[i], chain[i + 1])
                if got is not None:
                    chain[i:i + 2] = [f for f in got if f.op != "I"] if len(chain) > 2 or any(
                        f.op != "I" for f in got) else got[:1]
                    changed = True
                    break
        return chain

    def pair(self, x: Expr, y: Expr):
        """A simpler equal of the product x y, as a list of factors, or None."""
        sx = self.shape(x)
        if x.op == "I":
            return [y]
        if y.op == "I":
            return [x]
        if x.op == "kron" and y.op == "kron":
            got = self.mixed_product(x, y)
            if got is not None:
                return [got]
        if x.op == "kron":
            a, b = x.args
            m = self.unvec(y, (self.shape(b)[1], self.shape(a)[1]))
            if m is not None:  # (A ⊗ B) vec(M) = vec(B M Aᵀ)
                return [self(vec(self(matmul(self(matmul(b, m)), self(T(a))))))]
        if y.op == "kron":
            a, b = y.args
            m = self.unvecT(x, (self.shape(b)[0], self.shape(a)[0]))
            if m is not None:  # vec(M)ᵀ (A ⊗ B) = vec(Bᵀ M A)ᵀ
                return [self(T(self(vec(self(matmul(self(matmul(self(T(b)), m)), a))))))]
        if x.op == "K":
            m = self.unvec(y, x.attr)
            if m is not None:  # K(m,n) vec(M) = vec(Mᵀ)
                return [self(vec(self(T(m))))]
        if y.op == "K":
            r, c = y.attr
            m = self.unvecT(x, (c, r))
            if m is not None:  # vec(M)ᵀ K(r,c) = vec(Mᵀ)ᵀ
                return [self(T(self(vec(self(T(m))))))]
        if x.op == "K" and y.op == "K" and x.attr == tuple(reversed(y.attr)):
            return [eye(sx[0])]
        if _is_diagvec(x):
            a = x.args[0].args[0]
            if _is_diagvec(y) and self.shape(y.args[0].args[0]) == self.shape(a):
                return [self(Expr("diag", (self(vec(self(Expr("had", (a, y.args[0].args[0]))))),)))]
            m = self.unvec(y, self.shape(a))
            if m is not None:  # diag(vec A) vec(M) = vec(A ∘ M)
                return [self(vec(self(Expr("had", (a, m)))))]
        if _is_diagvec(y):
            a = y.args[0].args[0]
            m = self.unvecT(x, self.shape(a))
            if m is not None:  # vec(M)ᵀ diag(vec A) = vec(M ∘ A)ᵀ
                return [self(T(self(vec(self(Expr("had", (m, a)))))))]
        if x.op == "add" and (self.unvec(y, None) is not None or y.op == "kron"):
            return self.distribute(x, y, left=False)
        if y.op == "add" and (self.unvecT(x, None) is not None or x.op == "kron"):
            return self.distribute(y, x, left=True)
        px, py = _power_of(x), _power_of(y)
        if px and py and px[0] == py[0] and px[2] == py[2] and sx[0] == sx[1]:
            k = px[1] + py[1]
            if k == 0:
                return [eye(sx[0])]
            p = self(Expr("pow", (px[0],), k))
            return [self(T(p)) if px[2] else p]
        return None

    def unvec(self, e: Expr, shape):
        """M with vec(M) = e and M of the given shape (any shape when None), or None."""
        if e.op == "vec":
            m = e.args[0]
            return m if shape is None or self.shape(m) == shape else None
        r, c = self.shape(e)
        if c != 1 or shape is None:
            return None
        if shape == (r, 1):
            return e
        if shape == (1, r):
            return self(T(e))
        return None

    def unvecT(self, e: Expr, shape):
        """M with vec(M)ᵀ = e, or None."""
        if e.op == "T":
            return self.unvec(e.args[0], shape)
        if self.shape(e)[0] == 1 and shape is not None:
            return self.unvec(self(T(e)), shape)
        return None

    def distribute(self, total: Expr, other: Expr, left: bool):
        """A product with a sum, multiplied out when every term then simplifies:
        vec(M)ᵀ (P + Q), (P + Q) vec(M), and sums of Kronecker products times one."""
        terms = _flatten(total, "add")
        out = []
        for t in terms:
            c, s, b = self.split(t)
            if b is None or b.op == "add":
                return None
            # only where the product really simplifies; otherwise taking the common factor
            # out of the sum again would undo it, and the two would alternate forever
            prod = self(matmul(other, b) if left else matmul(b, other))
            chain = _flatten(self.split(prod)[2] or prod, "matmul")
            if len(chain) > 1 and (chain[0] == other if left else chain[-1] == other):
                return None
            out.append(self.build(c, s, prod))
        acc = out[0]
        for t in out[1:]:
            acc = add(acc, t)
        return [self(acc)]

    def triple(self, x: Expr, y: Expr, z: Expr):
        # K(p,m) (A ⊗ B) K(n,q) = B ⊗ A for A m×n, B p×q   (M&N ch. 3, commutation matrix)
        if x.op == "K" and y.op == "kron" and z.op == "K":
            a, b = y.args
            (m, n), (p, q) = self.shape(a), self.shape(b)
            if x.attr == (p, m) and z.attr == (n, q):
                return [self(kron(b, a))]
        return None

    def mixed_product(self, x: Expr, y: Expr):
        """(A ⊗ B)(C ⊗ D) = A C ⊗ B D, trying every split of both Kronecker chains."""
        xs, ys = _flatten(x, "kron"), _flatten(y, "kron")
        for i in range(1, len(xs)):
            cols = _prod(self.shape(f)[1] for f in xs[:i])
            for j in range(1, len(ys)):
                rows = _prod(self.shape(f)[0] for f in ys[:j])
                if cols == rows:
                    left = self(matmul(_kron_chain(xs[:i]), _kron_chain(ys[:j])))
                    right = self(matmul(_kron_chain(xs[i:]), _kron_chain(ys[j:])))
                    return self(kron(left, right))
        return None

    # -- sums ---------------------------------------------------------------------------
    def _add(self, e):
        shape = self.shape(e)
        terms: list[list] = []  # [coef, scalars, body]
        index: dict = {}
        for t in _flatten(e, "add"):
            c, s, b = self.split(t)
            if b is not None and b.op == "zeros":
                continue
            key = (tuple(s), b)
            if key in index:
                terms[index[key]][0] += c
            else:
                index[key] = len(terms)
                terms.append([c, s, b])
        terms = [t for t in terms if t[0] != 0]
        if not terms:
            return zeros(*shape)
        if len(terms) > 1:
            merged = self.merge(terms, shape)
            if merged is not None:
                return merged
        return self.sum_of(terms, shape)

    def sum_of(self, terms, shape) -> Expr:
        out = None
        for c, s, b in terms:
            if out is None:
                out = self.build(c, s, b, shape)
            elif c < 0:
                out = add(out, neg(self.build(-c, s, b, shape)))
            else:
                out = add(out, self.build(c, s, b, shape))
        return out

    def merge(self, terms, shape):
        bodies = [b for _, _, b in terms]
        if all(b is not None for b in bodies):
            # vec(A)ᵀ + vec(B)ᵀ = vec(A + B)ᵀ, and likewise vec(·) and diag(vec(·))
            for test, inner, wrap in ((_is_vecT, lambda b: b.args[0].args[0], lambda x: T(vec(x))),
                                      (_is_vec, lambda b: b.args[0], vec),
                                      (_is_diagvec, lambda b: b.args[0].args[0], lambda x: Expr("diag", (vec(x),)))):
                if all(test(b) for b in bodies):
                    shapes = {self.shape(inner(b)) for b in bodies}
                    if len(shapes) == 1:
                        total = self.sum_of([(c, s, inner(b)) for c, s, b in terms], shapes.pop())
                        return self(wrap(self(total)))
            for op in ("kron", "matmul"):
                for side in (1, 0):
                    got = self.common_factor(terms, op, side, shape)
                    if got is not None:
                        return got
        return None

    def common_factor(self, terms, op, side, shape):
        """c1 (A ⊗ C) + c2 (B ⊗ C) = (c1 A + c2 B) ⊗ C; likewise for products, either side."""
        groups: dict[Expr, list[int]] = {}
        for i, (_, _, b) in enumerate(terms):
            if b.op != op:
                continue
            parts = _flatten(b, op)
            key = parts[-1] if side == 1 else parts[0]
            groups.setdefault(key, []).append(i)
        for key, idx in groups.items():
            if len(idx) < 2:
                continue
            rests = []
            for i in idx:
                c, s, b = terms[i]
                parts = _flatten(b, op)
                rest_parts = parts[:-1] if side == 1 else parts[1:]
                rest = _chain(rest_parts, op)
                rests.append((c, s, rest))
            rest_shapes = {self.shape(r) for _, _, r in rests}
            if len(rest_shapes) != 1:
                continue
            inner = self(self.sum_of(rests, rest_shapes.pop()))
            factor = Expr(op, (inner, key) if side == 1 else (key, inner))
            others = [terms[i] for i in range(len(terms)) if i not in idx]
            new = self(factor)
            if not others:
                return new
            return self(self.sum_of([[1.0, [], new]] + others, shape))
        return None


def _flatten(e: Expr, op: str) -> list[Expr]:
    if e.op != op:
        return [e]
    return _flatten(e.args[0], op) + _flatten(e.args[1], op)


def _chain(parts: list[Expr], op: str) -> Expr:
    out = parts[0]
    for p in parts[1:]:
        out = Expr(op, (out, p))
    return out


def _kron_chain(parts):
    return _chain(parts, "kron")


def _prod(xs) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


def _is_vecT(e: Expr) -> bool:
    return e.op == "T" and e.args[0].op == "vec"


def _is_vec(e: Expr) -> bool:
    return e.op == "vec"


def _is_diagvec(e: Expr) -> bool:
    return e.op == "diag" and e.args[0].op == "vec"


def _power_of(e: Expr):
    """(base, exponent, transposed) for X, X⁻¹, Xᵏ and their transposes."""
    t = False
    if e.op == "T":
        e, t = e.args[0], True
    if e.op == "inv":
        return e.args[0], -1, t
    if e.op == "pow":
        return e.args[0], e.attr, t
    if e.op in ("name",):
        return e, 1, t
    return None
