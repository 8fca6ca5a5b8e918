"""Python code on NumPy from a closed form, written by each operator's ``python`` rule.

A rule (in the operator's record, :mod:`jacli.calculus.ops`) gets a :class:`Writer` and the
node, and returns the node's value as a Python expression on NumPy, a 2-D array. It asks
the writer for its arguments' code (``w(arg)``), for sizes (``w.size(n)``: a number, or a
dimension name read from the inputs' shapes when the function runs, so that one function
holds for every size) and for products that keep their structure (``w.product(a, b)``):

* a product with an identity is the other factor;
* K(m,n) M and M K(m,n) permute rows or columns (a reshape and a transpose);
* diag(v) M and M diag(v) scale rows or columns by broadcasting;
* (I ⊗ A) M, (A ⊗ I) M and their mirror images apply A block by block (A ⊗ B with either
  factor structured is (A ⊗ I)(I ⊗ B)); no identity or commutation matrix is multiplied in.

A sub-expression used more than once is computed once, into a local variable: the closed
form is written twice, first to count what each node is asked for. Rules may parenthesise
freely: each statement is tidied by :func:`ast.unparse`.
"""

from __future__ import annotations

import ast
from collections import Counter
from typing import TYPE_CHECKING

from .. import sizes
from ..calculus.ops import REGISTRY
from ..errors import JacliError
from ..expr import Expr, eye, kron
from ..sizes import SizeLike
from ..syntax.printer import to_text

if TYPE_CHECKING:
    from ..calculus.ops.registry import Shape, ShapeOf

# Functions a generated module defines where its code calls them: the structured matrices of
# symmetric variables (jacli.calculus.ops.symmetric), built from index arrays.
HELPERS = {
    "_duplication": '''
def _duplication(n):
    """D(n): D(n) vech(S) = vec(S) for a symmetric S."""
    cols, rows = np.triu_indices(n)
    d = np.zeros((n * n, rows.size))
    d[rows + n * cols, np.arange(rows.size)] = 1.0
    d[cols + n * rows, np.arange(rows.size)] = 1.0
    return d
''',
    "_elimination": '''
def _elimination(n):
    """L(n): L(n) vec(A) = vech(A)."""
    cols, rows = np.triu_indices(n)
    e = np.zeros((rows.size, n * n))
    e[np.arange(rows.size), rows + n * cols] = 1.0
    return e
''',
    "_symmetriser": '''
def _symmetriser(n):
    """N(n) = (I + K(n,n)) / 2."""
    k = np.eye(n * n).reshape(n, n, n * n).transpose(1, 0, 2).reshape(n * n, n * n)
    return 0.5 * (np.eye(n * n) + k)
''',
}

_CHEAP = ("name", "num")  # never worth a local variable (nor their transposes, views)


def size_code(s: SizeLike, dims: dict[str, str]) -> str:
    """A size as Python: ``3``, or ``(m * n)`` over the dimension names' variables."""
    if isinstance(s, int):
        return str(s)
    parts = [] if s.coef == 1 else [str(s.coef)]
    parts += [dims[d] if p == 1 else f"{dims[d]} ** {p}" for d, p in s.factors]
    return "(" + " * ".join(parts) + ")"


MAX_NESTING = 50  # brackets in one statement: Python's parser refuses more than 200


def nesting(code: str) -> int:
    """How deep brackets nest in ``code``."""
    depth = deepest = 0
    for c in code:
        if c in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in ")]}":
            depth -= 1
    return deepest


def tidy(code: str, mode: str = "eval") -> str:
    """A Python expression (or statement) with only the parentheses it needs, and a reshape of
    a reshape made one."""
    return ast.unparse(_Reshapes().visit(ast.parse(code.strip(), mode=mode)))


def _reshape_of(node: ast.AST) -> ast.Attribute | None:
    """The ``a.reshape`` of a call ``a.reshape(...)`` (no keywords), else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "reshape"
        and not node.keywords
    ):
        return node.func
    return None


class _Reshapes(ast.NodeTransformer):
    """``a.reshape(p).reshape(q)`` is ``a.reshape(q)`` (both in row-major order)."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        outer = _reshape_of(node)
        inner = None if outer is None else _reshape_of(outer.value)
        if outer is not None and inner is not None:
            outer.value = inner.value
        return node


def pure(e: Expr) -> bool:
    """Whether ``e`` is an identity, a commutation matrix, a diagonal matrix, or built of them
    (a permutation or a scaling): it is applied, never formed, in a product."""
    if e.op in ("I", "K", "diag"):
        return True
    if e.op == "neg":
        return pure(e.args[0])
    if e.op == "smul":
        return pure(e.args[1])
    return e.op in ("kron", "matmul") and all(pure(a) for a in e.args)


