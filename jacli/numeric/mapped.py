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
