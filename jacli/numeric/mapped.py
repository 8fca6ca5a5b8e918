"""A Jacobian with respect to a structured variable: J_vec's columns gathered, never M formed.

For a variable declared symmetric, triangular or diagonal, J = J_vec M with M = D(n),
L(n)ᵀ, K(n,n) L(n)ᵀ or I(n) ⊙ I(n): column k of J is the sum of the one or two columns of
J_vec at the vec positions of free entry k. :class:`Mapped` wraps the compiled J_vec
(:class:`jacli.numeric.structured.Structured`) and answers as it does, writing a block of
J_vec's rows to a scratch array and gathering its columns: the time and memory of the dense
J with respect to a general matrix of that size, no product with M.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .structured import Structured


def free_columns(structure: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(first, second): the vec positions of each free entry (second -1 where there is one):
    symmetric (i, j) and (j, i) for vech's (i ≥ j); lower (i, j); upper (j, i) (vech(Sᵀ));
    diagonal (i, i)."""
    if structure == "diag":
        i = np.arange(n)
        return i + n * i, np.full(n, -1)
    cols, rows = np.triu_indices(n)  # (j, i), i ≥ j: vech's order
    lower, upper = rows + n * cols, cols + n * rows
    if structure == "sym":
        return lower, np.where(rows == cols, -1, upper)
    if structure == "lower":
        return lower, np.full(lower.size, -1)
    return upper, np.full(upper.size, -1)


def full(s: np.ndarray, structure: str, shape: tuple[int, int]) -> np.ndarray:
    """The matrix whose free entries are ``s`` (M s, shaped n×n): a symmetric one's (i, j)
    and (j, i) both s's entry."""
    first, second = free_columns(structure, shape[0])
    out = np.zeros(shape[0] * shape[1], dtype=np.result_type(s.dtype, float))
    out[first] += s
    pairs = second >= 0
    out[second[pairs]] += s[pairs]
    return out.reshape(shape, order="F")


def free(a: np.ndarray, structure: str) -> np.ndarray:
    """Mᵀ vec(A): the adjoint of :func:`full` (a symmetric pair's two entries summed)."""
    first, second = free_columns(structure, a.shape[0])
    flat = a.reshape(-1, order="F")
    out: np.ndarray = flat[first].copy()
    pairs = second >= 0
    out[pairs] += flat[second[pairs]]
    return out


