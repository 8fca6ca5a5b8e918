"""Writing index-network terms into a dense output through strided views.

A term (see :mod:`jacli.numeric.networks`) is written box by box: the flat row range is
decomposed over the term's row legs, and each box is one strided view of the output with
an axis per distinct label, into which the factors are multiplied with broadcasting.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import EllipsisType
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

CHUNK_BYTES = 16 * 2**20  # largest temporary of an accumulation

Label = int  # a leg of an index network; the compiler holds its size
Legs = tuple[Label, ...]
Factor = tuple[np.ndarray, Legs]  # a small array, one label per axis
Box = tuple[tuple[int, ...], int | None, int, int]  # (fixed values of legs < p, p or None, u0, u1)
Index = tuple[int | slice | EllipsisType, ...]  # a piece of an array (numpy indexing)


class Term:
    """One term of a sum: an index network (see the module docstring)."""

    __slots__ = ("cols", "factors", "rows", "scale")

    def __init__(self, rows: Iterable[Label], cols: Iterable[Label], factors: Iterable[Factor], scale: Any) -> None:
        self.rows: Legs = tuple(rows)
        self.cols: Legs = tuple(cols)
        self.factors: list[Factor] = list(factors)
        self.scale = scale

    def labels(self) -> Legs:
        """The distinct labels of rows + cols, in order of first appearance."""
        return tuple(dict.fromkeys(self.rows + self.cols))

    def covering(self) -> bool:
        """True when the term has a value at every entry (no Kronecker delta)."""
        legs = self.rows + self.cols
        return len(set(legs)) == len(legs)

    def __repr__(self) -> str:
        fs = ", ".join(f"{a.shape}{l}" for a, l in self.factors)
        return f"Term(rows={self.rows}, cols={self.cols}, factors=[{fs}], scale={self.scale})"


# ======================================================================================
# Compilation
# ======================================================================================


def term_dtype(terms: list[Term]) -> np.dtype:
    dt = np.dtype(np.float64)
    for t in terms:
        dt = np.result_type(dt, t.scale)
        for arr, _ in t.factors:
            dt = np.result_type(dt, arr.dtype)
    return dt


def suffix(sizes: list[int]) -> list[int]:
    """W[q] = product of the sizes after leg q (the weight of leg q in the flat index)."""
    w, acc = [0] * len(sizes), 1
    for q in range(len(sizes) - 1, -1, -1):
        w[q] = acc
        acc *= sizes[q]
    return w


def boxes(start: int, stop: int, sizes: list[int]) -> Iterator[Box]:
    """Decompose the flat row range [start, stop) over C-order legs ``sizes`` into boxes
    (fixed values of legs < p, the range [u0, u1) of leg p, legs > p whole).

    Yields (fixed values, p, u0, u1); p is None when every leg is fixed."""
    W = suffix(sizes)
    k = len(sizes)

    def rec(q: int, prefix: tuple[int, ...], lo: int, hi: int) -> Iterator[Box]:
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


class Layout(NamedTuple):
    """One box of one term laid out: its labels, each label's range lo:hi, the offsets of
    the box in the output, the view's strides, and each label's weights in the flat row and
    column index."""

    labels: Legs
    lo: dict[Label, int]
    hi: dict[Label, int]
    row0: int
    col0: int
    strides: tuple[int, ...]
    rw: dict[Label, int]
    cw: dict[Label, int]


def box_layout(t: Term, size: dict[Label, int], box: Box, sr: int, sc: int, row_start: int) -> Layout | None:
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
    for x, w in zip(t.rows, suffix([size[x] for x in t.rows])):
        rw[x] += w
    for x, w in zip(t.cols, suffix([size[x] for x in t.cols])):
        cw[x] += w
    row0 = sum(lo[x] * rw[x] for x in labels) - row_start
    col0 = sum(lo[x] * cw[x] for x in labels)
    strides = tuple(rw[x] * sr + cw[x] * sc for x in labels)
    return Layout(labels, lo, hi, row0, col0, strides, rw, cw)


def broadcast_factors(t: Term, labels: Legs, lo: dict[Label, int], hi: dict[Label, int]) -> list[np.ndarray]:
    """Each factor sliced to the box and laid out along the view's axes (size 1 elsewhere)."""
    pos = {x: i for i, x in enumerate(labels)}
    out = []
    for arr, ls in t.factors:
        sl = tuple(
            slice(None) if (lo[x] == 0 and hi[x] == arr.shape[i]) else slice(lo[x], hi[x]) for i, x in enumerate(ls)
        )
        a = arr[sl]
        order = sorted(range(len(ls)), key=lambda i: pos[ls[i]])
        if order != list(range(len(ls))):
            a = a.transpose(order)
        shape = [1] * len(labels)
        for i in order:
            shape[pos[ls[i]]] = a.shape[order.index(i)]
        out.append(a.reshape(shape))
    return out


