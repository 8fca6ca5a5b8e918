"""The operator registry: one record per operator, by family.

``leaves`` (names, numbers, I, K, ones, zeros), ``linear`` (sum, transpose, vec, diag,
trace, sum of entries), ``products`` (matrix, scalar and Kronecker products),
``blocks`` (block matrices, a block taken, triangular masks), ``elementwise`` (Hadamard
product, division, functions entry by entry), ``functions`` (matrix functions: expm, logm,
sqrtm, with their Fréchet derivatives), ``solves`` (solve, the Sylvester equation, the
pseudo-inverse), ``outputs`` (nodes with several outputs) and ``decompositions`` (eigh and
svd with their outputs, chol, the nuclear and spectral norms), ``matrix`` (inverse,
powers, determinants), ``adjugate`` (the adjugate and its derivatives of every order),
``powers`` (division by a scalar, real and elementwise powers), ``reductions`` (norms,
softmax, logsumexp) and ``symmetric`` (vech; the duplication, elimination and symmetriser
matrices D(n), L(n), N(n)). References: J. R. Magnus and H. Neudecker, *Matrix
Differential Calculus with Applications in Statistics and Econometrics*, 3rd ed., Wiley
2019 ("M&N"); K. B. Petersen and M. S. Pedersen, *The Matrix Cookbook*, 2012 ("Cookbook").

Value rules take arrays with optional leading batch axes (``(..., r, c)``) and complex
entries, so the numerical oracle can push a whole batch of complex steps through once.
"""

from . import (  # noqa: F401  (each registers its family)
    adjugate,
    blocks,
    decompositions,
    elementwise,
    functions,
    leaves,
    linear,
    matrix,
    outputs,
    powers,
    products,
    reductions,
    solves,
    symmetric,
)
from .registry import REGISTRY, Op, register

__all__ = ["REGISTRY", "Op", "register"]
