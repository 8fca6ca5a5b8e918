"""A request, what every service of :mod:`jacli.api.pipeline` takes: the expression read once,
the bindings, and the options as one typed object.

Each front end makes it from its own arguments: the command line (and a batch line, by the
same option declarations) in :mod:`jacli.cli.commands`, the Python API in
:mod:`jacli.api.arguments`, each after checking them in its own words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ..io.specs import Binding
from .problem import DEFAULT_SEED, Source

Progress = Callable[[int, int], None]  # progress(done, total): the steps of a check, the rows written


def _quiet(warning: str) -> None:
    """Warnings go nowhere (the Python API's: a name of a dict that the expression lacks)."""


class Options(NamedTuple):
    """Every option of a request; each service reads those of its kind."""

    vec: str = "col"
    random: bool = False
    seed: int = DEFAULT_SEED
    symbolic: bool = False
    max_bytes: float | None = None  # the memory limit: the command line's --max-memory
    # derive, hessian: what is shown and saved
    gradient: bool = False
    output: str | None = None
    sparse: bool = False
    in_memory: bool = True  # the matrix is shown or returned: built in memory, not streamed to -o J.npy
    formula: bool = False  # a formula is what is shown (LaTeX, Markdown, Python): values only for -o
    python: bool = False  # the Python code is shown: refused before -o saves anything if it cannot be written
    directions: tuple[str, ...] = ()  # --direction NAME=SPEC, read by the service
    vech: bool = False  # rows over vech(F) for a symmetric F
    # check
    against: str | None = None
    tol: float = 1e-8
    method: str = "complex"
    save_values: str | None = None


class Request(NamedTuple):
    """The expression (read once), the bindings, the options; ``tell`` hears each warning as it
    arises (the command line prints it at once), ``progress`` the steps of a check or the
    rows written of a large output, and ``ready`` is given the closed form (derive's
    ``Result``, hessian's ``Hessian``) before a large output (``-o J.npy`` block by block,
    ``--sparse``) is written, so that it can be shown first."""

    source: Source
    bindings: dict[str, Binding]
    options: Options = Options()
    tell: Callable[[str], None] = _quiet
    progress: Progress | None = None
    ready: Callable[[Any], None] | None = None
