"""The core command line, through jacli.cli.main() (not a terminal: the default format is plain)."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from cli_support import (  # noqa: F401 (isolated: autouse)
    A_NPY,
    AXB,
    B_NPY,
    ROOT,
    SAMPLES,
    isolated,
    jacli_process,
    python_process,
    run,
)

import jacli
import jacli.cli

X_NPY = str(SAMPLES / "X.npy")
A_CSV = str(SAMPLES / "a.csv")
A = np.load(A_NPY)
B = np.load(B_NPY)
J_AXB = np.kron(B.T, A)


def ok(result):
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def matrix_of(stdout: str) -> np.ndarray:
    return np.loadtxt(io.StringIO(stdout), comments="#", ndmin=2)


def comment_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("#")]


def save(name, arr) -> str:
    np.save(name, np.asarray(arr, dtype=float))
    return str(Path(name).resolve())


# --------------------------------------------------------------------------- derive A X B


def test_derive_axb_plain():
    r = ok(run(*AXB))
    lines = r.stdout.splitlines()
    assert lines[0] == "# J = ∂vec(F)/∂vec(X) = Bᵀ ⊗ A"
    assert lines[1].startswith("# shape")
    assert "10×12" in lines[1]
    J = matrix_of(r.stdout)
    assert J.shape == (10, 12)
    np.testing.assert_array_equal(J, J_AXB)
    assert r.stderr == ""


def test_format_plain_is_the_default_when_piped():
    default = ok(run(*AXB))
    plain = ok(run(*AXB, "--format", "plain"))
    assert plain.stdout == default.stdout
    np.testing.assert_array_equal(matrix_of(plain.stdout), J_AXB)


def test_format_csv():
    r = ok(run(*AXB, "--format", "csv"))
    J = np.loadtxt(io.StringIO(r.stdout), delimiter=",", comments="#", ndmin=2)
    np.testing.assert_array_equal(J, J_AXB)


def test_format_json():
    r = ok(run(*AXB, "--format", "json"))
    doc = json.loads(r.stdout)
    assert doc["formula"] == "Bᵀ ⊗ A"
    assert doc["shape"] == [10, 12]
    np.testing.assert_array_equal(np.array(doc["matrix"]), J_AXB)


def test_format_latex():
    r = ok(run(*AXB, "--format", "latex"))
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1
    assert r"B^{\top} \otimes A" in lines[0]


# --------------------------------------------------------------------------- -o


def _load(path: str, suffix: str) -> np.ndarray:
    if suffix == ".npy":
        return np.load(path)
    if suffix == ".npz":
        with np.load(path) as z:
            return z["J"]
    if suffix == ".csv":
        return np.loadtxt(path, delimiter=",", ndmin=2)
    if suffix == ".txt":
        return np.loadtxt(path, ndmin=2)
    if suffix == ".json":
        with open(path, encoding="utf-8") as f:
            return np.array(json.load(f)["matrix"])
    raise AssertionError(suffix)


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".csv", ".txt", ".json"])
def test_output_round_trips(tmp_path, suffix):
    path = "J" + suffix
    (tmp_path / path).write_bytes(b"old contents, to be replaced\n")
    r = ok(run(*AXB, "-o", path))
    assert r.stderr == f"jacli: wrote {path}\n"
    # the matrix is not printed: at most the comment lines
    assert all(line.startswith("#") for line in r.stdout.splitlines() if line.strip())
    J = _load(path, suffix)
    assert J.shape == (10, 12)
    np.testing.assert_array_equal(J, J_AXB)
    if suffix == ".npy":
        assert J.dtype == np.float64
    assert sorted(os.listdir(tmp_path)) == [path]  # no temp files left behind


def test_output_tex(tmp_path):
    (tmp_path / "J.tex").write_text("old")
    r = ok(run(*AXB, "-o", "J.tex"))
    assert r.stderr == "jacli: wrote J.tex\n"
    text = (tmp_path / "J.tex").read_text(encoding="utf-8")
    assert r"\otimes" in text
    assert "old" not in text


# --------------------------------------------------------------------------- --symbolic, missing values


def test_symbolic_needs_shapes_only():
    r = ok(run("derive", "A X B wrt X", "A=2x3", "B=4x5", "--symbolic"))
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].endswith("Bᵀ ⊗ A")
    assert r.stderr == ""


def test_missing_values_without_symbolic():
    r = run("derive", "A X B wrt X", "A=2x3", "B=4x5")
    assert r.exit_code == 2
    assert r.stdout == ""
    err = r.stderr
    assert err.startswith("jacli: error:")
    assert len(err.splitlines()) == 1
    names = re.findall(r"\b[AB]\b", err[len("jacli: error:") :])
    assert names and names[0] == "A"  # the first missing name
    assert "--random" in err
    assert "--symbolic" in err


# --------------------------------------------------------------------------- --random --seed


def test_random_seed_is_reproducible():
    args = ["derive", "A X B wrt X", "A=2x3", "B=4x5", "--random"]
    r1 = ok(run(*args, "--seed", "3"))
    r2 = ok(run(*args, "--seed", "3"))
    r3 = ok(run(*args, "--seed", "4"))
    assert r1.stdout == r2.stdout
    J1, J3 = matrix_of(r1.stdout), matrix_of(r3.stdout)
    assert J1.shape == J3.shape == (10, 12)
    assert not np.array_equal(J1, J3)


# --------------------------------------------------------------------------- --vec row


def test_vec_row_matches_row_major_jacobian():
    r = ok(run(*AXB, "--vec", "row"))
    assert comment_lines(r.stdout)[0].endswith("= A ⊗ Bᵀ")
    J = matrix_of(r.stdout)
    X = np.zeros((3, 4))
    cols = []
    for k in range(X.size):
        E = np.zeros(X.size)
        E[k] = 1.0
        cols.append((A @ E.reshape(X.shape) @ B).ravel())  # d F.ravel() / d X.ravel()[k]
    J_row = np.stack(cols, axis=1)
    assert J.shape == J_row.shape == (10, 12)
    np.testing.assert_allclose(J, J_row, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(J, np.kron(A, B.T))


# --------------------------------------------------------------------------- --gradient


GA = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 0.0], [3.0, 0.0, 1.0]])


def test_gradient_of_trace():
    X = np.load(X_NPY)
    r = ok(run("derive", "tr(X' A X) wrt X", f"X={X_NPY}", f"A={save('GA.npy', GA)}", "--gradient"))
    assert "# ∂f/∂X = (A + Aᵀ) X" in r.stdout.splitlines()
    g = matrix_of(r.stdout)
    assert g.shape == X.shape
    np.testing.assert_allclose(g, (GA + GA.T) @ X, rtol=1e-14, atol=1e-14)


def test_gradient_saved_shaped_like_x(tmp_path):
    X = np.load(X_NPY)
    r = ok(run("derive", "tr(X' A X) wrt X", f"X={X_NPY}", f"A={save('GA.npy', GA)}", "--gradient", "-o", "g.npy"))
    assert r.stderr == "jacli: wrote g.npy\n"
    g = np.load("g.npy")
    assert g.shape == X.shape
    np.testing.assert_allclose(g, (GA + GA.T) @ X, rtol=1e-14, atol=1e-14)


# --------------------------------------------------------------------------- several names


def test_several_variables_side_by_side():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    r = ok(run("derive", "X Y wrt X, Y", f"X={save('X.npy', X)}", f"Y={save('Y.npy', Y)}"))
    J = matrix_of(r.stdout)
    assert J.shape == (15, 32)
    expected = np.hstack([np.kron(Y.T, np.eye(3)), np.kron(np.eye(5), X)])
    np.testing.assert_allclose(J, expected, rtol=0, atol=1e-15)


# --------------------------------------------------------------------------- bindings


def test_values_file(tmp_path):
    np.savez("vals.npz", A=A, B=B)
    r = ok(run("derive", "A X B wrt X", "--values", "vals.npz"))
    np.testing.assert_array_equal(matrix_of(r.stdout), J_AXB)


@pytest.mark.parametrize("spec", ["X=3x4", "X=3,4"])
def test_shape_specs(spec):
    r = ok(run(*AXB, spec, "--format", "json"))
    doc = json.loads(r.stdout)
    assert doc["shape"] == [10, 12]
    np.testing.assert_array_equal(np.array(doc["matrix"]), J_AXB)


def test_number_spec_is_a_column():
    r = ok(run("derive", "W a wrt W", "W=3x4", "a=4", "--symbolic", "--format", "json"))
    doc = json.loads(r.stdout)
    assert doc["formula"] == "aᵀ ⊗ I₃"
    assert doc["shape"] == [3, 12]  # a is 4×1, so W a is 3×1


def test_json_literal():
    r = ok(run("derive", "A X wrt X", "A=[[1,2],[3,4]]", "X=2x3"))
    np.testing.assert_array_equal(matrix_of(r.stdout), np.kron(np.eye(3), [[1, 2], [3, 4]]))


def test_csv_and_npz_key(tmp_path):
    a = np.loadtxt(A_CSV).reshape(-1, 1)
    r = ok(run("derive", "W a wrt W", "W=3x4", f"a={A_CSV}"))
    np.testing.assert_array_equal(matrix_of(r.stdout), np.kron(a.T, np.eye(3)))

    np.savez("many.npz", first=A, second=B)
    r = ok(run("derive", "A X B wrt X", "A=many.npz:first", "B=many.npz:second"))
    np.testing.assert_array_equal(matrix_of(r.stdout), J_AXB)


def test_txt_column_file(tmp_path):
    (tmp_path / "col.txt").write_text("0.5\n-1\n2\n1.5\n")
    a = np.array([[0.5, -1, 2, 1.5]])
    r = ok(run("derive", "W a wrt W", "W=3x4", "a=col.txt"))
    np.testing.assert_array_equal(matrix_of(r.stdout), np.kron(a, np.eye(3)))


# --------------------------------------------------------------------------- the seeds' formulas


def test_seed_w_a():
    a = np.loadtxt(A_CSV).reshape(-1, 1)
    r = ok(run("derive", "W a wrt W", "W=3x4", f"a={A_CSV}"))
    assert r.stdout.splitlines()[0] == "# J = ∂vec(F)/∂vec(W) = aᵀ ⊗ I₃"
    np.testing.assert_array_equal(matrix_of(r.stdout), np.kron(a.T, np.eye(3)))


def test_seed_x_y_wrt_x_and_wrt_y():
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    xs, ys = f"X={save('X.npy', X)}", f"Y={save('Y.npy', Y)}"
    r = ok(run("derive", "X Y wrt X", xs, ys))
    assert r.stdout.splitlines()[0] == "# J = ∂vec(F)/∂vec(X) = Yᵀ ⊗ I₃"
    np.testing.assert_array_equal(matrix_of(r.stdout), np.kron(Y.T, np.eye(3)))
    r = ok(run("derive", "X Y wrt Y", xs, ys))
    assert r.stdout.splitlines()[0] == "# J = ∂vec(F)/∂vec(Y) = I₅ ⊗ X"
    np.testing.assert_array_equal(matrix_of(r.stdout), np.kron(np.eye(5), X))


def test_seed_commutation_matrix():
    M = np.arange(12.0).reshape(3, 4) + 1
    r = ok(run("derive", "X' wrt X", f"X={save('M.npy', M)}"))
    assert r.stdout.splitlines()[0] == "# J = ∂vec(F)/∂vec(X) = K(3,4)"
    K = matrix_of(r.stdout)
    assert K.shape == (12, 12)
    np.testing.assert_array_equal(K @ M.ravel(order="F"), M.T.ravel(order="F"))
    assert set(np.unique(K)) == {0.0, 1.0}

    # the seed's example: K(3,3) vec(A) = vec(A')
    r = ok(run("derive", "X' wrt X", "X=[[1,2,3],[4,5,6],[7,8,9]]"))
    K3 = matrix_of(r.stdout)
    assert r.stdout.splitlines()[0] == "# J = ∂vec(F)/∂vec(X) = K(3,3)"
    np.testing.assert_array_equal(K3 @ np.array([1, 4, 7, 2, 5, 8, 3, 6, 9.0]), np.arange(1, 10.0))


def test_seed_axb_formula():
    r = ok(run("derive", "A X B wrt X", "A=2x3", "B=4x5", "--symbolic"))
    assert r.stdout.strip().endswith("Bᵀ ⊗ A")


# --------------------------------------------------------------------------- entry points, parse


def test_python_m_jacli_help():
    p = jacli_process("--help", timeout=20)
    assert p.returncode == 0, p.stderr
    assert "derive" in p.stdout and "check" in p.stdout
    assert "Traceback" not in p.stderr


def test_version():
    r = run("--version")
    assert r.exit_code == 0, (r.exit_code, r.stdout, r.stderr)
    assert r.stdout.strip() == f"jacli {jacli.__version__}"


def test_parse_shows_parentheses():
    r = ok(run("parse", "A X B + C wrt X"))
    assert r.stdout.splitlines()[0] == "((A X) B) + C wrt X"


def test_the_tests_run_this_working_tree():
    # in this process and in a child process alike, whatever copy of jacli is installed
    here = ROOT / "jacli" / "__init__.py"
    assert Path(jacli.__file__).resolve() == here
    child = python_process("import jacli; print(jacli.__file__)")
    assert child.returncode == 0, child.stderr
    assert Path(child.stdout.strip()).resolve() == here
