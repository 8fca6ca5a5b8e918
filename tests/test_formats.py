"""Formats for people's own work: Markdown notes, Python code on NumPy, notebook display.

The Python code is tested by running it: for every rule of the registry (vectors,
non-square, 1×1), the textbook's identities, several names, --vec row, gradients and
Hessians, the generated function is executed and its matrix compared with jacli's own at
random values; generated with dimension names, at sizes other than any it was derived at.
"""

from __future__ import annotations

import ast
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_support import isolated, run  # noqa: F401 (isolated: autouse)
from test_rules import _cases, _values, build
from textbook import GRADIENTS, JACOBIANS

import jacli
from jacli.api import Problem
from jacli.api.derivation import Block, evaluate_blocks
from jacli.api.formats import markdown, python_source
from jacli.api.hessians import hessian_markdown, hessian_of, hessian_python
from jacli.api.problem import bindings_of, prepare
from jacli.calculus import ops
from jacli.calculus.chain import jacobian_expr
from jacli.calculus.shapes import Shapes
from jacli.errors import JacliError
from jacli.expr import Expr, name
from jacli.numeric.evaluate import Evaluator
from jacli.numeric.pyfunction import function_source
from jacli.syntax.printer import to_text


def load(code: str, fname: str):
    """The generated function, from code that imports numpy (and scipy.linalg for a matrix function) alone."""
    tree = ast.parse(code)
    imported = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert imported in ({"numpy"}, {"numpy", "scipy.linalg"})
    assert not any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree))
    assert ("scipy.linalg" in imported) == ("scipy.linalg." in code)
    space: dict = {}
    exec(compile(code, "<generated>", "exec"), space)
    return space[fname]


def call(fn, values: dict) -> np.ndarray:
    """Call with the values of the parameters it takes, by keyword."""
    return fn(**{p: values[p] for p in inspect.signature(fn).parameters})


def close(got, want) -> None:
    assert got.shape == want.shape
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * scale)


# -- every rule of the registry ---------------------------------------------------------------
def test_every_operator_with_a_value_has_a_python_rule():
    missing = [n for n, op in ops.REGISTRY.items() if op.value is not None and op.python is None]
    assert missing == []


@pytest.mark.parametrize("opname,attr,shapes,i", list(_cases()))
def test_rule_as_python(opname, attr, shapes, i):
    """The rule's own Jacobian expression (unsimplified: K, diag(vec(I)), ones ⊗ I as the rules
    write them) and jacli's simplified closed form, both run as Python, against jacli."""
    op = ops.REGISTRY[opname]
    expr = build(opname, attr, [name(f"A{k}") for k in range(op.arity)])
    names = {f"A{k}": s for k, s in enumerate(shapes)}
    vals = _values(op, shapes, 4, attr)
    sh = Shapes(names)
    raw = jacobian_expr(expr, f"A{i}", sh)
    want = Evaluator(vals)(raw)
    code = function_source("jacobian", [[raw]], shapes=sh, names=names, doc="J")
    close(call(load(code, "jacobian"), vals), want)
    problem = Problem(to_text(expr), expr, (f"A{i}",), names, vals, sh)
    r = jacli.derive(f"{to_text(expr)} wrt A{i}", **vals)
    close(call(load(python_source(r), "jacobian"), vals), r.matrix)
    close(r.matrix, evaluate_blocks(problem, (Block(f"A{i}", names[f"A{i}"], raw, "", ""),)))


