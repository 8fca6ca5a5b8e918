"""The library: from an expression and bindings to a closed form and a numeric Jacobian.

Data flow: bindings (names to shapes or arrays) → parser (expression, wrt) → shapes
(every node's shape) → chain rule (Jacobian as an expression) → simplifier → printer
(text, LaTeX) and evaluator (numbers). The command line is a thin layer over this.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from . import ops
from .calculus import jacobian_expr
from .errors import JacliError
from .evaluate import Evaluator
from .expr import Expr, comm, matmul
from .files import Binding, as_matrix
from .parser import Parsed, parse
from .printer import to_latex, to_text
from .shapes import Shapes, infer, show_shape
from .simplify import Simplifier

DEFAULT_SEED = 0


@dataclass
class Problem:
    """A parsed expression with every shape known and the values that were given."""

    source: str
    expr: Expr  # resolved: explicit products, sized identities
    wrt: tuple[str, ...]
    names: dict[str, tuple[int, int]]
    values: dict[str, np.ndarray]
    shapes: Shapes
    randomized: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return self.shapes(self.expr)


def to_binding(name: str, value) -> Binding:
    """A binding from the Python API: an array-like, or a shape tuple such as (3, 4)."""
    if isinstance(value, Binding):
        return value
    if isinstance(value, tuple) and all(isinstance(d, (int, np.integer)) for d in value):
        dims = tuple(int(d) for d in value)
        if len(dims) == 1:
            dims = (dims[0], 1)
        if len(dims) != 2 or min(dims) < 1:
            raise JacliError(f"{name}={value}: a shape is two positive integers, as in {name}=(3, 4)")
        return Binding(dims, None, f"{name}={dims[0]}x{dims[1]}")
    arr = as_matrix(name, value)
    return Binding(arr.shape, arr, f"{name}=<array {show_shape(arr.shape)}>")


def prepare(source: str, bindings: dict[str, Binding], *, random: bool = False, seed: int = DEFAULT_SEED,
            require_wrt: bool = True) -> Problem:
    """Parse ``source``, check the bindings against it and infer every shape.

    ``random`` fills seeded random values for every name that has none: bound by shape only,
    or with a shape that follows from the expression.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise JacliError(f"--seed must be a non-negative integer, not {seed}")
    parsed: Parsed = parse(source, require_wrt=require_wrt)
    names = parsed.expr.names()
    warnings = []
    for n in bindings:
        if n in ops.RESERVED:
            raise JacliError(f"{n} is a built-in name of jacli's language and cannot be bound")
        if n not in names:
            warnings.append(f"{n} is bound but does not occur in the expression")
    given = {n: tuple(b.shape) for n, b in bindings.items() if n in names}
    try:
        resolved = infer(parsed.expr, given, source=source)
    except JacliError as err:
        raise _with_hints(err, names, bindings) from None
    values = {n: b.value for n, b in bindings.items() if n in names and b.value is not None}
    shapes = Shapes(resolved.names)
    problem = Problem(source, resolved.expr, parsed.wrt, resolved.names, values, shapes, warnings=warnings)
    if random:
        fill = [n for n in names if n not in values]
        if fill:
            fill_random(problem, fill, seed)
    return problem


def _with_hints(err: JacliError, names: list[str], bindings: dict) -> JacliError:
    """Say what a shape error may come from: 'Ax' is one name, write 'A x' for a product."""
    hints = []
    for n in names:
        for i in range(1, len(n)):
            if n[:i] in bindings and n[i:] in bindings:
                hints.append(f"{n} is one name; for a product write '{n[:i]} {n[i:]}'")
                break
    unused = [n for n in bindings if n not in names]
    if unused and not hints:
        hints.append(f"{', '.join(unused)} {'is' if len(unused) == 1 else 'are'} bound but not in the expression")
    if not hints:
        return err
    return JacliError(f"{err.message} ({'; '.join(hints)})", column=err.column, source=err.source)


# -- random values --------------------------------------------------------------------
def random_hints(expr: Expr) -> dict[str, set]:
    """For each name, what its random values must allow: 'invertible', 'positive'."""
    hints: dict[str, set] = {}
    for node in expr.walk():
        op = ops.REGISTRY[node.op]
        for arg, hint in zip(node.args, op.random_hints):
            if hint:
                for n in arg.names():
                    hints.setdefault(n, set()).add(hint)
    return hints


