"""check and batch: agreement for true identities, disagreement found for wrong ones."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import SAMPLES, run

import jacli
from jacli.api import prepare
from jacli.api.problem import to_binding
from jacli.numeric.oracle import numerical_jacobian


@pytest.mark.parametrize(
    "expr,shapes,claim",
    [
        ("W a wrt W", dict(W=(3, 4), a=(4, 1)), "a' ⊗ I"),
        ("A X B wrt X", dict(A=(2, 3), X=(3, 4), B=(4, 5)), "B' ⊗ A"),
        ("X Y wrt X", dict(X=(3, 4), Y=(4, 5)), "Y' ⊗ I"),
        ("X Y wrt Y", dict(X=(3, 4), Y=(4, 5)), "I ⊗ X"),
        ("X' wrt X", dict(X=(3, 4)), "K(3,4)"),
    ],
)
def test_seeds_agree(expr, shapes, claim):
    result = jacli.check(expr, against=claim, **shapes)
    assert result.agree
    assert all(c.max_abs < 1e-12 for c in result.comparisons)


@pytest.mark.parametrize(
    "expr,shapes,wrong,where",
    [
        ("A X B wrt X", dict(A=(2, 3), X=(3, 4), B=(4, 5)), "A ⊗ B'", None),  # Kronecker factors swapped
        ("A X B wrt X", dict(A=(3, 3), X=(3, 3), B=(3, 3)), "B ⊗ A", None),  # missing transpose
        ("X' X wrt X", dict(X=(4, 3)), "X' ⊗ I + I ⊗ X'", None),  # missing commutation matrix
        ("inv(X) wrt X", dict(X=(3, 3)), "X^-T ⊗ X^-1", None),  # sign
        ("det(X) wrt X", dict(X=(3, 3)), "det(X) vec(X^-1)'", None),  # transpose on the inverse
    ],
)
def test_wrong_identities_disagree(expr, shapes, wrong, where):
    result = jacli.check(expr, against=wrong, **shapes)
    assert not result.agree
    jacli_side, claim = result.comparisons
    assert jacli_side.agree and not claim.agree
    assert claim.note == ""  # a numerical disagreement, not a claim refused for its shape
    assert claim.max_abs > 1e-3 and claim.where.startswith("dF[")


def test_where_the_largest_difference_sits():
    # X' X wrt X against X' ⊗ I + I ⊗ X': the difference is where K matters
    result = jacli.check("X' wrt X", against="I", X=(2, 2))
    claim = result.comparisons[1]
    assert claim.where in ("dF[1,0]/dX[0,1]", "dF[0,1]/dX[1,0]", "dF[1,0]/dX[1,0]", "dF[0,1]/dX[0,1]")


def test_numerical_derivative_is_independent_and_estimates_its_error():
    problem = prepare("inv(X) wrt X", {"X": to_binding("X", np.eye(3) * 2 + 0.1)})
    args = (problem.expr, problem.values, problem.variables(), problem.shape, problem.largest())
    J_cs, est_cs = numerical_jacobian(*args, method="complex")
    J_cd, est_cd = numerical_jacobian(*args, method="central")
    Xi = np.linalg.inv(problem.values["X"])
    exact = -np.kron(Xi.T, Xi)
    assert np.max(np.abs(J_cs - exact)) < 1e-14 and est_cs < 1e-12
    assert np.max(np.abs(J_cd - exact)) < 1e-7 and 0 < est_cd < 1e-5


def test_check_cli_exit_codes_and_report():
    ok = run("check", "A X B wrt X", "A=2x3", "X=3x4", "B=4x5", "--against", "B' ⊗ A")
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.startswith("agree: A X B wrt X (J 10×12)")
    assert "complex step" in ok.stdout and "tolerance" in ok.stdout
    bad = run("check", "A X B wrt X", "A=2x3", "X=3x4", "B=4x5", "--against", "A ⊗ B'")
    assert bad.exit_code == 1
    assert "DISAGREES" in bad.stdout and "at dF[" in bad.stdout
    shape = run("check", "A X B wrt X", "A=2x3", "X=3x4", "B=4x5", "--against", "B ⊗ A'")
    assert shape.exit_code == 1 and "wrong shape: J is 10×12 and the claim is 12×10" in shape.stdout
    broken = run("check", "A X B wrt X", "A=2x3", "B=4x5", "--against", "B' ⊗")
    assert broken.exit_code == 2 and "expected an expression after '⊗'" in broken.stderr


def test_seed_and_saved_values_reproduce(tmp_path):
    out = tmp_path / "v.npz"
    r1 = run(
        "check", "A X B wrt X", "A=2x3", "X=3x4", "B=4x5", "--seed", "5", "--save-values", str(out), "--format", "json"
    )
    assert r1.exit_code == 0
    saved = np.load(out)
    assert sorted(saved.files) == ["A", "B", "X"]
    r2 = run("check", "A X B wrt X", "--values", str(out), "--format", "json")
    assert json.loads(r1.stdout)["max_abs_diff"] == json.loads(r2.stdout)["max_abs_diff"]
    r3 = run("check", "A X B wrt X", "A=2x3", "X=3x4", "B=4x5", "--seed", "6", "--format", "json")
    assert json.loads(r3.stdout)["comparisons"][0]["where"] is not None


def test_batch_samples_all_agree():
    r = run("batch", str(SAMPLES / "identities.txt"))
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "disagree" not in r.stdout and "error" not in r.stdout
    assert r.stdout.strip().splitlines()[-1].startswith("24 lines: 23 agree, 1 ok")


def test_batch_json_lines_from_stdin_and_exit_codes():
    lines = "\n".join(
        [
            "# a comment",
            "",
            'check "A X B wrt X" A=2x3 X=3x4 B=4x5 --against "B\' ⊗ A"',
            'check "A X B wrt X" A=2x3 X=3x4 B=4x5 --against "A ⊗ B\'"',
            'derive "A X B wrt X" A=2x3 B=4x5 --symbolic',
        ]
    )
    r = run("batch", "-", "--format", "json", input=lines)
    assert r.exit_code == 1
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert [rec.get("verdict") for rec in records[:-1]] == ["agree", "disagree", "ok"]
    assert [rec["line"] for rec in records[:-1]] == [3, 4, 5]
    assert records[1]["max_abs_diff"] > 1e-3 and records[1]["where"].startswith("dF[")
    assert records[-1]["summary"]["agree"] == 1 and records[-1]["summary"]["disagree"] == 1
    bad = run("batch", "-", "--format", "json", input=lines + '\ncheck "A X wrt"\nfrobnicate\n')
    assert bad.exit_code == 2
    recs = [json.loads(line) for line in bad.stdout.splitlines()]
    assert recs[3]["verdict"] == "error" and "nothing after 'wrt'" in recs[3]["error"]
    assert recs[4]["verdict"] == "error" and "derive, hessian or check" in recs[4]["error"]
    assert recs[-1]["summary"]["error"] == 2


def test_batch_bad_option_is_a_bad_line_not_a_crash():
    r = run("batch", "-", input='check "X\' wrt X" X=2x2 --nope\ncheck "X\' wrt X" X=2x2\n')
    assert r.exit_code == 2
    assert "--nope" in r.stdout and "1 agree" in r.stdout
