"""What new users trip on (a student writing notes like the seeds, an ML researcher, a
statistician, a shell scripter), each fixed and held by a test. The ones that need a terminal
are in test_terminal.py."""

from __future__ import annotations

import pytest
from cli_support import run


# -- a claim of the wrong shape says so ------------------------------------------------------
def test_a_claim_of_the_wrong_shape_says_so_at_every_size():
    r = run("check", "W a wrt W", "W=m×n", "a=n", "--against", "a ⊗ I")
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert lines[2] == "  sizes m=1, n=1: jacli agrees, formula agrees, claim agrees; max abs diff 0"
    assert lines[3] == "  sizes m=4, n=3: jacli agrees, formula agrees, claim has the wrong shape; max abs diff 0"
    assert "DISAGREES" not in r.stdout
    assert "    claim a ⊗ I: wrong shape: J is 4×12 and the claim cannot be (sizes do not fit" in r.stdout


@pytest.mark.parametrize(
    "against, note",
    [
        ("a ⊗ I", "wrong shape: J is 3×6 and the claim cannot be (sizes do not fit: 3 is not a multiple of 2"),
        ("a' ⊗ I(2)", "wrong shape: J is 3×6 and the claim is 2×4"),
    ],
)
def test_a_claim_of_the_wrong_shape_at_numbers(against, note):
    r = run("check", "W a wrt W", "W=3x2", "a=2", "--against", against)
    assert r.exit_code == 1
    assert f"  claim {against}: {note}" in r.stdout


# -- one LaTeX rendering of a name everywhere ------------------------------------------------
@pytest.mark.parametrize(
    "command, args, shown",
    [
        (
            "derive",
            [],
            r"\frac{\partial \operatorname{vec}\left(\Sigma W_{1}\right)}{\partial \operatorname{vec}(W_{1})} = "
            r"I_{n} \otimes \Sigma",
        ),
        (
            "derive",
            ["--gradient"],
            r"\frac{\partial\, \operatorname{tr}\left(\Sigma W_{1}\right)}{\partial W_{1}} = \Sigma^{\top}",
        ),
        (
            "hessian",
            [],
            r"\frac{\partial^2 f}{\partial \operatorname{vec}(W_{1})\, "
            r"\partial (\operatorname{vec}(W_{1}))^{\mathsf{T}}}",
        ),
    ],
)
def test_a_name_is_written_one_way_in_latex(command, args, shown):
    expr = "Sigma W1 wrt W1" if command == "derive" and not args else "tr(Sigma W1) wrt W1"
    if command == "hessian":
        expr = "tr(W1' Sigma W1) wrt W1"
    r = run(command, expr, "--symbolic", "--format", "latex", *args)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith(shown)
    assert "W1" not in r.stdout and r.stdout.count("Sigma") == r.stdout.count(r"\Sigma")


def test_explain_writes_names_as_its_formulas_do():
    r = run("explain", "tr(Sigma W1) wrt W1", "--format", "latex")
    assert r.exit_code == 0, r.stderr
    assert r"\frac{\partial f}{\partial W_{1}} &= \Sigma^{\top}" in r.stdout
    assert "W1" not in r.stdout and r.stdout.count("Sigma") == r.stdout.count(r"\Sigma")


# -- a misspelt exp, log or sqrt says which function is entrywise ------------------------------
@pytest.mark.parametrize(
    "word, meant",
    [
        ("expn", "'exp' (entrywise) or 'expm' (the matrix exponential)"),
        ("expmm", "'expm' (the matrix exponential) or 'exp' (entrywise)"),
        ("exmp", "'exp' (entrywise) or 'expm' (the matrix exponential)"),
        ("lgm", "'logm' (the matrix logarithm) or 'log' (entrywise)"),
        ("sqrm", "'sqrtm' (the matrix square root) or 'sqrt' (entrywise)"),
        ("sqr", "'sqrt' (entrywise) or 'sqrtm' (the matrix square root)"),
        ("dexp", "'dexpm' (the Fréchet derivative of expm), 'exp' (entrywise) or 'expm' (the matrix exponential)"),
        ("logdett", "'logdet'"),
    ],
)
def test_a_misspelt_matrix_function_is_told_apart_from_the_entrywise_one(word, meant):
    r = run("derive", f"{word}(X) wrt X", "X=3x3")
    assert r.exit_code == 2
    assert r.stderr == f"jacli: error: unknown function '{word}' (did you mean {meant}?) at column 1\n"


