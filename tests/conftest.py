"""Shared by every test module: the registry is loaded first, since its records declare the
language the parser reads (jacli.syntax alone knows no operator), so that any test module
runs alone as well as in the suite."""

import jacli.calculus.ops  # noqa: F401
