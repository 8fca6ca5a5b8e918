"""Matrix functions (expm), their Fréchet derivatives and the Kronecker forms of those.

A primary matrix function f has the Fréchet derivative L_f(X, E), linear in E, with
f([X, E; 0, X]) = [f(X), L_f(X, E); 0, f(X)] (Higham, *Functions of Matrices*, Thm 3.6), so
d f(X) = L_f(X, dX): the record of f gives only its value and this differential. Two records
serve every such f (its name is their ``attr``):

* ``frechet``: L_f(X, E), written ``dexpm(X, E)`` (LaTeX L_{expm}(X, E)). Linear in E, with
  the Kronecker form below and the adjoint L_f(Xᵀ, Ḡ), since ⟨Ḡ, L_f(X, E)⟩ = ⟨L_f(Xᵀ, Ḡ), E⟩
  for a primary function (Higham, ch. 3); its own differential is a block of L_f of the
  block matrix, so every order follows.
* ``dform``: K_f(X) with vec(L_f(X, E)) = K_f(X) vec(E), written ``Dexpm(X)`` (M&N's D F):
  the Jacobian of f(X). K_f(X) is the top right block of f([Xᵀ ⊗ I, I; 0, I ⊗ X]) (the same
  theorem, for the commuting Xᵀ ⊗ I and I ⊗ X); its value is computed column by column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import JacliError
from ...expr import Expr, T, eye, kron, name, zeros
from ...syntax.notation import Notation, notation
from ...syntax.printer import to_text
from .blocks import block, hcat, vcat
from .registry import CodeWriter, Differentials, Op, Printer, ShapeOf, Unifier, describe, register, square
from .spectral import expm_differences, kronecker_form

# f's value as Python code on the argument's code: what the code writer imports it from
_CODE = {
    "expm": ("scipy.linalg", "scipy.linalg.expm({})"),
    "logm": ("scipy.linalg", "scipy.linalg.logm({})"),
    "sqrtm": ("scipy.linalg", "scipy.linalg.sqrtm({})"),
}
# L_f(X, I) = f'(X), the scalar derivative applied to X (Higham, ch. 3)
AT_IDENTITY = {"expm": lambda x: Expr("expm", (x,)), "logm": lambda x: Expr("inv", (x,))}


def _function_value(f: str, z: np.ndarray) -> np.ndarray:
    from .registry import REGISTRY

    rule = REGISTRY[f].value
    if rule is None:
        raise ValueError(f"{f} has no value rule")
    return np.asarray(rule(Expr(f, (name("Z"),)), z))


def _upper(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The block matrices [X, E; 0, X], batched."""
    n = x.shape[-1]
    batch = np.broadcast_shapes(x.shape[:-2], e.shape[:-2])
    z = np.zeros(batch + (2 * n, 2 * n), dtype=np.result_type(x, e))
    z[..., :n, :n] = x
    z[..., n:, n:] = x
    z[..., :n, n:] = e
    return z


