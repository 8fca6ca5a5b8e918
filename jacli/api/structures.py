"""Declared structure: a variable symmetric, diagonal or triangular (``jacli.sym(3)``,
``S=3x3:sym``), what the API's declarations make."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


class Declared(NamedTuple):
    """A binding of the Python API with a declared structure: ``jacli.sym(3)``, ``jacli.sym("n")``,
    ``jacli.sym(array)``, and likewise ``diag``, ``lower``, ``upper``."""

    binding: Any  # a size, a dimension name, a shape tuple or values
    structure: str


def sym(binding: Any) -> Declared:
    """A symmetric variable: ``jacli.sym(3)`` (3×3), ``jacli.sym("n")`` (n×n), ``jacli.sym(S)``
    (values, refused unless symmetric). J has one column per entry of vech(S)."""
    return Declared(binding, "sym")


def diag(binding: Any) -> Declared:
    """A diagonal variable, as :func:`sym`: J has one column per diagonal entry."""
    return Declared(binding, "diag")


def lower(binding: Any) -> Declared:
    """A lower triangular variable, as :func:`sym`: J has one column per entry of vech(X)."""
    return Declared(binding, "lower")


def upper(binding: Any) -> Declared:
    """An upper triangular variable, as :func:`sym`: J has one column per entry of vech(Xᵀ)."""
    return Declared(binding, "upper")


def symmetric_names(structures: Mapping[str, str]) -> frozenset[str]:
    """The names equal to their transpose: declared symmetric or diagonal."""
    return frozenset(n for n, s in structures.items() if s in ("sym", "diag"))
