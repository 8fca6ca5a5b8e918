"""The adjugate and its derivatives of every order, from the derivatives of the determinant.

adj(X) is the transposed matrix of cofactors, Cᵢⱼ = ∂ det(X) / ∂Xᵢⱼ: a polynomial in X's
entries, of degree n-1, defined at every X, singular or not. So are its derivatives: the
k-th derivative of det at X along E₁, …, E_k is a sum of signed minors of order n-k,

    ∂ᵏ det(X) / ∂X_{p₁q₁} ⋯ ∂X_{p_k q_k} = (-1)^{Σp+Σq} sgn(p) sgn(q) det(X without rows p, columns q)

(rows p₁, …, p_k distinct, columns q₁, …, q_k distinct, sgn the sign of sorting the tuple; 0
otherwise: the Laplace expansion; M&N ch. 8 for the first order). Two records carry them,
as ``frechet`` and ``dform`` carry a matrix function's (:mod:`.functions`):

* ``dadj(X, W)``: the k-th derivative of adj at X along E₁, …, E_k where W = E₁ ⊗ ⋯ ⊗ E_k,
  extended linearly to every n^k × n^k matrix W (the derivative is symmetric and
  multilinear in the Eᵢ, so it is linear in their Kronecker product). d adj(X) = dadj(X, dX);
  d dadj(X, W) = dadj(X, dW) + dadj(X, W ⊗ dX), and the order follows from W's size. Its
  adjoint in W is dadj(Xᵀ, Ḡ) at the first order (⟨Ḡ, dadj(X, E)⟩ is the second derivative
  of det along Ḡᵀ and E, symmetric), the Kronecker form transposed above.
* ``Dadj(X)``, ``Dadj(X, k)``: its Kronecker form, vec(dadj(X, W)) = Dadj(X, k) vec(W), the
  n² × n^2k matrix of the (k+1)-th derivatives of det; ``Dadj(X)`` is the Jacobian of adj.
  Its differential is Dadj(X, k+1) (I ⊗ K(n, n^k) ⊗ I)(I ⊗ vec(dX)), from vec(W ⊗ dX).

No rule divides by det(X) or inverts X. The minors are computed exactly, in integers (a
float is a dyadic rational), and rounded once up to 6×6 (so adj, J, the Hessian of det and
dadj(X, E) are correctly rounded whatever X's conditioning); by LU factorisations of the
minors up to 16×16; by the SVD X = U S Vᴴ above, where the derivatives at the diagonal S are
products of singular values. Every path keeps the derivatives' symmetries exactly (the
Hessian of det is symmetric to the last bit, 0 where a row or a column repeats).
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np

from ... import sizes
from ...errors import JacliError
from ...expr import Expr, T, comm, eye, kron, matmul, vec
from ...syntax.notation import Notation
from .linear import unvec
from .registry import CodeWriter, Differentials, Op, Shape, ShapeOf, Unifier, plus, register, square

EXACT_UP_TO = 6  # sizes whose derivatives of det are computed in integers, rounded once
MINORS_UP_TO = 16  # sizes whose derivatives of det are minors by LU; the SVD above
MAX_ENTRIES = 2**27  # the largest tensor of derivatives formed (1 GiB of float64)


# -- the derivatives of det ---------------------------------------------------------------
def _sign(t: tuple[int, ...]) -> int:
    """The sign of the permutation that sorts the distinct integers ``t``."""
    inversions = sum(a > b for i, a in enumerate(t) for b in t[i + 1 :])
    return -1 if inversions % 2 else 1


@functools.lru_cache(maxsize=64)
def _layout(n: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The k-subsets of range(n) (sorted, as complements: the rows a minor keeps), and for
    each ordered k-tuple of distinct indices: the tuple, its subset, and its sign
    (-1)^Σ sgn (the product of a row's and a column's is a derivative's sign)."""
    subsets = list(itertools.combinations(range(n), k))
    where = {s: i for i, s in enumerate(subsets)}
    kept = np.array([[i for i in range(n) if i not in s] for s in subsets], dtype=np.intp).reshape(len(subsets), n - k)
    tuples = list(itertools.permutations(range(n), k))
    subset = np.array([where[tuple(sorted(t))] for t in tuples], dtype=np.intp)
    sign = np.array([_sign(t) * (-1) ** sum(t) for t in tuples], dtype=float)
    return kept, np.array(tuples, dtype=np.intp).reshape(len(tuples), k), subset, sign


