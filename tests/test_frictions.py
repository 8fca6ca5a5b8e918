"""What a new user tripped on, each fixed and held by a test."""

from __future__ import annotations

import pytest
from cli_support import jacli_process, run

LATEX = r"\frac{\partial \operatorname{vec}\left(A X B\right)}{\partial \operatorname{vec}(X)} = B^{\top} \otimes A"


def test_latex_needs_shapes_only_as_the_tex_file_does(tmp_path):
    shown = run("derive", "A X B wrt X", "A=2x3", "B=4x5", "--format", "latex")
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout == LATEX + "\n"
    saved = run("derive", "A X B wrt X", "A=2x3", "B=4x5", "-o", tmp_path / "f.tex", "--format", "latex")
    assert saved.exit_code == 0 and saved.stdout == LATEX + "\n"
    assert (tmp_path / "f.tex").read_text() == LATEX + "\n"  # one line, ending in a newline
    numbers = run("derive", "A X B wrt X", "A=2x3", "B=4x5", "-o", tmp_path / "J.npy", "--format", "latex")
    assert numbers.exit_code == 2 and "has no values" in numbers.stderr  # the .npy needs numbers
    assert not (tmp_path / "J.npy").exists()


def test_the_tex_file_ends_with_a_newline(tmp_path):
    r = run("derive", "A X B wrt X", "A=2x3", "B=4x5", "-o", tmp_path / "f.tex")
    assert r.exit_code == 0
    assert (tmp_path / "f.tex").read_bytes().endswith(b"A\n")


@pytest.mark.parametrize(
    "args,head",
    [
        (["derive", "A X B wrt X", "A=2x3", "B=4x5"], "# J = "),
        (["hessian", "tr(X' A X) wrt X", "A=3x3", "X=3x2"], "# H = "),
    ],
)
def test_wrote_comes_after_the_formula(tmp_path, args, head):
    r = run(*args, "--random", "-o", tmp_path / "J.npy")
    assert r.exit_code == 0
    lines = r.output.splitlines()  # stdout and stderr as a terminal shows them
    assert lines[0].startswith(head) and lines[-1] == f"jacli: wrote {tmp_path / 'J.npy'}"


@pytest.mark.parametrize(
    "args",
    [
        ["inv(X) wrt X", "X=3x3", "--against", "-(X^-T ⊗ X^-1)"],
        ["logdet(X) wrt X", "X=3x3", "--hessian", "--against", "-K(3,3) (X^-T ⊗ X^-1)"],
    ],
)
def test_a_claim_starting_with_minus_is_printed_with_one_space(args):
    r = run("check", *args)
    assert r.exit_code == 0, r.output
    assert "claim  " not in r.stdout and "claim -" in r.stdout


@pytest.mark.parametrize("source", ["trace (X) wrt X", "trace(X) wrt X"])
def test_trace_with_or_without_a_space_is_an_unknown_function(source):
    r = run("derive", source, "X=3x3")
    assert r.exit_code == 2
    assert r.stderr.startswith("jacli: error: unknown function 'trace' (did you mean 'tr'?")
    assert r.stderr.rstrip().endswith("at column 1")


@pytest.mark.parametrize(
    "source,formula",
    [
        ("tr (X) wrt X", "vec(I₃)ᵀ"),
        ("A (X + B) wrt X", "I₃ ⊗ A"),
        ("Sigma (X) wrt X", "I₃ ⊗ Sigma"),
        ("Dinv (X) wrt X", "I₃ ⊗ Dinv"),  # near 'inv', but a capital: a matrix
    ],
)
def test_a_name_before_parentheses_is_still_a_product(source, formula):
    r = run("derive", source, "X=3x3", "A=3x3", "B=3x3", "Sigma=3x3", "Dinv=3x3", "--symbolic")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == formula + "\n"


def test_shell_completion_is_available():
    env = dict(COMP_WORDS="jacli check X --method ", COMP_CWORD="4", _JACLI_COMPLETE="complete_bash")
    r = jacli_process(env=env, timeout=60)
    assert r.stdout.split() == ["complex", "central"]
    assert "--install-completion" in run("--help").stdout


def test_sparse_says_when_the_jacobian_is_dense(tmp_path):
    dense = run(
        "derive", "A X B wrt X", "A=20x20", "B=20x20", "X=20x20", "--random", "--sparse", "-o", tmp_path / "S.npz"
    )
    assert dense.exit_code == 0
    assert (
        "jacli: warning: the Jacobian is dense (100% of its entries are stored): a sparse file of it is "
        "larger and slower to write and read than -o J.npy, which is written block by block\n"
    ) in dense.stderr
    sparse = run("derive", "X' X wrt X", "X=20x20", "--random", "--sparse", "-o", tmp_path / "T.npz")
    assert sparse.exit_code == 0 and "warning" not in sparse.stderr
    r = run(
        "batch",
        "-",
        "--format",
        "json",
        input=f'derive "A X B wrt X" A=4x4 B=4x4 X=4x4 --random --sparse -o {tmp_path}/U.npz\n',
    )
    assert "the Jacobian is dense" in r.stdout.splitlines()[0]


def test_sparse_checks_free_disk_space_first(tmp_path, monkeypatch):
    from collections import namedtuple

    import jacli.api.saving as saving

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(saving.shutil, "disk_usage", lambda folder: usage(10**6, 10**6 - 1000, 1000))
    r = run("derive", "X' X wrt X", "X=20x20", "--random", "--sparse", "-o", tmp_path / "S.npz")
    assert r.exit_code == 2
    assert r.stderr.startswith(
        "jacli: error: the sparse Jacobian (400×400, up to 16,000 stored entries) may need up to 385,604 bytes"
    )
    assert "more than the 1,000 bytes free in" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_dir_shows_the_public_api():
    import jacli

    names = dir(jacli)
    assert {"derive", "jacobian", "check", "hessian", "explain", "operator", "compile", "JacliError"} <= set(names)
    assert all(callable(getattr(jacli, n)) for n in names if n not in ("__version__",))


def test_wrote_comes_after_a_direction_and_a_differential(tmp_path):
    import numpy as np

    np.save(tmp_path / "X.npy", 2 * np.eye(3) + 0.1)
    np.save(tmp_path / "V.npy", np.ones((3, 3)))
    for args, out in (
        ([f"X={tmp_path / 'X.npy'}", f"--direction=X={tmp_path / 'V.npy'}"], "dF.npy"),
        (["--differential"], "dF.tex"),
    ):
        r = run("derive", "inv(X) wrt X", *args, "-o", tmp_path / out, "--format", "plain")
        assert r.exit_code == 0, r.output
        lines = r.output.splitlines()
        assert len(lines) > 1 and lines[-1] == f"jacli: wrote {tmp_path / out}"