# -- the seeds' notation ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "source, read",
    [
        ("a^{T} ⊗ I_m", "(aᵀ) ⊗ I(m)"),
        ("a^\\top \\otimes I_m", "(aᵀ) ⊗ I(m)"),
        ("a^⊤ ⊗ I_3", "(aᵀ) ⊗ I₃"),
        ("a⊤ b", "(aᵀ) b"),
        ("(I_n \\otimes K_{q m} \\otimes I_p)(I_{m n} \\otimes vec(B))", "((I(n) ⊗ K(q,m)) ⊗ I(p)) (I(m n) ⊗ vec(B))"),
        ("X^{-1} + X^{-T} + X^{2}", "((X⁻¹) + (X⁻ᵀ)) + (X²)"),
        ("\\text{vec}(A) + \\operatorname{vec}\\left(B\\right)", "vec(A) + vec(B)"),
        ("A \\oplus B", "A ⊕ B"),
        ("A\\B", "A \\ B"),  # a solve stays a solve
        ("x_1 + log_det", "x_1 + log_det"),  # a name that holds '_'
    ],
)
def test_the_seeds_notation_reads_as_jaclis(source, read):
    r = run("parse", source)
    assert r.stdout.splitlines()[0] == read, r.stderr


@pytest.mark.parametrize(
    "source, message",
    [
        ("T(q,m) vec(X) wrt X", "'T': the commutation matrix is written K(m,n) in jacli (K(m,n) vec(A) = vec(Aᵀ)"),
        ("T_{qm} vec(X) wrt X", "'T_{qm}': the commutation matrix is written K(q,m) in jacli"),
        ("I_{mn} X wrt X", "'I_{mn}' is ambiguous: write I(m n) for the identity of size m n, or I(mn)"),
        ("Wa wrt W", "'W' after 'wrt' does not occur in the expression ('Wa' is one name; a product is written "
         "with spaces: 'W a')"),
        ("vec(AXB) wrt X", "'X' after 'wrt' does not occur in the expression ('AXB' is one name; a product is "
         "written with spaces: 'A X B')"),
        ("x_{i} wrt x_i", "'x_{i}': a name is letters, digits and '_', without braces: write x_i"),
    ],
)  # fmt: skip
def test_what_the_seeds_write_otherwise_gets_a_hint(source, message):
    r = run("derive", source, "--symbolic")
    assert r.exit_code == 2
    assert r.stderr.startswith(f"jacli: error: {message}"), r.stderr


def test_the_seeds_claims_check_as_written():
    r = run("check", "kron(A, B) wrt A", "A=m×n", "B=p×q", "--against",
            "(I_n \\otimes K_{q m} \\otimes I_p)(I_{m n} \\otimes \\operatorname{vec}(B))")  # fmt: skip
    assert r.exit_code == 0 and r.stdout.startswith("agree"), r.output
    r = run("check", "W a wrt W", "W=m×n", "a=n", "--against", "a^T \\otimes I_m")
    assert r.exit_code == 0 and r.stdout.startswith("agree"), r.output
    r = run("check", "kron(A, B) wrt A", "A=m×n", "B=p×q", "--against", "(I_n ⊗ T_qm ⊗ I_p)(I_{m n} ⊗ vec(B))")
    assert r.exit_code == 2
    assert "uses T_qm, which does not occur in the expression (the commutation matrix is written K(q,m)" in r.stderr
    r = run("derive", "T_qm vec(X) wrt X", "X=2x3", "T_qm=6x6", "--random")
    assert r.exit_code == 0 and "T_qm is a matrix of its own here (the commutation matrix is written K(q,m)" in r.stderr


