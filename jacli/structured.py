"""Structured evaluation of Jacobian expressions into a preallocated dense output.

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

Compilation rules (fresh labels for every node, nothing memoised by expression):

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
from itertools import accumulate
from math import prod
from typing import Callable, Iterator

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .expr import Expr

CHUNK_BYTES = 16 * 2**20  # largest temporary of an accumulation
_STRUCTURED_OPS = frozenset({"I", "K", "ones", "zeros", "kron", "T", "vec", "diag", "diagonal",
                             "smul", "neg", "add", "matmul"})


class _Term:
    """One term of a sum: an index network (see the module docstring)."""

    __slots__ = ("rows", "cols", "factors", "scale")

    def __init__(self, rows, cols, factors, scale):
        self.rows: tuple = tuple(rows)
        self.cols: tuple = tuple(cols)
        self.factors: list = list(factors)  # [(ndarray, labels)]
        self.scale = scale

    def labels(self) -> tuple:
        """The distinct labels of rows + cols, in order of first appearance."""
        return tuple(dict.fromkeys(self.rows + self.cols))

    def covering(self) -> bool:
        """True when the term has a value at every entry (no Kronecker delta)."""
        legs = self.rows + self.cols
        return len(set(legs)) == len(legs)

    def __repr__(self):
        fs = ", ".join(f"{a.shape}{l}" for a, l in self.factors)
        return f"_Term(rows={self.rows}, cols={self.cols}, factors=[{fs}], scale={self.scale})"


# ======================================================================================
# Compilation
# ======================================================================================
class _Compiler:
    def __init__(self, shapes, dense: Callable[[Expr], np.ndarray], max_bytes: float | None = None):
        self.max_bytes = max_bytes
        self.fallbacks = 0  # products evaluated densely for want of a common factorisation
        self.shapes = shapes
        self.dense = dense
        self.size: dict[int, int] = {}
        self._next = 0

    # -- labels ------------------------------------------------------------------------
    def new(self, n: int):
        """A fresh label of size n, or None for size 1 (dropped legs)."""
        n = int(n)
        if n == 1:
            return None
        label = self._next
        self._next += 1
        self.size[label] = n
        return label

    def dims(self, legs) -> int:
        return prod(self.size[x] for x in legs)

    # -- terms from arrays ---------------------------------------------------------------
    def dense_term(self, arr: np.ndarray) -> _Term:
        arr = np.asarray(arr)
        if arr.ndim != 2:
            arr = arr.reshape(arr.shape[-2:]) if arr.ndim > 2 else np.atleast_2d(arr)
        r, c = arr.shape
        a, b = self.new(r), self.new(c)
        labels = tuple(x for x in (a, b) if x is not None)
        f = arr.reshape(tuple(self.size[x] for x in labels))
        if f.ndim == 0:
            return _Term((), (), [], f.item())
        return _Term(() if a is None else (a,), () if b is None else (b,), [(f, labels)], 1.0)

    def materialise(self, t: _Term) -> np.ndarray:
        self.fallbacks += 1
        r, c = self.dims(t.rows), self.dims(t.cols)
        if self.max_bytes is not None and r * c * 8 > self.max_bytes:
            from .errors import JacliError

            raise JacliError(f"a {r:,}×{c:,} intermediate ({r * c * 8:,} bytes) would exceed the memory "
                             f"limit of {int(self.max_bytes):,} bytes (--max-memory)")
        out = np.zeros((self.dims(t.rows), self.dims(t.cols)), dtype=_term_dtype([t]))
        _write_term(t, out, 0, out.shape[0], self.size, assign=False)
        return out

    # -- the rules -----------------------------------------------------------------------
    def compile(self, e: Expr) -> list[_Term]:
        op = e.op
        if op not in _STRUCTURED_OPS:
            return [self.dense_term(self.dense(e))]
        if op == "I":
            a = self.new(e.attr)
            legs = () if a is None else (a,)
            return [_Term(legs, legs, [], 1.0)]
        if op == "ones":
            r, c = e.attr
            a, b = self.new(r), self.new(c)
            return [_Term(() if a is None else (a,), () if b is None else (b,), [], 1.0)]
        if op == "zeros":
            return []
        if op == "K":
            m, n = e.attr
            i, j = self.new(m), self.new(n)
            return [_Term(_legs(i, j), _legs(j, i), [], 1.0)]
        if op == "neg":
            return [_Term(t.rows, t.cols, t.factors, -t.scale) for t in self.compile(e.args[0])]
        if op == "add":
            return self.compile(e.args[0]) + self.compile(e.args[1])
        if op == "T":
            return [_Term(t.cols, t.rows, t.factors, t.scale) for t in self.compile(e.args[0])]
        if op == "vec":
            return [_Term(t.cols + t.rows, (), t.factors, t.scale) for t in self.compile(e.args[0])]
        if op == "diag":
            out = []
            for t in self.compile(e.args[0]):
                legs = t.rows + t.cols
                out.append(_Term(legs, legs, t.factors, t.scale))
            return out
        if op == "smul":
            s = np.asarray(self.dense(e.args[0]))
            s = s.reshape(-1)[0].item()
            if s == 0:
                return []
            return [_Term(t.rows, t.cols, t.factors, s * t.scale) for t in self.compile(e.args[1])]
        if op == "kron":
            P, Q = self.compile(e.args[0]), self.compile(e.args[1])
            return [_Term(p.rows + q.rows, p.cols + q.cols, p.factors + q.factors, p.scale * q.scale)
                    for p in P for q in Q]
        if op == "matmul":
            P, Q = self.compile(e.args[0]), self.compile(e.args[1])
            return [self.product(p, q) for p in P for q in Q]
        if op == "diagonal":
            return [self.diagonal(t) for t in self.compile(e.args[0])]
        raise AssertionError(op)  # pragma: no cover

    def product(self, p: _Term, q: _Term) -> _Term:
        seqs = {"rows": p.rows, "cols": q.cols, "A": p.cols, "B": q.rows}
        factors = p.factors + q.factors
        if not self.refine(seqs, factors, "A", "B"):
            return self.dense_term(self.materialise(p) @ self.materialise(q))
        rename, classes = self.merge(seqs["A"], seqs["B"])
        rows, cols = _rename(seqs["rows"], rename), _rename(seqs["cols"], rename)
        factors = [self.rename_factor(f, rename) for f in factors]
        scale = p.scale * q.scale
        present = set(rows) | set(cols) | {x for _, ls in factors for x in ls}
        for rep in classes:
            if rep not in present:  # summed over a constant: the sum is the size
                scale *= self.size[rep]
        return self.contract(_Term(rows, cols, factors, scale))

    def diagonal(self, t: _Term) -> _Term:
        seqs = {"A": t.rows, "B": t.cols}
        factors = list(t.factors)
        if not self.refine(seqs, factors, "A", "B"):
            d = np.diagonal(self.materialise(t))[:, None]
            return self.dense_term(d)
        rename, _ = self.merge(seqs["A"], seqs["B"])
        rows = _rename(seqs["A"], rename)
        factors = [self.rename_factor(f, rename) for f in factors]
        return self.contract(_Term(rows, (), factors, t.scale))

    # -- refinement, merging, contraction --------------------------------------------------
    def refine(self, seqs: dict, factors: list, ka: str, kb: str) -> bool:
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
            for k, seq in seqs.items():
                if x in seq:
                    seqs[k] = tuple(y for z in seq for y in ((x1, x2) if z == x else (z,)))
            for i, (arr, ls) in enumerate(factors):
                if x in ls:
                    ax = ls.index(x)
                    arr = arr.reshape(arr.shape[:ax] + (s1, s2) + arr.shape[ax + 1:])
                    factors[i] = (arr, ls[:ax] + (x1, x2) + ls[ax + 1:])

    def merge(self, A, B):
        """Union-find over the pairs (A[k], B[k]): the renaming and the class representatives."""
        parent: dict = {}

        def find(x):
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

    def rename_factor(self, f, rename):
        arr, ls = f
        new = tuple(rename.get(x, x) for x in ls)
        if new == ls:
            return f
        out = tuple(dict.fromkeys(new))
        if len(out) == len(new):
            return arr, new
        idx = {x: i for i, x in enumerate(out)}
        return np.einsum(arr, [idx[x] for x in new], [idx[x] for x in out]), out

    def contract(self, t: _Term) -> _Term:
        """Sum out the labels held by factors only, group by group (compile time)."""
        free = set(t.rows) | set(t.cols)
        summed = {x for _, ls in t.factors for x in ls if x not in free}
        if not summed:
            return t
        groups: list[list] = []  # factors connected through summed labels
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
            operands = []
            for arr, ls in g:
                operands += [arr, [idx[x] for x in ls]]
            arr = np.einsum(*operands, [idx[x] for x in out], optimize=True)
            if arr.ndim == 0:
                scale = scale * arr.item()
            else:
                factors.append((arr, out))
        return _Term(t.rows, t.cols, factors, scale)


def _legs(*labels) -> tuple:
    return tuple(x for x in labels if x is not None)


def _rename(seq, rename) -> tuple:
    return tuple(rename.get(x, x) for x in seq)


def _term_dtype(terms) -> np.dtype:
    dt = np.dtype(np.float64)
    for t in terms:
        dt = np.result_type(dt, t.scale)
        for arr, _ in t.factors:
            dt = np.result_type(dt, arr.dtype)
    return dt


# ======================================================================================
# Writing
# ======================================================================================
def _suffix(sizes) -> list[int]:
    """W[q] = product of the sizes after leg q (the weight of leg q in the flat index)."""
    w, acc = [0] * len(sizes), 1
    for q in range(len(sizes) - 1, -1, -1):
        w[q] = acc
        acc *= sizes[q]
    return w


def _boxes(start: int, stop: int, sizes) -> Iterator[tuple]:
    """Decompose the flat row range [start, stop) over C-order legs ``sizes`` into boxes
    (fixed values of legs < p, the range [u0, u1) of leg p, legs > p whole).

    Yields (fixed values, p, u0, u1); p is None when every leg is fixed."""
    W = _suffix(sizes)
    k = len(sizes)

    def rec(q, prefix, lo, hi):
        if q == k:
            yield prefix, None, 0, 0
            return
        span = sizes[q] * W[q]
        if lo == 0 and hi == span:
            yield prefix, q, 0, sizes[q]
            return
        a0, r0 = divmod(lo, W[q])
        a1, r1 = divmod(hi, W[q])
        if a0 == a1:
            yield from rec(q + 1, prefix + (a0,), r0, r1)
            return
        if r0:
            yield from rec(q + 1, prefix + (a0,), r0, W[q])
            a0 += 1
        if a1 > a0:
            yield prefix, q, a0, a1
        if r1:
            yield from rec(q + 1, prefix + (a1,), 0, r1)

    if stop > start:
        yield from rec(0, (), start, stop)


def _box_layout(t: _Term, size, box, sr: int, sc: int, row_start: int):
    """For one box of one term: (labels, lo, hi, row0, col0, strides, row weights, col weights),
    or None when the box is empty for this term (a repeated label fixed to two values)."""
    prefix, p, u0, u1 = box
    labels = t.labels()
    lo = {x: 0 for x in labels}
    hi = {x: size[x] for x in labels}
    for q, v in enumerate(prefix):
        x = t.rows[q]
        lo[x], hi[x] = max(lo[x], v), min(hi[x], v + 1)
    if p is not None:
        x = t.rows[p]
        lo[x], hi[x] = max(lo[x], u0), min(hi[x], u1)
    if any(lo[x] >= hi[x] for x in labels):
        return None
    rw = dict.fromkeys(labels, 0)
    cw = dict.fromkeys(labels, 0)
    for x, w in zip(t.rows, _suffix([size[x] for x in t.rows])):
        rw[x] += w
    for x, w in zip(t.cols, _suffix([size[x] for x in t.cols])):
        cw[x] += w
    row0 = sum(lo[x] * rw[x] for x in labels) - row_start
    col0 = sum(lo[x] * cw[x] for x in labels)
    strides = tuple(rw[x] * sr + cw[x] * sc for x in labels)
    return labels, lo, hi, row0, col0, strides, rw, cw


def _broadcast_factors(t: _Term, labels, lo, hi) -> list[np.ndarray]:
    """Each factor sliced to the box and laid out along the view's axes (size 1 elsewhere)."""
    pos = {x: i for i, x in enumerate(labels)}
    out = []
    for arr, ls in t.factors:
        sl = tuple(slice(None) if (lo[x] == 0 and hi[x] == arr.shape[i]) else slice(lo[x], hi[x])
                   for i, x in enumerate(ls))
        a = arr[sl]
        order = sorted(range(len(ls)), key=lambda i: pos[ls[i]])
        if order != list(range(len(ls))):
            a = a.transpose(order)
        shape = [1] * len(labels)
        for i in order:
            shape[pos[ls[i]]] = a.shape[order.index(i)]
        out.append(a.reshape(shape))
    return out