# -- the textbook, several names, vec row, gradients ---------------------------------------------
MORE = [
    ("A X B wrt A, B", dict(A=(2, 3), X=(3, 4), B=(4, 2))),
    ("X' A X wrt X, A", dict(A=(3, 3), X=(3, 2))),
    ("kron(A, B) wrt B", dict(A=(2, 3), B=(4, 1))),
    ("kron(X, X) wrt X", dict(X=(2, 3))),
    ("X ⊗ A X wrt X", dict(A=(2, 2), X=(2, 3))),
    ("(A X) ∘ (X B) wrt X", dict(A=(3, 3), X=(3, 4), B=(4, 4))),
    ("inv(A + X' X) wrt X", dict(A=(3, 3), X=(2, 3))),
    ("diag(x) A wrt x", dict(x=(3, 1), A=(3, 2))),
    ("diag(X) wrt X", dict(X=(3, 3))),
    ("K(2,3) vec(X) wrt X", dict(X=(2, 3))),
    ("softmax(x) wrt x", dict(x=(4, 1))),
    ("det(X) wrt X", dict(X=(3, 3))),
    ("adj(X) wrt X", dict(X=(3, 3))),
    ("X^-2 wrt X", dict(X=(3, 3))),
    ("x / norm2(x) wrt x", dict(x=(3, 1))),
    ("a^b wrt a, b", dict(a=(1, 1), b=(1, 1))),
    ("X .^ 2.5 wrt X", dict(X=(2, 3))),
    ("X wrt X", dict(X=(1, 1))),
    ("2 X wrt X", dict(X=(1, 3))),
    ("sigmoid(W x) ∘ relu(W x) wrt W, x", dict(W=(2, 3), x=(3, 1))),
]


@pytest.mark.parametrize("vec", ["col", "row"])
@pytest.mark.parametrize("source,shapes", [(s, sh) for s, sh, *_ in GRADIENTS + JACOBIANS] + MORE)
def test_jacobian_as_python(source, shapes, vec):
    if source.endswith("--vec row"):
        source = source.removesuffix(" --vec row")
    r = jacli.derive(source, random=True, seed=3, vec=vec, **shapes)
    close(call(load(python_source(r), "jacobian"), r.problem.values), r.matrix)


@pytest.mark.parametrize("vec", ["col", "row"])
@pytest.mark.parametrize("source,shapes", [(s, sh) for s, sh, *_ in GRADIENTS])
def test_gradient_as_python(source, shapes, vec):
    r = jacli.derive(source, random=True, seed=5, vec=vec, **shapes)
    assert r.gradient_formula is not None
    got = call(load(python_source(r, gradient=True), "gradient"), r.problem.values)
    close(got, r.gradient)
    assert got.shape == r.blocks[0].var_shape


def test_gradient_without_a_closed_form_is_the_row_shaped_like_x():
    """Where reverse accumulation finds no matrix form, the gradient is J's row reshaped."""
    r = jacli.derive("sum(exp(W x)) wrt W", random=True, W=(2, 3), x=(3, 1))
    for vec, order in (("col", "F"), ("row", "C")):
        rv = jacli.derive("sum(exp(W x)) wrt W", random=True, W=(2, 3), x=(3, 1), vec=vec)
        code = function_source(
            "gradient", [[rv.blocks[0].expr]], shapes=rv.problem.shapes, names=rv.problem.names, doc="G",
            reshape=(2, 3, order),
        )  # fmt: skip
        close(call(load(code, "gradient"), rv.problem.values), r.gradient)


# -- sizes read at run time --------------------------------------------------------------------
SYMBOLIC = [
    "A X B wrt X",
    "X' wrt X",
    "X' X wrt X",
    "X X' wrt X",
    "W a wrt W",
    "kron(A, B) wrt A",
    "kron(A, B) wrt B",
    "X ⊗ X wrt X",
    "inv(X) wrt X",
    "x' A x wrt x",
    "sum(exp(W x)) wrt W",
    "(A X) ∘ (X B) wrt X",
    "log(x) wrt x",
    "softmax(x) wrt x",
    "tr(X' A X) wrt X",
    "A X B wrt A, X",
]
ASSIGNMENTS = [dict.fromkeys("mnpqrs", 1), dict(m=2, n=3, p=4, q=1, r=2, s=3), dict(m=3, n=2, p=1, q=4, r=3, s=2)]


def _at(problem, sizes: dict) -> dict:
    from jacli import sizes as S

    return {n: tuple(S.value(d, sizes) for d in shape) for n, shape in problem.names.items()}


@pytest.mark.parametrize("vec", ["col", "row"])
@pytest.mark.parametrize("source", SYMBOLIC)
def test_symbolic_code_holds_at_every_size(source, vec):
    r = jacli.derive(source, symbolic=True, vec=vec)
    fn = load(python_source(r), "jacobian")
    for sizes in ASSIGNMENTS:
        numeric = jacli.derive(source, random=True, seed=1, vec=vec, **_at(r.problem, sizes))
        close(call(fn, numeric.problem.values), numeric.matrix)


