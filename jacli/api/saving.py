"""A derivative with an output (derive's J, and hessian's H by the same code): what is
evaluated, what is saved, and how.

``-o J.npy`` is written block by block (memory stays at one block), ``--sparse -o J.npz``
as SciPy CSR from the structure, ``.tex``, ``.md`` and ``.py`` hold the formula (LaTeX, a
Markdown note, a Python function); anything else is evaluated in memory and saved by suffix.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import BinaryIO, NamedTuple

import numpy as np

from ..errors import JacliError
from ..io.sparse import save_sparse_npz
from ..io.writers import atomic_write, check_output_path, save_matrix, save_npy_blocks
from ..numeric.structured import Structured
from ..syntax.printer import to_text
from .derivation import (
    Block,
    Result,
    compiled,
    evaluate_blocks,
    jacobian_blocks,
    jacobian_size,
    needed_names,
    require_finite,
    result_of,
)
from .formats import FORMULA_SUFFIXES, formula_file
from .problem import Problem, budget, require_numbers

BLOCK_BYTES = 64 * 2**20
SPARSE_BLOCK = 4e6  # stored entries of a sparse file built at a time, at most
SPARSE_ENTRY = 100  # bytes an entry takes while its block is built


class Plan(NamedTuple):
    """What is shown and saved of a derivative (a Jacobian or a Hessian), checked before any work."""

    vec: str = "col"
    symbolic: bool = False
    gradient: bool = False
    output: str | None = None
    suffix: str | None = None
    sparse: bool = False
    in_memory: bool = False  # the matrix is printed too: build it in memory
    max_bytes: float | None = None
    formula: bool = False  # what is printed is a formula (latex, markdown, python): no numbers for it

    @property
    def streamed(self) -> bool:
        """Whether ``-o`` writes the matrix block by block (a .npy not shown, not a gradient)."""
        return self.suffix == ".npy" and not self.in_memory and not self.gradient

    @property
    def numbers(self) -> bool:
        """Whether the matrix is needed: a formula alone, printed or saved, needs shapes only."""
        if self.symbolic or self.suffix in FORMULA_SUFFIXES:
            return False
        return not (self.formula and self.output is None)

    @classmethod
    def checked(
        cls,
        *,
        output: str | None = None,
        sparse: bool = False,
        gradient: bool = False,
        symbolic: bool = False,
        vec: str = "col",
        in_memory: bool = False,
        max_bytes: float | None = None,
        formula: bool = False,
    ) -> Plan:
        """A plan whose output can be written and whose options go together."""
        suffix = check_output_path(output) if output is not None else None
        if sparse and suffix != ".npz":
            raise JacliError("--sparse saves a SciPy sparse matrix: give -o J.npz")
        if sparse and gradient:
            raise JacliError("--sparse and --gradient do not go together")
        if symbolic and suffix not in (None, *FORMULA_SUFFIXES):
            raise JacliError(
                f"--symbolic gives the formula only: -o {output} would save numbers "
                f"(save the formula with -o F.tex, F.md or F.py, or drop --symbolic)"
            )
        return cls(
            vec=vec,
            symbolic=symbolic,
            gradient=gradient,
            output=output,
            suffix=suffix,
            sparse=sparse,
            in_memory=in_memory,
            max_bytes=max_bytes,
            formula=formula,
        )


class Derived(NamedTuple):
    result: Result
    shown: np.ndarray | None  # the matrix (or gradient) computed in memory, if any
    wrote: str | None  # what was saved, as told to the user
    warnings: tuple[str, ...] = ()  # what the user should know about it (a dense --sparse)


class Watch(NamedTuple):
    """Who hears of a large output's writing: ``ready`` once the closed form is known and the
    writing checked (to show the formula first), ``progress(rows done, rows)`` as it goes."""

    ready: Callable[[], None] | None = None
    progress: Callable[[int, int], None] | None = None


def derive_plan(
    problem: Problem,
    plan: Plan,
    ready: Callable[[Result], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Derived:
    """Differentiate, evaluate what is needed, save the output; print nothing. A large output
    (``-o J.npy`` block by block, ``--sparse``) gives ``ready`` the closed form before it is
    written, and ``progress`` the rows written."""
    if plan.gradient:
        if problem.shape != (1, 1):
            raise JacliError(
                f"--gradient needs a scalar (1×1) expression; {to_text(problem.expr)} is "
                f"{problem.shape[0]}×{problem.shape[1]}"
            )
        if len(problem.wrt) > 1 and plan.suffix not in (None, ".npz", ".tex", ".md"):
            raise JacliError(
                f"-o {plan.output}: the gradients of {len(problem.wrt)} names go to a .npz (one array a name), "
                "or their formulas to a .tex or .md"
            )
    blocks = jacobian_blocks(problem, plan.vec)
    output, suffix = plan.output, plan.suffix
    matrix, wrote = None, output
    warnings: tuple[str, ...] = ()
    if plan.numbers:
        require_numbers(problem, needed_names(blocks))
        if output and (plan.sparse or plan.streamed):
            told = None if ready is None else (lambda: ready(result_of(problem, blocks, plan.vec, None)))
            wrote, warnings = save_large(problem, blocks, plan, watch=Watch(told, progress))
        else:
            hint = ""
            if suffix == ".npy":
                hint = "drop --format: -o J.npy alone is written block by block; or raise --max-memory"
            matrix = evaluate_blocks(problem, blocks, max_bytes=plan.max_bytes, hint=hint)
    result = result_of(problem, blocks, plan.vec, matrix)
    several = plan.gradient and len(blocks) > 1  # the gradients are J's row, split by the renderers
    shown = result.gradient if plan.gradient and matrix is not None and not several else matrix
    if output and suffix in FORMULA_SUFFIXES:
        save_text(output, formula_file(result, suffix, plan.gradient))
    elif output and shown is not None and several:
        arrays = {p.blocks[0].var: p.gradient for p in result.parts()}
        atomic_write(output, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]
    elif output and shown is not None:
        if plan.gradient:  # the file holds the gradient: its formula, not J's
            var = result.blocks[0].var
            formula, latex, head = result.gradient_formula or "", "", f"∂f/∂{var} = {result.gradient_formula or '?'}"
        else:
            formula, latex, head = result.formula, result.latex, f"J = {result.formula}"
        save_matrix(
            output, shown, formula=formula, latex=latex, comments=[head, f"shape {shown.shape[0]}x{shown.shape[1]}"]
        )
    return Derived(result, shown, wrote, warnings)


def save_large(
    problem: Problem, blocks: tuple[Block, ...], plan: Plan, what: str = "Jacobian", watch: Watch = Watch()
) -> tuple[str, tuple[str, ...]]:
    """``-o J.npy`` written block by block, or ``--sparse -o J.npz`` from the structure, of
    ``problem``'s ``blocks`` (a Jacobian, or a Hessian's one row block): what was written, as
    told to the user, and what the user should know about it (a sparse file of a dense matrix)."""
    output = plan.output
    if output is None:
        raise RuntimeError("nothing to save to")
    if not plan.sparse:
        save_streamed(problem, blocks, output, max_bytes=plan.max_bytes, watch=watch)
        return output, ()
    stored = save_sparse(problem, blocks, output, max_bytes=plan.max_bytes, watch=watch)
    rows, cols = jacobian_size(problem, blocks)
    wrote = f"{output} ({stored:,} stored entries of {rows:,}×{cols:,}, SciPy CSR)"
    if stored <= rows * cols / 2:
        return wrote, ()
    dense = (
        f"the {what} is dense ({stored / (rows * cols):.0%} of its entries are stored): a sparse file of it "
        f"is larger and slower to write and read than -o {what[0]}.npy, which is written block by block"
    )
    return wrote, (dense,)


def save_text(path: str, text: str) -> None:
    """A formula's file (.tex, .md, .py), written atomically."""
    payload = text.encode("utf-8")

    def write(f: BinaryIO) -> None:
        f.write(payload)

    atomic_write(path, write)