def _chunks(shape, max_elems: int) -> Iterator[tuple]:
    """Index tuples splitting an array of ``shape`` into pieces of at most ~max_elems."""
    n = len(shape)
    tail = [1] * (n + 1)
    for k in range(n - 1, -1, -1):
        tail[k] = tail[k + 1] * shape[k]
    k = 0
    while k < n and tail[k] > max_elems:
        k += 1
    if k == 0:
        yield (Ellipsis,)
        return
    ax = k - 1
    step = max(1, max_elems // tail[k])
    for lead in np.ndindex(*shape[:ax]):
        for s in range(0, shape[ax], step):
            yield lead + (slice(s, min(s + step, shape[ax])),)


def _emit(view: np.ndarray, fbs: list, scale, assign: bool) -> None:
    """view (=|+=) scale · Π fbs, the fbs broadcast along the view's axes."""
    if not fbs:
        if assign:
            view.fill(scale)
        else:
            view += scale
        return
    fbs = sorted(fbs, key=lambda a: a.size)
    if scale != 1 and len(fbs) > 1:  # fold the scale into the smallest factor
        fbs[0] = fbs[0] * scale
        scale = 1
    while len(fbs) > 2:  # multiply the small ones first
        fbs = sorted([np.multiply(fbs[0], fbs[1])] + fbs[2:], key=lambda a: a.size)
    if assign:
        if len(fbs) == 2:
            np.multiply(fbs[0], fbs[1], out=view)
        elif scale != 1:
            np.multiply(fbs[0], scale, out=view)
        else:
            np.copyto(view, fbs[0])
        return
    if len(fbs) == 1 and scale == 1:  # no temporary: a broadcast add
        np.add(view, fbs[0], out=view)
        return
    limit = max(1, CHUNK_BYTES // max(view.itemsize, 1))
    if len(fbs) == 1:
        fbs = fbs + [np.asarray(scale)]
    if view.size <= limit:
        view += fbs[0] * fbs[1]
        return
    b0, b1 = (np.broadcast_to(f, view.shape) for f in fbs)
    for idx in _chunks(view.shape, limit):
        v = view[idx]
        np.add(v, b0[idx] * b1[idx], out=v)


def _write_term(t: _Term, out: np.ndarray, row_start: int, row_stop: int, size, assign: bool) -> None:
    """Write (assign) or add term t into ``out``, the rows row_start:row_stop of the matrix."""
    sr, sc = out.strides
    for box in _boxes(row_start, row_stop, [size[x] for x in t.rows]):
        lay = _box_layout(t, size, box, sr, sc, row_start)
        if lay is None:
            continue
        labels, lo, hi, row0, col0, strides, _, _ = lay
        shape = tuple(hi[x] - lo[x] for x in labels)
        base = out[row0:, col0:]
        view = as_strided(base, shape=shape, strides=strides, writeable=True)
        _emit(view, _broadcast_factors(t, labels, lo, hi), t.scale, assign)


# ======================================================================================
# The public class
# ======================================================================================
class Structured:
    """A compiled Jacobian expression that writes itself into a preallocated array.

    ``dense`` evaluates the non-structured parts (the plain :class:`jacli.evaluate.Evaluator`).
    """

    def __init__(self, expr: Expr, shapes, dense: Callable[[Expr], np.ndarray], max_bytes: float | None = None):
        self.expr = expr
        self.shape: tuple[int, int] = tuple(int(d) for d in shapes(expr))
        comp = _Compiler(shapes, dense, max_bytes)
        self.terms: list[_Term] = [t for t in comp.compile(expr) if t.scale != 0]
        self.size = comp.size
        self.fallbacks = comp.fallbacks
        for t in self.terms:
            if (comp.dims(t.rows), comp.dims(t.cols)) != self.shape:
                raise RuntimeError(f"compiled term of shape {(comp.dims(t.rows), comp.dims(t.cols))}, "
                                   f"expected {self.shape}")
        self.dtype = _term_dtype(self.terms)
        # the covering term to assign first: the one with most factors (no temporary)
        covering = [i for i, t in enumerate(self.terms) if t.covering()]
        self._first = max(covering, key=lambda i: len(self.terms[i].factors)) if covering else None

    def may_overflow(self, limit: float = 1e300) -> bool:
        """False when no entry can be infinite or NaN: the factors are finite and every entry
        is a sum over terms of |scale| · Π max|factor| at most, which stays below ``limit``."""
        bound = 0.0
        for t in self.terms:
            b = abs(t.scale)
            for f, _ in t.factors:
                m = float(np.max(np.abs(f), initial=0.0))
                if not np.isfinite(m):
                    return True
                b *= m
            bound += b
        return not bound < limit

    @property
    def needs_zeros(self) -> bool:
        """True when no term covers every entry: the output must start from zeros."""
        return self._first is None

    # -- dense writing -----------------------------------------------------------------
    def write(self, out: np.ndarray, *, zeroed: bool = False) -> None:
        """Overwrite ``out`` (2-D, ``self.shape``, maybe a column slice of a larger array).

        ``zeroed``: out is known to hold zeros already (a fresh numpy.zeros)."""
        self.write_rows(out, 0, self.shape[0], zeroed=zeroed)

    def write_rows(self, out: np.ndarray, start: int, stop: int, *, zeroed: bool = False) -> None:
        """Overwrite ``out`` (stop-start rows) with the rows start:stop of the matrix."""
        R, C = self.shape
        if not (0 <= start <= stop <= R):
            raise ValueError(f"row range {start}:{stop} outside 0:{R}")
        if out.shape != (stop - start, C):
            raise ValueError(f"output of shape {out.shape}, expected {(stop - start, C)}")
        if stop == start or C == 0:
            return
        if self._first is None:
            if not zeroed:
                out.fill(0)
        else:
            _write_term(self.terms[self._first], out, start, stop, self.size, assign=True)
        for i, t in enumerate(self.terms):
            if i != self._first:
                _write_term(t, out, start, stop, self.size, assign=False)

    def row_blocks(self, max_bytes: int) -> Iterator[tuple[int, int]]:
        """Row ranges covering 0:rows whose blocks take at most ~max_bytes each (one row at
        least). Block boundaries are aligned, where the block size allows, on a unit common
        to the row legs of every term, so each block is few strided boxes per term."""
        R, C = self.shape
        per = max(1, int(max_bytes) // max(1, C * self.dtype.itemsize))
        if per >= R:
            if R:
                yield 0, R
            return
        units = None
        for t in self.terms:
            w = set(_suffix([self.size[x] for x in t.rows]))
            units = w if units is None else units & w
        units = (units or set()) | {1}
        unit = max(u for u in units if u <= per)
        per = per // unit * unit
        for s in range(0, R, per):
            yield s, min(s + per, R)

    # -- sparse structure ----------------------------------------------------------------
    def nnz_upper(self) -> int:
        """An upper bound of the stored entries: per term, the product of its label sizes."""
        return sum(prod(self.size[x] for x in t.labels()) for t in self.terms)

    def coo_rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows - start, cols, values) of the entries of rows start:stop, term by term;
        duplicates are allowed (a sparse constructor sums them)."""
        rows_l, cols_l, vals_l = [], [], []
        for t in self.terms:
            for box in _boxes(start, stop, [self.size[x] for x in t.rows]):
                lay = _box_layout(t, self.size, box, 0, 0, start)
                if lay is None:
                    continue
                labels, lo, hi, _, _, _, rw, cw = lay
                shape = tuple(hi[x] - lo[x] for x in labels)
                n = prod(shape)
                r = np.zeros((), dtype=np.int64)
                c = np.zeros((), dtype=np.int64)
                for i, x in enumerate(labels):
                    ax = np.arange(lo[x], hi[x], dtype=np.int64).reshape(
                        (1,) * i + (-1,) + (1,) * (len(labels) - i - 1))
                    if rw[x]:
                        r = r + ax * rw[x]
                    if cw[x]:
                        c = c + ax * cw[x]
                r = np.broadcast_to(r - start, shape).reshape(-1)
                c = np.broadcast_to(c, shape).reshape(-1)
                v = np.empty(shape, dtype=self.dtype)
                _emit(v, _broadcast_factors(t, labels, lo, hi), t.scale, assign=True)
                rows_l.append(r)
                cols_l.append(c)
                vals_l.append(v.reshape(n))
        if not rows_l:
            return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, self.dtype))
        return np.concatenate(rows_l), np.concatenate(cols_l), np.concatenate(vals_l)


def jacobian_dense(J_exprs: list, shapes, dense: Callable[[Expr], np.ndarray], out=None) -> np.ndarray:
    """The Jacobians ``J_exprs`` (one block of columns per variable) side by side, dense.

    Entries of ``J_exprs`` may be expressions or :class:`Structured` objects. ``out``,
    when given, is overwritten; otherwise it is allocated with numpy.empty, or numpy.zeros
    when some block has no term covering all of it (fresh zeros cost nothing until touched).
    """
    parts = [J if isinstance(J, Structured) else Structured(J, shapes, dense) for J in J_exprs]
    if not parts:
        raise ValueError("no Jacobian to evaluate")
    R = parts[0].shape[0]
    if any(p.shape[0] != R for p in parts):
        raise ValueError("the Jacobians have different numbers of rows")
    C = sum(p.shape[1] for p in parts)
    zeroed = False
    if out is None:
        dtype = np.result_type(*[p.dtype for p in parts])
        if any(p.needs_zeros for p in parts):
            out, zeroed = np.zeros((R, C), dtype=dtype), True
        else:
            out = np.empty((R, C), dtype=dtype)
    elif out.shape != (R, C):
        raise ValueError(f"output of shape {out.shape}, expected {(R, C)}")
    c0 = 0
    for p in parts:
        c1 = c0 + p.shape[1]
        p.write(out[:, c0:c1], zeroed=zeroed)
        c0 = c1
    return out