class Mapped(Structured):
    """J = J_vec M for a structured variable, written from the compiled J_vec: every method of
    :class:`Structured` a caller uses is answered here (nothing of the parent's state is
    made, J_vec's own compilation is ``inner``)."""

    def __init__(self, inner: Structured, structure: str, n: int) -> None:
        self.inner = inner
        self.first, self.second = free_columns(structure, n)
        self.pairs = self.second >= 0
        self.shape = (inner.shape[0], self.first.size)
        self.dtype = inner.dtype
        self.fallbacks = inner.fallbacks

    @property
    def needs_zeros(self) -> bool:
        return False

    def may_overflow(self, limit: float = 1e300) -> bool:
        return self.inner.may_overflow(limit / 2)

    def _gather(self, full: np.ndarray, out: np.ndarray) -> None:
        np.take(full, self.first, axis=1, out=out)
        if self.pairs.any():
            out[:, self.pairs] += full[:, self.second[self.pairs]]

    def write(self, out: np.ndarray, *, zeroed: bool = False, threads: int | None = None) -> None:
        for start, stop in self.row_blocks(2**24):
            self.write_rows(out[start:stop], start, stop, threads=threads)

    def write_rows(
        self, out: np.ndarray, start: int, stop: int, *, zeroed: bool = False, threads: int | None = None
    ) -> None:
        full = np.empty((stop - start, self.inner.shape[1]), dtype=self.dtype)
        self.inner.write_rows(full, start, stop, threads=threads)
        self._gather(full, out)

    def row_blocks(self, max_bytes: int) -> Iterator[tuple[int, int]]:
        """Row ranges whose scratch rows of J_vec take about ``max_bytes``."""
        return self.inner.row_blocks(max_bytes)

    def matvec(self, v: np.ndarray) -> np.ndarray:
        """J v = J_vec (M v): v's entries put at their vec positions."""
        v = np.asarray(v)
        full = np.zeros((self.inner.shape[1],) + v.shape[1:], dtype=np.result_type(v.dtype, float))
        full[self.first] += v
        full[self.second[self.pairs]] += v[self.pairs]
        return self.inner.matvec(full)

    def rmatvec(self, u: np.ndarray) -> np.ndarray:
        """Jᵀ u = Mᵀ (J_vecᵀ u)."""
        full = self.inner.rmatvec(u)
        out: np.ndarray = full[self.first].copy()
        out[self.pairs] += full[self.second[self.pairs]]
        return out

    def nnz_upper(self) -> int:
        return self.inner.nnz_upper()

    def coo_rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The entries of rows start:stop, from the dense rows gathered."""
        block = np.empty((stop - start, self.shape[1]), dtype=self.dtype)
        self.write_rows(block, start, stop)
        r, c = np.nonzero(block)
        return r.astype(np.int64), c.astype(np.int64), block[r, c]


Layout = list[tuple[str | None, int, int]]  # per variable: its structure, n (rows), its entries (m n)


def gather_columns(J: np.ndarray, layout: Layout) -> np.ndarray:
    """J with respect to the variables' entries, side by side, made J with respect to their
    free entries: the columns of each structured variable gathered (J_vec M)."""
    parts, c0 = [], 0
    for structure, n, size in layout:
        block = J[:, c0 : c0 + size]
        if structure is not None:
            first, second = free_columns(structure, n)
            pairs = second >= 0
            block = block[:, first].copy()
            block[:, pairs] += J[:, c0 : c0 + size][:, second[pairs]]
        parts.append(block)
        c0 += size
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


def expand_rows(V: np.ndarray, layout: Layout) -> np.ndarray:
    """Directions over the free entries (rows of V) made directions over all entries: each
    free entry put at its vec positions (a symmetric direction for a symmetric variable)."""
    parts, r0 = [], 0
    for structure, n, size in layout:
        if structure is None:
            parts.append(V[r0 : r0 + size])
            r0 += size
            continue
        first, second = free_columns(structure, n)
        block = np.zeros((size,) + V.shape[1:], dtype=V.dtype)
        block[first] += V[r0 : r0 + first.size]
        pairs = second >= 0
        block[second[pairs]] += V[r0 : r0 + first.size][pairs]
        parts.append(block)
        r0 += first.size
    return np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]


class Selected(Structured):
    """J of vech(G) = L(k) J_G, written from the compiled J_G (``inner``): the rows of the
    lower triangle's entries, vech's order, selected; no product with L(k)."""

    def __init__(self, inner: Structured, k: int) -> None:
        self.inner = inner
        self.rows, _ = free_columns("lower", k)
        self.shape = (self.rows.size, inner.shape[1])
        self.dtype = inner.dtype
        self.fallbacks = inner.fallbacks

    @property
    def needs_zeros(self) -> bool:
        return False

    def may_overflow(self, limit: float = 1e300) -> bool:
        return self.inner.may_overflow(limit)

    def write(self, out: np.ndarray, *, zeroed: bool = False, threads: int | None = None) -> None:
        for start, stop in self.row_blocks(2**24):
            self.write_rows(out[start:stop], start, stop, threads=threads)

    def write_rows(
        self, out: np.ndarray, start: int, stop: int, *, zeroed: bool = False, threads: int | None = None
    ) -> None:
        if stop <= start:
            return
        wanted = self.rows[start:stop]
        lo, hi = int(wanted[0]), int(wanted[-1]) + 1  # G's rows from the first wanted to the last
        full = np.empty((hi - lo, self.shape[1]), dtype=self.dtype)
        self.inner.write_rows(full, lo, hi, threads=threads)
        np.take(full, wanted - lo, axis=0, out=out)

    def row_blocks(self, max_bytes: int) -> Iterator[tuple[int, int]]:
        """Row ranges whose scratch rows of J_G (at most twice as many, and k) take about ``max_bytes``."""
        step = max(1, max_bytes // (16 * max(self.shape[1], 1)))
        for start in range(0, self.shape[0], step):
            yield start, min(start + step, self.shape[0])

    def matvec(self, v: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.inner.matvec(v)[self.rows]
        return out

    def rmatvec(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u)
        full = np.zeros((self.inner.shape[0],) + u.shape[1:], dtype=np.result_type(u.dtype, float))
        full[self.rows] = u
        return self.inner.rmatvec(full)

    def nnz_upper(self) -> int:
        return self.inner.nnz_upper()

    def coo_rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        block = np.empty((stop - start, self.shape[1]), dtype=self.dtype)
        self.write_rows(block, start, stop)
        r, c = np.nonzero(block)
        return r.astype(np.int64), c.astype(np.int64), block[r, c]
