"""Symbolic sizes: closed forms with dimension names hold for every value of the names.

Each symbolic formula is instantiated at several sizes (1 included) and compared with the
complex-step oracle and with the formula derived at those sizes with numbers; every rule of
the registry is exercised on shapes with names.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from cli_support import isolated, run  # noqa: F401 (isolated: autouse)
from oracle import derivative, draw
from test_rules import attrs, build, covered, hints

import jacli
from jacli.api import prepare
from jacli.api.problem import to_binding
from jacli.calculus import ops
from jacli.calculus.chain import jacobian_expr
from jacli.calculus.shapes import Shapes, at_sizes, infer, shape_at_sizes
from jacli.errors import JacliError
from jacli.expr import name
from jacli.numeric.evaluate import Evaluator
from jacli.sizes import Size, dim
from jacli.syntax import parse_expr, to_latex, to_text

ASSIGNMENTS = [{"m": 1, "n": 1, "p": 1, "q": 1}, {"m": 2, "n": 3, "p": 4, "q": 2}, {"m": 3, "n": 2, "p": 1, "q": 3}]


def shapes_of(**kw) -> dict:
    return {k: tuple(dim(d) if isinstance(d, str) else d for d in v) for k, v in kw.items()}


# -- the seeds' formulas, as the seeds write them -------------------------------------------
def test_kron_wrt_a_is_the_seeds_formula():
    r = jacli.derive("kron(A, B) wrt A", A=("m", "n"), B=("p", "q"), symbolic=True)
    assert r.formula == "(I(n) ⊗ K(q,m) ⊗ I(p)) (I(m n) ⊗ vec(B))"
    assert r.latex == (
        r"\left(I_{n} \otimes K_{q m} \otimes I_{p}\right) "
        r"\left(I_{m n} \otimes \operatorname{vec}\left(B\right)\right)"
    )


def test_w_a_wrt_w_is_the_seeds_formula():
    r = run("derive", "W a wrt W", "W=m×n", "a=n", "--symbolic")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "aᵀ ⊗ I(m)\n"


def test_no_shapes_at_all():
    r = run("derive", "A X B wrt X", "--symbolic")
    assert r.exit_code == 0, r.stderr
    formula, shape, chosen = r.stdout.splitlines()
    assert formula == "Bᵀ ⊗ A"
    assert shape == "# shape: (p q)×(m n) (rows: vec F, F = A X B is p×q; columns: vec X, X m×n)"
    assert chosen == "# sizes chosen by jacli: m, n, p, q (A p×m, X m×n, B n×q)"


def test_chosen_names_avoid_the_users_names():
    r = jacli.derive("n X wrt X", n=(1, 1), symbolic=True)
    assert set(r.problem.chosen).isdisjoint({"n", "X"})
    r = jacli.derive("A X wrt X", A=("m", "p"), symbolic=True)
    assert "m" not in r.problem.chosen and "p" not in r.problem.chosen
    assert r.problem.names["X"][0] == dim("p")


@pytest.mark.parametrize(
    "spec, shape",
    [("m×n", ("m", "n")), ("m,n", ("m", "n")), ("mxn", ("m", "n")), ("3×n", (3, "n")), ("n", ("n", 1))],
)
def test_spec_forms(spec, shape):
    r = run("derive", "X wrt X", f"X={spec}", "--symbolic", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["blocks"][0]["shape"] == list(shape)


def test_builtins_take_size_products():
    e = parse_expr("I(m n) + I(m*n) + K(q,m) + ones(m,n²) + zeros(2 n, m)")
    attrs = [node.attr for node in e.walk() if node.op in ("I", "K", "ones", "zeros")]
    mn = dim("m") * dim("n")
    assert attrs == [mn, mn, (dim("q"), dim("m")), (dim("m"), dim("n") * dim("n")), (2 * dim("n"), dim("m"))]
    assert to_text(e) == "I(m n) + I(m n) + K(q,m) + ones(m,n²) + zeros(2 n,m)"
    assert to_text(e, "ascii") == "I(m n) + I(m n) + K(q,m) + ones(m,n^2) + zeros(2 n,m)"
    assert to_latex(parse_expr("K(q,m) + K(2,3) + K(m n, p)")) == "K_{q m} + K_{2,3} + K_{m n,p}"


# -- errors in the user's names ------------------------------------------------------------
def test_shape_errors_speak_in_names():
    r = run("derive", "A X wrt X", "A=m×n", "X=p×q", "--symbolic")
    assert r.exit_code == 2
    assert r.stderr == "jacli: error: cannot multiply m×n by p×q at column 3\n"


def test_sizes_jacli_chose_unify_freely():
    r = jacli.derive("A X + Y wrt X", A=("m", "n"), Y=("m", "q"), symbolic=True)
    assert r.problem.names["X"] == (dim("n"), dim("q"))


def test_names_need_numbers_for_numbers():
    r = run("derive", "A X wrt X", "A=m×n", "X=n×2")
    assert r.exit_code == 2 and "A (m×n) has no values" in r.stderr
    r = run("derive", "A X wrt X", "A=m×n", "X=n×2", "--random")
    assert r.exit_code == 2 and "random values need numbers" in r.stderr


def test_a_name_is_not_a_number():
    with pytest.raises(JacliError, match="cannot multiply m×n by 3×4"):
        jacli.derive("A X wrt X", A=("m", "n"), X=(3, 4), symbolic=True)


def test_a_product_is_a_scalar_multiple_only_where_a_factor_is_1x1_for_all_sizes():
    r = jacli.derive("a X wrt X", a=("n", "n"), symbolic=True)
    assert r.problem.expr.op == "matmul"
    r = jacli.derive("a X wrt X", a=(1, 1), X=("m", "n"), symbolic=True)
    assert r.problem.expr.op == "smul"


# -- check at size assignments -----------------------------------------------------------------
SEED_CLAIM = "(I(n) ⊗ K(q,m) ⊗ I(p)) (I(m n) ⊗ vec(B))"


def test_check_with_names_agrees_at_several_sizes():
    r = run("check", "kron(A, B) wrt A", "A=m×n", "B=p×q", "--against", SEED_CLAIM)
    assert r.exit_code == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "agree: A ⊗ B wrt A (J (m n p q)×(m n)) at 4 assignments of m, n, p, q"
    assert lines[2].startswith("  sizes m=1, n=1, p=1, q=1: jacli agrees, formula agrees, claim agrees")
    assert len([line for line in lines if line.startswith("  sizes ")]) == 4


def test_check_with_names_names_the_sizes_of_a_disagreement():
    r = run("check", "kron(A, B) wrt A", "A=m×n", "B=p×q", "--against", SEED_CLAIM.replace("K(q,m)", "K(m,q)"))
    assert r.exit_code == 1
    first = r.stdout.splitlines()[0]
    assert first.startswith("disagree: A ⊗ B wrt A (J (m n p q)×(m n)) at m=")
    assert "claim DISAGREES" in r.stdout
    sizes = dict(kv.split("=") for kv in first.split(" at ")[1].split(", "))
    assert sizes["m"] != sizes["q"]  # K(m,q) = K(q,m) where m = q: the disagreement is elsewhere


def test_check_api_with_names():
    c = jacli.check("X' X wrt X", X=("m", "n"), against="(X' ⊗ I(n)) K(m,n) + I(n) ⊗ X'")
    assert c.agree and len(c.runs) == 4
    assert c.runs[0][0] == {"m": 1, "n": 1}


def test_check_refuses_a_size_no_shape_has():
    r = run("check", "A X wrt X", "A=m×n", "X=n×p", "--against", "I(q) ⊗ A")
    assert r.exit_code == 2 and "size q" in r.stderr


def test_batch_lines_may_use_names(tmp_path):
    f = tmp_path / "ids.txt"
    f.write_text(
        f'check "kron(A, B) wrt A" A=m×n B=p×q --against "{SEED_CLAIM}"\nderive "W a wrt W" W=m×n --symbolic\n'
    )
    r = run("batch", str(f), "--format", "json")
    assert r.exit_code == 0, r.stdout
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert records[0]["verdict"] == "agree" and len(records[0]["assignments"]) == 4
    assert records[1]["formula"] == "aᵀ ⊗ I(m)"


# -- every printed formula reads back, and instantiated gives the numbers of today ------------
EXPRESSIONS = [
    ("A X B wrt X", {}),
    ("kron(A, B) wrt A", dict(A=("m", "n"), B=("p", "q"))),
    ("kron(A, B) wrt B", dict(A=("m", "n"), B=("p", "q"))),
    ("W a wrt W", dict(W=("m", "n"), a=("n", 1))),
    ("X' X wrt X", {}),
    ("X Y wrt X, Y", {}),
    ("inv(X) wrt X", dict(X=("n", "n"))),
    ("tr(X' A X) wrt X", dict(X=("m", "n"))),
    ("(A X) ∘ (X B) wrt X", dict(X=("m", "n"))),
    ("x' A x wrt x", dict(x=("n", 1))),
    ("diag(x) wrt x", dict(x=("n", 1))),
    ("diag(X) wrt X", dict(X=("n", "n"))),
    ("kron(X, X) wrt X", {}),
    ("X^3 wrt X", {}),
    ("X^-2 wrt X", dict(X=("n", "n"))),
    ("exp(A X) + sin(A X) wrt X", {}),
    ("sum(X ./ A) wrt X", {}),
    ("logdet(X) + det(X) wrt X", {}),
    ("A X B wrt X", dict(A=(3, "m"))),
]


def _symbolic(source, given):
    problem = prepare(source, {n: to_binding(n, s) for n, s in given.items()}, symbolic=True)
    return problem, jacli.derive(source, symbolic=True, **given)


@pytest.mark.parametrize("source,given", EXPRESSIONS, ids=[s for s, _ in EXPRESSIONS])
def test_printed_formulas_read_back(source, given):
    problem, r = _symbolic(source, given)
    for b in r.blocks:
        assert infer(parse_expr(b.formula), problem.names).expr == b.expr, b.formula


@pytest.mark.parametrize("source,given", EXPRESSIONS, ids=[s for s, _ in EXPRESSIONS])
def test_instantiated_formulas_equal_numeric_derivation_and_oracle(source, given):
    problem, r = _symbolic(source, given)
    names = sorted({n for s in problem.names.values() for n in (x.factors[0][0] for x in s if isinstance(x, Size))})
    for a in ASSIGNMENTS:
        a = {n: a.get(n, 2) for n in names}
        numeric = {n: shape_at_sizes(s, a) for n, s in problem.names.items()}
        values = _values(problem.expr, numeric)
        expr = at_sizes(problem.expr, a)
        for b in r.blocks:
            J = Evaluator(values)(at_sizes(b.expr, a))
            want, tol = derivative(expr, values, b.var)
            np.testing.assert_allclose(J, want, rtol=tol, atol=tol)
            numbers = jacli.jacobian(source, **{n: values[n] for n in problem.names}) if len(r.blocks) == 1 else None
            if numbers is not None:
                np.testing.assert_allclose(J, numbers, rtol=1e-12, atol=1e-12)


def _values(expr, shapes: dict) -> dict:
    """Values allowing what the records' hints ask: invertible, positive, with det > 0."""
    from jacli.numeric.draws import fill

    return fill(infer(expr, shapes).expr, {}, shapes, list(shapes), 7, ())