def semi(e: Expr) -> bool:
    """Whether ``e`` has structure to keep in a product: a Kronecker product or a product
    with a structured factor (``I ⊗ A``)."""
    if e.op == "neg":
        return semi(e.args[0])
    if e.op == "smul":
        return semi(e.args[1])
    return e.op in ("kron", "matmul") and any(pure(a) or semi(a) for a in e.args)


class Writer:
    """Writes expressions as NumPy code: statements in ``lines``, the dimension names used in
    ``used``. ``variables`` maps names to Python names, ``dims`` dimension names to Python
    names; ``shared`` are the nodes to compute once (from a first, counting pass)."""

    def __init__(self, shapes: ShapeOf, variables: dict[str, str], dims: dict[str, str], shared: set[Expr]) -> None:
        self.shapes = shapes
        self.variables = variables
        self.dims = dims
        self.shared = shared
        self.counts: Counter[Expr] = Counter()
        self.memo: dict[Expr, str] = {}
        self.lines: list[str] = []
        self.used: set[str] = set()
        self.imports: set[str] = set()  # modules besides NumPy the code needs (scipy.linalg)
        self.helpers: set[str] = set()  # functions of HELPERS the code calls
        self.taken = set(variables.values()) | set(dims.values()) | {"np", "scipy"}
        self._temps = 0

    def __call__(self, e: Expr) -> str:
        """The code of ``e``'s value, parenthesised."""
        self.counts[e] += 1
        got = self.memo.get(e)
        if got is None:
            rule = REGISTRY[e.op].python
            if rule is None:
                raise JacliError(f"cannot write {to_text(e)} as Python code: {e.op} has no NumPy rule")
            got = f"({rule(self, e)})"
            shared = e in self.shared and e.op not in _CHEAP and not (e.op == "T" and e.args[0].op in _CHEAP)
            if shared or nesting(got) > MAX_NESTING:  # a long sum's parentheses would be past Python's limit
                got = self.let(got)
            self.memo[e] = got
        return got

    # -- what rules ask for ---------------------------------------------------------
    def module(self, name: str) -> str:
        """A module the code imports (``scipy.linalg``), by its name."""
        self.imports.add(name)
        return name

    def helper(self, name: str) -> str:
        """A function of :data:`HELPERS` the module defines (``_duplication``), by its name."""
        self.helpers.add(name)
        return name

    def name(self, n: str) -> str:
        return self.variables[n]

    def shape(self, e: Expr) -> Shape:
        return self.shapes(e)

    def size(self, s: SizeLike) -> str:
        """A size as code: ``3``, or ``m * n`` from the dimension names' variables."""
        self.used.update(sizes.names(s))
        return size_code(s, self.dims)

    def scalar(self, e: Expr) -> str:
        """The code of a 1×1 ``e``: a number where it is one, else a 1×1 array (which broadcasts)."""
        return f"({float(e.attr)!r})" if e.op == "num" else self(e)

    def let(self, code: str, count: int = 1) -> str:
        """A statement ``t = code`` (``t1, t2 = code`` for ``count`` values); the name(s), joined by ", "."""
        names: list[str] = []
        while len(names) < count:
            self._temps += 1
            t = f"t{self._temps}"
            if t not in self.taken:
                names.append(t)
        target = ", ".join(names)
        self.lines.append(f"{target} = {tidy(code)}")
        return target

    def kron(self, a: Expr, b: Expr, sign: str = "") -> str:
        """``np.kron(a, b)`` (``-(a ⊗ b)`` as ``np.kron(-a, b)``, with ``sign``), a transposed
        factor made contiguous first: NumPy writes a Kronecker product of a transposed view
        several times slower."""
        codes = [f"np.ascontiguousarray({self(x)})" if x.op == "T" else self(x) for x in (a, b)]
        return f"np.kron({sign}{codes[0]}, {codes[1]})"

    def commutation(self, m: SizeLike, n: SizeLike) -> str:
        """K(m,n) itself: the identity's rows permuted."""
        return self.left(Expr("K", (), (m, n)), f"np.eye({self.size(sizes.mul(m, n))})")

    def product(self, a: Expr, b: Expr) -> str:
        """``a b``, applying a structured factor to the other one rather than forming it."""
        for structured in (pure, semi):
            if structured(a):
                return self.left(a, self(b))
            if structured(b):
                return self.right(self(a), b)
        return f"{self(a)} @ {self(b)}"

    # -- structure --------------------------------------------------------------------
    def _swap_rows(self, m: str, a: SizeLike, b: SizeLike, rows: SizeLike) -> str:
        """M's rows as an a×b grid of row blocks, transposed, then ``rows`` rows."""
        size = self.size
        return f"{m}.reshape({size(a)}, {size(b)}, -1).transpose(1, 0, 2).reshape({size(rows)}, -1)"

    def _swap_cols(self, m: str, a: SizeLike, b: SizeLike, cols: SizeLike) -> str:
        """M's columns as an a×b grid, transposed, then ``cols`` columns."""
        size = self.size
        return f"{m}.reshape(-1, {size(a)}, {size(b)}).transpose(0, 2, 1).reshape(-1, {size(cols)})"

    def _column(self, v: Expr, transposed: bool = False) -> str:
        """A vector's code as a column (a row if ``transposed``), for broadcasting."""
        is_column = self.shape(v)[1] == 1
        return self(v) if is_column != transposed else f"{self(v)}.T"

    def left(self, f: Expr, m: str) -> str:
        """The code of ``f M``, M's code given."""
        if f.op == "I":
            return m
        if f.op == "K":  # row j + n i of K(m,n) M is row i + m j of M
            r, c = f.attr
            return self._swap_rows(m, c, r, sizes.mul(r, c))
        if f.op == "diag":
            return f"{self._column(f.args[0])} * {m}"
        if f.op == "neg":
            return f"-({self.left(f.args[0], m)})"
        if f.op == "smul":
            return f"{self.scalar(f.args[0])} * ({self.left(f.args[1], m)})"
        if f.op == "matmul":
            return self.left(f.args[0], f"({self.left(f.args[1], m)})")
        if f.op == "kron" and (pure(f) or semi(f)):
            return self._left_kron(f, m)
        return f"{self(f)} @ {m}"

    def _left_kron(self, f: Expr, m: str) -> str:
        a, b = f.args
        (pa, qa), (pb, qb) = self.shape(a), self.shape(b)
        if a.op == "I" and b.op == "I":
            return m
        if a.op == "I":  # (I_n ⊗ B) M: B on each block of rows
            n = a.attr
            if pure(b) or semi(b):  # the blocks side by side, B applied to them, and back
                out = self.left(b, f"({self._swap_rows(m, n, qb, qb)})")
                return self._swap_rows(f"({out})", pb, n, sizes.mul(n, pb))
            size = self.size
            return f"({self(b)} @ {m}.reshape({size(n)}, {size(qb)}, -1)).reshape({size(sizes.mul(n, pb))}, -1)"
        if b.op == "I":  # (A ⊗ I_n) M: A applied to M's rows taken n at a time
            out = self.left(a, f"({m}.reshape({self.size(qa)}, -1))")
            return f"({out}).reshape({self.size(sizes.mul(pa, b.attr))}, -1)"
        # A ⊗ B = (A ⊗ I)(I ⊗ B), the mixed-product rule
        return self.left(kron(a, eye(pb)), f"({self.left(kron(eye(qa), b), m)})")

    def right(self, m: str, f: Expr) -> str:
        """The code of ``M f``, M's code given."""
        if f.op == "I":
            return m
        if f.op == "K":  # column i + m j of M K(m,n) is column j + n i of M
            r, c = f.attr
            return self._swap_cols(m, r, c, sizes.mul(r, c))
        if f.op == "diag":
            return f"{m} * {self._column(f.args[0], transposed=True)}"
        if f.op == "neg":
            return f"-({self.right(m, f.args[0])})"
        if f.op == "smul":
            return f"{self.scalar(f.args[0])} * ({self.right(m, f.args[1])})"
        if f.op == "matmul":
            return self.right(f"({self.right(m, f.args[0])})", f.args[1])
        if f.op == "kron" and (pure(f) or semi(f)):
            return self._right_kron(m, f)
        return f"{m} @ {self(f)}"

    def _right_kron(self, m: str, f: Expr) -> str:
        a, b = f.args
        (pa, qa), (pb, qb) = self.shape(a), self.shape(b)
        if a.op == "I" and b.op == "I":
            return m
        if a.op == "I":  # M (I_n ⊗ B): B on M's columns taken pb at a time
            out = self.right(f"({m}.reshape(-1, {self.size(pb)}))", b)
            return f"({out}).reshape(-1, {self.size(sizes.mul(a.attr, qb))})"
        if b.op == "I":  # M (A ⊗ I_n)
            n = b.attr
            if pure(a) or semi(a):
                out = self.right(f"({self._swap_cols(m, pa, n, pa)})", a)
                return self._swap_cols(f"({out})", n, qa, sizes.mul(qa, n))
            size = self.size
            return f"({self(a)}.T @ {m}.reshape(-1, {size(pa)}, {size(n)})).reshape(-1, {size(sizes.mul(qa, n))})"
        return self.right(f"({self.right(m, kron(a, eye(pb)))})", kron(eye(qa), b))