def _frechet_value(node: Expr, x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """L_f(X, E): for expm of real matrices, SciPy's expm_frechet (Al-Mohy and Higham, about
    three exponentials' work); otherwise the top right block of f([X, E; 0, X])."""
    if node.attr == "expm" and x.ndim == e.ndim == 2 and np.isrealobj(x) and np.isrealobj(e):
        import scipy.linalg

        return np.asarray(scipy.linalg.expm_frechet(x, e, compute_expm=False, check_finite=False))
    n = x.shape[-1]
    return _function_value(node.attr, _upper(x, e))[..., :n, n:]


COLUMNS_AT_ONCE = 256  # Fréchet derivatives computed together for a Kronecker form


# f whose Kronecker form comes from the eigendecomposition where it is well conditioned
SPECTRAL = {"expm": expm_differences}
# f whose inverse function g has a faster Kronecker form: K_f(X) = K_g(f(X))⁻¹ (g(f(X)) = X)
INVERSE_OF = {"logm": "expm"}


def _dform_value(node: Expr, x: np.ndarray) -> np.ndarray:
    """K_f(X), column k being vec(L_f(X, E_k)) for the unit E_k with vec(E_k) = e_k (for
    logm, the inverse of expm's at logm(X): expm's columns are computed together)."""
    differences = SPECTRAL.get(node.attr)
    if differences is not None and x.ndim == 2:
        k = kronecker_form(x, differences)
        if k is not None:
            return k
    g = INVERSE_OF.get(node.attr)
    if g is not None:
        k = _dform_value(Expr("dform", node.args, g), _function_value(node.attr, x))
        return np.asarray(np.linalg.inv(k))
    n = x.shape[-1]
    out = np.empty(x.shape[:-2] + (n * n, n * n), dtype=x.dtype)
    for start in range(0, n * n, COLUMNS_AT_ONCE):
        k = np.arange(start, min(start + COLUMNS_AT_ONCE, n * n))
        e = np.zeros((len(k), n, n), dtype=x.dtype)
        e[np.arange(len(k)), k % n, k // n] = 1.0
        got = _frechet_value(node, x[..., None, :, :], e)  # (..., k, n, n)
        out[..., :, k] = np.swapaxes(np.swapaxes(got, -1, -2).reshape(got.shape[:-2] + (n * n,)), -1, -2)
    return out


def _differentials(node: Expr, d: Differentials, sh: ShapeOf) -> tuple[Expr, ...]:
    return tuple(x if x is not None else zeros(*sh(a)) for x, a in zip(d, node.args))


def _frechet_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # L_f(X, E) = f([X, E; 0, X])₁₂, so d L_f(X, E) = L_f([X, E; 0, X], [dX, dE; 0, dX])₁₂
    if all(x is None for x in d):
        return None
    if d[0] is None and d[1] is not None:  # linear in E
        return Expr("frechet", (node.args[0], d[1]), node.attr)
    (x, e), (dx, de) = node.args, _differentials(node, d, sh)
    n = sh(x)[0]
    big = vcat(hcat(x, e), hcat(zeros(n, n), x))
    dbig = vcat(hcat(dx, de), hcat(zeros(n, n), dx))
    return block(Expr("frechet", (big, dbig), node.attr), 0, n, n, None)


def _dform_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # K_f(X) = f(W)₁₂ with W = [Xᵀ ⊗ I, I; 0, I ⊗ X], so d K_f(X) = L_f(W, [dXᵀ ⊗ I, 0; 0, I ⊗ dX])₁₂
    if d[0] is None:
        return None
    x, dx = node.args[0], d[0]
    n = sh(x)[0]
    nn = n * n
    w = vcat(hcat(kron(T(x), eye(n)), eye(nn)), hcat(zeros(nn, nn), kron(eye(n), x)))
    dw = vcat(hcat(kron(T(dx), eye(n)), zeros(nn, nn)), hcat(zeros(nn, nn), kron(eye(n), dx)))
    return block(Expr("frechet", (w, dw), node.attr), 0, nn, nn, None)


def _function_domain(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
    """L_f(X, E) and K_f(X) need f differentiable at X: f's own domain check, on X."""
    from .registry import REGISTRY

    check = REGISTRY[node.attr].domain
    if check is not None:
        check(Expr(node.attr, (node.args[0],), col=node.col), [args[0]], True)


def _frechet_text(p: Printer, e: Expr) -> str:
    fn = notation(e.attr)
    args = ", ".join(p.show(x, 0) for x in e.args)
    return rf"L_{{{fn.latex}}}\left({args}\right)" if p.latex else f"d{fn.call}({args})"


def _dform_text(p: Printer, e: Expr) -> str:
    fn = notation(e.attr)
    arg = p.show(e.args[0], 0)
    return rf"\mathsf{{D}}{fn.latex}\left({arg}\right)" if p.latex else f"D{fn.call}({arg})"


def _function_code(w: CodeWriter, f: str, arg: str) -> str:
    module, template = _CODE[f]
    w.module(module)
    return template.format(arg)


def _frechet_code(w: CodeWriter, e: Expr) -> str:
    x, d = w(e.args[0]), w(e.args[1])
    z = w.let(f"np.block([[{x}, {d}], [np.zeros_like({x}), {x}]])")
    return f"{_function_code(w, e.attr, z)}[:{x}.shape[0], {x}.shape[0]:]"


def _dform_code(w: CodeWriter, e: Expr) -> str:
    x = w(e.args[0])
    n = w.let(f"{x}.shape[0]")
    top = f"[np.kron({x}.T, np.eye({n})), np.eye({n} ** 2)]"
    big = f"np.block([{top}, [np.zeros(({n} ** 2, {n} ** 2)), np.kron(np.eye({n}), {x})]])"
    return f"{_function_code(w, e.attr, big)}[:{n} ** 2, {n} ** 2:]"


def _frechet_shape(u: Unifier, node: Expr, x: Any, e: Any) -> Any:
    u.same(x[0], x[1], lambda: f"a Fréchet derivative needs a square matrix, got {u.show(x)}")
    u.same(x[0], e[0], lambda: f"the direction must have the matrix's shape, got {u.show(x)} and {u.show(e)}")
    u.same(x[1], e[1], lambda: f"the direction must have the matrix's shape, got {u.show(x)} and {u.show(e)}")
    return x


def _dform_shape(u: Unifier, node: Expr, x: Any) -> Any:
    u.same(x[0], x[1], lambda: f"a Kronecker form needs a square matrix, got {u.show(x)}")
    nn = u.mul(x[0], x[1], node)
    return (nn, nn)


FRECHET_CITE = "the Fréchet derivative; Higham, Functions of Matrices, Thm 3.6 and ch. 10"
register(
    Op(
        "frechet",
        2,
        _frechet_shape,
        value=_frechet_value,
        differential=_frechet_differential,
        kronecker=(None, lambda node, sh: Expr("dform", (node.args[0],), node.attr)),
        adjoint=(None, lambda node, g, sh: Expr("frechet", (T(node.args[0]), g), node.attr)),
        domain=_function_domain,
        random_hints=("invertible", None),
        analytic=False,  # for logm, sqrtm: Schur-based, not complex-step safe
        notation=Notation(render=_frechet_text),
        cite=FRECHET_CITE,
        python=_frechet_code,
    )
)
register(
    Op(
        "dform",
        1,
        _dform_shape,
        value=_dform_value,
        differential=_dform_differential,
        domain=_function_domain,
        random_hints=("invertible",),
        analytic=False,
        notation=Notation(render=_dform_text),
        cite="the Kronecker form of the Fréchet derivative; Higham, Functions of Matrices, ch. 3",
        python=_dform_code,
    )
)


def _frechet(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    """d f(X) = L_f(X, dX)."""
    return None if d[0] is None else Expr("frechet", (node.args[0], d[0]), node.op)


def _expm_value(node: Expr, a: np.ndarray) -> np.ndarray:
    import scipy.linalg

    return np.asarray(scipy.linalg.expm(a))


# expm(X) = Σ Xᵏ/k!, by scaling and squaring (SciPy); d expm(X) = L_exp(X, dX) = ∫₀¹ e^{sX} dX e^{(1-s)X} ds
register(
    Op(
        "expm",
        1,
        square("expm", "matrix"),
        value=_expm_value,
        differential=_frechet,
        notation=Notation(call="expm", latex=r"\operatorname{expm}", frechet=True),
        cite="Higham, Functions of Matrices, ch. 10",
        python=lambda w, e: _function_code(w, "expm", w(e.args[0])),
    )
)


def _scipy(fn: str) -> Any:
    """SciPy's matrix function, over leading batch axes, its warnings kept (jacli's domain
    checks refuse what it would only warn of)."""

    def value(node: Expr, a: np.ndarray) -> np.ndarray:
        import warnings

        import scipy.linalg

        from .solves import each

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(each(getattr(scipy.linalg, fn))(a))  # type: ignore[operator]

    return value


def _principal(fn: str, what: str) -> Any:
    """logm and sqrtm: refuse an eigenvalue on the closed negative real axis, where the
    principal branch is not defined (or not smooth), naming it; sqrtm's derivative also at 0."""

    def check(node: Expr, args: list[np.ndarray], derivative_needed: bool) -> None:
        a = args[0]
        if a.ndim > 2:
            return
        lam = np.linalg.eigvals(a)
        scale = max(1.0, float(np.max(np.abs(lam), initial=0.0)))
        tiny = 1e-14 * scale
        on_axis = (np.abs(lam.imag) <= tiny) & (lam.real <= tiny)
        zero = np.abs(lam) <= tiny
        bad = on_axis & ~zero if fn == "sqrtm" and not derivative_needed else on_axis
        if np.any(bad):
            z = lam[np.argmax(bad)]
            shown = "0" if abs(z) <= tiny else f"{z.real:.6g}"
            why = "where sqrtm has no derivative" if fn == "sqrtm" and abs(z) <= tiny else f"where {what}"
            raise JacliError(
                f"{describe(node)}: {to_text(node.args[0])} has the eigenvalue {shown} on the closed negative real "
                f"axis, {why}",
                column=node.col,
            )

    return check


# logm(X): the principal logarithm, by inverse scaling and squaring (SciPy); d logm(X) = L_log(X, dX)
register(
    Op(
        "logm",
        1,
        square("logm", "matrix"),
        value=_scipy("logm"),
        differential=_frechet,
        domain=_principal("logm", "the principal logarithm is not defined"),
        random_hints=("invertible",),
        analytic=False,  # SciPy's Schur method: the complex step is not exact through it
        notation=Notation(call="logm", latex=r"\operatorname{logm}", frechet=True),
        cite="Higham, Functions of Matrices, ch. 11",
        python=lambda w, e: _function_code(w, "logm", w(e.args[0])),
    )
)


def _sqrtm_differential(node: Expr, d: Differentials, sh: ShapeOf) -> Expr | None:
    # S = sqrtm(X): S dS + dS S = dX, so dS = sylvester(S, S, dX) and J = (Sᵀ ⊕ S)⁻¹
    return None if d[0] is None else Expr("sylvester", (node, node, d[0]))


# sqrtm(X): the principal square root, by the Schur method (SciPy)
register(
    Op(
        "sqrtm",
        1,
        square("sqrtm", "matrix"),
        value=_scipy("sqrtm"),
        differential=_sqrtm_differential,
        domain=_principal("sqrtm", "the principal square root is not defined"),
        random_hints=("invertible",),
        analytic=False,  # SciPy's Schur method: the complex step is not exact through it
        notation=Notation(call="sqrtm", latex=r"\operatorname{sqrtm}"),
        cite="Higham, Functions of Matrices, ch. 6 (the Sylvester equation S dS + dS S = dX)",
        python=lambda w, e: _function_code(w, "sqrtm", w(e.args[0])),
    )
)
