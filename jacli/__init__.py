"""jacli: Jacobians d vec(F) / d vec(X) of matrix expressions, closed form and numbers.

>>> import numpy as np, jacli
>>> jacli.derive("A X B wrt X", A=np.ones((2, 3)), B=np.ones((4, 5))).formula
'Bᵀ ⊗ A'
"""

__version__ = "0.1.0"

from .api import CheckResult, Result, check, derive, jacobian
from .errors import ExitCode, JacliError

__all__ = ["CheckResult", "ExitCode", "JacliError", "Result", "__version__", "check", "derive", "jacobian"]
