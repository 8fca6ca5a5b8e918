"""Edge cases found by review and by trying the tool as a new user would."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import isolated, run  # noqa: F401 (isolated: autouse)

import jacli


def refused(args, *words):
    r = run(*args)
    assert r.exit_code == 2, (r.exit_code, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jacli: error:"), r.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def test_det_at_a_singular_matrix_is_the_adjugates_transpose():
    # d det(X) = tr(adj(X) dX) (M&N ch. 8): defined at a singular X, where det(X) X⁻ᵀ is not
    r = run("derive", "det(X) wrt X", "X=[[1,2],[2,4]]", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["matrix"] == [[4.0, -2.0, -2.0, 1.0]]
    # the value of det at a singular matrix is fine where it is not differentiated
    r = run("derive", "det(A) X wrt X", "A=[[1,2],[2,4]]", "X=2x2", "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["formula"] == "det(A) I₄"


@pytest.mark.parametrize(
    "args,words",
    [
        (
            ["check", "log(X) wrt X", "X=[[1,-2],[3,4]]", "--against", "diag(vec(X))"],
            ["log(X)", "is -2, where log is not defined"],
        ),
        (["check", "logdet(X) wrt X", "X=[[1,0],[0,-1]]"], ["logdet(X)", "not positive"]),
        (["check", "inv(X) wrt X", "X=[[1,2],[2,4]]"], ["singular"]),
        (["check", "A X B wrt X", "A=2x3", "B=4x5", "--tol", "-1"], ["--tol"]),
        (["check", "A X B wrt X", "A=2x3", "B=4x5", "--tol", "nan"], ["--tol"]),
        (["derive", "A X B wrt X", "A=2x3", "B=4x5", "--symbolic", "-o", "J.npy"], ["--symbolic", "F.tex"]),
        (["derive", "A wrt A", "A=2x2", "--formt", "json"], ["unknown option '--formt'"]),
        (["derive", "x'Ax wrt x", "x=3", "A=3x3"], ["Ax is one name", "'A x'"]),
        (["derive", "X^400 wrt X", "X=2x2", "--symbolic"], ["above 64"]),
        # main() reads 400 levels (its recursion limit is 4000): 5000 is too deep for it
        (["derive", "(" * 5000 + "X" + ")" * 5000 + " wrt X", "X=2x2", "--symbolic"], ["nested too deeply"]),
        (["derive", "A ./ X wrt A", "X=[[0,1],[1,1]]", "--random"], ["division by zero", "entry [0,0]"]),
        (["parse", "A ∘ B wrt A", "A=2x3", "B=3x2"], ["'∘' needs equal shapes, got 2×3 and 3×2 at column 3"]),
    ],
)
def test_refusals(tmp_path, args, words):
    refused(args, *words)
    assert list(tmp_path.iterdir()) == []


def test_an_expression_nested_400_deep_is_read():
    r = run("derive", "(" * 400 + "X" + ")" * 400 + " wrt X", "X=2x2", "--symbolic")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "I₄\n", "")


def test_an_expression_may_start_with_a_minus_sign():
    r = run("derive", "-X wrt X", "X=2x2", "--symbolic")
    assert r.exit_code == 0 and r.stdout.strip() == "-I₄"


def test_a_check_that_cannot_decide_says_so():
    # central differences cannot reach a tolerance of 1e-15
    refused(["check", "exp(X) wrt X", "X=2x2", "--method", "central", "--tol", "1e-15"], "not accurate enough")


def test_latex_names_the_row_layout_and_the_gradient():
    r = run("derive", "A X B wrt X", "A=2x3", "B=4x5", "--vec", "row", "--format", "latex", "--symbolic")
    assert r.stdout.strip().endswith(r"= A \otimes B^{\top}") and r"\operatorname{vec}_{r}" in r.stdout
    r = run("derive", "tr(A X) wrt X", "A=3x3", "X=3x3", "--random", "--gradient", "--format", "latex")
    assert r.stdout.strip().endswith(r"= A^{\top}")


def test_gradient_with_row_layout_keeps_its_closed_form():
    A, X = np.arange(9.0).reshape(3, 3), np.eye(3)
    r = jacli.derive("tr(A X) wrt X", A=A, X=X, vec="row")
    assert r.gradient_formula == "Aᵀ"
    np.testing.assert_array_equal(r.gradient, A.T)


def test_random_fills_names_whose_shape_was_inferred():
    # A is bound by nothing: its shape, 2×3, follows from X and C, and --random gives it values
    args = ["derive", "A X + C wrt X", "X=3x4", "C=2x4", "--format", "json"]
    r = run(*args)
    assert (r.exit_code, r.stderr) == (
        2,
        "jacli: error: A (2×3) has no values: give them (e.g. A=A.npy), or use --random, or --symbolic for the "
        "formula alone\n",
    )
    r = run(*args, "--random")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["formula"] == "I₄ ⊗ A" and doc["shape"] == [8, 12]
    J = np.array(doc["matrix"])
    A = J[:2, :3]
    assert np.all(A != 0)  # drawn values, not zeros
    np.testing.assert_array_equal(J, np.kron(np.eye(4), A))
    np.testing.assert_array_equal(J, jacli.derive("A X + C wrt X", X=(3, 4), C=(2, 4), random=True).matrix)


def test_batch_lines_mean_what_they_mean_on_the_command_line(tmp_path):
    lines = "\n".join(
        [
            f'derive "tr(A X) wrt X" A=3x3 X=3x3 --random --gradient -o {tmp_path}/g.npy',
            f'derive "X\' X wrt X" X=3x3 --random --sparse -o {tmp_path}/s.npz',
            'derive "A X B wrt X" A=2x3 B=4x5',
            "check --help",
        ]
    )
    r = run("batch", "-", "--format", "json", input=lines)
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert recs[0]["verdict"] == "ok" and recs[0]["gradient_formula"] == "Aᵀ"
    assert np.load(tmp_path / "g.npy").shape == (3, 3)
    assert recs[1]["verdict"] == "ok" and "stored entries" in recs[1]["output"]
    import scipy.sparse

    assert scipy.sparse.load_npz(tmp_path / "s.npz").shape == (9, 9)
    assert recs[2]["verdict"] == "error" and "has no values" in recs[2]["error"]
    assert recs[3]["verdict"] == "error" and "--help" in recs[3]["error"]
    assert r.exit_code == 2


def test_plain_output_has_no_negative_zeros():
    # J = -2 vec(X)ᵀ holds -0.0 where X is 0 (and .npy keeps it); plain text prints 0.0
    args = ["derive", "sum(-X ∘ X) wrt X", "X=[[0,1],[2,3]]"]
    assert run(*args, "-o", "J.npy").exit_code == 0
    assert np.signbit(np.load("J.npy")).tolist() == [[True, True, True, True]]
    r = run(*args, "--format", "plain")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[2:] == ["0.0 -4.0 -2.0 -6.0"]


@pytest.mark.parametrize(
    "expr,shapes,formula",
    [
        ("vec(A)' (x + z) s wrt s", dict(A=(2, 2), x=(4, 1), z=(4, 1), s=(1, 1)), "vec(A)ᵀ (x + z)"),
        ("vec(V)' (exp(x) + sin(x)) wrt x", dict(V=(2, 2), x=(4, 1)), "((exp(x) + cos(x)) ∘ vec(V))ᵀ"),
    ],
)
def test_a_product_with_a_sum_is_not_multiplied_out_when_nothing_simplifies(expr, shapes, formula):
    assert jacli.derive(expr, symbolic=True, **shapes).formula == formula
    assert jacli.check(expr, against=formula, **shapes).agree


@pytest.mark.parametrize(
    "expr,words",
    [
        ("1e200 1e200 X wrt X", ["overflows"]),
        ("1e99999 X wrt X", ["too large", "column 1"]),
    ],
)
def test_numbers_that_overflow_are_refused(expr, words):
    refused(["derive", expr, "X=2x2", "--symbolic"], *words)


def test_a_leading_minus_before_a_letter_o_is_still_an_expression():
    from jacli.cli.app import protect_expressions

    assert protect_expressions(["-cos(X) wrt X", "-o", "J.npy", "--random"]) == [
        " -cos(X) wrt X",
        "-o",
        "J.npy",
        "--random",
    ]
    r = run("derive", "-cos(X) wrt X", "X=2x2", "--symbolic")
    assert r.exit_code == 0 and r.stdout == "diag(vec(sin(X)))\n"
    r = run("batch", "-", input='derive "-cos(X) wrt X" X=2x2 --symbolic\n')
    assert r.exit_code == 0 and "J = diag(vec(sin(X)))" in r.stdout


def test_a_claimed_formula_that_cannot_be_sized_is_bad_input():
    refused(["check", "tr(S) wrt S", "S=3x3", "--against", "vec(I)'"], "cannot infer the size of I")