# -- attention: row-wise softmax, a matrix called K ----------------------------------------
def test_attention_can_be_written():
    args = ["Q=4x3", "K=5x3", "V=5x2", "s=1x1"]
    r = run("check", "softmax_rows(Q K' / s) V wrt Q, K, V", *args)
    assert r.exit_code == 0 and r.stdout.startswith("agree: softmax_rows(Q Kᵀ / s) V wrt Q, K, V (J 8×37)"), r.output
    r = run("derive", "K X wrt K", "X=3x2", "--symbolic")
    assert r.exit_code == 0 and r.stdout.startswith("Xᵀ ⊗ I(m)\n")
    r = run("derive", "K(2,3) vec(X) wrt X", "X=2x3", "--symbolic")
    assert r.exit_code == 0 and r.stdout == "K(2,3)\n"  # called with sizes, the commutation matrix


@pytest.mark.parametrize(
    "fn, axis",
    [("softmax_rows", 1), ("softmax_cols", 0), ("logsumexp_rows", 1), ("logsumexp_cols", 0)],
)
def test_softmax_and_logsumexp_by_rows_and_columns(fn, axis):
    import numpy as np

    import jacli

    x = np.array([[1.0, 2.0, 3.0], [1000.0, -1000.0, 0.0]])  # no overflow
    assert np.all(np.isfinite(jacli.jacobian(f"sum({fn}(X)) wrt X", X=x)))
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - m)
    want = e / e.sum(axis=axis, keepdims=True) if "soft" in fn else m + np.log(e.sum(axis=axis, keepdims=True))
    from jacli.numeric.evaluate import evaluate
    from jacli.syntax import parse_expr

    assert np.allclose(evaluate(parse_expr(f"{fn}(X)"), {"X": x}), want)
    assert jacli.check(f"{fn}(X) wrt X", X=(3, 4)).agree


def test_mean_is_linear():
    import numpy as np

    import jacli

    assert np.allclose(jacli.jacobian("mean(X) wrt X", X=np.ones((2, 3))), np.full((1, 6), 1 / 6))
    r = run("derive", "mean(X) wrt X", "X=m×n", "--symbolic", "--gradient")
    assert r.stdout.splitlines()[0] == "∂f/∂X = ones(m,n) / sum(ones(m,n))"


# -- a size is no number ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, where",
    [
        (["check", "(x - ones(n,1) sum(x)/n) / norm2(x - ones(n,1) sum(x)/n) wrt x", "x=n"], "x is n×1"),
        (["derive", "x' x / n wrt x", "x=n", "--symbolic"], "x is n×1"),
        (["derive", "sum(I(n) X) / n wrt X", "--symbolic"], "in I(n) at column 5"),
        (["parse", "ones(n,1)' x / n"], "in ones(n,1) at column 1"),
    ],
)
def test_a_size_used_as_a_number_is_refused(args, where):
    r = run(*args)
    assert r.exit_code == 2
    assert f"jacli: error: n is a size here ({where}), and a size is no number in jacli: n at column" in r.stderr
    assert "write mean(x) for sum(x)/n" in r.stderr


def test_a_name_that_is_no_size_stays_a_matrix():
    r = run("derive", "x' x / n wrt x", "x=5", "--random")
    assert r.exit_code == 0 and "2 xᵀ / n" in r.stdout


# -- sizes jacli chose are named as such in a refusal ----------------------------------------
@pytest.mark.parametrize(
    "args, hint",
    [
        (
            ["(B' ⊗ A) vec(X) wrt X"],
            "(m, n, p are sizes jacli chose, as no shape fixed them: B p×?, A ?×?, X m×n; "
            "give the shapes that hold, as in B=3x4)",
        ),
        (["K(2,3) vec(X) wrt X"], "(m is a size jacli chose, as no shape fixed them: X m×?; give the shapes"),
    ],
)
def test_sizes_jacli_chose_are_told_in_a_refusal(args, hint):
    r = run("derive", *args, "--symbolic")
    assert r.exit_code == 2 and r.stderr.startswith("jacli: error: sizes do not fit: ")
    assert hint in r.stderr
    r = run("derive", *args, "X=2x3", "A=2x2", "B=3x3", "--symbolic")
    assert r.exit_code == 0, r.stderr