def save_streamed(
    problem: Problem, blocks: tuple[Block, ...], path: str, *, max_bytes: float | None = None, watch: Watch = Watch()
) -> None:
    """A dense Jacobian written to ``path`` (.npy) block by block: memory stays at one block."""
    rows, cols = jacobian_size(problem, blocks)
    folder = os.path.dirname(os.path.abspath(path))
    free = shutil.disk_usage(folder).free
    if rows * cols * 8 > free:
        raise JacliError(
            f"the Jacobian is {rows:,}×{cols:,}: {rows * cols * 8:,} bytes, more than the "
            f"{free:,} bytes free in {folder}"
        )
    left = budget(problem, max_bytes)
    block = BLOCK_BYTES / 2 if left is None else max(min(BLOCK_BYTES / 2, left / 8), 8 * cols)  # two buffers
    parts = compiled(problem, blocks, max_bytes, int(2 * block))
    if watch.ready is not None:
        watch.ready()
    save_npy_blocks(path, (rows, cols), _counted(pipelined_blocks(parts, block), rows, watch.progress))


def _counted(
    blocks: Iterator[np.ndarray], rows: int, progress: Callable[[int, int], None] | None
) -> Iterator[np.ndarray]:
    """``blocks`` of rows, each told to ``progress`` (rows done, ``rows``) once it is written."""
    done = 0
    for b in blocks:
        yield b
        done += len(b)
        if progress is not None:
            progress(done, rows)


