"""jacli: Jacobians d vec(F) / d vec(X) of matrix expressions, closed form and numbers.

>>> import numpy as np, jacli
>>> jacli.derive("A X B wrt X", A=np.ones((2, 3)), B=np.ones((4, 5))).formula
'Bᵀ ⊗ A'
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from .api import Result, check, compile, derive, derive_hessian, differential, hessian, jacobian, operator
from .errors import ExitCode, JacliError

if TYPE_CHECKING:
    from .api.checking import CheckResult


def __getattr__(name: str) -> Any:  # CheckResult loads with the checking module, when first used
    if name == "CheckResult":
        from .api.checking import CheckResult

        return CheckResult
    raise AttributeError(f"module 'jacli' has no attribute {name!r}")


__all__ = [
    "CheckResult",
    "ExitCode",
    "JacliError",
    "Result",
    "__version__",
    "check",
    "compile",
    "derive",
    "derive_hessian",
    "differential",
    "hessian",
    "jacobian",
    "operator",
]