# -- gradients: several names on the command line, 1-D inputs, Hessians from compile ---------
def test_gradient_of_several_names_on_the_command_line(tmp_path):
    import json

    import numpy as np

    args = ["derive", "x' A x + a' y wrt x, y", "x=3", "A=3x3", "a=2", "y=2", "--random", "--gradient"]
    r = run(*args, "--format", "plain")
    assert r.exit_code == 0, r.stderr
    comments = [line for line in r.stdout.splitlines() if line.startswith("# ∂f/∂")]
    assert comments == ["# ∂f/∂x = (A + Aᵀ) x", "# ∂f/∂y = a"]
    doc = json.loads(run(*args, "--format", "json").stdout)
    assert [(g["wrt"], g["gradient_formula"], np.shape(g["gradient"])) for g in doc["gradients"]] == [
        ("x", "(A + Aᵀ) x", (3, 1)),
        ("y", "a", (2, 1)),
    ]
    r = run(*args, "-o", tmp_path / "g.npz")
    assert r.exit_code == 0, r.stderr
    with np.load(tmp_path / "g.npz") as saved:
        assert {k: saved[k].shape for k in saved} == {"x": (3, 1), "y": (2, 1)}
        assert np.allclose(saved["y"], doc["gradients"][1]["gradient"])
    r = run(*args, "-o", tmp_path / "g.npy")
    assert r.exit_code == 2 and "the gradients of 2 names go to a .npz (one array a name)" in r.stderr
    assert not (tmp_path / "g.npy").exists()
    r = run("derive", "x' A x + a' y wrt x, y", "--gradient", "--symbolic", "--format", "python")
    assert r.exit_code == 2 and "the gradient of one name" in r.stderr


def test_compile_gives_gradients_shaped_like_their_inputs_and_the_hessian():
    import numpy as np

    import jacli

    f = jacli.compile("x' A x wrt x", A=(3, 3), x=(3,))
    a = np.diag([1.0, 2.0, 3.0])
    assert f.gradient(A=a, x=np.ones(3)).shape == (3,)  # scipy.optimize's jac
    assert f.gradient(A=a, x=np.ones((3, 1))).shape == (3, 1)
    assert np.allclose(f.hessian(A=a, x=np.ones(3)), 2 * a)
    g = jacli.compile("logdet(X) wrt X", X=(2, 2))
    x = np.array([[2.0, 1.0], [0.5, 3.0]])
    assert np.allclose(g.hessian(X=x), jacli.hessian("logdet(X) wrt X", X=x))


