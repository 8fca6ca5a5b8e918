"""Attacks that once ended in a bug report, a hang or a leftover: each now held.

One section per attack, numbered as the attacks were: a dimension name where numbers are
needed (1), hostile .npy headers (3), a file swapped for a FIFO (8), unused arrays named
like builtins (9), control characters on the terminal (10), batch lines split at other line
breaks (11), messages of long user text (12), LaTeX names (13), odd terminals and folders
(14). Signals (2), memory (4, 5), the API (6) and generated Python (7) have their own files:
test_attacks_signals.py, test_attacks_memory.py, test_attacks_api.py, test_attacks_code.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import struct
import subprocess
import zipfile

import numpy as np
import pytest
from cli_support import isolated, python_process, run  # noqa: F401 (isolated: autouse)

import jacli
from jacli.errors import JacliError
from jacli.io.specs import parse_spec

LIMIT = 200  # characters in an error line


def refused(result, *words) -> str:
    """Exit 2 and one line ``jacli: error: ...`` of at most LIMIT characters, holding every word."""
    info = (result.exit_code, result.stdout[:300], result.stderr[:600])
    assert result.exit_code == 2, info
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("jacli: error:"), info
    assert len(lines[0]) <= LIMIT, (len(lines[0]), lines[0][:300])
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


# --------------------------------------------------------------------------- 1. dimension names need numbers


@pytest.mark.parametrize(
    "args",
    [
        ("derive", "sum(A) wrt A", "A=n"),
        ("derive", "tr(A) wrt A", "A=n×n"),
        ("derive", "sum(A) wrt A", "A=n", "--gradient"),
        ("hessian", "sum(A) wrt A", "A=n"),
        ("derive", "sum(A) wrt A", "A=true"),  # JSON's words are dimension names in a SPEC
        ("derive", "sum(A) wrt A", "A=null"),
        ("derive", "tr(X) wrt X", "X=n×n", "-o", "J.npy"),
        ("hessian", "sum(A) wrt A", "A=n", "--sparse", "-o", "H.npz"),
    ],
)
def test_a_shape_with_dimension_names_has_no_numbers(args):
    refused(run(*args), "dimension names", "--symbolic")
    # a name the numbers need says so first
    refused(run("derive", "A X wrt X", "A=n×n", "X=n×n", "-o", "J.npy"), "A (n×n) has no values", "--symbolic")


def test_the_api_refuses_numbers_for_named_sizes_in_its_words():
    for call in (jacli.derive, jacli.jacobian, jacli.hessian):
        with pytest.raises(JacliError, match=r"X is m×n, a shape with dimension names.*symbolic=True"):
            call("sum(X) wrt X", X=("m", "n"))
    assert jacli.derive("sum(X) wrt X", X=("m", "n"), symbolic=True).formula == "vec(ones(m,n))ᵀ"


# --------------------------------------------------------------------------- 3. hostile .npy headers


def npy_with_header(path: str, header: str, length: int | None = None, data: bytes = bytes(64)) -> None:
    """A .npy file of format 1.0 with ``header`` as its text, padded as numpy pads it, and a
    length field of ``length`` (the header's own by default)."""
    h = header.encode("latin1")
    h += b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h) if length is None else length) + h + data)


@pytest.mark.parametrize(
    ("shape", "length", "words"),
    [
        ("(" + "9" * 4000 + ", 1)", None, "beyond NumPy's largest"),  # a dimension of 4,000 digits
        ("(9223372036854775808, 1)", None, "beyond NumPy's largest"),
        ("(2, 2)", 20, "unreadable .npy header"),  # the length field cuts the header short
        ("(True, True)", None, "not a tuple of integers"),
        ("(2.0, 2)", None, "corrupt .npy"),
        ("(" + "9999999999, " * 700 + ")", None, "700-D array"),
    ],
)
def test_hostile_npy_headers_are_refused(shape, length, words):
    npy_with_header("x.npy", f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}", length)
    for more in ((), ("--symbolic",)):
        refused(run("derive", "tr(X) wrt X", "X=x.npy", *more), "X=x.npy", words)
    with zipfile.ZipFile("x.npz", "w") as zf:
        zf.write("x.npy", "X.npy")
    refused(run("derive", "tr(X) wrt X", "--values", "x.npz"), "x.npz", words)
    with pytest.raises(JacliError, match=r"X=x\.npy"):
        parse_spec("X", "x.npy")


