"""jacli: Jacobians d vec(F) / d vec(X) of matrix expressions, closed form and numbers.

>>> import numpy as np, jacli
>>> jacli.derive("A X B wrt X", A=np.ones((2, 3)), B=np.ones((4, 5))).formula
'Bᵀ ⊗ A'
"""
from .core import Result, derive, jacobian
from .errors import ExitCode, JacliError


def __getattr__(name):  # jacli.check and CheckResult load the checking module when first used
    if name in ("check", "CheckResult"):
        from . import checking

        return getattr(checking, name)
    raise AttributeError(f"module 'jacli' has no attribute {name!r}")

__version__ = "0.1.0"
__all__ = ["jacobian", "derive", "check", "Result", "CheckResult", "JacliError", "ExitCode"]
