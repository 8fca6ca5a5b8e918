"""Writing a SciPy CSR matrix as a ``scipy.sparse.save_npz``-compatible .npz, row block by
row block, without SciPy and without holding the matrix in memory."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import IO, Any, BinaryIO

import numpy
from numpy.lib import format as _npformat

from ..errors import JacliError, Option
from .writers import atomic_write, npy_header, write_array_bytes

_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1
_COPY_CHUNK = 1 << 22  # bytes copied at a time when streaming spooled data


def _copy_spool(src: IO[bytes], dst: IO[bytes], nbytes: int, src_dtype: Any, dst_dtype: Any) -> None:
    src.seek(0)
    src_dtype, dst_dtype = numpy.dtype(src_dtype), numpy.dtype(dst_dtype)
    left = nbytes
    if src_dtype == dst_dtype:
        while left:
            chunk = src.read(min(left, _COPY_CHUNK))
            if not chunk:
                raise RuntimeError("save_sparse_npz: spool file shorter than expected")
            dst.write(chunk)
            left -= len(chunk)
        return
    step = (_COPY_CHUNK // src_dtype.itemsize) * src_dtype.itemsize
    while left:
        chunk = src.read(min(left, step))
        if not chunk or len(chunk) % src_dtype.itemsize:
            raise RuntimeError("save_sparse_npz: spool file shorter than expected")
        dst.write(numpy.frombuffer(chunk, dtype=src_dtype).astype(dst_dtype).data.cast("B"))
        left -= len(chunk)


def _check_block(
    counts: numpy.ndarray, indices: numpy.ndarray, data: numpy.ndarray, row: int, nrows: int, ncols: int
) -> None:
    k = counts.shape[0]
    if row + k > nrows:
        raise RuntimeError(f"save_sparse_npz: blocks exceed {nrows} rows")
    if indices.shape[0] != data.shape[0] or int(counts.sum()) != data.shape[0] or (k and counts.min() < 0):
        raise RuntimeError("save_sparse_npz: row counts, indices and data disagree")
    if indices.size and (indices.dtype.kind not in "iu" or indices.min() < 0 or indices.max() >= ncols):
        raise RuntimeError("save_sparse_npz: column index out of range")


def _spool(
    row_blocks: Iterable[tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]],
    nrows: int,
    ncols: int,
    ispool: BinaryIO,
    dspool: BinaryIO,
    spool_idx_dtype: type,
) -> tuple[numpy.ndarray, int]:
    """Indices and data of every block to the spools; the row pointers and the entry count."""
    indptr = numpy.zeros(nrows + 1, dtype=numpy.int64)
    nnz = row = 0
    for counts, indices, data in row_blocks:
        counts = numpy.asarray(counts, dtype=numpy.int64).reshape(-1)
        indices = numpy.asarray(indices).reshape(-1)
        data = numpy.ascontiguousarray(data, dtype=numpy.float64).reshape(-1)
        _check_block(counts, indices, data, row, nrows, ncols)
        k = counts.shape[0]
        numpy.cumsum(counts, out=indptr[row + 1 : row + k + 1])
        indptr[row + 1 : row + k + 1] += nnz
        row += k
        nnz += data.shape[0]
        write_array_bytes(ispool, numpy.ascontiguousarray(indices, dtype=spool_idx_dtype))
        write_array_bytes(dspool, data)
    if row != nrows:
        raise RuntimeError(f"save_sparse_npz: blocks gave {row} rows, expected {nrows}")
    return indptr, nnz


def save_sparse_npz(
    path: str,
    shape: tuple[int, int],
    row_blocks: Iterable[tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]],
    *,
    max_bytes: float | None = None,
) -> None:
    """Write a CSR matrix as a SciPy ``save_npz``-compatible .npz, from successive row blocks.

    Each block is ``(row_counts, indices, data)``: stored entries per row, their column indices
    (sorted within each row) and values.  Indices and data are spooled to unnamed temporary
    files in the target folder, so memory holds one block plus ``indptr``.  Index dtypes follow
    SciPy: int32 when the shape and the number of entries fit, else int64.
    """
    import tempfile
    import zipfile

    nrows, ncols = int(shape[0]), int(shape[1])
    if max(nrows, ncols) > _INT64_MAX - 1:
        raise JacliError(
            f"the Jacobian is {nrows:,}×{ncols:,}: more rows or columns than a sparse matrix can index ({_INT64_MAX:,})"
        )
    need = (nrows + 1) * 8  # the row pointers, held in memory while the entries are spooled to disk
    if max_bytes is not None and need > max_bytes:
        raise JacliError(
            (
                f"the sparse Jacobian's {nrows:,} row pointers need {need:,} bytes, above the limit of "
                f"{int(max_bytes):,} bytes (",
                Option("max_memory"),
                ")",
            )
        )
    folder = os.path.dirname(os.path.realpath(path)) or "."
    spool_idx_dtype = numpy.int32 if ncols - 1 <= _INT32_MAX else numpy.int64

    def write(f: BinaryIO) -> None:
        with (
            tempfile.TemporaryFile(dir=folder, prefix=".jacli-indices", suffix=".tmp") as ispool,
            tempfile.TemporaryFile(dir=folder, prefix=".jacli-data", suffix=".tmp") as dspool,
        ):
            indptr, nnz = _spool(row_blocks, nrows, ncols, ispool, dspool, spool_idx_dtype)
            # scipy's CSR constructor picks int32 for both index arrays when everything fits.
            idx_dtype = numpy.int32 if max(nrows, ncols, nnz) <= _INT32_MAX else numpy.int64
            with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                with zf.open("indices.npy", "w", force_zip64=True) as fid:
                    npy_header(fid, (nnz,), idx_dtype)
                    _copy_spool(ispool, fid, nnz * numpy.dtype(spool_idx_dtype).itemsize, spool_idx_dtype, idx_dtype)
                for key, val in (
                    ("indptr", indptr.astype(idx_dtype, copy=False)),
                    ("format", numpy.array(b"csr")),
                    ("shape", numpy.array((nrows, ncols), dtype=numpy.int64)),
                ):
                    with zf.open(key + ".npy", "w", force_zip64=True) as fid:
                        _npformat.write_array(fid, val, allow_pickle=False)
                with zf.open("data.npy", "w", force_zip64=True) as fid:
                    npy_header(fid, (nnz,), numpy.float64)
                    _copy_spool(dspool, fid, nnz * 8, numpy.float64, numpy.float64)

    atomic_write(path, write)