# -- every registry rule on shapes with names ----------------------------------------------------
MENU = [("m", "n"), ("n", "m"), ("n", "n"), ("n", 1), (1, "n"), (1, 1), ("p", "q")]


def _cases():
    for op in ops.REGISTRY.values():
        if not covered(op):
            continue
        for attr in [2, -1] if op.name == "pow" else attrs(op, symbolic=True):
            combos = []
            for shapes in itertools.product(MENU, repeat=op.arity):
                node = build(op.name, attr, [name(f"A{i}") for i in range(op.arity)])
                sym = {f"A{i}": tuple(dim(d) if isinstance(d, str) else d for d in s) for i, s in enumerate(shapes)}
                try:
                    Shapes(sym)(node)
                except JacliError:
                    continue
                combos.append(sym)
            for sym in combos[:5]:
                for i in range(op.arity):
                    yield pytest.param(op.name, attr, sym, i, id=f"{op.name}{attr or ''}-{_id(sym)}-d{i}")


def _id(sym):
    return "-".join("x".join(str(d) for d in s) for s in sym.values())


@pytest.mark.parametrize("opname,attr,sym,i", list(_cases()))
def test_rule_on_symbolic_shapes(opname, attr, sym, i):
    op = ops.REGISTRY[opname]
    expr = build(opname, attr, [name(f"A{k}") for k in range(op.arity)])
    J = jacobian_expr(expr, f"A{i}", Shapes(sym))
    for a in ({"m": 1, "n": 1, "p": 1, "q": 1}, {"m": 2, "n": 3, "p": 4, "q": 2}, {"m": 3, "n": 2, "p": 2, "q": 3}):
        numeric = {k: shape_at_sizes(s, a) for k, s in sym.items()}
        rng = np.random.default_rng(5)
        values = {}
        for k, s in numeric.items():
            hint = hints(opname, attr)[int(k[1:])] if int(k[1:]) < len(hints(opname, attr)) else None
            values[k] = draw(rng, s, {hint} if hint else set())
        got = Evaluator(values)(at_sizes(J, a))
        want, tol = derivative(expr, values, f"A{i}")
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_a_lowercase_name_is_a_column_where_nothing_fixes_its_columns():
    r = run("derive", "x' A x wrt x", "A=3x3", "--random")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[1] == "# shape: 1×3 (rows: vec F, F = xᵀ A x is 1×1; columns: vec x, x 3×1)"
    assert jacli.derive("x' A x wrt x", symbolic=True).formula == "xᵀ (A + Aᵀ)"
    # an uppercase name stays a matrix, and a lowercase one whose columns are fixed keeps them
    assert jacli.derive("X' A X wrt X", A=(3, 3), X=(3, 2), symbolic=True).problem.names["X"] == (3, 2)
    r = run("derive", "A X wrt X", "A=2x3")
    assert r.exit_code == 2 and "cannot infer the shape of X (3×?)" in r.stderr