# --------------------------------------------------------------------------- 8. a file swapped for a FIFO


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("path", ["x.npy", "x.npz", "x.csv"])
def test_a_file_swapped_for_a_fifo_after_its_check_is_refused_without_waiting(path):
    """The FIFO has no writer: opening it to read would wait for ever. The swap after a check
    is simulated by a stat that still sees the regular file that was there."""
    os.mkfifo(path)
    code = (
        "import os, stat, sys\n"
        "from jacli.io.specs import parse_spec\n"
        "from jacli.errors import JacliError\n"
        "real = os.stat\n"
        "regular = real(sys.executable)\n"
        f"os.stat = lambda p, *a, **k: regular if os.fspath(p) == {path!r} else real(p, *a, **k)\n"
        "try:\n"
        f"    parse_spec('X', {path!r})\n"
        "except JacliError as e:\n"
        "    print(e)\n"
    )
    r = python_process(code, timeout=20)
    assert r.returncode == 0 and r.stdout.strip() == f"X={path}: not a regular file", (r.stdout, r.stderr)
    refused(run("derive", "tr(X) wrt X", f"X={path}"), "not a regular file")


# --------------------------------------------------------------------------- 9. unused arrays named like builtins


BUILTIN_NAMES = ("I", "tr", "K", "exp", "sum", "wrt")


def test_unused_arrays_named_like_builtins_are_not_read():
    np.savez("v.npz", X=np.eye(2), **{n: np.eye(2) for n in BUILTIN_NAMES})
    r = run("derive", "X' X wrt X", "--values", "v.npz", "--format", "plain")
    assert r.exit_code == 0, r.stderr
    assert np.allclose(np.loadtxt(io.StringIO(r.stdout)), jacli.jacobian("X' X wrt X", X=np.eye(2)))
    assert r.stderr.splitlines() == ["jacli: warning: 6 names in v.npz are not in the expression"]
    r = run("check", "X' X wrt X", "--values", "v.npz")
    assert r.exit_code == 0, r.stderr
    # named on the command line, a builtin is still refused
    refused(run("derive", "X wrt X", "X=2x2", "I=2x2"), "I is a built-in name")


def test_the_apis_dict_of_values_may_hold_builtin_names():
    values = {"X": np.eye(2), **{n: np.eye(2) for n in BUILTIN_NAMES}}
    assert np.array_equal(jacli.jacobian("X wrt X", values), np.eye(4))
    assert jacli.check("X' X wrt X", values).agree
    with pytest.raises(JacliError, match="got the keyword 'I'"):
        jacli.jacobian("X wrt X", {"X": np.eye(2)}, I=np.eye(2))


# --------------------------------------------------------------------------- 11. batch lines end at newlines


@pytest.mark.parametrize("odd", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_batch_lines_are_numbered_by_newlines_only(odd):
    text = (
        "\ufeffderive 'X wrt X' X=2x2 --symbolic\n"  # a byte order mark before line 1
        f"derive 'X wrt X' X=2x2 --symbolic  # a comment{odd}with a break to some readers\n"
        f"derive 'X{odd} wrt X' X=2x2 --symbolic\n"
        "\n"
        f"check 'A X wrt X' A=2x2 X=2x2 --against 'I₂ ⊗ A'{odd}\n"
    )
    with open("b.txt", "w", encoding="utf-8", newline="") as f:
        f.write(text)
    r = run("batch", "b.txt", "--format", "json")
    got = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(g["line"], g["verdict"]) for g in got[:-1]] == [(1, "ok"), (2, "ok"), (3, "ok"), (5, "agree")], got
    assert got[-1]["summary"]["lines"] == 4
    assert r.exit_code == 0, r.stdout


