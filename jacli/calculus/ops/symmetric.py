"""Symmetric matrices: vech, the duplication, elimination and symmetriser matrices (M&N ch. 3).

vech(A) stacks the entries on and below the diagonal of a square A by columns, n(n+1)/2 of
them. The duplication matrix D(n) makes vec of a symmetric S from vech(S),
D(n) vech(S) = vec(S); the elimination matrix L(n) takes vech(A) from vec(A),
L(n) vec(A) = vech(A); N(n) = (I(n²) + K(n,n)) / 2 makes vec of the symmetric part. Like
K, the three are builtins only where called with their size: a matrix may be called D, L
or N. A variable declared symmetric has one column of J per entry of vech(S): J = J_vec D(n).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import sizes
from ...expr import Expr, T
from ...syntax.notation import Builtin, Notation
from .registry import CodeWriter, Op, Printer, Shape, ShapeOf, Unifier, linear, register


def lower_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The (row, column) of each entry of vech, in order: column j, rows j..n-1."""
    cols, rows = np.triu_indices(n)  # (j, i) with i ≥ j, ordered by j then i
    return rows, cols


def duplication(n: int) -> np.ndarray:
    """D(n), n²×n(n+1)/2: column k has ones at vec positions (i, j) and (j, i)."""
    rows, cols = lower_pairs(n)
    d = np.zeros((n * n, len(rows)))
    k = np.arange(len(rows))
    d[rows + n * cols, k] = 1.0
    d[cols + n * rows, k] = 1.0
    return d


def elimination(n: int) -> np.ndarray:
    """L(n), n(n+1)/2×n²: row k picks vec position (i, j) with i ≥ j."""
    rows, cols = lower_pairs(n)
    e = np.zeros((len(rows), n * n))
    e[np.arange(len(rows)), rows + n * cols] = 1.0
    return e


def symmetriser(n: int) -> np.ndarray:
    """N(n) = (I(n²) + K(n,n)) / 2."""
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    k = np.zeros((n * n, n * n))
    k[(j + n * i).ravel(), (i + n * j).ravel()] = 1.0
    return 0.5 * (np.eye(n * n) + k)


def _tri(u: Unifier, n: Any) -> Any:
    try:
        return sizes.tri(n)
    except ValueError as err:
        u.fail(str(err))
        return None


def _sized(shape: Any) -> Any:
    def rule(u: Unifier, node: Expr) -> Shape:
        n = node.attr
        got: Shape = shape(u, n)
        return got

    return rule


def _builtin_text(letter: str) -> Any:
    def render(p: Printer, e: Expr) -> str:
        return f"{letter}_{{{p.size(e.attr)}}}" if p.latex else f"{letter}({p.size(e.attr)})"

    return render


_HELPERS = {
    "D": "_duplication",
    "L": "_elimination",
    "N": "_symmetriser",
}


def _builtin_code(letter: str) -> Any:
    def code(w: CodeWriter, e: Expr) -> str:
        return f"{w.helper(_HELPERS[letter])}({w.size(e.attr)})"

    return code


for letter, shape, value, what in (
    ("D", lambda u, n: (n * n, _tri(u, n)), duplication, "the duplication matrix, D(n) vech(S) = vec(S)"),
    ("L", lambda u, n: (_tri(u, n), n * n), elimination, "the elimination matrix, L(n) vec(A) = vech(A)"),
    ("N", lambda u, n: (n * n, n * n), symmetriser, "N(n) = (I + K(n,n)) / 2, vec of the symmetric part"),
):
    register(
        Op(
            letter,
            0,
            _sized(shape),
            value=lambda node, v=value: v(node.attr),
            notation=Notation(builtin=Builtin(False, (1,), f"{letter}(3)", named=True), render=_builtin_text(letter)),
            transposed=(lambda e: e) if letter == "N" else None,
            cite=f"{what} (M&N ch. 3)",
            python=_builtin_code(letter),
        )
    )