# -- short reprs in a REPL, LaTeX for a differential in a notebook ----------------------------
def test_results_print_short_in_a_repl():
    import numpy as np

    import jacli

    a, b, x = np.ones((2, 3)), np.ones((4, 5)), np.ones((3, 4))
    shown = {
        "derive": repr(jacli.derive("A X B wrt X", A=a, B=b, X=x)),
        "check": repr(jacli.check("A X B wrt X", A=(2, 3), B=(4, 5), against="A ⊗ B'")),
        "sized": repr(jacli.check("A X B wrt X", A=("m", "n"), B=(4, 5), X=("n", 4))),
        "hessian": repr(jacli.derive_hessian("tr(X' A X) wrt X", A=(3, 3), X=(3, 3), symbolic=True)),
        "differential": repr(jacli.differential("A X B wrt X")),
        "compile": repr(jacli.compile("tr(X' A X) wrt X", A=(3, 3), X=(3, 4))),
        "explain": repr(jacli.explain("A X B wrt X")),
    }
    assert shown["derive"] == "<Result J = Bᵀ ⊗ A: 10×12, A X B wrt X; with its matrix>"
    assert shown["check"].startswith("<CheckResult disagree: A X B wrt X, J 10×12; jacli agrees (max abs diff ")
    assert shown["sized"] == "<SizedCheck agree: A X B wrt X, J = Bᵀ ⊗ A; at 4 assignments of the sizes>"
    assert shown["hessian"] == "<Hessian H = I₃ ⊗ (A + Aᵀ): 9×9, tr(Xᵀ A X) wrt X; formula only>"
    assert shown["differential"] == "<Differential d(A X B) = A dX B>"
    assert shown["compile"] == "<Compiled tr(Xᵀ A X) wrt X: gradient, jacobian, hessian>"
    assert shown["explain"] == "<Explanation of A X B wrt X: 4 steps; .text(), .markdown()>"
    assert all(len(s) < 200 and "array" not in s for s in shown.values())
    assert str(jacli.check("X' wrt X", X=(2, 2))).startswith("<CheckResult agree")  # print() too
    latex = jacli.differential("A X B wrt X")._repr_latex_()
    assert latex == r"$$\mathrm{d}\left(A X B\right) = A \,\mathrm{d}X B$$"


# -- a numeric claim, explain -o, derive --save-values, eval, examples in --help, wide tables --
def test_check_against_the_numbers_derive_saved(tmp_path):
    args = ["A X B wrt X", "A=2x3", "B=4x5"]
    r = run("derive", *args, "--random", "-o", tmp_path / "J.npy", "--save-values", tmp_path / "v.npz")
    assert r.exit_code == 0, r.stderr
    assert r.stderr.splitlines()[-2:] == [f"jacli: wrote {tmp_path / 'J.npy'}", f"jacli: wrote {tmp_path / 'v.npz'}"]
    r = run("check", "A X B wrt X", "--values", tmp_path / "v.npz", "--against", tmp_path / "J.npy")
    assert r.exit_code == 0 and f"  claim {tmp_path / 'J.npy'}: agrees" in r.stdout, r.output
    r = run("check", *args, "--seed", "1", "--against", tmp_path / "J.npy")  # other values
    assert r.exit_code == 1 and "DISAGREES" in r.stdout
    r = run("check", "A X wrt X", "A=2x3", "X=3x2", "--against", tmp_path / "J.npy")
    assert r.exit_code == 1 and "wrong shape: J is 4×6 and the claim is 10×12" in r.stdout
    for shape, against, said in [
        ("A=2x3", "nothere.npy", "--against nothere.npy: no such file"),
        ("A=2xn", str(tmp_path / "J.npy"), "a claim given as numbers needs numbers for the sizes"),
    ]:
        r = run("check", "A X B wrt X", shape, "B=4x5", "--against", against)
        assert r.exit_code == 2 and said in r.stderr, r.stderr


def test_a_claim_as_numbers_along_directions(tmp_path):
    import numpy as np

    import jacli

    a, b, x = (np.random.default_rng(k).standard_normal((40, 40)) for k in range(3))
    J = jacli.jacobian("A X B wrt X", A=a, B=b, X=x)  # 1600², compared whole up to 2²⁰ entries
    np.save(tmp_path / "J.npy", J)
    c = jacli.check("A X B wrt X", A=a, B=b, X=x, against=str(tmp_path / "J.npy"))
    assert c.agree and c.comparisons[1].label == "claim"


def test_explain_saves_its_note(tmp_path):
    for suffix, start in ((".md", "# The derivative of $A X B$"), (".tex", "\\begin{align*}"), (".txt", "A X B wrt X")):
        r = run("explain", "A X B wrt X", "-o", tmp_path / f"note{suffix}")
        assert (r.exit_code, r.stdout) == (0, ""), r.stderr
        assert (tmp_path / f"note{suffix}").read_text().startswith(start)
    r = run("explain", "A X B wrt X", "-o", tmp_path / "note.npy")
    assert r.exit_code == 2 and "explain -o saves a note: note.md, note.tex or note.txt" in r.stderr


