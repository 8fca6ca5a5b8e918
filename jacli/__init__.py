"""jacli: Jacobians d vec(F) / d vec(X) of matrix expressions, closed form and numbers.

>>> import numpy as np, jacli
>>> jacli.derive("A X B wrt X", A=np.ones((2, 3)), B=np.ones((4, 5))).formula
'Bᵀ ⊗ A'
"""

from __future__ import annotations

__version__ = "0.1.0"

# Nothing is imported here (not even typing): ``import jacli`` is instant, so the command
# line's handling of Ctrl-C (jacli.cli) covers nearly all of its start-up.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .api import (
        Result,
        check,
        compile,
        derive,
        derive_hessian,
        diag,
        differential,
        explain,
        hessian,
        jacobian,
        lower,
        operator,
        sym,
        upper,
    )  # fmt: skip
    from .api.checking import CheckResult
    from .api.sized_check import SizedCheck
    from .errors import ExitCode, JacliError

_API = (
    "Result", "check", "compile", "derive", "derive_hessian", "diag", "differential", "explain", "hessian",
    "jacobian", "lower", "operator", "sym", "upper",
)  # fmt: skip


def __getattr__(name: str) -> Any:
    """The library loads when first used; CheckResult and SizedCheck with the checking modules."""
    if name in ("ExitCode", "JacliError"):
        from . import errors

        return getattr(errors, name)
    if name in _API:
        from . import api

        return getattr(api, name)
    if name == "CheckResult":
        from .api.checking import CheckResult

        return CheckResult
    if name == "SizedCheck":
        from .api.sized_check import SizedCheck

        return SizedCheck
    raise AttributeError(f"module 'jacli' has no attribute {name!r}")


__all__ = [
    "CheckResult",
    "ExitCode",
    "JacliError",
    "Result",
    "SizedCheck",
    "__version__",
    "check",
    "compile",
    "derive",
    "derive_hessian",
    "diag",
    "differential",
    "explain",
    "hessian",
    "jacobian",
    "lower",
    "operator",
    "sym",
    "upper",
]


def __dir__() -> list[str]:
    """The public API, for completion in a shell or notebook (the names load lazily)."""
    return sorted(__all__)
