"""The operator registry: for each operator, its shape, value and derivative rules together.

A derivative rule returns d vec(f) / d vec(argument) as an *expression in jacli's own
language* (Kronecker products, transposes, ``I(n)``, ``K(m,n)``, ``vec``, ``diag``), so
the chain rule, the simplifier, the printer and the evaluator all work on one kind of
object. ``vec`` stacks columns; ``K(m,n) vec(A) = vec(Aᵀ)`` for A m×n.

References: J. R. Magnus and H. Neudecker, *Matrix Differential Calculus with
Applications in Statistics and Econometrics*, 3rd ed., Wiley 2019 ("M&N"); K. B. Petersen
and M. S. Pedersen, *The Matrix Cookbook*, 2012 ("Cookbook").

Value rules take arrays with optional leading batch axes (``(..., r, c)``) and complex
entries, so the numerical oracle can push a whole batch of complex steps through once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import JacliError
from .expr import Expr, T, comm, diag, eye, kron, matmul, neg, ones, smul, vec, add

Shape = tuple  # (rows, cols): ints, or dimension variables during inference


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    shape: Callable  # (u, node, *arg_shapes) -> shape; u is a unifier (jacli.shapes)
    value: Callable | None = None  # (node, *arg_values) -> array
    partials: tuple = ()  # per argument: (node, ctx) -> Expr, d vec(node) / d vec(arg)
    call: str | None = None  # spelling as a function in the language
    domain: Callable | None = None  # (node, args, derivative_needed) -> None, raises JacliError
    random_hints: tuple = ()  # per argument: None, "invertible" or "positive"
    # printing: binding strength (see jacli.parser), an infix symbol (Unicode, ASCII, LaTeX),
    # the function's LaTeX name; a function prints as ``call`` or else ``spelled``
    prec: int = 8
    infix: tuple | None = None
    latex: str | None = None
    spelled: str | None = None

    @property
    def text(self) -> str | None:
        return self.call or self.spelled


REGISTRY: dict[str, Op] = {}


def register(op: Op) -> Op:
    REGISTRY[op.name] = op
    return op


# -- helpers for shape rules ------------------------------------------------------
def _same_shape(verb: str):
    def rule(u, node, a, b):
        u.same(a[0], b[0], lambda: f"{verb} {u.show(a)} and {u.show(b)}")
        u.same(a[1], b[1], lambda: f"{verb} {u.show(a)} and {u.show(b)}")
        return a
    return rule


def _square(fn: str, result: str):
    def rule(u, node, a):
        u.same(a[0], a[1], lambda: f"{fn} needs a square matrix, got {u.show(a)}")
        return (1, 1) if result == "scalar" else a
    return rule


def _unary_same(u, node, a):
    return a


def _scalar(u, node, a):
    return (1, 1)


# -- domain checks (values where the result is undefined) -------------------------
COND_LIMIT = 1e12


def _where(mask: np.ndarray) -> str:
    idx = np.argwhere(mask)[0]
    return f"[{idx[-2]},{idx[-1]}]"


def _describe(node: Expr) -> str:
    from .printer import to_text

    text = to_text(node)
    return f"{text} at column {node.col}" if node.col else text


def _check_invertible(node, args, derivative_needed):
    a = args[0]
    if a.ndim > 2:
        return
    cond = np.linalg.cond(a)
    if not np.isfinite(cond) or cond > COND_LIMIT:
        from .printer import to_text
        shown = "inf" if not np.isfinite(cond) else f"{cond:.3g}"
        raise JacliError(f"{_describe(node)}: {to_text(node.args[0])} is singular or badly conditioned "
                         f"(condition number {shown}, limit {COND_LIMIT:.0e})", column=node.col)


def _check_positive(fn: str):
    """log needs positive entries; sqrt non-negative ones, and positive where differentiated."""
    def check(node, args, derivative_needed):
        a = args[0]
        strict = fn == "log" or derivative_needed
        bad = (a <= 0) if strict else (a < 0)
        if np.any(bad):
            val = a[tuple(np.argwhere(bad)[0])]
            reason = "negative" if val < 0 else (
                "zero, where the derivative of sqrt is infinite" if fn == "sqrt" else "zero")
            raise JacliError(f"{_describe(node)}: entry {_where(bad)} of the argument is {val:.6g}, {reason}",
                             column=node.col)
    return check


def _check_logdet(node, args, derivative_needed):
    _check_invertible(node, args, derivative_needed)
    sign, _ = np.linalg.slogdet(args[0])
    if sign <= 0:
        d = np.linalg.det(args[0])
        raise JacliError(f"{_describe(node)}: the determinant is {d:.6g}, not positive", column=node.col)


def _check_denominator(node, args, derivative_needed):
    b = args[1]
    if np.any(b == 0):
        raise JacliError(f"{_describe(node)}: division by zero (entry {_where(b == 0)} of the denominator)",
                         column=node.col)


# ======================================================================================
# Leaves
# ======================================================================================
def _name_shape(u, node):
    return u.name_shape(node.attr, node)


register(Op("name", 0, _name_shape))
register(Op("num", 0, lambda u, node: (1, 1), value=lambda node: np.array([[node.attr]])))


def _eye_shape(u, node):
    if node.attr is None:
        n = u.fresh(node)
        return (n, n)
    return (node.attr, node.attr)


def _comm_value(node):
    m, n = node.attr
    p = np.zeros((m * n, m * n))
    i, j = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
    p[(j + n * i).ravel(), (i + m * j).ravel()] = 1.0  # K vec(A) = vec(A') for A m×n
    return p


def _sized_shape(u, node):
    if node.attr is None:
        return (u.fresh(node), u.fresh(node))
    return node.attr


register(Op("I", 0, _eye_shape, value=lambda node: np.eye(node.attr)))
register(Op("K", 0, lambda u, node: (node.attr[0] * node.attr[1],) * 2, value=_comm_value))
register(Op("ones", 0, _sized_shape, value=lambda node: np.ones(node.attr)))
register(Op("zeros", 0, _sized_shape, value=lambda node: np.zeros(node.attr)))

# ======================================================================================
# Linear operators: d vec(f) is a fixed matrix times d vec(argument). M&N ch. 2 and 9.
# ======================================================================================
register(Op("add", 2, _same_shape("cannot add"), value=lambda node, a, b: a + b, prec=1,
            partials=(lambda node, ctx: eye(_rc(ctx, node)), lambda node, ctx: eye(_rc(ctx, node)))))
register(Op("neg", 1, _unary_same, value=lambda node, a: -a, prec=2,
            partials=(lambda node, ctx: neg(eye(_rc(ctx, node))),)))


def _rc(ctx, e) -> int:
    r, c = ctx.shape(e)
    return r * c


def _transpose_shape(u, node, a):
    return (a[1], a[0])


# vec(Aᵀ) = K(r,c) vec(A) for A r×c (M&N ch. 3, the commutation matrix).
register(Op("T", 1, _transpose_shape, value=lambda node, a: np.swapaxes(a, -1, -2), prec=7,
            partials=(lambda node, ctx: comm(*ctx.shape(node.args[0])),)))


def _vec_shape(u, node, a):
    return (u.mul(a[0], a[1], node), 1)


def _vec_value(node, a):
    r, c = a.shape[-2:]
    return np.swapaxes(a, -1, -2).reshape(a.shape[:-2] + (r * c, 1))


register(Op("vec", 1, _vec_shape, value=_vec_value, call="vec", latex=r"\operatorname{vec}",
            partials=(lambda node, ctx: eye(_rc(ctx, node)),)))


# Product of two matrices; the parser's "mul" becomes "matmul" or, when a factor is 1×1,
# "smul" (scalar multiple) once shapes are known.
def _mul_shape(u, node, a, b):
    if u.is_one(a):
        return b
    if u.is_one(b):
        return a
    if u.maybe_one(a) or u.maybe_one(b):
        u.defer()
    return _matmul_shape(u, node, a, b)


def _matmul_shape(u, node, a, b):
    u.same(a[1], b[0], lambda: f"cannot multiply {u.show(a)} by {u.show(b)}")
    return (a[0], b[1])


register(Op("mul", 2, _mul_shape, prec=5))

# vec(A B) = (Bᵀ ⊗ I) vec(A) = (I ⊗ A) vec(B)   (M&N ch. 2, vec(ABC) = (Cᵀ ⊗ A) vec(B))
register(Op("matmul", 2, _matmul_shape, value=lambda node, a, b: a @ b, prec=5,
            partials=(lambda node, ctx: kron(T(node.args[1]), eye(ctx.shape(node.args[0])[0])),
                      lambda node, ctx: kron(eye(ctx.shape(node.args[1])[1]), node.args[0]))))


def _smul_shape(u, node, s, a):
    u.same(s[0], 1, lambda: f"a scalar multiple needs a 1×1 factor, got {u.show(s)}")
    u.same(s[1], 1, lambda: f"a scalar multiple needs a 1×1 factor, got {u.show(s)}")
    return a


# d vec(s M) = vec(M) ds + s d vec(M)
register(Op("smul", 2, _smul_shape, value=lambda node, s, a: s * a, prec=5,
            partials=(lambda node, ctx: vec(node.args[1]),
                      lambda node, ctx: smul(node.args[0], eye(_rc(ctx, node))))))


def _kron_shape(u, node, a, b):
    return (u.mul(a[0], b[0], node), u.mul(a[1], b[1], node))


def _kron_value(node, a, b):
    (r1, c1), (r2, c2) = a.shape[-2:], b.shape[-2:]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    out = a[..., :, None, :, None] * b[..., None, :, None, :]
    return out.reshape(batch + (r1 * r2, c1 * c2))


def _kron_common(node, ctx):
    (m, n), (p, q) = ctx.shape(node.args[0]), ctx.shape(node.args[1])
    return kron(kron(eye(n), comm(q, m)), eye(p)), (m, n, p, q)


def _kron_wrt_left(node, ctx):
    # vec(A ⊗ B) = (I_n ⊗ K(q,m) ⊗ I_p)(vec A ⊗ vec B) for A m×n, B p×q  (M&N ch. 3,
    # the theorem on vec of a Kronecker product), and vec A ⊗ vec B = (I_mn ⊗ vec B) vec A.
    perm, (m, n, p, q) = _kron_common(node, ctx)
    return matmul(perm, kron(eye(m * n), vec(node.args[1])))


def _kron_wrt_right(node, ctx):
    # ... and vec A ⊗ vec B = (vec A ⊗ I_pq) vec B.
    perm, (m, n, p, q) = _kron_common(node, ctx)
    return matmul(perm, kron(vec(node.args[0]), eye(p * q)))


register(Op("kron", 2, _kron_shape, value=_kron_value, call="kron", prec=3, infix=(" ⊗ ", None, r" \otimes "),
            partials=(_kron_wrt_left, _kron_wrt_right)))

# ======================================================================================
# Hadamard product, elementwise division and functions: diagonal Jacobians.
# d vec(A ∘ B) = diag(vec B) d vec(A) + diag(vec A) d vec(B); an elementwise f has
# d vec f(A) = diag(vec f'(A)) d vec(A)   (M&N ch. 3 and 9, the Hadamard product)
# ======================================================================================
def _ediv_shape(u, node, a, b):
    def message():
        hint = " (for 1 ./ X write ones ./ X)" if u.is_one(a) or u.is_one(b) else ""
        return f"'./' needs equal shapes, got {u.show(a)} and {u.show(b)}{hint}"
    u.same(a[0], b[0], message)
    u.same(a[1], b[1], message)
    return a


def _had_shape(u, node, a, b):
    def message():
        return f"'∘' needs equal shapes, got {u.show(a)} and {u.show(b)}"
    u.same(a[0], b[0], message)
    u.same(a[1], b[1], message)
    return a


def _ones_like(ctx, e):
    return ones(*ctx.shape(e))


register(Op("had", 2, _had_shape, value=lambda node, a, b: a * b, prec=4, infix=(" ∘ ", " .* ", r" \circ "),
            partials=(lambda node, ctx: diag(vec(node.args[1])),
                      lambda node, ctx: diag(vec(node.args[0])))))
# d(A ./ B) = dA ./ B - (A ./ (B ∘ B)) ∘ dB   (the quotient rule, entry by entry; M&N ch. 9)
register(Op("ediv", 2, _ediv_shape, value=lambda node, a, b: a / b, prec=4, infix=(" ./ ", " ./ ", r" \oslash "),
            domain=_check_denominator, random_hints=(None, "positive"),
            partials=(lambda node, ctx: diag(vec(Expr("ediv", (_ones_like(ctx, node), node.args[1])))),
                      lambda node, ctx: neg(diag(vec(Expr("ediv", (node.args[0], Expr("had", (node.args[1], node.args[1]))))))))))


def _elementwise(fn: str, value, derivative, domain=None, hint=None, latex=None):
    """f applied entry by entry: d vec f(A) = diag(vec f'(A)) d vec(A)."""
    register(Op(fn, 1, _unary_same, value=lambda node, a: value(a), call=fn, latex=latex or "\\" + fn,
                domain=domain, random_hints=(hint,),
                partials=(lambda node, ctx: derivative(node, node.args[0], ctx),)))


def _d(e: Expr) -> Expr:
    return diag(vec(e))


_elementwise("exp", np.exp, lambda node, a, ctx: _d(node))
_elementwise("log", np.log, lambda node, a, ctx: _d(Expr("ediv", (_ones_like(ctx, a), a))),
             domain=_check_positive("log"), hint="positive")
_elementwise("sin", np.sin, lambda node, a, ctx: _d(Expr("cos", (a,))))
_elementwise("cos", np.cos, lambda node, a, ctx: neg(_d(Expr("sin", (a,)))))
_elementwise("tanh", np.tanh,
             lambda node, a, ctx: _d(add(_ones_like(ctx, a), neg(Expr("had", (node, node))))))
_elementwise("sqrt", np.sqrt,
             lambda node, a, ctx: smul(Expr("num", (), 0.5), _d(Expr("ediv", (_ones_like(ctx, a), node)))),
             domain=_check_positive("sqrt"), hint="positive", latex=r"\operatorname{sqrt}")

# ======================================================================================
# Inverse, powers, determinant, trace, sum, diag.
# ======================================================================================
# d(X⁻¹) = -X⁻¹ (dX) X⁻¹, so d vec(X⁻¹) = -(X⁻ᵀ ⊗ X⁻¹) d vec(X)   (M&N ch. 8; Cookbook sec. 2.2)
register(Op("inv", 1, _square("inv", "matrix"), value=lambda node, a: np.linalg.inv(a), call="inv", prec=7,
            latex=r"\operatorname{inv}",
            domain=_check_invertible, random_hints=("invertible",),
            partials=(lambda node, ctx: neg(kron(T(node), node)),)))


def _power(base: Expr, k: int, n: int) -> Expr:
    if k == 0:
        return eye(n)
    if k == 1:
        return base
    if k == -1:
        return Expr("inv", (base,))
    return Expr("pow", (base,), k)


MAX_POWER = 64  # d(Xᵏ) is a sum of |k| Kronecker products


def _pow_partial(node, ctx):
    # d(Xᵏ) = Σ_{j<k} Xʲ (dX) X^(k-1-j)  ⇒  Σ_j (X^(k-1-j))ᵀ ⊗ Xʲ   (M&N ch. 8, powers)
    # X^-k = (X⁻¹)ᵏ, chained with d vec(X⁻¹) = -(X⁻ᵀ ⊗ X⁻¹) d vec(X).
    x, k = node.args[0], node.attr
    n = ctx.shape(x)[0]
    if abs(k) > MAX_POWER:
        raise JacliError(f"the derivative of a power above {MAX_POWER} is not supported (X^{k}); "
                         f"write it as a product of powers", column=node.col)
    if k == 0:
        return None  # constant: no dependence
    sign, m = (1, k) if k > 0 else (-1, -k)
    terms = None
    for j in range(m):
        t = kron(T(_power(x, sign * (m - 1 - j), n)), _power(x, sign * j, n))
        terms = t if terms is None else add(terms, t)
    if k > 0:
        return terms
    return matmul(terms, neg(kron(T(Expr("inv", (x,))), Expr("inv", (x,)))))


def _pow_domain(node, args, derivative_needed):
    if node.attr < 0:
        _check_invertible(node, args, derivative_needed)


def _pow_value(node, a):
    return np.linalg.matrix_power(a, node.attr)


register(Op("pow", 1, _square("a matrix power", "matrix"), value=_pow_value, domain=_pow_domain, prec=7,
            random_hints=("invertible",), partials=(_pow_partial,)))


def _det_value(node, a):
    return np.linalg.det(a)[..., None, None]


def _logdet_value(node, a):
    sign, logabs = np.linalg.slogdet(a)
    return (logabs + np.log(sign))[..., None, None]


# d det(X) = det(X) tr(X⁻¹ dX) = det(X) vec(X⁻ᵀ)ᵀ d vec(X)   (M&N ch. 8; Cookbook sec. 2.1)
def _check_det(node, args, derivative_needed):
    # the rule det(X) vec(X⁻ᵀ)ᵀ needs X⁻¹: at a singular X (where the derivative is the
    # adjugate's transpose) it is refused rather than printed as 0 · vec(X⁻ᵀ)ᵀ
    if derivative_needed:
        _check_invertible(node, args, derivative_needed)


register(Op("det", 1, _square("det", "scalar"), value=_det_value, call="det", domain=_check_det, latex=r"\det",
            random_hints=("invertible",),
            partials=(lambda node, ctx: smul(node, T(vec(T(Expr("inv", (node.args[0],)))))),)))
# d log det(X) = tr(X⁻¹ dX) = vec(X⁻ᵀ)ᵀ d vec(X)   (M&N ch. 8; Cookbook sec. 2.1)
register(Op("logdet", 1, _square("logdet", "scalar"), value=_logdet_value, call="logdet", latex=r"\log\det",
            domain=_check_logdet, random_hints=("invertible",),
            partials=(lambda node, ctx: T(vec(T(Expr("inv", (node.args[0],))))),)))
# d tr(X) = tr(dX) = vec(I)ᵀ d vec(X)   (M&N ch. 9; Cookbook sec. 2.5)
register(Op("tr", 1, _square("tr", "scalar"),
            value=lambda node, a: np.trace(a, axis1=-2, axis2=-1)[..., None, None], call="tr",
            latex=r"\operatorname{tr}",
            partials=(lambda node, ctx: T(vec(eye(ctx.shape(node.args[0])[0]))),)))
# d sum(X) = 1ᵀ d vec(X), sum(X) being 1ᵀ vec(X)   (M&N ch. 9, linear forms)
register(Op("sum", 1, _scalar, value=lambda node, a: a.sum(axis=(-2, -1), keepdims=True), call="sum",
            latex=r"\operatorname{sum}",
            partials=(lambda node, ctx: T(vec(_ones_like(ctx, node.args[0]))),)))


def _diag_shape(u, node, a):
    """diag of a vector is the diagonal matrix; diag of a square matrix its diagonal, a column."""
    if u.is_one(a):
        return (1, 1)
    r, c = u.known(a[0]), u.known(a[1])
    if c == 1:
        return (a[0], a[0])
    if r == 1:
        return (a[1], a[1])
    if r is not None and c is not None:
        if r == c and u.inferring:
            return (a[0], 1)
        u.fail(f"diag needs a vector or a square matrix, got {u.show(a)}")
    u.defer("cannot tell whether the argument of diag is a vector or a square matrix; give its shape")
    return None


def _diag_value(node, a):
    n = max(a.shape[-2:])
    v = a.reshape(a.shape[:-2] + (n,))
    return v[..., :, None] * np.eye(n)


def _diag_partial(node, ctx):
    # vec(diag(v)) = diag(vec(Iₙ)) (1ₙ ⊗ Iₙ) v : n copies of v, masked to the diagonal;
    # linear in v, so this is its Jacobian (M&N ch. 9, identification of linear maps).
    n = ctx.shape(node)[0]
    return matmul(diag(vec(eye(n))), kron(ones(n, 1), eye(n)))


def _diagonal_partial(node, ctx):
    # diag(X) = (X ∘ I) 1ₙ, so d diag(X) = (1ₙᵀ ⊗ Iₙ) diag(vec(Iₙ)) d vec(X)   (linear; M&N ch. 9)
    n = ctx.shape(node)[0]
    return matmul(kron(ones(1, n), eye(n)), diag(vec(eye(n))))


register(Op("diag", 1, _diag_shape, value=_diag_value, call="diag", latex=r"\operatorname{diag}",
            partials=(_diag_partial,)))
register(Op("diagonal", 1, lambda u, node, a: _diagonal_shape(u, a), spelled="diag", latex=r"\operatorname{diag}",
            value=lambda node, a: np.diagonal(a, axis1=-2, axis2=-1)[..., :, None].copy(),
            partials=(_diagonal_partial,)))


def _diagonal_shape(u, a):
    u.same(a[0], a[1], lambda: f"diag needs a vector or a square matrix, got {u.show(a)}")
    return (a[0], 1)


# ======================================================================================
# The language's vocabulary, read by the parser.
# ======================================================================================
@dataclass(frozen=True)
class FunctionSpec:
    name: str  # registry key
    arity: int


FUNCTIONS: dict[str, FunctionSpec] = {
    op.call: FunctionSpec(op.name, op.arity) for op in REGISTRY.values() if op.call
}


@dataclass(frozen=True)
class BuiltinSpec:
    bare: bool  # may stand without sizes, sized by where it stands
    sizes: tuple  # how many sizes it takes
    example: str


BUILTINS: dict[str, BuiltinSpec] = {
    "I": BuiltinSpec(True, (1,), "I(3)"),
    "K": BuiltinSpec(False, (2,), "K(2,3)"),
    "ones": BuiltinSpec(True, (1, 2), "ones(2,3)"),
    "zeros": BuiltinSpec(False, (1, 2), "zeros(2,3)"),
}

RESERVED = frozenset(FUNCTIONS) | frozenset(BUILTINS) | {"wrt"}

_ALIASES = {"trace": "tr", "Tr": "tr", "inverse": "inv", "determinant": "det", "ln": "log",
            "logabsdet": "logdet", "log_det": "logdet", "kronecker": "kron", "Diag": "diag",
            "eye": "I", "transpose": None}


def suggest_function(word: str) -> str | None:
    import difflib

    if word in _ALIASES:
        return _ALIASES[word]
    close = difflib.get_close_matches(word, list(FUNCTIONS), n=1, cutoff=0.6)
    return close[0] if close else None
