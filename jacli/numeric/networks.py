"""Compiling Jacobian expressions to sums of index networks.

A Jacobian such as ``Bᵀ ⊗ A``, ``(Xᵀ ⊗ I) K + I ⊗ Xᵀ`` or
``diag(vec(X B)) (I ⊗ A) + diag(vec(A X)) (Bᵀ ⊗ I)`` is huge (n = 64 gives a
4096×4096 matrix) but made of a few small arrays. Instead of evaluating it bottom-up
(dense identities, commutation matrices, Kronecker factors multiplied by matrix
products), the expression is compiled to a sum of TERMS, each an index network:

* ``rows``: labels of the row index as C-order legs (slowest first), ``cols`` likewise;
  every label has a size (legs of size 1 are dropped);
* ``factors``: small arrays, each with one label per axis; ``scale``: a number.

A label repeated among rows + cols is a Kronecker delta (identity structure), a label of
rows/cols in no factor is a broadcast (constant along it). Factors are contracted over
summed labels (labels in factors only) at compile time, so at write time a term is a
broadcast product of small arrays, written through ONE strided view of the output with an
axis per distinct label: a Kronecker product is one ``numpy.multiply(..., out=view)``, an
identity or a commutation matrix is index relabelling, a diagonal scaling a broadcast and
a sum of terms accumulates in place.

Compilation rules (each operator's record holds its rule, written in the compiler's
primitives; fresh labels for every node, nothing memoised by expression):

* dense ``e`` (r×c): one factor ``(array, (a, b))``, rows ``(a,)``, cols ``(b,)``;
* ``I(n)``: rows ``(a,)``, cols ``(a,)``; ``ones(r,c)``: rows ``(a,)``, cols ``(b,)``,
  no factor; ``zeros``: no terms;
* ``K(m,n)``: rows ``(i, j)``, cols ``(j, i)`` (``i`` of size m, ``j`` of size n);
* ``kron``: legs and factors concatenated; ``T``: rows and cols swapped; ``vec``:
  rows = cols + rows; ``diag(v)``: rows = cols = the legs of v; ``diagonal``: rows refined
  against cols and merged;
* ``smul``, ``neg``, ``add``: scale and lists of terms;
* ``matmul``: the left term's cols are refined against the right term's rows to a common
  factorisation (legs split at the prefix products of both), then paired labels merge
  (a factor holding two merged labels keeps its diagonal). Without a common refinement
  (sizes ``(2,3)`` against ``(3,2)``) that product is evaluated densely.

Anything else (``inv``, ``det``, ``exp``, ``had``, names, numbers, ...) is evaluated by
the plain evaluator passed in, to a small array.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from itertools import accumulate
from math import prod
from typing import TYPE_CHECKING

import numpy as np

from ..calculus.ops import REGISTRY
from ..expr import Expr
from .evaluate import Budget, as_budget
from .writing import Factor, Label, Legs, Term, term_dtype, write_term

if TYPE_CHECKING:
    from ..calculus.ops.registry import ShapeOf


class Compiler:
    def __init__(
        self, shapes: ShapeOf, dense: Callable[[Expr], np.ndarray], max_bytes: float | Budget | None = None
    ) -> None:
        self.budget = as_budget(max_bytes)  # the intermediates it makes, counted (with the dense parts' if shared)
        self.fallbacks = 0  # products evaluated densely for want of a common factorisation
        self.shapes = shapes
        self.dense = dense
        self.size: dict[Label, int] = {}
        self._next = 0

    # -- labels ------------------------------------------------------------------------
    def new(self, n: int) -> Label | None:
        """A fresh label of size n, or None for size 1 (dropped legs)."""
        n = int(n)
        if n == 1:
            return None
        label = self._next
        self._next += 1
        self.size[label] = n
        return label

    def dims(self, legs: Iterable[Label]) -> int:
        return prod(self.size[x] for x in legs)

    # -- terms from arrays ---------------------------------------------------------------
    def dense_term(self, arr: np.ndarray) -> Term:
        arr = np.asarray(arr)
        if arr.ndim != 2:
            arr = arr.reshape(arr.shape[-2:]) if arr.ndim > 2 else np.atleast_2d(arr)
        r, c = arr.shape
        a, b = self.new(r), self.new(c)
        labels = tuple(x for x in (a, b) if x is not None)
        f = arr.reshape(tuple(self.size[x] for x in labels))
        if f.ndim == 0:
            return Term((), (), [], f.item())
        return Term(() if a is None else (a,), () if b is None else (b,), [(f, labels)], 1.0)

    def materialise(self, t: Term) -> np.ndarray:
        self.fallbacks += 1
        r, c = self.dims(t.rows), self.dims(t.cols)
        self.budget.take(r * c * term_dtype([t]).itemsize, f"a {r:,}×{c:,} intermediate")
        out = np.zeros((self.dims(t.rows), self.dims(t.cols)), dtype=term_dtype([t]))
        write_term(t, out, 0, out.shape[0], self.size, assign=False)
        return out

    # -- the rules -----------------------------------------------------------------------
    def compile(self, e: Expr) -> list[Term]:
        """The terms of ``e``: by its operator's structure rule, or one dense factor."""
        rule = REGISTRY[e.op].structure
        if rule is None:
            return [self.dense_term(self.dense(e))]
        terms: list[Term] = rule(self, e)
        return terms

    # -- the primitives the operators' structure rules are written in ----------------------
    def identity(self, n: int) -> list[Term]:
        a = self.new(n)
        legs = () if a is None else (a,)
        return [Term(legs, legs, [], 1.0)]

    def constant(self, r: int, c: int) -> list[Term]:
        """ones(r, c): legs with no factor."""
        a, b = self.new(r), self.new(c)
        return [Term(_legs(a), _legs(b), [], 1.0)]

    def commutation(self, m: int, n: int) -> list[Term]:
        i, j = self.new(m), self.new(n)
        return [Term(_legs(i, j), _legs(j, i), [], 1.0)]

    def scaled(self, terms: list[Term], s: float) -> list[Term]:
        return [Term(t.rows, t.cols, t.factors, s * t.scale) for t in terms]

    def scalar_multiple(self, scalar: Expr, terms: list[Term]) -> list[Term]:
        """``scalar`` (a 1×1 expression, evaluated densely) times the terms."""
        s = np.asarray(self.dense(scalar)).reshape(-1)[0].item()
        return [] if s == 0 else [Term(t.rows, t.cols, t.factors, s * t.scale) for t in terms]

    def transposed(self, terms: list[Term]) -> list[Term]:
        return [Term(t.cols, t.rows, t.factors, t.scale) for t in terms]

    def vec(self, terms: list[Term]) -> list[Term]:
        return [Term(t.cols + t.rows, (), t.factors, t.scale) for t in terms]

    def diag(self, terms: list[Term]) -> list[Term]:
        return [Term(t.rows + t.cols, t.rows + t.cols, t.factors, t.scale) for t in terms]

    def kron(self, P: list[Term], Q: list[Term]) -> list[Term]:
        return [Term(p.rows + q.rows, p.cols + q.cols, p.factors + q.factors, p.scale * q.scale) for p in P for q in Q]

    def product(self, P: list[Term], Q: list[Term]) -> list[Term]:
        return [self.product_term(p, q) for p in P for q in Q]

    def diagonal(self, terms: list[Term]) -> list[Term]:
        return [self.diagonal_term(t) for t in terms]

    # -- products and diagonals of single terms ----------------------------------------------
    def product_term(self, p: Term, q: Term) -> Term:
        seqs = {"rows": p.rows, "cols": q.cols, "A": p.cols, "B": q.rows}
        factors = p.factors + q.factors
        if not self.refine(seqs, factors, "A", "B"):
            a, b = self.materialise(p), self.materialise(q)
            self.budget.take(a.shape[0] * b.shape[1] * np.result_type(a, b).itemsize, "a product of intermediates")
            return self.dense_term(a @ b)
        rename, classes = self.merge(seqs["A"], seqs["B"])
        rows, cols = _rename(seqs["rows"], rename), _rename(seqs["cols"], rename)
        factors = [self.rename_factor(f, rename) for f in factors]
        scale = p.scale * q.scale
        present = set(rows) | set(cols) | {x for _, ls in factors for x in ls}
        for rep in classes:
            if rep not in present:  # summed over a constant: the sum is the size
                scale *= self.size[rep]
        return self.contract(Term(rows, cols, factors, scale))

    def diagonal_term(self, t: Term) -> Term:
        seqs = {"A": t.rows, "B": t.cols}
        factors = list(t.factors)
        if not self.refine(seqs, factors, "A", "B"):
            d = np.diagonal(self.materialise(t))[:, None]
            return self.dense_term(d)
        rename, _ = self.merge(seqs["A"], seqs["B"])
        rows = _rename(seqs["A"], rename)
        factors = [self.rename_factor(f, rename) for f in factors]
        return self.contract(Term(rows, (), factors, t.scale))

    # -- refinement, merging, contraction --------------------------------------------------
    def refine(self, seqs: dict[str, Legs], factors: list[Factor], ka: str, kb: str) -> bool:
        """Split labels until seqs[ka] and seqs[kb] have equal size sequences (in place).

        False when no common refinement exists (e.g. sizes (2,3) against (3,2))."""
        size = self.size
        while True:
            A, B = seqs[ka], seqs[kb]
            sa, sb = [size[x] for x in A], [size[x] for x in B]
            if sa == sb:
                return True
            chain = sorted(set(accumulate(sa, operator.mul)) | set(accumulate(sb, operator.mul)))
            prev = 1
            for c in chain:
                if c % prev:
                    return False
                prev = c
            split = None
            for seq in (A, B):
                p = 1
                for x in seq:
                    s = size[x]
                    inner = [c for c in chain if p < c < p * s]
                    if inner:
                        split = (x, inner[0] // p)
                        break
                    p *= s
                if split:
                    break
            if split is None:  # cannot happen: a breakpoint strictly inside a leg exists
                raise RuntimeError("leg refinement found no leg to split")
            x, s1 = split
            s2 = size[x] // s1
            x1, x2 = self.new(s1), self.new(s2)
            if x1 is None or x2 is None:  # cannot happen: the breakpoint is strictly inside the leg
                raise RuntimeError("leg refinement split off a leg of size 1")
            for k, seq in seqs.items():
                if x in seq:
                    seqs[k] = tuple(y for z in seq for y in ((x1, x2) if z == x else (z,)))
            for i, (arr, ls) in enumerate(factors):
                if x in ls:
                    ax = ls.index(x)
                    arr = arr.reshape(arr.shape[:ax] + (s1, s2) + arr.shape[ax + 1 :])
                    factors[i] = (arr, ls[:ax] + (x1, x2) + ls[ax + 1 :])

    def merge(self, A: Legs, B: Legs) -> tuple[dict[Label, Label], set[Label]]:
        """Union-find over the pairs (A[k], B[k]): the renaming and the class representatives."""
        parent: dict[Label, Label] = {}

        def find(x: Label) -> Label:
            parent.setdefault(x, x)
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in zip(A, B):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        rename = {x: find(x) for x in list(parent)}
        return rename, set(rename.values())

    def rename_factor(self, f: Factor, rename: dict[Label, Label]) -> Factor:
        arr, ls = f
        new = tuple(rename.get(x, x) for x in ls)
        if new == ls:
            return f
        out = tuple(dict.fromkeys(new))
        if len(out) == len(new):
            return arr, new
        idx = {x: i for i, x in enumerate(out)}
        return np.einsum(arr, [idx[x] for x in new], [idx[x] for x in out]), out

    def contract(self, t: Term) -> Term:
        """Sum out the labels held by factors only, group by group (compile time)."""
        free = set(t.rows) | set(t.cols)
        summed = {x for _, ls in t.factors for x in ls if x not in free}
        if not summed:
            return t
        groups: list[list[Factor]] = []  # factors connected through summed labels
        for f in t.factors:
            keys = {x for x in f[1] if x in summed}
            hit = [i for i, g in enumerate(groups) if keys & {x for _, ls in g for x in ls}]
            merged = [f]
            for i in reversed(hit):
                merged = groups.pop(i) + merged
            groups.append(merged)
        factors, scale = [], t.scale
        for g in groups:
            labels = [x for _, ls in g for x in ls]
            if not any(x in summed for x in labels):
                factors.extend(g)
                continue
            out = tuple(dict.fromkeys(x for x in labels if x not in summed))
            idx = {x: i for i, x in enumerate(dict.fromkeys(labels))}
            operands: list[np.ndarray | list[int]] = []  # einsum's: each array, then its axes
            for arr, ls in g:
                operands += [arr, [idx[x] for x in ls]]
            itemsize = np.result_type(*(arr for arr, _ in g)).itemsize
            self.budget.take(prod(self.size[x] for x in out) * itemsize, "a contraction of the Jacobian's factors")
            arr = np.einsum(*operands, [idx[x] for x in out], optimize=True)
            if arr.ndim == 0:
                scale = scale * arr.item()
            else:
                factors.append((arr, out))
        return Term(t.rows, t.cols, factors, scale)


def _legs(*labels: Label | None) -> Legs:
    return tuple(x for x in labels if x is not None)


def _rename(seq: Iterable[Label], rename: dict[Label, Label]) -> Legs:
    return tuple(rename.get(x, x) for x in seq)