def test_sizes_of_builtins_are_read_from_the_inputs():
    r = jacli.derive("K(n,m) vec(X') + vec(I(m) X I(n)) wrt X", X=("m", "n"), symbolic=True)
    fn = load(python_source(r), "jacobian")
    for m, n in ((1, 1), (2, 3), (4, 2)):
        numeric = jacli.derive(f"K({n},{m}) vec(X') + vec(I({m}) X I({n})) wrt X", random=True, X=(m, n))
        close(call(fn, numeric.problem.values), numeric.matrix)


HESSIANS = [
    ("tr(X' A X) wrt X", dict(A=(3, 3), X=(3, 2))),
    ("tr(X Y) wrt X, Y", dict(X=(2, 3))),
    ("x' A x wrt x, A", dict(A=(3, 3))),
    ("logdet(X) wrt X", dict(X=(3, 3))),
    ("norm2(A x - b)^2 wrt x", dict(A=(4, 3))),
    ("sum(softplus(-y .* (X w))) wrt w", dict(X=(4, 3), y=(4, 1))),
    ("tr(inv(X) A) wrt X", dict(A=(3, 3))),
    ("X' X wrt X", dict(X=(3, 2))),  # a matrix F: its entries' Hessians stacked
    ("exp(x) wrt x", dict(x=(1, 1))),
]


@pytest.mark.parametrize("vec", ["col", "row"])
@pytest.mark.parametrize("source,shapes", HESSIANS)
def test_hessian_as_python(source, shapes, vec):
    h = jacli.derive_hessian(source, random=True, seed=2, vec=vec, **shapes)
    close(call(load(hessian_python(h), "hessian"), h.problem.values), h.matrix)


def test_symbolic_gradient_and_hessian_hold_at_every_size():
    g = jacli.derive("sum(exp(W x)) wrt W", symbolic=True)
    h = jacli.derive_hessian("tr(X' A X) wrt X", symbolic=True)
    grad, hess = load(python_source(g, gradient=True), "gradient"), load(hessian_python(h), "hessian")
    for sizes in ASSIGNMENTS:
        numeric = jacli.derive("sum(exp(W x)) wrt W", random=True, **_at(g.problem, sizes))
        close(call(grad, numeric.problem.values), numeric.gradient)
        values = jacli.derive("tr(X' A X) wrt X", random=True, **_at(h.problem, sizes)).problem.values
        close(call(hess, values), jacli.hessian("tr(X' A X) wrt X", **values))


def test_inputs_are_read_and_checked():
    fn = load(python_source(jacli.derive("A x wrt x", symbolic=True)), "jacobian")
    A = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(fn(A=A), A)  # J = A, a copy
    assert fn(A=A) is not A
    fixed = load(python_source(jacli.derive("x' A x wrt x", A=(3, 3), symbolic=True)), "jacobian")
    x, A3 = np.array([1.0, 2.0, 3.0]), np.eye(3)
    close(fixed(A=A3, x=x), fixed(A=A3, x=x.reshape(3, 1)))  # a 1-D array is a column
    with pytest.raises(ValueError, match=r"A is 2×2, expected 3×3"):
        fixed(A=np.eye(2), x=x)
    with pytest.raises(ValueError, match="axes"):
        fixed(A=np.ones((3, 3, 1)), x=x)
    sized = load(python_source(jacli.derive("A X B wrt X", symbolic=True)), "jacobian")
    assert sized(A=2.0, B=np.ones((1, 4))).shape == (4, 1)  # a number is 1×1
    checked = load(python_source(jacli.derive("X' A X wrt X", symbolic=True)), "jacobian")
    with pytest.raises(ValueError, match="A is 2×3, expected 3×3"):
        checked(X=np.ones((3, 2)), A=np.ones((2, 3)))


def test_a_size_in_no_input_is_refused_and_a_shape_only_input_is_taken():
    r = jacli.derive("X' wrt X", symbolic=True)
    code = python_source(r)
    assert "def jacobian(*, X: np.ndarray)" in code and "X for its shape only" in code
    with pytest.raises(JacliError, match="no input's size"):
        function_source("jacobian", [[Expr("I", (), jacli.sizes.dim("k"))]], shapes=None, names={}, doc="J")