def _integers(x: np.ndarray) -> tuple[list[list[int]], int]:
    """X as integers over one power of 2 (a float is a dyadic rational): (X·den, den)."""
    ratios = [v.as_integer_ratio() for v in x.ravel().tolist()]
    den = max(d for _, d in ratios)
    flat = [num * (den // d) for num, d in ratios]
    cols = x.shape[-1]
    return [flat[i : i + cols] for i in range(0, len(flat), cols)], den


def _exact_minors(x: np.ndarray, kept: np.ndarray) -> tuple[list[list[int]], int]:
    """det(X[R, C]) for every pair of row and column sets in ``kept``, in integers: the
    minors of X·den, by the Laplace expansion along each set's first row, every smaller minor
    once; and den^size, what they are over."""
    n, size = x.shape[-1], kept.shape[1]
    xi, den = _integers(x)
    level: dict[tuple[int, int], int] = {(0, 0): 1}
    for s in range(1, size + 1):  # minors of s rows and s columns, by bit masks
        nxt = {}
        for rows in itertools.combinations(range(n), s):
            r0, rest = rows[0], sum(1 << r for r in rows[1:])
            for cols in itertools.combinations(range(n), s):
                mask = sum(1 << c for c in cols)
                nxt[(rest | 1 << r0, mask)] = sum(
                    (-1) ** j * xi[r0][c] * level[(rest, mask & ~(1 << c))] for j, c in enumerate(cols) if xi[r0][c]
                )
        level = nxt
    masks = [sum(1 << i for i in r) for r in kept.tolist()]
    return [[level[(r, c)] for c in masks] for r in masks], den**size


def _rounded(num: int, den: int) -> float:
    """num / den correctly rounded (Python divides integers so), ±inf past the largest float."""
    try:
        return num / den
    except OverflowError:
        return math.inf if num > 0 else -math.inf


def _real(x: np.ndarray) -> bool:
    return x.dtype == np.float64 and bool(np.all(np.isfinite(x)))


def _exact(x: np.ndarray) -> bool:
    """Whether X's minors are computed exactly: a real float64 X, finite, up to 6×6."""
    return x.shape[-1] <= EXACT_UP_TO and _real(x)


def _minors(x: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """det(X[R, C]) for every pair of row and column sets in ``kept``, batched: exact and
    rounded once, or by LU."""
    if kept.shape[1] == 0:
        return np.ones(x.shape[:-2] + (len(kept), len(kept)), dtype=x.dtype)
    if _exact(x):
        out = []
        for one in x.reshape((-1,) + x.shape[-2:]):
            minors, scale = _exact_minors(one, kept)
            out.append([[_rounded(m, scale) for m in row] for row in minors])
        return np.array(out, dtype=float).reshape(x.shape[:-2] + (len(kept),) * 2)
    return np.asarray(np.linalg.det(x[..., kept[:, None, :, None], kept[None, :, None, :]]))


def _exact_dadj(x: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """dadj(X, W) for one real X and W, summed in integers and rounded once:
    Σ ± minor(rows a p, columns b q) W[p, q] into entry (b, a)."""
    n = x.shape[-1]
    kept, tuples, subset, sign = _layout(n, k + 1)
    minors, scale = _exact_minors(x, kept) if n > k + 1 else ([[1]], 1)
    wi, den = _integers(w)
    place = [sum(int(t) * n ** (k - 1 - j) for j, t in enumerate(row[1:])) for row in tuples.tolist()]
    acc = [[0] * n for _ in range(n)]
    for i, p in enumerate(tuples[:, 0].tolist()):
        for j, q in enumerate(tuples[:, 0].tolist()):
            entry = wi[place[i]][place[j]]
            if entry:
                acc[q][p] += int(sign[i] * sign[j]) * minors[subset[i]][subset[j]] * entry
    return np.array([[_rounded(v, scale * den) for v in row] for row in acc])


def _check_size(n: int, order: int) -> None:
    if n ** (2 * order) > MAX_ENTRIES:
        raise JacliError(
            f"the derivatives of order {order} of det at a {n}×{n} matrix have {n ** (2 * order):,} entries, "
            f"more than jacli forms ({MAX_ENTRIES:,})"
        )


def det_derivatives(x: np.ndarray, order: int) -> np.ndarray:
    """T[..., p₁, q₁, …, p_k, q_k] = ∂ᵏ det(X) / ∂X_{p₁q₁} ⋯ ∂X_{p_k q_k} (k = ``order``), batched."""
    n = x.shape[-1]
    _check_size(n, order)
    out = np.zeros(x.shape[:-2] + (n,) * (2 * order), dtype=x.dtype)
    if order > n:
        return out  # det has degree n
    if n > MINORS_UP_TO:
        return _svd_derivatives(x, order)
    kept, tuples, subset, sign = _layout(n, order)
    m = _minors(x, kept)
    values = sign[:, None] * sign[None, :] * m[..., subset[:, None], subset[None, :]]
    index: list[Any] = [Ellipsis]  # p₁, q₁, …: each row tuple against each column tuple
    for j in range(order):
        index += [tuples[:, j][:, None], tuples[:, j][None, :]]
    out[tuple(index)] = values
    return out


def _svd_derivatives(x: np.ndarray, order: int) -> np.ndarray:
    """The same from X = U S Vᴴ: det(X + E) = det(U) det(Vᴴ) det(S + Uᴴ E V), and at the
    diagonal S a derivative is ±Π of the singular values off its rows (which must be its
    columns); then each row axis takes conj(U), each column axis V."""
    flat = x.reshape((-1,) + x.shape[-2:])
    return np.stack([_svd_one(one, order) for one in flat]).reshape(x.shape[:-2] + (x.shape[-1],) * (2 * order))


def _svd_one(x: np.ndarray, order: int) -> np.ndarray:
    n = x.shape[-1]
    u, s, vh = np.linalg.svd(x)
    t = np.zeros((n,) * (2 * order), dtype=np.result_type(x, float))
    for rows in itertools.combinations(range(n), order):
        rest = np.prod(np.delete(s, rows))
        for p in itertools.permutations(rows):
            for q in itertools.permutations(rows):
                t[tuple(a for pair in zip(p, q, strict=True) for a in pair)] = _sign(p) * _sign(q) * rest
    for axis in range(2 * order):
        factor = u.conj() if axis % 2 == 0 else vh.conj().T
        t = np.moveaxis(np.tensordot(factor, t, axes=(1, axis)), 0, axis)
    return _symmetric(np.linalg.det(u) * np.linalg.det(vh) * t, order)


def _symmetric(t: np.ndarray, order: int) -> np.ndarray:
    """T with its symmetries exact, as the minors give them: 0 where a row or a column repeats,
    and equal under any reordering of the pairs (p, q) (each entry the sum of its orbit, its
    terms sorted, so that every entry of an orbit sums the same numbers in the same order)."""
    n = t.shape[-1]
    same = np.equal.outer(np.arange(n), np.arange(n))
    for a, b in itertools.combinations(range(2 * order), 2):
        if a % 2 == b % 2:  # two row axes or two column axes
            shape = [1] * (2 * order)
            shape[a] = shape[b] = n
            t = np.where(same.reshape(shape), 0, t)
    if order == 1:
        return t
    orbit = [t.transpose([2 * i + j for i in perm for j in (0, 1)]) for perm in itertools.permutations(range(order))]
    return np.asarray(np.sort(np.stack(orbit), axis=0).sum(axis=0) / len(orbit))


# -- values ---------------------------------------------------------------------------------
def _adj_value(node: Expr, a: np.ndarray) -> np.ndarray:
    """adj(X) = Cᵀ, C the cofactors; past 16×16 from the SVD X = U S Vᴴ:
    adj(X) = det(U) det(Vᴴ) V adj(S) Uᴴ with adj(S)ᵢᵢ = Π_{j≠i} sⱼ."""
    n = a.shape[-1]
    if n <= MINORS_UP_TO:
        return np.swapaxes(det_derivatives(a, 1), -1, -2)
    u, s, vh = np.linalg.svd(a)
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], axis=-1)
    scale = (np.linalg.det(u) * np.linalg.det(vh))[..., None, None]
    return np.asarray(scale * np.swapaxes(vh, -1, -2).conj() @ (others[..., :, None] * np.swapaxes(u, -1, -2).conj()))


def _dadj_svd(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The first derivative from X = U S Vᴴ, in O(n³): dadj(X, E) = det(U) det(Vᴴ) V dadj(S, F) Uᴴ
    with F = Uᴴ E V, and at the diagonal S, dadj(S, F) = diag(R diag(F)) - R ∘ F where
    Rᵢⱼ = Π_{k≠i,j} s_k off the diagonal and 0 on it."""
    n = x.shape[-1]
    u, s, vh = np.linalg.svd(x)
    v = np.swapaxes(vh, -1, -2).conj()
    f = np.swapaxes(u, -1, -2).conj() @ e @ v
    off = np.eye(n, dtype=bool)
    skip = off[:, None, :] | off[None, :, :]  # k = i or k = j
    r = np.where(off, 0.0, np.prod(np.where(skip, 1.0, s[..., None, None, :]), axis=-1))
    diagonal = np.einsum("...ij,...jj->...i", r, f)
    at_s = -r * f + diagonal[..., :, None] * np.eye(n)
    scale = (np.linalg.det(u) * np.linalg.det(vh))[..., None, None]
    return np.asarray(scale * v @ at_s @ np.swapaxes(u, -1, -2).conj())


def _dadj_value(node: Expr, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    n = x.shape[-1]
    k = order_of(n, w.shape[-1])
    if k == 1 and n > MINORS_UP_TO:
        return _dadj_svd(x, w)
    if k < n and _exact(x) and _real(w):
        batch = np.broadcast_shapes(x.shape[:-2], w.shape[:-2])
        xs = np.broadcast_to(x, batch + x.shape[-2:]).reshape((-1,) + x.shape[-2:])
        ws = np.broadcast_to(w, batch + w.shape[-2:]).reshape((-1,) + w.shape[-2:])
        return np.stack([_exact_dadj(a, b, k) for a, b in zip(xs, ws, strict=True)]).reshape(batch + (n, n))
    t = det_derivatives(x, k + 1)  # axes a, b, p₁, q₁, …: dadj(X, W)_ba = Σ T[a, b, p, q] W[p, q]
    wt = w.reshape(w.shape[:-2] + (n,) * (2 * k))  # W's axes p₁ … p_k, q₁ … q_k (Kronecker order)
    ps, qs = list(range(2, 2 * k + 2, 2)), list(range(3, 2 * k + 3, 2))
    return np.asarray(np.einsum(t, [..., 0, 1, *range(2, 2 * k + 2)], wt, [..., *ps, *qs], [..., 1, 0]))


def _jacobian_value(node: Expr, x: np.ndarray) -> np.ndarray:
    """Dadj(X, k): rows vec(adj) (b + n a), columns vec(W) (r + n^k c, r the p's, c the q's)."""
    n, k = x.shape[-1], order(node)
    t = det_derivatives(x, k + 1)
    batch = t.ndim - 2 * k - 2
    axes = (0, 1, *range(3, 2 * k + 2, 2), *range(2, 2 * k + 2, 2))  # a, b, q₁ … q_k, p₁ … p_k
    t = t.transpose(*range(batch), *(batch + a for a in axes))
    return np.asarray(t.reshape(x.shape[:-2] + (n * n, n ** (2 * k))))


# -- orders and shapes ----------------------------------------------------------------------
def order_of(n: Any, rows: Any) -> int:
    """k with rows = n^k (k ≥ 1; 1 where n is 1, the adjugate of a 1×1 matrix being constant), or 0."""
    if n == 1:
        return 1 if rows == 1 else 0
    k = 0
    while rows != 1:
        rows = sizes.div(rows, n)
        if rows is None:
            return 0
        k += 1
    return k


def order(node: Expr) -> int:
    """The order of Dadj(X, k): ``Dadj(X)`` is the first."""
    return max(1, int(node.attr or 0))


def _dadj_shape(u: Unifier, node: Expr, x: Shape, w: Shape) -> Shape:
    u.same(x[0], x[1], lambda: f"dadj needs a square matrix, got {u.show(x)}")
    n, rows = u.known(x[0]), u.known(w[0])
    if n is None or rows is None:
        u.defer()  # when nothing more is known: a direction of X's shape
        u.same(w[0], x[0], lambda: f"dadj needs a direction of its matrix's shape, got {u.show(x)} and {u.show(w)}")
    elif order_of(n, rows) == 0:
        u.fail(f"dadj needs a direction of its matrix's shape, or Kronecker products of such: {u.show(x)}, {u.show(w)}")
    u.same(w[0], w[1], lambda: f"dadj needs a square direction, got {u.show(w)}")
    return x


def _jacobian_shape(u: Unifier, node: Expr, x: Shape) -> Shape:
    u.same(x[0], x[1], lambda: f"Dadj needs a square matrix, got {u.show(x)}")
    if node.attr is not None and node.attr < 0:
        u.fail(f"Dadj(X, k) needs an order k ≥ 1, got {node.attr}")
    nn = u.mul(x[0], x[1], node)
    cols = nn
    for _ in range(order(node) - 1):
        cols = u.mul(cols, nn, node)
    return (nn, cols)


# -- rules ----------------------------------------------------------------------------------
def _jacobian(x: Expr, k: int) -> Expr:
    return Expr("Dadj", (x,), 0 if k == 1 else k)


def _adj_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # d adj(X) = dadj(X, dX); adj of a 1×1 matrix is 1
    if d[0] is None or sh(node.args[0])[0] == 1:
        return None
    return Expr("dadj", (node.args[0], d[0]))


def _dadj_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # d dadj(X, W) = dadj(X, dW) + dadj(X, W ⊗ dX): W ⊗ dX is one more direction
    x, w = node.args
    return plus(
        None if d[1] is None else Expr("dadj", (x, d[1])),
        None if d[0] is None else Expr("dadj", (x, kron(w, d[0]))),
    )


def _spread(n: Any, k: int) -> Expr:
    """P with vec(W ⊗ F) = P (vec(W) ⊗ vec(F)) for W n^k × n^k, F n×n (M&N ch. 3)."""
    nk = sizes.product([n] * k)
    return kron(kron(eye(nk), comm(n, nk)), eye(n))


def _jacobian_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # vec dadj(X, W ⊗ F) = Dadj(X, k+1) P (vec(W) ⊗ vec(F)) = Dadj(X, k+1) P (I ⊗ vec(F)) vec(W)
    x, k = node.args[0], order(node)
    if d[0] is None:
        return None
    n = sh(x)[0]
    nk = sizes.product([n] * k)
    return matmul(matmul(_jacobian(x, k + 1), _spread(n, k)), kron(eye(nk * nk), vec(d[0])))


def _dadj_kronecker(node: Expr, sh: ShapeOf) -> Expr:
    x, w = node.args
    return _jacobian(x, order_of(sh(x)[0], sh(w)[0]))


def _dadj_adjoint(node: Expr, g: Expr, sh: ShapeOf) -> Expr:
    # first order: ⟨Ḡ, dadj(X, E)⟩ = ⟨dadj(Xᵀ, Ḡ), E⟩; above, the Kronecker form transposed
    x, w = node.args
    k = order_of(sh(x)[0], sh(w)[0])
    if k == 1:
        return Expr("dadj", (T(x), g))
    return unvec(matmul(T(_jacobian(x, k)), vec(g)), sh(w)[0])


# -- Python code ------------------------------------------------------------------------------
def _adj_code(w: CodeWriter, e: Expr) -> str:
    # from the SVD, as _adj_value does past 16×16: defined where X is singular too
    u, s, vh = w.let(f"np.linalg.svd({w(e.args[0])})", 3).split(", ")
    others = f"np.prod(np.where(np.eye({s}.size, dtype=bool), 1.0, {s}), axis=1)"  # Π_{j≠i} sⱼ
    return f"np.linalg.det({u}) * np.linalg.det({vh}) * ({vh}.T * {others}) @ {u}.T"


def _derivatives_code(w: CodeWriter, x: str, k: int | str) -> str:
    """Dadj(X, k) as NumPy code (k, the order, a number or the code of one): every signed
    minor, its row and column indices as (k+1)-tuples; sgn(t) is the determinant of the
    permutation matrix sorting t."""
    n = w.let(f"{x}.shape[0]")
    m = str(k + 1) if isinstance(k, int) else w.let(f"{k} + 1")
    sign = "np.linalg.det(np.eye({m})[np.argsort({t})])".format
    keep = "[_i for _i in range({n}) if _i not in {t}]".format
    minor = f"np.linalg.det({x}[np.ix_({keep(n=n, t='_p')}, {keep(n=n, t='_q')})])"
    entry = f"{sign(m=m, t='_p')} * {sign(m=m, t='_q')} * (-1.0) ** (sum(_p) + sum(_q)) * {minor}"
    rows, cols = (f"np.ndindex(({n},) * {m})" for _ in "pq")
    distinct = f"len(set(_p)) == len(set(_q)) == {m}"
    table = w.let(f"np.array([[{entry} if {distinct} else 0.0 for _q in {cols}] for _p in {rows}])")
    axes = f"[0, {m}, *range({m} + 1, 2 * {m}), *range(1, {m})]"  # a, b, q₁ … q_k, p₁ … p_k
    return f"{table}.reshape(({n},) * (2 * {m})).transpose({axes}).reshape({n} ** 2, -1)"


def _dadj_code(w: CodeWriter, e: Expr) -> str:
    x, d = w(e.args[0]), w(e.args[1])
    k = w.let(f"1 if {x}.shape[0] == 1 else round(np.log({d}.shape[0]) / np.log({x}.shape[0]))")  # W is n^k × n^k
    return f"({_derivatives_code(w, x, k)} @ {d}.reshape(-1, order='F')).reshape({x}.shape, order='F')"


# -- the records ----------------------------------------------------------------------------
# adj(X) = Cᵀ, X adj(X) = det(X) I; d adj(X) = dadj(X, dX)   (M&N ch. 8, the adjoint matrix X#)
register(
    Op(
        "adj",
        1,
        square("adj", "matrix"),
        value=_adj_value,
        differential=_adj_differential,
        notation=Notation(call="adj", latex=r"\operatorname{adj}"),
        cite="the adjugate, the cofactors' transpose; M&N ch. 8",
        python=_adj_code,
    )
)
register(
    Op(
        "dadj",
        2,
        _dadj_shape,
        value=_dadj_value,
        differential=_dadj_differential,
        kronecker=(None, _dadj_kronecker),
        adjoint=(None, _dadj_adjoint),
        notation=Notation(call="dadj", latex=r"\operatorname{d\,adj}"),
        transposed=lambda e: Expr("dadj", (T(e.args[0]), T(e.args[1]))),
        cite="the derivatives of adj: signed minors of X (the Laplace expansion; M&N ch. 8)",
        python=_dadj_code,
    )
)
register(
    Op(
        "Dadj",
        1,
        _jacobian_shape,
        value=_jacobian_value,
        differential=_jacobian_differential,
        notation=Notation(call="Dadj", latex=r"\mathsf{D}\operatorname{adj}", attr="offset"),
        cite="the Kronecker form of dadj: derivatives of det of one order more (M&N ch. 3, vec of a Kronecker product)",
        python=lambda w, e: _derivatives_code(w, w(e.args[0]), order(e)),
    )
)