# --------------------------------------------------------------------------- 10. control characters shown, not run


RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def test_a_written_files_name_is_shown_with_its_control_characters_as_code_points():
    name = "a\nb\x1b[31m\u202e.npy"
    r = run("derive", "X wrt X", "X=2x2", "--random", "-o", name)
    assert r.exit_code == 0 and os.path.exists(name), r.stderr
    assert r.stderr.splitlines()[-1] == "jacli: wrote a<U+000A>b<U+001B>[31m<U+202E>.npy"
    assert not RAW.search(r.stderr.replace("\n", "")), r.stderr


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_batch_shows_a_lines_escape_sequences_without_running_them(fmt):
    lines = [
        "derive 'X wrt X' X=2x2 --symbolic \x1b[2J",
        "derive 'X wrt X' X=2x2 --symbolic # \x1b]0;a title\x07",
        "check 'X\u202e wrt X' X=2x2",
    ]
    with open("b.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    r = run("batch", "b.txt", "--format", fmt)
    assert r.exit_code == 2, r.stdout
    assert not RAW.search(r.stdout.replace("\n", "")), r.stdout
    if fmt == "json":
        got = [json.loads(line) for line in r.stdout.splitlines()]
        assert [g["command"] for g in got[:-1]] == lines  # the JSON still holds them, escaped
    else:
        assert "<U+001B>[2J" in r.stdout and "<U+001B>]0;a title<U+0007>" in r.stdout


# --------------------------------------------------------------------------- 12. one short line, user text shortened


DIGITS = "9" * 4300
LONG_NAME = "m" * 5000


@pytest.mark.parametrize(
    "args",
    [
        ("derive", f"{DIGITS} X wrt X", "X=2x2", "--symbolic"),
        ("derive", f"X^{DIGITS} wrt X", "X=2x2", "--symbolic"),
        ("derive", f"X^-{DIGITS} wrt X", "X=2x2", "--symbolic"),
        ("derive", f"X .^ {DIGITS} wrt X", "X=2x2", "--random"),
        ("derive", "A X wrt X", f"A={LONG_NAME}×3", "X=2×3", "--symbolic"),
        ("derive", "A X wrt X", f"A=3×{LONG_NAME}", "X=3×3", "--symbolic"),
        ("derive", " + ".join(f"A{i} X B{i}" for i in range(200)) + " wrt X", "X=2x2"),
        ("derive", "X wrt X", "X=2x2", LONG_NAME),
        ("derive", "X wrt X", f"--{LONG_NAME}"),
        ("derive", "X wrt X", f"X={LONG_NAME}.npy"),
        ("derive", "X wrt X", f"X=[{DIGITS}]"),
        ("derive", "X wrt X", "X=2x2", "-o", f"{LONG_NAME}.txt"),
        ("batch", f"{LONG_NAME}.txt"),
    ],
)
def test_a_message_is_one_line_of_at_most_200_characters(args):
    line = refused(run(*args))
    assert "…" in line or " more:" in line


def test_shortened_messages_keep_what_tells_the_error():
    line = refused(run("derive", " + ".join(f"A{i} X B{i}" for i in range(200)) + " wrt X", "X=2x2"))
    assert line.endswith("A1 (?×2) and 397 more: give it, as in A0=3x2")
    line = refused(run("derive", f"X^{DIGITS} wrt X", "X=2x2", "--symbolic"), "power above 64")
    assert line.endswith("write it as a product of powers")
    with pytest.raises(JacliError) as caught:
        jacli.derive(f"{DIGITS} X wrt X", X=(2, 2), symbolic=True)
    assert len(str(caught.value)) <= LIMIT and "…" in str(caught.value)
    with open("b.txt", "w") as f:
        f.write(f"derive 'X wrt X' X={LONG_NAME}.npy\n")
    got = json.loads(run("batch", "b.txt", "--format", "json").stdout.splitlines()[0])
    assert len(got["error"]) <= LIMIT and "cannot read it" in got["error"]


# --------------------------------------------------------------------------- 13. LaTeX names that compile


GREEK = [chr(c) for c in range(0x391, 0x3AA) if c != 0x3A2] + [chr(c) for c in range(0x3B1, 0x3CA)]
ODD_NAMES = ["x1_2", "A1_", "A_", "x_1_2", "a_b_", "Sigma2_b", "ϑ", "ϕ", "ϵ", "ϖ", "ϱ", "ς", "ά", "ΐ", "Aά1_β"]
ODD_NAMES += ["A\u037e", "B\u0378", "C\u0387", "ϰ", "Ϡ", "θϑ", "xα", *GREEK]
GREEK_WORDS = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu", "xi",
    "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
]  # fmt: skip
LATEX_MACROS = {
    "mathit", "mathrm", "acute", "grave", "ddot", "tilde", "bar", "vartheta", "varphi", "varepsilon", "varpi",
    "varrho", "varsigma", "epsilon", "phi", "frac", "partial", "operatorname", "left", "right", "otimes", "top",
    *GREEK_WORDS,
}  # fmt: skip


