"""Structured evaluation of Jacobian expressions into a preallocated dense output.

:class:`Structured` compiles a Jacobian expression to index networks
(:mod:`jacli.numeric.networks`) and writes them, whole, by row blocks, or as COO entries
(:mod:`jacli.numeric.writing`). No dense identity or commutation matrix is ever built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from math import prod
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..expr import Expr
from .evaluate import Budget
from .networks import Compiler
from .writing import (
    Piece,
    Term,
    apply_term,
    box_layout,
    boxes,
    broadcast_factors,
    emit,
    pieces,
    separate,
    suffix,
    term_dtype,
    write_term,
)

if TYPE_CHECKING:
    from ..calculus.ops.registry import ShapeOf

Laid = list[tuple[int, list[Piece] | None]]  # terms by index, each laid out as pieces (None: written whole)
LowRank = tuple[int, np.ndarray, np.ndarray]  # (m, P, Q): the split terms' sum, row by row P @ Q

SLAB_BYTES = 2**21  # rows of a sum of terms written by every term while in cache
PASS_BYTES = 2**23  # rows of a single term written at a time (short views, fast loops)
LOWRANK_BYTES = 2**20  # outputs from this size write a sum of split terms as one batched product
PARALLEL_BYTES = 2**25  # outputs from this size are written by two threads (where there are two cores)


def writer_threads(nbytes: int) -> int:
    """Threads that write an output of ``nbytes``: two for a large one where two cores are usable."""
    if nbytes < PARALLEL_BYTES:
        return 1
    return min(2, usable_cores())


def usable_cores() -> int:
    """The cores this process may run on."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Structured:
    """A compiled Jacobian expression that writes itself into a preallocated array.

    ``dense`` evaluates the non-structured parts (the plain :class:`jacli.numeric.evaluate.Evaluator`).
    """

    def __init__(
        self, expr: Expr, shapes: ShapeOf, dense: Callable[[Expr], np.ndarray], max_bytes: float | Budget | None = None
    ) -> None:
        self.expr = expr
        rows, cols = shapes(expr)
        self.shape: tuple[int, int] = (int(rows), int(cols))
        comp = Compiler(shapes, dense, max_bytes)
        self.terms: list[Term] = [t for t in comp.compile(expr) if t.scale != 0]
        self.size = comp.size
        self.fallbacks = comp.fallbacks
        for t in self.terms:
            if (comp.dims(t.rows), comp.dims(t.cols)) != self.shape:
                raise RuntimeError(
                    f"compiled term of shape {(comp.dims(t.rows), comp.dims(t.cols))}, expected {self.shape}"
                )
        self.dtype = term_dtype(self.terms)
        # the covering term to assign first: the one with most factors (no temporary)
        covering = [i for i, t in enumerate(self.terms) if t.covering()]
        self._first = max(covering, key=lambda i: len(self.terms[i].factors)) if covering else None
        self._lowrank = self._find_lowrank(covering)

    def _find_lowrank(self, covering: list[int]) -> tuple[int, list[int], list[tuple[Term, Term]]] | None:
        """Two or more covering terms that each split as P_t(row, c // m) · Q_t(row, c % m)
        for one m: their sum is, row by row, the (C/m × k) @ (k × m) product of the P's and
        Q's, one batched matrix product (BLAS) written once into the output."""
        if len(covering) < 2:
            return None
        C = self.shape[1]
        common = None
        for i in covering:
            w = set(suffix([self.size[x] for x in self.terms[i].cols]))
            common = w if common is None else common & w
        candidates = sorted((m for m in common or () if 1 < m < C), key=lambda m: abs(np.log(m / np.sqrt(C))))
        for m in candidates:
            split = [(i, separate(self.terms[i], self.size, m)) for i in covering]
            found = [(i, pq) for i, pq in split if pq is not None]
            if len(found) >= 2:
                return m, [i for i, _ in found], [pq for _, pq in found]
        return None

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
    def write(self, out: np.ndarray, *, zeroed: bool = False, threads: int | None = None) -> None:
        """Overwrite ``out`` (2-D, ``self.shape``, maybe a column slice of a larger array).

        ``zeroed``: out is known to hold zeros already (a fresh numpy.zeros)."""
        self.write_rows(out, 0, self.shape[0], zeroed=zeroed, threads=threads)

    def write_rows(
        self, out: np.ndarray, start: int, stop: int, *, zeroed: bool = False, threads: int | None = None
    ) -> None:
        """Overwrite ``out`` (stop-start rows) with the rows start:stop of the matrix.

        The terms that cover every entry are written slab by slab (:data:`SLAB_BYTES` of
        rows): each goes into a slab while it is in cache, so each entry of ``out`` leaves
        the cache once; ``threads`` (default: :func:`writer_threads`) take slabs in turn.
        The others (a Kronecker delta in them: a fraction of the entries) are added once
        each, after; with no covering term, ``out`` is zeroed first unless ``zeroed``."""
        R, C = self.shape
        if not (0 <= start <= stop <= R):
            raise ValueError(f"row range {start}:{stop} outside 0:{R}")
        if out.shape != (stop - start, C):
            raise ValueError(f"output of shape {out.shape}, expected {(stop - start, C)}")
        if stop == start or C == 0:
            return
        laid, lowrank = self._plan(out, start, stop)
        dense = [(i, ps) for i, ps in laid if self.terms[i].covering()]  # each covers every entry
        sparse = [(i, ps) for i, ps in laid if not self.terms[i].covering()]  # a fraction of them
        if dense or lowrank is not None:
            self._write_dense(out, start, stop, dense, lowrank, threads)
        elif not zeroed:
            out.fill(0)
        for i, ps in sparse:  # once each, over the whole range: little to write, nothing to share
            if ps is None:
                write_term(self.terms[i], out, start, stop, self.size, assign=False)
                continue
            for piece in ps:
                piece.write(max(start, piece.r0), min(stop, piece.r1), False, None)

    def _write_dense(
        self, out: np.ndarray, start: int, stop: int, dense: Laid, lowrank: LowRank | None, threads: int | None
    ) -> None:
        """The covering terms: the first assigned (or the batched product of the split
        ones), the others added, slab by slab; slabs taken in turn by the threads."""
        C = self.shape[1]
        row_bytes = C * out.itemsize
        if threads is None:
            threads = writer_threads((stop - start) * row_bytes)
        one_pass = lowrank is None and len(dense) == 1  # nothing to keep in cache between terms
        per = max(1, (PASS_BYTES if one_pass else SLAB_BYTES) // row_bytes)
        slabs = list(self._slabs(start, stop, per))
        scratch_size = max(b - a for a, b in slabs) * C if len(dense) > (0 if lowrank is not None else 1) else 0

        def work(part: Iterable[tuple[int, int]]) -> None:
            scratch = np.empty(scratch_size, dtype=out.dtype) if scratch_size else None
            for a, b in part:
                block = out[a - start : b - start]
                if lowrank is not None:
                    m, P, Q = lowrank
                    rows = as_strided(
                        block, (b - a, C // m, m), (block.strides[0], m * block.strides[1], block.strides[1])
                    )
                    np.matmul(P[a - start : b - start], Q[a - start : b - start], out=rows)
                for k, (i, ps) in enumerate(dense):
                    assign = k == 0 and lowrank is None
                    if ps is None:
                        write_term(self.terms[i], block, a, b, self.size, assign)
                        continue
                    for piece in ps:
                        lo, hi = max(a, piece.r0), min(b, piece.r1)
                        if lo < hi:
                            piece.write(lo, hi, assign, scratch)

        if threads <= 1 or len(slabs) < 2:
            work(slabs)
            return
        import queue
        from concurrent.futures import ThreadPoolExecutor

        todo: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()  # slabs taken in turn: a thread the machine
        for slab in slabs:  # keeps busy elsewhere does fewer of them, none waits for it long
            todo.put(slab)

        def taken() -> Iterator[tuple[int, int]]:
            while True:
                try:
                    yield todo.get_nowait()
                except queue.Empty:
                    return

        with ThreadPoolExecutor(threads) as pool:
            for f in [pool.submit(work, taken()) for _ in range(threads)]:
                f.result()

    def _plan(self, out: np.ndarray, start: int, stop: int) -> tuple[Laid, LowRank | None]:
        """What write_rows writes: the low-rank group's P and Q over the rows start:stop (if
        any), and every other term laid out as pieces, the covering one to assign first."""
        lowrank = None
        grouped: set[int] = set()
        if self._lowrank is not None and (stop - start) * self.shape[1] * out.itemsize >= LOWRANK_BYTES:
            m, grouped_terms, pqs = self._lowrank
            grouped = set(grouped_terms)
            k, R = len(pqs), stop - start
            P = np.empty((R, self.shape[1] // m, k), dtype=out.dtype)
            Q = np.empty((R, k, m), dtype=out.dtype)
            for j, (p, q) in enumerate(pqs):  # covering: every entry assigned
                write_term(p, P[:, :, j], start, stop, self.size, assign=True)
                write_term(q, Q[:, j, :], start, stop, self.size, assign=True)
            lowrank = (m, P, Q)
        first = None if grouped else self._first
        order = ([first] if first is not None else []) + [
            i for i in range(len(self.terms)) if i != first and i not in grouped
        ]
        laid = [(i, pieces(self.terms[i], out, start, stop, self.size)) for i in order]
        return laid, lowrank

    def _slabs(self, start: int, stop: int, per: int) -> Iterator[tuple[int, int]]:
        """Row ranges of about ``per`` rows covering start:stop, their bounds aligned on a
        unit common to the row legs of every term (so a slab is one box per term)."""
        units = None
        for t in self.terms:
            w = set(suffix([self.size[x] for x in t.rows]))
            units = w if units is None else units & w
        units = (units or set()) | {1}
        unit = max(u for u in units if u <= max(per, 1))
        per = max(unit, per // unit * unit)
        a = start
        while a < stop:
            b = min((a // per + 1) * per, stop)
            yield a, b
            a = b

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
            w = set(suffix([self.size[x] for x in t.rows]))
            units = w if units is None else units & w
        units = (units or set()) | {1}
        unit = max(u for u in units if u <= per)
        per = per // unit * unit
        for s in range(0, R, per):
            yield s, min(s + per, R)

    # -- products with vectors, J never formed --------------------------------------------
    def matvec(self, v: np.ndarray) -> np.ndarray:
        """J v for v of shape (columns,) or (columns, k), term by term, without forming J.

        Memory and time are those of the terms' small factors contracted with v (for
        ``Bᵀ ⊗ A``: two matrix products), not of J."""
        return self._apply(v, transpose=False)

    def rmatvec(self, u: np.ndarray) -> np.ndarray:
        """Jᵀ u (the entries of uᵀ J) for u of shape (rows,) or (rows, k), without forming J."""
        return self._apply(u, transpose=True)

    def _apply(self, v: np.ndarray, transpose: bool) -> np.ndarray:
        R, C = self.shape[::-1] if transpose else self.shape
        v = np.asarray(v)
        if v.ndim not in (1, 2) or v.shape[0] != C:
            raise ValueError(f"a vector of {C} entries (or {C}×k) was expected, not {v.shape}")
        one = v.ndim == 1
        V = np.ascontiguousarray(v.reshape(C, -1))
        out = np.zeros((R, V.shape[1]), dtype=np.result_type(self.dtype, V.dtype))
        if R and C and V.shape[1]:
            for t in self.terms:
                apply_term(t, self.size, V, out, transpose)
        return out[:, 0] if one else out

    # -- sparse structure ----------------------------------------------------------------
    def nnz_upper(self) -> int:
        """An upper bound of the stored entries: per term, the product of its label sizes."""
        return sum(prod(self.size[x] for x in t.labels()) for t in self.terms)

    def coo_rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows - start, cols, values) of the entries of rows start:stop, term by term;
        duplicates are allowed (a sparse constructor sums them)."""
        rows_l, cols_l, vals_l = [], [], []
        for t in self.terms:
            for box in boxes(start, stop, [self.size[x] for x in t.rows]):
                lay = box_layout(t, self.size, box, 0, 0, start)
                if lay is None:
                    continue
                labels, lo, hi, _, _, _, rw, cw = lay
                shape = tuple(hi[x] - lo[x] for x in labels)
                n = prod(shape)
                r: np.ndarray = np.zeros((), dtype=np.int64)
                c: np.ndarray = np.zeros((), dtype=np.int64)
                for i, x in enumerate(labels):
                    ax = np.arange(lo[x], hi[x], dtype=np.int64).reshape(
                        (1,) * i + (-1,) + (1,) * (len(labels) - i - 1)
                    )
                    if rw[x]:
                        r = r + ax * rw[x]
                    if cw[x]:
                        c = c + ax * cw[x]
                r = np.broadcast_to(r - start, shape).reshape(-1)
                c = np.broadcast_to(c, shape).reshape(-1)
                v = np.empty(shape, dtype=self.dtype)
                emit(v, broadcast_factors(t, labels, lo, hi), t.scale, assign=True)
                rows_l.append(r)
                cols_l.append(c)
                vals_l.append(v.reshape(n))
        if not rows_l:
            return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, self.dtype))
        return np.concatenate(rows_l), np.concatenate(cols_l), np.concatenate(vals_l)


def jacobian_dense(
    J_exprs: list[Expr], shapes: ShapeOf, dense: Callable[[Expr], np.ndarray], out: np.ndarray | None = None
) -> np.ndarray:
    """The Jacobians ``J_exprs`` (one block of columns per variable) side by side, dense;
    ``dense`` evaluates their non-structured parts. See :func:`assemble`."""
    return assemble([Structured(J, shapes, dense) for J in J_exprs], out)


def assemble(parts: list[Structured], out: np.ndarray | None = None) -> np.ndarray:
    """The compiled Jacobians ``parts`` side by side, dense.

    ``out``, when given, is overwritten; otherwise it is allocated with numpy.empty, or
    numpy.zeros when some block has no term covering all of it (fresh zeros cost nothing
    until touched).
    """
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
