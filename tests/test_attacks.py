"""Attacks that once ended in a bug report, a hang or a leftover: each now held.

One section per attack: a dimension name where numbers are needed, hostile .npy headers, a
file swapped for a FIFO, unused arrays named like builtins, control characters on the
terminal, batch lines split at other line breaks, messages of user text, LaTeX names,
generated Python. Signals, memory and the API have their own files
(test_attacks_signals.py, test_attacks_memory.py, test_attacks_api.py).
"""

from __future__ import annotations

import pytest
from cli_support import isolated, run  # noqa: F401 (isolated: autouse)

import jacli
from jacli.errors import JacliError

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