# -- vech ------------------------------------------------------------------------------------
def _vech_shape(u: Unifier, node: Expr, a: Shape) -> Shape:
    u.same(a[0], a[1], lambda: f"vech needs a square matrix, got {u.show(a)}")
    n = u.known(a[0])
    if n is None:
        u.defer("give the shape of the matrix vech is taken of")
        return (None, 1)
    return (_tri(u, n), 1)


def _vech_value(node: Expr, a: np.ndarray) -> np.ndarray:
    rows, cols = lower_pairs(a.shape[-1])
    return np.asarray(a[..., rows, cols][..., None])


def _vech_adjoint(node: Expr, g: Expr, sh: ShapeOf) -> Expr:
    # ⟨ḡ, vech(dA)⟩ = ⟨L(n)ᵀ ḡ, vec(dA)⟩: ḡ put in the lower triangle
    return Expr("unvech", (g,))


def _vech_code(w: CodeWriter, e: Expr) -> str:
    a = w(e.args[0])
    return f"{a}.T[np.triu_indices({a}.shape[0])].reshape(-1, 1)"


register(
    Op(
        "vech",
        1,
        _vech_shape,
        value=_vech_value,
        differential=linear,
        kronecker=(lambda node, sh: Expr("L", (), sh(node.args[0])[0]),),
        adjoint=(_vech_adjoint,),
        notation=Notation(call="vech", latex=r"\operatorname{vech}"),
        cite="linear; vech (M&N ch. 3)",
        python=_vech_code,
    )
)


# -- unvech: the lower triangular matrix of a vech, vech's adjoint -------------------------------
def _side(u: Unifier, k: Any) -> Any:
    """n with n(n+1)/2 = k, where there is one."""
    if isinstance(k, int):
        n = int((np.sqrt(8 * k + 1) - 1) / 2 + 0.5)
        if n * (n + 1) // 2 == k:
            return n
    elif isinstance(k, sizes.Size) and len(k.factors) == 1 and k.coef == 1 and k.factors[0][1] == 1:
        name = k.factors[0][0]
        if name.endswith("+1)/2"):
            return sizes.dim(name.split("(")[0])
    u.fail(f"unvech needs a column of n(n+1)/2 entries, not {sizes.text(k)}")
    return None


def _unvech_shape(u: Unifier, node: Expr, a: Shape) -> Shape:
    u.same(a[1], 1, lambda: f"unvech needs a column, got {u.show(a)}")
    k = u.known(a[0])
    if k is None:
        u.defer("give the length of the column unvech is taken of")
        return (None, None)
    n = _side(u, k)
    return (n, n)


def _unvech_value(node: Expr, v: np.ndarray) -> np.ndarray:
    k = v.shape[-2]
    n = int((np.sqrt(8 * k + 1) - 1) / 2 + 0.5)
    rows, cols = lower_pairs(n)
    out = np.zeros(v.shape[:-2] + (n, n), dtype=v.dtype)
    out[..., rows, cols] = v[..., :, 0]
    return out


def _unvech_code(w: CodeWriter, e: Expr) -> str:
    v = w(e.args[0])
    n = w.let(f"int(round((8 * {v}.size + 1) ** 0.5 - 1) // 2)")
    m = w.let(f"np.zeros(({n}, {n}))")
    w.let(f"{m}.T.__setitem__(np.triu_indices({n}), {v}.reshape(-1))")
    return m


register(
    Op(
        "unvech",
        1,
        _unvech_shape,
        value=_unvech_value,
        differential=linear,
        kronecker=(lambda node, sh: T(Expr("L", (), sh(node)[0])),),
        adjoint=(lambda node, g, sh: Expr("vech", (g,)),),
        notation=Notation(call="unvech", latex=r"\operatorname{unvech}"),
        cite="linear; vech's inverse on lower triangular matrices (M&N ch. 3)",
        python=_unvech_code,
    )
)