def test_python_keywords_are_refused():
    r = jacli.derive("lambda X wrt X", symbolic=True, **{"lambda": (1, 1)})
    with pytest.raises(JacliError, match="lambda is a Python keyword"):
        python_source(r)
    with pytest.raises(JacliError, match="np is NumPy in the Python code"):
        python_source(jacli.derive("np X wrt X", symbolic=True))


# -- structure kept ------------------------------------------------------------------------------
def _code(source: str, **shapes) -> str:
    body = python_source(jacli.derive(source, symbolic=True, **shapes))
    return body.split('"""')[2].split("def _matrix")[0]  # the function's statements


def test_structure_is_kept():
    assert "np.kron(np.ascontiguousarray(B.T), A)" in _code("A X B wrt X")
    xxt = _code("X X' wrt X")  # (I ⊗ X) K(m,n): the columns of I ⊗ X permuted, K never formed
    assert "transpose(0, 2, 1)" in xxt and "np.eye(m * n)" not in xxt
    assert "np.diagflat" not in _code("diag(x) A wrt x", x=("n", 1))  # diag(v) M as v * M
    had = _code("(A X) ∘ (X B) wrt X")  # diag(vec(X B)) (I ⊗ A): rows of I ⊗ A scaled, not multiplied
    assert "np.diagflat" not in had and "@ np.kron" not in had and ") * np.kron(np.eye(n), A)" in had
    kron = _code("kron(A, B) wrt A")  # I ⊗ K ⊗ I: reshapes and transposes
    assert kron.count("transpose") == 3 and "@" not in kron


def _product_cases():
    I, K, A, B, v = (lambda n: Expr("I", (), n)), (lambda m, n: Expr("K", (), (m, n))), name("A"), name("B"), name("v")
    kron, mm = (lambda a, b: Expr("kron", (a, b))), (lambda a, b: Expr("matmul", (a, b)))
    d, neg, s = Expr("diag", (v,)), (lambda a: Expr("neg", (a,))), (lambda a: Expr("smul", (Expr("num", (), 2.5), a)))
    # (factor, its shape): A is 2×3, B 3×2, v 6×1; each is applied to a dense M on the left and on the right
    return [
        (I(6), 6), (K(2, 3), 6), (K(3, 2), 6), (d, 6), (kron(I(2), K(1, 3)), 6), (kron(K(2, 3), I(1)), 6),
        (kron(I(3), A), (6, 9)), (kron(A, I(3)), (6, 9)), (kron(I(2), kron(I(1), K(3, 1))), 6),
        (kron(kron(I(1), K(2, 3)), I(2)), 12), (kron(A, K(2, 3)), (12, 18)), (kron(K(2, 1), B), (6, 4)),
        (neg(kron(I(2), A)), (4, 6)), (s(K(3, 2)), 6), (mm(K(2, 3), d), 6), (mm(kron(B, I(2)), K(2, 2)), (6, 4)),
        (kron(d, A), (12, 18)), (kron(I(2), mm(A, K(1, 3))), (4, 6)),
    ]  # fmt: skip


@pytest.mark.parametrize("factor,shape", _product_cases())
def test_structured_products(factor, shape):
    """Each structured factor applied to a dense M, on either side, against the reference
    evaluator; the factor itself is never multiplied in (no '@' with it)."""
    rows, cols = (shape, shape) if isinstance(shape, int) else shape
    rng = np.random.default_rng(0)
    vals = {"A": rng.standard_normal((2, 3)), "B": rng.standard_normal((3, 2)), "v": rng.standard_normal((6, 1))}
    for side, m_shape in (("left", (cols, 5)), ("right", (4, rows))):
        names = {"A": (2, 3), "B": (3, 2), "v": (6, 1), "M": m_shape}
        vals["M"] = rng.standard_normal(m_shape)
        e = Expr("matmul", (factor, name("M")) if side == "left" else (name("M"), factor))
        sh = Shapes(names)
        assert sh(factor) == (rows, cols)
        code = function_source("f", [[e]], shapes=sh, names=names, doc="f")
        close(call(load(code, "f"), vals), Evaluator(vals)(e))
        assert "np.eye" not in code and "np.diagflat" not in code, code


