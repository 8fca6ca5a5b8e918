"""jacli: Jacobians d vec(F) / d vec(X) of matrix expressions, closed form and numbers.

>>> import numpy as np, jacli
>>> jacli.derive("A X B wrt X", A=np.ones((2, 3)), B=np.ones((4, 5))).formula
'Bᵀ ⊗ A'
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from .errors import ExitCode, JacliError

if TYPE_CHECKING:
    from .api import Result, check, derive, jacobian
    from .api.checking import CheckResult


def __getattr__(name: str) -> Any:
    """The library loads when first used (so the command line controls its start-up); CheckResult
    with the checking module."""
    if name in ("Result", "check", "derive", "jacobian"):
        from . import api

        return getattr(api, name)
    if name == "CheckResult":
        from .api.checking import CheckResult

        return CheckResult
    raise AttributeError(f"module 'jacli' has no attribute {name!r}")


__all__ = ["CheckResult", "ExitCode", "JacliError", "Result", "__version__", "check", "derive", "jacobian"]