def _draw(rng, shape, hints) -> np.ndarray:
    r, c = shape
    square = r == c
    if "positive" in hints:
        a = rng.uniform(0.5, 1.5, shape)
        if "invertible" in hints and square:
            a += r * np.eye(r)  # diagonally dominant, positive: invertible with det > 0
        return a
    if "invertible" in hints and square:
        return rng.standard_normal(shape) / np.sqrt(r) + 2.0 * np.eye(r)
    return rng.standard_normal(shape)


def fill_random(problem: Problem, names: list[str], seed: int) -> None:
    """Seeded values for ``names``, valid for the expression where a few draws allow it:
    invertible where inverted, positive where logged, square-rooted or divided by."""
    check_domains(problem)  # the values the user gave come first: their errors are theirs
    hints = random_hints(problem.expr)
    last, messages = None, set()
    for attempt in range(20):
        rng = np.random.default_rng(seed + attempt)
        for n in names:
            problem.values[n] = _draw(rng, problem.names[n], hints.get(n, set()))
        try:
            check_domains(problem)
            break
        except JacliError as err:
            last = err
            messages.add(err.message)
    else:
        if len(messages) == 1:  # the same whatever was drawn: not the random values' fault
            raise last
        raise JacliError(f"no valid random values found for this expression: {last}")
    problem.randomized = tuple(names)


def check_domains(problem: Problem) -> None:
    """Refuse values where the expression or its derivative is undefined (singular inverse,
    log of a non-positive entry, division by zero ...): domain-checked nodes whose names all
    have values are evaluated with checks on."""
    ev = Evaluator(problem.values, check=True, variables=problem.wrt)
    for node in problem.expr.walk():
        op = ops.REGISTRY[node.op]
        if op.domain is not None and all(n in problem.values for n in node.names()):
            ev(node)


# -- the Jacobian -----------------------------------------------------------------------
@dataclass
class Block:
    """The Jacobian with respect to one variable."""

    var: str
    var_shape: tuple[int, int]
    expr: Expr
    formula: str
    latex: str
    gradient_expr: Expr | None = None


@dataclass
class Result:
    """What ``jacli derive`` computes. ``matrix`` is None when only the formula was asked."""

    formula: str
    latex: str
    shape: tuple[int, int]
    blocks: list[Block]
    expression: str
    f_shape: tuple[int, int]
    vec: str
    matrix: np.ndarray | None = None
    problem: Problem | None = None

    @property
    def gradient(self) -> np.ndarray | None:
        """For a scalar F and one variable X: ∂f/∂X shaped like X (the Matrix Cookbook's layout)."""
        if self.matrix is None or self.f_shape != (1, 1) or len(self.blocks) != 1:
            return None
        m, n = self.blocks[0].var_shape
        return self.matrix.reshape((m, n), order="C" if self.vec == "row" else "F")

    @property
    def gradient_formula(self) -> str | None:
        if self.f_shape != (1, 1) or len(self.blocks) != 1 or self.blocks[0].gradient_expr is None:
            return None
        return to_text(self.blocks[0].gradient_expr)


def jacobian_blocks(problem: Problem, vec: str = "col") -> list[Block]:
    simp = Simplifier(problem.shapes)
    p, q = problem.shape
    blocks = []
    for var in problem.wrt:
        J = jacobian_expr(problem.expr, var, problem.shapes, simp)
        m, n = problem.names[var]
        grad = _gradient_expr(J, (m, n), simp) if (p, q) == (1, 1) else None
        if vec == "row":
            # vec of rows: vecᵣ(F) = vec(Fᵀ) = K(p,q) vec(F) and vec(X) = K(n,m) vecᵣ(X)
            J = simp(matmul(matmul(comm(p, q), J), comm(n, m)))
        blocks.append(Block(var, (m, n), J, to_text(J), to_latex(J), grad))
    return blocks


def _gradient_expr(J: Expr, shape, simp: Simplifier) -> Expr | None:
    """G with vec(G)ᵀ = J and G shaped like the variable, when J has that form."""
    c, scalars, body = simp.split(J)
    if body is None:
        return None
    g = simp.unvecT(body, shape)
    if g is None and body.op == "ones" and body.attr[0] == 1:
        g = Expr("ones", (), shape)
    if g is None:
        return None
    return simp.build(c, scalars, g, shape)


def formula_of(blocks: list[Block], latex: bool = False) -> str:
    parts = [b.latex if latex else b.formula for b in blocks]
    if len(parts) == 1:
        return parts[0]
    return (r"\begin{bmatrix} " + " & ".join(parts) + r" \end{bmatrix}") if latex else "[" + ", ".join(parts) + "]"


def needed_names(blocks: list[Block]) -> list[str]:
    seen: dict[str, None] = {}
    for b in blocks:
        for n in b.expr.names():
            seen.setdefault(n, None)
    return list(seen)


