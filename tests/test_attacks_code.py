"""Generated Python under attack: names Python folds together (NFKC), characters of the
name class that no Python name may hold, sums too long for Python's parser. Every module
jacli writes imports, passes ``ruff check --isolated`` and gives jacli's matrix, or the
name is refused with a reason.
"""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
import unicodedata

import numpy as np
import pytest
from cli_support import isolated, run  # noqa: F401 (isolated: autouse)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import jacli
from jacli.api.formats import python_source
from jacli.errors import JacliError

RUFF = shutil.which("ruff")

# characters Python's NFKC folds onto others (ϑ is θ), name-class characters no Python name
# may hold (U+037E looks like ';'), unassigned ones, and plain letters and digits
FOLDED = "ϑθϕφϵεϖπϱρϲςϐβϒΥϴΘϹΣϰκ"
NOT_IN_NAMES = "\u037e\u0387\u037a\u0374\u0375\u0384\u0385\u03f6\u0378\u0379\u03a2"
FIRST = st.sampled_from("AXab" + FOLDED + NOT_IN_NAMES) | st.characters(min_codepoint=0x370, max_codepoint=0x3FF)
REST = FIRST | st.sampled_from("0123456789_")
NAMES = st.builds(lambda a, b: a + b, FIRST, st.text(REST, max_size=3))


def ruff_check(code: str) -> None:
    if RUFF is None:
        return
    r = subprocess.run([RUFF, "check", "--isolated", "--stdin-filename", "jac.py", "-"], input=code,
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, (r.stdout, code)


def load(code: str, fname: str = "jacobian"):
    space: dict = {}
    exec(compile(code, "jac.py", "exec"), space)
    return space[fname]


def code_or_refusal(source: str, values: dict) -> str | None:
    """The Python code of ``source`` at ``values``' shapes, run and compared with jacli's
    matrix; None where a name was refused, and the refusal names the name."""
    shapes = {n: v.shape for n, v in values.items()}
    try:
        r = jacli.derive(source, shapes, symbolic=True)
    except JacliError:
        return None  # not the language (a builtin's name, a misspelt function): nothing to write
    try:
        code = python_source(r)
    except JacliError as err:
        assert any(n in str(err) for n in values), str(err)
        assert "rename" in str(err), str(err)
        return None
    ruff_check(code)
    fn = load(code)
    takes = inspect.signature(fn).parameters
    given = {m: v for n, v in values.items() if (m := unicodedata.normalize("NFKC", n)) in takes}
    np.testing.assert_allclose(fn(**given), jacli.jacobian(source, values), rtol=1e-12, atol=1e-12)
    return code


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NAMES, NAMES)
def test_generated_python_imports_and_passes_ruff_or_the_name_is_refused(a, b):
    assume(a != b)
    rng = np.random.default_rng(0)
    values = {a: rng.standard_normal((2, 2)), b: rng.standard_normal((2, 2))}
    code_or_refusal(f"{a} {b} {a} wrt {a}", values)
    code_or_refusal(f"{a}' {b} wrt {b}", values)


@pytest.mark.parametrize(("a", "b"), [("θ", "ϑ"), ("φ", "ϕ"), ("ε", "ϵ"), ("π", "ϖ"), ("ρ", "ϱ"), ("Σ", "Ϲ")])
def test_names_python_folds_together_are_refused_before_anything_is_written(a, b):
    r = run("derive", f"{a} {b} {a} wrt {a}", f"{a}=3x3", f"{b}=3x3", "-o", "jac.py")
    assert r.exit_code == 2 and "one name to Python" in r.stderr and f"{a} and {b}" in r.stderr, r.stderr
    r = run("derive", f"{a} {b} {a} wrt {a}", f"{a}=3x3", f"{b}=3x3", "--format", "python")
    assert r.exit_code == 2 and "NFKC" in r.stderr and not r.stdout, r.stderr
    import os

    assert not os.path.exists("jac.py")


@pytest.mark.parametrize("odd", ["\u037e", "\u037a", "\u0375", "\u0384", "\u03f6", "\u0378"])
def test_a_name_no_python_name_may_be_is_refused(odd):
    r = run("derive", f"A{odd} X wrt X", f"A{odd}=3x3", "X=3x3", "--format", "python")
    assert r.exit_code == 2 and f"U+{ord(odd):04X}" in r.stderr and "rename it" in r.stderr, (r.stdout, r.stderr)


def test_a_lone_folded_name_still_works():
    values = {"ϑ": np.arange(4.0).reshape(2, 2), "X": np.eye(2)}
    code = code_or_refusal("ϑ X wrt X", values)
    assert code is not None and "ϑ" in code


@pytest.mark.parametrize("terms", [300, 600])
def test_a_long_sum_is_written_in_statements_python_can_parse(terms):
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4000))  # as the command line sets it
    try:
        long_sum(terms)
    finally:
        sys.setrecursionlimit(limit)


def long_sum(terms: int) -> None:
    source = " + ".join(f"tr(A{i} X)" for i in range(terms)) + " wrt X"
    rng = np.random.default_rng(1)
    values = {f"A{i}": rng.standard_normal((2, 2)) for i in range(terms)} | {"X": np.eye(2)}
    assert code_or_refusal(source, values) is not None
    r = run("derive", " + ".join(f"tr(A{i} X)" for i in range(300)) + " wrt X", "X=2x2", "-o", "jac.py")
    assert r.exit_code == 0, r.stderr
    with open("jac.py", encoding="utf-8") as f:
        ruff_check(f.read())