def test_a_builtin_sized_by_a_name_in_a_numeric_problem():
    # X 1×1 makes I(m) X a scalar multiple: F is m×m, and m is a name: numbers are refused,
    # check draws sizes for m as for a name's shape
    r = run("derive", "I(m) X wrt X", "X=1x1", "--random")
    assert r.exit_code == 2 and "I(m) has a dimension name for a size" in r.stderr
    r = run("derive", "K(m,n) vec(X) wrt X", "X=1x1", "--random")
    assert r.exit_code == 2 and "K(m,n) has a dimension name" in r.stderr
    r = run("check", "I(m) X wrt X", "X=1x1")
    assert r.exit_code == 0 and r.stdout.startswith("agree: X I(m) wrt X (J (m²)×1) at 4 assignments of m")


@pytest.mark.parametrize(
    "source,formula",
    [
        ("diag(x) wrt x", "diag(vec(I(m))) (ones(m,1) ⊗ I(m))"),  # x a column, as x=m would make it
        ("diag(A x) wrt x", "diag(vec(I(n))) (ones(n,1) ⊗ I(n)) A"),
    ],
)
def test_diag_of_a_lowercase_name_is_of_a_column(source, formula):
    assert jacli.derive(source, symbolic=True).formula == formula
    with pytest.raises(jacli.JacliError, match="cannot tell whether the argument of diag"):
        jacli.derive("diag(X) wrt X", symbolic=True)  # an uppercase name may be a square matrix