def require_numbers(problem: Problem, blocks: list[Block]) -> None:
    """Before any number: every value the Jacobian needs is bound, and defined there."""
    require_values(problem, needed_names(blocks))
    check_domains(problem)


def require_values(problem: Problem, names: list[str]) -> None:
    missing = [n for n in problem.names if n in names and n not in problem.values]
    if missing:
        n = missing[0]
        r, c = problem.names[n]
        more = f" (also {', '.join(missing[1:])})" if len(missing) > 1 else ""
        raise JacliError(f"{n} ({r}×{c}) has no values{more}: give them (e.g. {n}={n}.npy), "
                         f"or use --random, or --symbolic for the formula alone")


def evaluate_blocks(problem: Problem, blocks: list[Block], *, max_bytes: float | None = None,
                    out: np.ndarray | None = None, hint: str = "") -> np.ndarray:
    """The numeric Jacobian, written into ``out`` (allocated if None)."""
    rows = problem.shape[0] * problem.shape[1]
    cols = sum(b.var_shape[0] * b.var_shape[1] for b in blocks)
    if max_bytes is not None and rows * cols * 8 > max_bytes:
        raise size_error(rows, cols, max_bytes, hint)
    from .structured import jacobian_dense

    parts = _structured(problem, blocks, max_bytes)
    with np.errstate(all="ignore"):
        J = jacobian_dense(parts, problem.shapes, None, out=out)  # structure compiled already
    if any(p.may_overflow() for p in parts):
        _require_finite(J)
    return J


def _require_finite(J: np.ndarray) -> None:
    if not np.all(np.isfinite(J)):
        raise JacliError("the Jacobian has infinite or NaN entries for these values (overflow)")


def _structured(problem: Problem, blocks: list[Block], max_bytes: float | None = None):
    from .structured import Structured

    ev = Evaluator(problem.values, shapes=problem.shapes, max_bytes=max_bytes)

    def dense(e: Expr) -> np.ndarray:
        a = ev(e)
        if not np.all(np.isfinite(a)):
            raise JacliError(f"{to_text(e)} has infinite or NaN entries for these values")
        return a

    with np.errstate(all="ignore"):
        return [Structured(b.expr, problem.shapes, dense, max_bytes) for b in blocks]


def _rows(parts, max_block_bytes: float):
    """Row blocks of the Jacobian, written into one reused buffer, in order."""
    C = sum(p.shape[1] for p in parts)
    buf = None
    check = any(p.may_overflow() for p in parts)
    for start, stop in parts[0].row_blocks(int(max_block_bytes)):
        if buf is None:
            buf = np.empty((stop - start, C))
        out = buf[: stop - start]
        c0 = 0
        with np.errstate(all="ignore"):
            for p in parts:
                p.write_rows(out[:, c0:c0 + p.shape[1]], start, stop)
                c0 += p.shape[1]
        if check:
            _require_finite(out)
        yield out


BLOCK_BYTES = 64 * 2**20


def save_streamed(problem: Problem, blocks: list[Block], path: str, *, max_bytes: float | None = None) -> None:
    """A dense Jacobian written to ``path`` (.npy) block by block: memory stays at one block."""
    import shutil

    from .files import save_npy_blocks

    rows = problem.shape[0] * problem.shape[1]
    cols = sum(b.var_shape[0] * b.var_shape[1] for b in blocks)
    folder = os.path.dirname(os.path.abspath(path))
    free = shutil.disk_usage(folder).free
    if rows * cols * 8 > free:
        raise JacliError(f"the Jacobian is {rows:,}×{cols:,}: {rows * cols * 8:,} bytes, more than the "
                         f"{free:,} bytes free in {folder}")
    parts = _structured(problem, blocks, max_bytes)
    block = min(BLOCK_BYTES, max_bytes / 4) if max_bytes else BLOCK_BYTES
    save_npy_blocks(path, (rows, cols), _rows(parts, block))