def chunks(shape: tuple[int, ...], max_elems: int) -> Iterator[Index]:
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


def emit(view: np.ndarray, fbs: list[np.ndarray], scale: Any, assign: bool, scratch: np.ndarray | None = None) -> None:
    """view (=|+=) scale · Π fbs, the fbs broadcast along the view's axes.

    ``scratch`` (1-D, the view's dtype), when large enough, holds the product of an
    accumulation, so that adding a term to a block that is in cache allocates nothing."""
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
    if len(fbs) == 1:
        fbs = fbs + [np.asarray(scale)]
    if scratch is not None and view.size <= scratch.size and scratch.dtype == view.dtype:
        tmp = scratch[: view.size].reshape(view.shape)
        np.multiply(fbs[0], fbs[1], out=tmp)
        np.add(view, tmp, out=view)
        return
    limit = max(1, CHUNK_BYTES // max(view.itemsize, 1))
    if view.size <= limit:
        view += fbs[0] * fbs[1]
        return
    b0, b1 = (np.broadcast_to(f, view.shape) for f in fbs)
    for idx in chunks(view.shape, limit):
        v = view[idx]
        np.add(v, b0[idx] * b1[idx], out=v)


def write_term(t: Term, out: np.ndarray, row_start: int, row_stop: int, size: dict[Label, int], assign: bool) -> None:
    """Write (assign) or add term t into ``out``, the rows row_start:row_stop of the matrix."""
    sr, sc = out.strides
    for box in boxes(row_start, row_stop, [size[x] for x in t.rows]):
        lay = box_layout(t, size, box, sr, sc, row_start)
        if lay is None:
            continue
        labels, lo, hi, row0, col0, strides, _, _ = lay
        shape = tuple(hi[x] - lo[x] for x in labels)
        base = out[row0:, col0:]
        view = as_strided(base, shape=shape, strides=strides, writeable=True)
        emit(view, broadcast_factors(t, labels, lo, hi), t.scale, assign)


Placed = tuple[np.ndarray, list[int]]  # a factor in the view's axis order, with the positions of its axes


class Piece:
    """One box of one term over the rows of an output: its view and factors, laid out
    once, then written slab by slab (a slab: a row range inside the box).

    The view's first axes are the term's row legs (distinct labels), so the rows
    ``r0 + a : r0 + b`` of the box are an index over those axes, found by :func:`boxes`
    on the box's own leg sizes. Each factor is a contiguous copy in the view's axis order
    with the positions of its axes; the scale is folded into the smallest. When two
    factors hold every axis of the view (a Kronecker product and its permutations), a
    slab is one ``numpy.einsum`` into the view, whose outer-product loop runs faster
    than a broadcast multiply over short rows; otherwise :func:`emit` broadcasts."""

    __slots__ = ("factors", "outer", "r0", "r1", "scale", "sizes", "view")

    def __init__(self, view: np.ndarray, factors: list[Placed], scale: Any, r0: int, sizes: list[int]) -> None:
        factors = sorted(factors, key=lambda f: f[0].size)
        if factors and scale != 1:
            factors[0] = (factors[0][0] * scale, factors[0][1])
            scale = 1
        self.view, self.factors, self.scale, self.r0, self.sizes = view, factors, scale, r0, sizes
        self.r1 = r0 + int(np.prod(sizes, dtype=np.int64))
        held = {q for _, axes in factors for q in axes}
        self.outer = len(factors) == 2 and held == set(range(view.ndim))

    def write(self, a: int, b: int, assign: bool, scratch: np.ndarray | None) -> None:
        """Rows a:b (of the output, within this box) written or added."""
        for prefix, p, u0, u1 in boxes(a - self.r0, b - self.r0, self.sizes):
            idx = prefix if p is None else prefix + (slice(u0, u1),)
            view = self.view[idx + (Ellipsis,)]  # a view, even 0-d
            k, fixed = len(idx), len(prefix)
            parts = []  # (factor sliced to the slab, its axes in the sliced view)
            for arr, axes in self.factors:
                sub = tuple(idx[q] if q < k else slice(None) for q in axes)
                parts.append((arr[sub + (Ellipsis,)], [q - fixed for q in axes if q >= fixed]))
            if self.outer and (assign or (scratch is not None and view.size <= scratch.size)):
                (f0, a0), (f1, a1) = parts
                out = view if assign or scratch is None else scratch[: view.size].reshape(view.shape)
                np.einsum(f0, a0, f1, a1, list(range(view.ndim)), out=out)
                if not assign:
                    np.add(view, out, out=view)
                continue
            fbs = []
            for f, axes in parts:
                shape = [1] * view.ndim
                for q, n in zip(axes, f.shape):
                    shape[q] = n
                fbs.append(f.reshape(shape))
            emit(view, fbs, self.scale, assign, scratch)


def pieces(t: Term, out: np.ndarray, row_start: int, row_stop: int, size: dict[Label, int]) -> list[Piece] | None:
    """The boxes of term t over rows row_start:row_stop of ``out`` as :class:`Piece`
    objects; None when the term repeats a row label (written by :func:`write_term`)."""
    if len(set(t.rows)) != len(t.rows):
        return None
    sr, sc = out.strides
    sizes = [size[x] for x in t.rows]
    W = suffix(sizes)
    found = []
    for box in boxes(row_start, row_stop, sizes):
        lay = box_layout(t, size, box, sr, sc, row_start)
        if lay is None:
            continue
        labels, lo, hi, row0, col0, strides, _, _ = lay
        shape = tuple(hi[x] - lo[x] for x in labels)
        view = as_strided(out[row0:, col0:], shape=shape, strides=strides, writeable=True)
        r0 = sum(lo[x] * W[q] for q, x in enumerate(t.rows))
        pos = {x: i for i, x in enumerate(labels)}
        factors = []
        for arr, ls in t.factors:
            a = arr[tuple(slice(lo[x], hi[x]) for x in ls)]
            order = sorted(range(len(ls)), key=lambda i: pos[ls[i]])
            factors.append((np.ascontiguousarray(a.transpose(order)), [pos[ls[i]] for i in order]))
        found.append(Piece(view, factors, t.scale, r0, list(shape[: len(t.rows)])))
    return found


def separate(t: Term, size: dict[Label, int], m: int) -> tuple[Term, Term] | None:
    """A covering term as P ⊙ Q with P a function of (row, c // m) and Q of (row, c % m),
    c the column: P's columns are the leading column legs, Q's the trailing ones whose
    sizes multiply to m; every factor must fall on one side. None when it cannot."""
    sizes = [size[x] for x in t.cols]
    W = suffix(sizes)
    if m not in W or not t.covering():
        return None
    j = W.index(m)
    hi, lo = t.cols[: j + 1], t.cols[j + 1 :]
    left_labels, right_labels = set(t.rows) | set(hi), set(t.rows) | set(lo)
    left, right = [], []
    for f in t.factors:
        if set(f[1]) <= left_labels:
            left.append(f)
        elif set(f[1]) <= right_labels:
            right.append(f)
        else:
            return None
    return Term(t.rows, hi, left, t.scale), Term(t.rows, lo, right, 1.0)


def apply_term(t: Term, size: dict[Label, int], v: np.ndarray, out: np.ndarray, transpose: bool = False) -> None:
    """out += T v (or Tᵀ v with ``transpose``) for term T, without forming T.

    ``v`` is (columns of T, k) and ``out`` (rows of T, k), both C-contiguous. One einsum
    contracts the factors with v laid out along the column legs (a repeated column label
    reads v's diagonal); the result is added through a strided view of ``out`` along the
    row legs (a repeated row label writes the diagonal, a row label held by nothing is a
    broadcast)."""
    rows, cols = (t.cols, t.rows) if transpose else (t.rows, t.cols)
    k = v.shape[1]
    labels = list(dict.fromkeys(rows + cols + tuple(x for _, ls in t.factors for x in ls)))
    if len(labels) > 51:
        raise RuntimeError(f"a term with {len(labels)} index labels: too many to contract")
    idx = {x: i for i, x in enumerate(labels)}
    batch = len(labels)
    vin = v.reshape(tuple(size[x] for x in cols) + (k,))
    operands: list[np.ndarray | list[int]] = []  # einsum's: each array, then its axes
    for arr, ls in t.factors:
        operands += [arr, [idx[x] for x in ls]]
    operands += [vin, [idx[x] for x in cols] + [batch]]
    held = {x for _, ls in t.factors for x in ls} | set(cols)
    urows = tuple(dict.fromkeys(rows))
    kept = [x for x in urows if x in held]
    res = np.einsum(*operands, [idx[x] for x in kept] + [batch], optimize=True)  # BLAS where it can
    if t.scale != 1:
        res = res * t.scale
    # the view of out with one axis per distinct row label (strides add up for repeats)
    weights = dict.fromkeys(urows, 0)
    for x, w in zip(rows, suffix([size[x] for x in rows])):
        weights[x] += w
    sr, sk = out.strides
    view = as_strided(
        out,
        shape=tuple(size[x] for x in urows) + (k,),
        strides=tuple(weights[x] * sr for x in urows) + (sk,),
        writeable=True,
    )
    res = res.reshape(tuple(size[x] if x in held else 1 for x in urows) + (k,))
    view += res


# ======================================================================================
# The public class
# ======================================================================================
