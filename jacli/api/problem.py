"""A problem: the expression read, every shape known, the values given or drawn."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import sizes
from ..calculus.shapes import Shapes, infer, show_shape
from ..errors import JacliError
from ..expr import Expr
from ..io.arrays import as_matrix
from ..io.specs import Binding
from ..numeric import draws
from ..numeric.evaluate import check_domains
from ..syntax.notation import vocabulary
from ..syntax.parser import Parsed, parse

DEFAULT_SEED = 0


class Problem(NamedTuple):
    """A parsed expression with every shape known and the values that were given (or drawn)."""

    source: str
    expr: Expr  # resolved: explicit products, sized identities
    wrt: tuple[str, ...]
    names: dict[str, tuple[int, int]]
    values: dict[str, np.ndarray]
    shapes: Shapes
    randomized: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    chosen: tuple[str, ...] = ()  # the dimension names jacli gave sizes nothing fixed

    @property
    def shape(self) -> tuple:
        return self.shapes(self.expr)

    @property
    def symbolic(self) -> bool:
        """Whether some size is a dimension name."""
        return any(sizes.is_symbolic(shape) for shape in self.names.values())

    def variables(self) -> dict[str, tuple[int, int]]:
        """The names after ``wrt`` and their shapes, in order."""
        return {v: self.names[v] for v in self.wrt}

    def largest(self) -> int:
        """The number of entries of the expression's largest node."""
        return max(r * c for r, c in (self.shapes(e) for e in self.expr.walk()))


def to_binding(name: str, value: Any) -> Binding:
    """A binding from the Python API: an array-like, or a shape tuple such as (3, 4)."""
    if isinstance(value, Binding):
        return value
    if isinstance(value, tuple) and all(isinstance(d, (int, np.integer, str)) for d in value):
        dims = tuple(sizes.dim(d) if isinstance(d, str) else int(d) for d in value)
        if len(dims) == 1:
            dims = (dims[0], 1)
        bad = [d for d in value if isinstance(d, str) and not sizes.is_dimension_name(d)]
        if len(dims) != 2 or bad or any(isinstance(d, int) and d < 1 for d in dims):
            raise JacliError(
                f"{name}={value}: a shape is two sizes, positive integers or dimension names, as in {name}=(3, 4) "
                f'or {name}=("m", "n")'
            )
        return Binding((dims[0], dims[1]), None, f"{name}={sizes.shape_text(dims)}")
    arr = as_matrix(name, value)
    return Binding((arr.shape[0], arr.shape[1]), arr, f"{name}=<array {show_shape(arr.shape)}>")


def bindings_of(bindings: dict | None, names: dict) -> dict[str, Binding]:
    """The API's bindings (a dict and keyword arguments) as :class:`Binding` objects."""
    merged = dict(bindings or {})
    merged.update(names)
    return {n: to_binding(n, v) for n, v in merged.items()}


def prepare(
    source: str,
    bindings: dict[str, Binding],
    *,
    random: bool = False,
    seed: int = DEFAULT_SEED,
    require_wrt: bool = True,
    symbolic: bool = False,
) -> Problem:
    """Parse ``source``, check the bindings against it and infer every shape.

    ``random`` fills seeded random values for every name that has none: bound by shape only,
    or with a shape that follows from the expression. ``symbolic`` gives every size that
    nothing fixes a dimension name (m, n, p, ...), the variables' first.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise JacliError(f"--seed must be a non-negative integer, not {seed}")
    parsed: Parsed = parse(source, require_wrt=require_wrt)
    names = parsed.expr.names()
    warnings = []
    for n in bindings:
        if n in vocabulary().reserved:
            raise JacliError(f"{n} is a built-in name of jacli's language and cannot be bound")
        if n not in names:
            warnings.append(f"{n} is bound but does not occur in the expression")
    given = {n: (b.shape[0], b.shape[1]) for n, b in bindings.items() if n in names}
    try:
        resolved = infer(parsed.expr, given, source=source, name_sizes=parsed.wrt if symbolic else None)
    except JacliError as err:
        raise _with_hints(err, names, bindings) from None
    values = {n: b.value for n, b in bindings.items() if n in names and b.value is not None}
    problem = Problem(
        source,
        resolved.expr,
        parsed.wrt,
        resolved.names,
        values,
        Shapes(resolved.names),
        (),
        tuple(warnings),
        resolved.chosen,
    )
    return with_random(problem, seed) if random else problem


def with_random(problem: Problem, seed: int = DEFAULT_SEED) -> Problem:
    """``problem`` with seeded values, valid for the expression, for every name that has none."""
    fill = [n for n in problem.expr.names() if n not in problem.values]
    if not fill:
        return problem
    symbolic = [n for n in fill if sizes.is_symbolic(problem.names[n])]
    if symbolic:
        n = symbolic[0]
        raise JacliError(
            f"{n} is {sizes.shape_text(problem.names[n])}: random values need numbers for its sizes "
            "(jacli check draws sizes itself)"
        )
    values = draws.fill(problem.expr, problem.values, problem.names, fill, seed, problem.wrt)
    return problem._replace(values=values, randomized=tuple(fill))


def _with_hints(err: JacliError, names: list[str], bindings: dict) -> JacliError:
    """Say what a shape error may come from: 'Ax' is one name, write 'A x' for a product."""
    hints = []
    for n in names:
        for i in range(1, len(n)):
            if n[:i] in bindings and n[i:] in bindings:
                hints.append(f"{n} is one name; for a product write '{n[:i]} {n[i:]}'")
                break
    unused = [n for n in bindings if n not in names]
    if unused and not hints:
        hints.append(f"{', '.join(unused)} {'is' if len(unused) == 1 else 'are'} bound but not in the expression")
    if not hints:
        return err
    return JacliError(f"{err.message} ({'; '.join(hints)})", column=err.column, source=err.source)


def require_values(problem: Problem, names: list[str]) -> None:
    """Every one of ``names`` has values, or an error that says how to give them."""
    missing = [n for n in problem.names if n in names and n not in problem.values]
    if missing:
        n = missing[0]
        shape = sizes.shape_text(problem.names[n])
        more = f" (also {', '.join(missing[1:])})" if len(missing) > 1 else ""
        raise JacliError(
            f"{n} ({shape}) has no values{more}: give them (e.g. {n}={n}.npy), "
            f"or use --random, or --symbolic for the formula alone"
        )


def require_numbers(problem: Problem, names: list[str]) -> None:
    """Before any number: every value that ``names`` need is bound, and defined there."""
    require_values(problem, names)
    check_domains(problem.expr, problem.values, problem.wrt)