def save_sparse(problem: Problem, blocks: list[Block], path: str) -> int:
    """A SciPy CSR .npz of the Jacobian, built row block by row block from its structure.
    Returns the number of stored entries."""
    try:
        import scipy.sparse
    except ImportError:
        raise JacliError("--sparse needs SciPy: pip install 'jacli[sparse]' (or pip install scipy)") from None

    from .files import save_sparse_npz

    parts = _structured(problem, blocks)
    R = parts[0].shape[0]
    C = sum(p.shape[1] for p in parts)
    per_row = max(1, sum(p.nnz_upper() for p in parts) // max(R, 1))
    block_rows = max(1, int(4e6 // per_row))
    stored = [0]

    def gen():
        for start, stop in parts[0].row_blocks(block_rows * C * 8):
            rs, cs, vs = [], [], []
            c0 = 0
            for p in parts:
                r, c, v = p.coo_rows(start, stop)
                rs.append(r)
                cs.append(c + c0)
                vs.append(v)
                c0 += p.shape[1]
            v = np.concatenate(vs)
            if not np.all(np.isfinite(v)):
                raise JacliError("the Jacobian has infinite or NaN entries for these values (overflow)")
            m = scipy.sparse.coo_matrix((v, (np.concatenate(rs), np.concatenate(cs))), shape=(stop - start, C)).tocsr()
            m.sum_duplicates()
            m.eliminate_zeros()
            m.sort_indices()
            stored[0] += m.nnz
            yield np.diff(m.indptr).astype(np.int64), m.indices, m.data

    save_sparse_npz(path, (R, C), gen())
    return stored[0]


def size_error(rows: int, cols: int, max_bytes: float, hint: str = "") -> JacliError:
    need = rows * cols * 8
    return JacliError(f"the Jacobian is {rows:,}×{cols:,}: {need:,} bytes of float64, above the limit of "
                      f"{int(max_bytes):,} bytes; save it with -o J.npy (written block by block) or "
                      f"--sparse -o J.npz, or raise --max-memory{hint}")


def derive(source: str, bindings: dict | None = None, /, *, vec: str = "col", random: bool = False,
           seed: int = DEFAULT_SEED, symbolic: bool = False, max_bytes: float | None = None,
           **names) -> Result:
    """Differentiate ``source`` (``"EXPR wrt X"``) and, unless ``symbolic``, evaluate.

    Parameters
    ----------
    source : str
        An expression in jacli's language followed by ``wrt`` and one or more names.
    bindings : dict, optional
        Names to arrays or shape tuples; keyword arguments do the same.
    vec : {"col", "row"}
        "col" stacks columns (Magnus & Neudecker); "row" stacks rows, as NumPy, JAX and
        PyTorch flatten.
    random : bool
        Fill every name that has no values with seeded random values (``seed``), valid
        for the expression.
    symbolic : bool
        The closed form only; shapes suffice.
    max_bytes : float, optional
        Refuse a dense Jacobian larger than this.

    Returns
    -------
    Result
        ``formula``, ``latex``, ``shape``, ``matrix`` (None when symbolic), ``blocks``.

    Raises
    ------
    JacliError
        Bad input: parse or shape error, missing values, undefined values.

    Examples
    --------
    >>> import numpy as np, jacli
    >>> r = jacli.derive("A X B wrt X", A=np.ones((2, 3)), B=np.ones((4, 5)))
    >>> r.formula, r.shape
    ('Bᵀ ⊗ A', (10, 12))
    """
    problem = prepare(source, _bindings(bindings, names), random=random, seed=seed)
    return derive_problem(problem, vec=vec, symbolic=symbolic, max_bytes=max_bytes)


def derive_problem(problem: Problem, *, vec: str = "col", symbolic: bool = False,
                   max_bytes: float | None = None) -> Result:
    if vec not in ("col", "row"):
        raise JacliError(f"--vec is col or row, not {vec!r}")
    blocks = jacobian_blocks(problem, vec)
    p, q = problem.shape
    cols = sum(b.var_shape[0] * b.var_shape[1] for b in blocks)
    result = Result(formula_of(blocks), formula_of(blocks, latex=True), (p * q, cols), blocks,
                    to_text(problem.expr), (p, q), vec, problem=problem)
    if not symbolic:
        require_numbers(problem, blocks)
        result.matrix = evaluate_blocks(problem, blocks, max_bytes=max_bytes)
    return result


def jacobian(source: str, bindings: dict | None = None, /, **kw) -> np.ndarray:
    """The numeric Jacobian d vec(F) / d vec(X) of ``source`` as a float64 array.

    Takes the same arguments as :func:`derive`.

    Examples
    --------
    >>> import numpy as np, jacli
    >>> J = jacli.jacobian("A X B wrt X", A=np.eye(2), B=np.eye(3), X=(2, 3))
    >>> J.shape
    (6, 6)
    """
    options = {k: kw.pop(k) for k in ("vec", "random", "seed", "max_bytes") if k in kw}
    return derive(source, _bindings(bindings, kw), **options).matrix


def _bindings(bindings: dict | None, names: dict) -> dict[str, Binding]:
    merged = dict(bindings or {})
    merged.update(names)
    return {n: to_binding(n, v) for n, v in merged.items()}