def latex_of(name: str) -> str:
    return jacli.derive(f"{name} X wrt X", {name: (3, 3)}, X=(3, 3), symbolic=True).latex


def test_latex_names_are_ascii_with_one_subscript_each():
    for n in ODD_NAMES:
        got = latex_of(n)
        assert got.isascii(), (n, got)
        assert not re.search(r"_\{[^{}]*\}_|_\{\}", got), (n, got)  # a double or an empty subscript
        assert set(re.findall(r"\\([A-Za-z]+)", got)) <= LATEX_MACROS, (n, got)
        assert got.count("{") == got.count("}"), (n, got)
    assert latex_of("x1_2") == r"I_{3} \otimes x_{1,2}"
    assert latex_of("α") == latex_of("alpha") == r"I_{3} \otimes \alpha"
    assert latex_of("ϑ") != latex_of("θ")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_names_compile_with_pdflatex(tmp_path):
    lines = [f"${latex_of(n)}$\\par" for n in ODD_NAMES]
    doc = "\\documentclass{article}\n\\begin{document}\n" + "\n".join(lines) + "\n\\end{document}\n"
    (tmp_path / "names.tex").write_text(doc, encoding="utf-8")
    r = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "names.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:]


# --------------------------------------------------------------------------- 14. odd terminals and folders


@pytest.mark.parametrize("columns", ["0", "1", "-3", "abc"])
def test_a_table_is_printed_whatever_columns_says(columns, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)
    r = run("derive", "A X B wrt X", "A=3x3", "B=3x3", "X=3x3", "--random", "--format", "table")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "J = ∂vec(F)/∂vec(X) = Bᵀ ⊗ A" and any("X[0,0]" in line for line in lines), r.stdout
    assert sum(line.startswith("F[") for line in lines) == 9, r.stdout


@pytest.fixture
def append_only(tmp_path):
    """A folder with the append-only attribute (chattr +a): files can be made there, not
    renamed nor removed."""
    folder = tmp_path / "sealed"
    folder.mkdir()
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+a", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot make an append-only folder here (chattr, root, a file system with attributes)")
    try:
        yield folder
    finally:
        subprocess.run([chattr, "-a", str(folder)], check=True)


def test_an_append_only_folder_is_refused_and_left_empty(append_only):
    target = str(append_only / "J.npy")
    refused(run("derive", "A X B wrt X", "A=3x3", "B=3x3", "X=3x3", "--random", "-o", target), "append-only")
    refused(run("derive", "A X B wrt X", "A=3x3", "B=3x3", "X=3x3", "--random", "--format", "plain", "-o",
                str(append_only / "J.txt")), "append-only")  # fmt: skip
    refused(run("check", "A X wrt X", "A=2x2", "X=2x2", "--save-values", str(append_only / "v.npz")), "append-only")
    from jacli.io.writers import atomic_write

    with pytest.raises(JacliError, match="append-only"):
        atomic_write(target, lambda f: f.write(b"x"))
    assert os.listdir(append_only) == []