def test_identity_products_are_dropped():
    sh = Shapes({"A": (2, 3)})
    e = Expr("matmul", (Expr("I", (), 2), Expr("matmul", (name("A"), Expr("I", (), 3)))))
    code = function_source("f", [[e]], shapes=sh, names={"A": (2, 3)}, doc="f")
    assert "return A.copy()" in code


# -- the generated module as a file --------------------------------------------------------------
def test_generated_file_runs_standalone_and_passes_ruff(tmp_path):
    r = run("derive", "kron(A, B) wrt A", "--symbolic", "-o", "jac.py")
    assert r.exit_code == 0, r.output
    path = Path("jac.py")
    assert subprocess.run([sys.executable, str(path)], capture_output=True).returncode == 0
    script = "import numpy as np, jac; print(jac.jacobian(A=np.ones((2, 3)), B=np.ones((4, 1))).shape)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=path.parent)
    assert out.stdout.strip() == "(24, 6)", out.stderr
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    for source in ("A X B wrt X", "X X' wrt X", "softmax(x) wrt x", "det(X) wrt X", "logdet(X) wrt X"):
        code = python_source(jacli.derive(source, symbolic=True))
        check = subprocess.run([ruff, "check", "--isolated", "--stdin-filename", "jac.py", "-"], input=code,
                               capture_output=True, text=True)  # fmt: skip
        assert check.returncode == 0, check.stdout + code


# -- Markdown ------------------------------------------------------------------------------------
def balanced(latex: str) -> bool:
    depth = 0
    for ch in re.sub(r"\\[{}]", "", latex):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def test_markdown_note():
    md = markdown(jacli.derive("A X B wrt X", A=(2, 3), B=(4, 5), symbolic=True))
    assert md == (
        "$$\n\\frac{\\partial \\operatorname{vec}\\left(A X B\\right)}{\\partial \\operatorname{vec}(X)} "
        "= B^{\\top} \\otimes A\n$$\n\nJ is 10×12 (rows: vec F, F = A X B is 2×5; columns: vec X, X 3×4)\n"
    )
    g = markdown(jacli.derive("sum(exp(W x)) wrt W", symbolic=True), gradient=True)
    assert "\\exp\\left(W x\\right) x^{\\top}\n$$" in g and "∂f/∂W is m×n, shaped like W" in g
    assert "sizes chosen by jacli: m, n" in g
    h = hessian_markdown(hessian_of(prepare("tr(X' A X) wrt X", bindings_of(None, {}), symbolic=True), symbolic=True))
    assert h.startswith("$$\n\\frac{\\partial^2 f}") and "I_{n} \\otimes" in h and "\nH is (m n)×(m n)" in h
    for text in (md, g, h):
        blocks = text.split("$$")
        assert len(blocks) == 3 and balanced(blocks[1])
    escaped = markdown(jacli.derive("x_1' x_1 wrt x_1", symbolic=True))
    assert "F = x\\_1ᵀ x\\_1" in escaped


# -- the command line ----------------------------------------------------------------------------
def test_cli_markdown_and_python_need_shapes_only():
    for fmt in ("markdown", "python", "latex"):
        r = run("derive", "A X B wrt X", "A=2x3", "B=4x5", "--format", fmt)
        assert r.exit_code == 0, r.output
    r = run("derive", "A X B wrt X", "A=2x3", "B=4x5", "--format", "python")
    assert "A = _matrix(A, 'A', (2, 3))" in r.stdout and "return np.kron(np.ascontiguousarray(B.T), A)" in r.stdout
    r = run("derive", "A X B wrt X", "A=2x3", "B=4x5", "--format", "markdown", "--random")
    assert r.stdout.startswith("$$\n") and "J is 10×12" in r.stdout