def pipelined_blocks(parts: list[Structured], max_block_bytes: float) -> Iterator[np.ndarray]:
    """Row blocks of the Jacobian, in order, each written (by a second thread, into the
    other of two buffers) while the one before is being saved: the file is written at
    the speed of the slower of the two, not of their sum."""
    from concurrent.futures import ThreadPoolExecutor

    C = sum(p.shape[1] for p in parts)
    ranges = list(parts[0].row_blocks(int(max_block_bytes * parts[0].shape[1] / max(C, 1))))  # rows of all C columns
    if not ranges:
        return
    check = any(p.may_overflow() for p in parts)
    rows = max(b - a for a, b in ranges)
    buffers = [np.empty((rows, C)), np.empty((rows, C))] if len(ranges) > 1 else [np.empty((rows, C))]

    def fill(k: int) -> np.ndarray:
        start, stop = ranges[k]
        out = buffers[k % len(buffers)][: stop - start]
        c0 = 0
        with np.errstate(all="ignore"):
            for p in parts:
                p.write_rows(out[:, c0 : c0 + p.shape[1]], start, stop, threads=1)
                c0 += p.shape[1]
        if check:
            require_finite(out)
        return out

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(fill, 0)
        for k in range(len(ranges)):
            out = pending.result()
            if k + 1 < len(ranges):
                pending = pool.submit(fill, k + 1)
            yield out


def check_sparse_space(path: str, rows: int, cols: int, upper: int) -> None:
    """Refuse before any work when the sparse file may not fit on its disk: at most ``upper``
    stored entries, each a value and a column index, spooled in the folder then copied
    into the file (twice the file while it is written)."""
    index = 4 if max(rows, cols, upper) <= 2**31 - 1 else 8
    need = 2 * upper * (8 + index) + (rows + 1) * index
    folder = os.path.dirname(os.path.abspath(path))
    free = shutil.disk_usage(folder).free
    if need > free:
        raise JacliError(
            f"the sparse Jacobian ({rows:,}×{cols:,}, up to {upper:,} stored entries) may need up to "
            f"{need:,} bytes while it is written, more than the {free:,} bytes free in {folder}"
        )


def save_sparse(
    problem: Problem, blocks: tuple[Block, ...], path: str, *, max_bytes: float | None = None, watch: Watch = Watch()
) -> int:
    """A SciPy CSR .npz of the Jacobian, built row block by row block from its structure.
    Returns the number of stored entries."""
    try:
        import scipy.sparse
    except ImportError:
        raise JacliError("--sparse needs SciPy: pip install 'jacli[sparse]' (or pip install scipy)") from None

    left = budget(problem, max_bytes)
    parts = compiled(problem, blocks, max_bytes, 0 if left is None else int(left / 2))  # half for the blocks
    R = parts[0].shape[0]
    C = sum(p.shape[1] for p in parts)
    upper = sum(p.nnz_upper() for p in parts)
    check_sparse_space(path, R, C, upper)
    if watch.ready is not None:
        watch.ready()
    per_row = max(1, upper // max(R, 1))
    # a block's entries, each about SPARSE_ENTRY bytes while it is built (its rows, columns and
    # values, their CSR form, SciPy's copies), within a quarter of what the limit leaves
    entries = SPARSE_BLOCK if left is None else max(1.0, min(SPARSE_BLOCK, left / 4 / SPARSE_ENTRY))
    block_rows = max(1, int(entries // per_row))
    stored = [0]

    def gen() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for start, stop in parts[0].row_blocks(block_rows * parts[0].shape[1] * 8):  # block_rows rows
            rs, cs, vs = [], [], []
            c0 = 0
            for p in parts:
                with np.errstate(all="ignore"):
                    r, c, v = p.coo_rows(start, stop)
                rs.append(r)
                cs.append(c + c0)
                vs.append(v)
                c0 += p.shape[1]
            v = np.concatenate(vs)
            if not np.all(np.isfinite(v)):  # overflow: told here, not as NumPy's warning
                raise JacliError("the Jacobian has infinite or NaN entries for these values (overflow)")
            coo = scipy.sparse.coo_matrix((v, (np.concatenate(rs), np.concatenate(cs))), shape=(stop - start, C))
            m = coo.tocsr()
            m.sum_duplicates()
            m.eliminate_zeros()
            m.sort_indices()
            stored[0] += m.nnz
            yield np.diff(m.indptr).astype(np.int64), m.indices, m.data
            if watch.progress is not None:
                watch.progress(stop, R)

    save_sparse_npz(path, (R, C), gen(), max_bytes=max_bytes)
    return stored[0]