def test_eval_gives_the_value_without_wrt(tmp_path):
    import json

    import numpy as np

    r = run("eval", "A X", "A=[[1,2]]", "X=[[3],[4]]")
    assert (r.exit_code, r.stdout) == (0, "# F = A X\n# shape: 1×1\n11.0\n"), r.stderr
    r = run("eval", "softmax_rows(X)", "X=2x3", "--random", "--format", "json")
    doc = json.loads(r.stdout)
    assert doc["shape"] == [2, 3] and np.allclose(np.sum(doc["value"], axis=1), 1)
    r = run("eval", "inv(X) wrt X", "X=[[1,2],[2,4]]")  # a wrt tail is ignored; domains are checked
    assert r.exit_code == 2 and "X is singular" in r.stderr
    r = run("eval", "X' X", "X=2x3", "--random", "-o", tmp_path / "F.npy")
    assert r.exit_code == 0 and np.load(tmp_path / "F.npy").shape == (3, 3)
    r = run("eval", "X", "X=2x2")
    assert r.exit_code == 2 and "has no values" in r.stderr and "--symbolic" not in r.stderr


@pytest.mark.parametrize("command", ["", "derive", "hessian", "check", "explain", "batch", "parse", "eval"])
def test_help_has_examples(command):
    r = run(*filter(None, [command]), "--help")
    assert r.exit_code == 0
    examples = r.stdout.split("Examples:\n")[1].split("\n\n")[0].splitlines()
    assert examples and all(line.strip().startswith("jacli ") or "| jacli" in line for line in examples)


def test_a_table_that_fits_the_terminal_is_not_abridged():
    import io

    import numpy as np
    from cli_support import A_NPY, B_NPY
    from rich.console import Console

    import jacli
    from jacli.cli.render import write_table

    r = jacli.derive("A X B wrt X", A=np.load(A_NPY), B=np.load(B_NPY), X=(3, 4))
    for width, abridged in ((120, False), (103, False), (80, True)):
        shown = io.StringIO()
        write_table(r, Console(file=shown, width=width, color_system=None), matrix=r.matrix)
        assert ("…" in shown.getvalue()) == abridged, width
        assert max(map(len, shown.getvalue().splitlines())) <= width


# -- check's numerical Jacobian: where the time went, and Ctrl-C heard at once ----------------
def test_ctrl_c_stops_a_long_check_at_once():
    import signal
    import subprocess
    import time

    from cli_support import jacli_popen

    inherited = signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a shell starts it
    try:
        p = jacli_popen("check", "logdet(X' X) wrt X", "X=90x90", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finally:
        signal.signal(signal.SIGINT, inherited)
    time.sleep(2.0)  # started, and in the numerical Jacobian (8,100 columns)
    if p.poll() is not None:
        pytest.skip("the check ended before it was interrupted")
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    code = p.wait(60)
    assert time.monotonic() - sent < 0.5  # each batch of perturbations takes a fraction of a second
    assert code == 130 and b"Traceback" not in p.stderr.read()


def test_complex_products_in_a_batch_are_exact_and_real():
    import numpy as np

    from jacli.numeric.evaluate import _complex_product

    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 3, 4)) + 1e-20j * rng.standard_normal((5, 3, 4))
    b = rng.standard_normal((4, 2)) + 1e-20j * rng.standard_normal((4, 2))
    got, want = _complex_product(a, b), a @ b
    assert np.allclose(got.real, want.real, rtol=1e-15) and np.allclose(got.imag, want.imag, rtol=1e-12, atol=0)
    assert np.array_equal(_complex_product(a, b.real), a @ b.real)


# -- what --jobs gains depends on free cores, and README says so ------------------------------
def test_readme_says_what_the_jobs_speedup_depends_on():
    from cli_support import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "faster only where N cores are free" in readme
    said = readme.split("`batch\n--jobs 2` runs 1.79× the lines a second of one job")[1].split("Gradients")[0]
    assert "free cores" in said and "load average" in said