def test_cli_files():
    r = run("derive", "A X B wrt X", "A=2x3", "B=4x5", "-o", "note.md")
    assert r.exit_code == 0 and "wrote note.md" in r.stderr
    assert Path("note.md").read_text() == run("derive", "A X B wrt X", "A=2x3", "B=4x5", "--format", "markdown").stdout
    r = run("derive", "sum(exp(W x)) wrt W", "--symbolic", "--gradient", "-o", "g.py")
    assert r.exit_code == 0, r.output
    text = Path("g.py").read_text()
    assert "def gradient(*, W: np.ndarray, x: np.ndarray)" in text and "∂f/∂W = exp(W x) xᵀ" in text
    r = run("hessian", "tr(X' A X) wrt X", "--symbolic", "-o", "h.md")
    assert r.exit_code == 0 and Path("h.md").read_text().startswith("$$\n\\frac{\\partial^2 f}")
    r = run("hessian", "tr(X' A X) wrt X", "A=3x3", "X=3x2", "-o", "h.py")
    assert r.exit_code == 0 and "def hessian(*, A: np.ndarray)" in Path("h.py").read_text()  # X's shape is fixed


def test_cli_python_with_numbers_saves_both():
    r = run("derive", "A X B wrt X", "A=2x3", "B=4x5", "--random", "--format", "python", "-o", "J.npy")
    assert r.exit_code == 0, r.output
    fn = load(r.stdout, "jacobian")
    assert np.load("J.npy").shape == fn(A=np.ones((2, 3)), B=np.ones((4, 5))).shape == (10, 12)


def test_cli_refusals_leave_no_file():
    r = run("derive", "lambda X wrt X", "--symbolic", "-o", "jac.py")
    assert r.exit_code == 2 and "lambda is a Python keyword" in r.stderr and "Traceback" not in r.output
    assert not Path("jac.py").exists()
    r = run("derive", "lambda X wrt X", "lambda=1x1", "X=2x2", "--random", "--format", "python", "-o", "J.npy")
    assert r.exit_code == 2 and not Path("J.npy").exists()
    r = run("derive", "A X B wrt X", "--differential", "--format", "python")
    assert r.exit_code == 2 and "--format python" in r.stderr
    r = run("derive", "A X B wrt X", "A=2x3", "X=3x4", "B=4x5", "--direction", "X=3x4", "--format", "markdown")
    assert r.exit_code == 2
    r = run("derive", "A X B wrt X", "--symbolic", "-o", "J.npy")
    assert r.exit_code == 2 and "F.md" in r.stderr
    r = run("derive", "A X B wrt X", "A=2x3", "X=3x4", "B=4x5", "--random", "--direction",
            "X=[[1,2,3,4],[0,0,0,0],[1,1,1,1]]", "-o", "d.py")  # fmt: skip
    assert r.exit_code == 2 and "holds a formula" in r.stderr and not Path("d.py").exists()
    r = run("derive", "tr(I(k)) X wrt X", "--symbolic", "-o", "jac.py")
    assert r.exit_code == 2 and "k is no input's size" in r.stderr and not Path("jac.py").exists()


def test_cli_differential_markdown():
    r = run("derive", "inv(X) wrt X", "--differential", "--format", "markdown")
    assert r.exit_code == 0 and r.stdout.startswith("$$\n") and "\\mathrm{d}" in r.stdout


# -- notebooks -----------------------------------------------------------------------------------
def test_notebook_display():
    r = jacli.derive("A X B wrt X", A=(2, 3), B=(4, 5), symbolic=True)
    latex = r._repr_latex_()
    assert latex.startswith("$$") and latex.endswith("$$") and latex.endswith("B^{\\top} \\otimes A$$")
    h = jacli.derive_hessian("tr(X' A X) wrt X", A=(3, 3), X=(3, 2), symbolic=True)
    assert h._repr_latex_().startswith("$$\\frac{\\partial^2 f}") and h._repr_latex_().endswith("$$")
    good = jacli.check("A X B wrt X", A=(2, 3), B=(4, 5), against="B' ⊗ A")
    md = good._repr_markdown_()
    assert md.startswith("**agree**") and "`Bᵀ ⊗ A`" in md and "| claim |" in md
    bad = jacli.check("A X B wrt X", A=(2, 3), B=(4, 5), against="A ⊗ B'")
    assert bad._repr_markdown_().startswith("**disagree**") and "DISAGREES" not in bad._repr_markdown_()
    sized = jacli.check("A X B wrt X", A=("m", "n"), B=("p", "q"), against="B' ⊗ A")
    assert sized._repr_markdown_().startswith("**agree**") and "m=1, n=1" in sized._repr_markdown_()
