"""A problem: the expression read, every shape known, the values given or drawn."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, TypeGuard

import numpy as np

from .. import sizes
from ..calculus.shapes import Shapes, infer, show_shape
from ..errors import JacliError, Option, Values
from ..expr import Expr
from ..io.arrays import MAX_DIM, as_matrix, short
from ..io.specs import VALUES, Binding, structured
from ..numeric import draws
from ..numeric.evaluate import check_domains
from ..syntax.notation import vocabulary
from ..syntax.parser import Parsed, parse
from ..syntax.printer import to_text
from ..syntax.reader import commutation_hint
from .structures import Declared, symmetric_names

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
    structures: dict[str, str] = {}  # noqa: RUF012  (never changed: names declared sym, diag, lower, upper)

    @property
    def shape(self) -> tuple[int, int]:
        return self.shapes(self.expr)

    @property
    def symbolic(self) -> bool:
        """Whether some size is a dimension name (of a name's shape, or of a builtin: I(m))."""
        return any(sizes.is_symbolic(shape) for shape in self.names.values()) or sizes.in_expr(self.expr)

    def variables(self) -> dict[str, tuple[int, int]]:
        """The names after ``wrt`` and their shapes, in order."""
        return {v: self.names[v] for v in self.wrt}

    def largest(self) -> int:
        """The number of entries of the expression's largest node."""
        return max(r * c for r, c in (self.shapes(e) for e in self.expr.walk()))


class Source(NamedTuple):
    """The expression's text, read once (``wrt`` optional): its parse, or the parse's error,
    kept to be raised where the request needs the expression (after the checks of its
    options and files, as the command line has always reported them)."""

    text: str
    parsed: Parsed | None
    error: JacliError | RecursionError | None = None

    @classmethod
    def read(cls, text: str) -> Source:
        try:
            return cls(text, parse(text, require_wrt=False))
        except (JacliError, RecursionError) as err:
            return cls(text, None, err)

    def names(self) -> set[str] | None:
        """The expression's names (what a --values file need hold); None if it does not parse."""
        return None if self.parsed is None else set(self.parsed.expr.names())

    def expression(self, require_wrt: bool = True) -> Parsed:
        """The parsed expression, or the parser's error."""
        if self.error is not None:
            raise self.error
        if self.parsed is None:
            raise RuntimeError("a source without its parse or its error")
        if require_wrt and not self.parsed.wrt:
            parse(self.text)  # the parser's own refusal: no 'wrt', and where
        return self.parsed


def is_size(d: object) -> TypeGuard[int | np.integer[Any]]:
    return isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_))


def to_binding(name: str, value: Any) -> Binding:
    """A binding from the Python API: an array-like, or a shape tuple such as (3, 4).

    A tuple is always a shape (``(2.0, 2)`` is an error, not values): values are arrays or lists."""
    if isinstance(value, Binding):
        return value
    if isinstance(value, Declared):
        inner = value.binding
        if isinstance(inner, str) or is_size(inner):  # sym(3), sym("n"): a square shape
            inner = (inner, inner)
        return structured(name, to_binding(name, inner), value.structure)
    if isinstance(value, tuple):
        text = short(repr(value), 40)
        named = [d for d in value if isinstance(d, str)]
        if len(value) not in (1, 2) or not all(is_size(d) or isinstance(d, str) for d in value):
            raise JacliError(
                f"{name}={text}: a tuple is a shape, one or two sizes (positive integers or dimension names) "
                f'as in {name}=(3, 4) or {name}=("m", "n"); give values as an array or a list'
            )
        if any(not sizes.is_dimension_name(d) for d in named):
            raise JacliError(
                f'{name}={text}: a dimension name is a letter, then letters or digits, as in {name}=("m", "n")'
            )
        if any(is_size(d) and int(d) < 1 for d in value):
            raise JacliError(f"{name}={text}: a shape is positive integers or dimension names, as in {name}=(3, 4)")
        if any(is_size(d) and int(d) > MAX_DIM for d in value):
            raise JacliError(f"{name}={text}: a dimension is at most {MAX_DIM:,} (NumPy's largest)")
        dims = tuple(sizes.dim(d) if isinstance(d, str) else int(d) for d in value) + ((1,) if len(value) == 1 else ())
        return Binding((dims[0], dims[1]), None, f"{name}={sizes.shape_text(dims)}")
    if value is None:
        raise JacliError(f"{name}=None: give an array or a shape tuple such as (3, 4)")
    arr = as_matrix(name, value)
    return Binding((arr.shape[0], arr.shape[1]), arr, f"{name}=<array {show_shape(arr.shape)}>")


def bindings_of(bindings: Mapping[str, Any] | None, names: dict[str, Any]) -> dict[str, Binding]:
    """The API's bindings (a mapping and keyword arguments) as :class:`Binding` objects."""
    if bindings is not None and not isinstance(bindings, Mapping):
        raise JacliError(f"bindings are a dict of names to arrays or shapes, not {type(bindings).__name__}")
    merged = dict(bindings or {})
    for n in merged:
        if not isinstance(n, str):
            raise JacliError(f"a binding's name is a str, not {type(n).__name__} ({short(repr(n))})")
    reserved = vocabulary().reserved  # a dict's entry of a builtin's name is unused, as any other name it lacks
    merged = {n: v for n, v in merged.items() if n not in reserved}
    merged.update(names)
    return {n: to_binding(n, v) for n, v in merged.items()}


def prepare(
    source: str | Source,
    bindings: dict[str, Binding],
    *,
    random: bool = False,
    seed: int = DEFAULT_SEED,
    require_wrt: bool = True,
    symbolic: bool = False,
    max_bytes: float | None = None,
) -> Problem:
    """Parse ``source`` (unless read already), check the bindings against it and infer every shape.

    ``random`` fills seeded random values for every name that has none: bound by shape only,
    or with a shape that follows from the expression; what they would take in memory is
    refused before they are drawn when it exceeds ``max_bytes``. ``symbolic`` gives every size
    that nothing fixes a dimension name (m, n, p, ...), the variables' first.
    """
    if not is_size(seed) or seed < 0:
        raise JacliError((Option("seed"), f" must be a non-negative integer, not {short(str(seed))}"))
    parsed = source.expression(require_wrt) if isinstance(source, Source) else parse(source, require_wrt=require_wrt)
    text = parsed.source
    names = parsed.expr.names()
    for n, b in bindings.items():
        if n in vocabulary().reserved and values_file(b) is None:  # a file's array of that name is unused
            raise JacliError(f"{n} is a built-in name of jacli's language and cannot be bound")
    refuse_sizes_as_names(parsed.expr, bindings)
    warnings = unused_warnings(bindings, set(names))
    warnings += tuple(f"{n} is a matrix of its own here{hint}" for n in names if (hint := commutation_hint(n)))
    given = {n: (b.shape[0], b.shape[1]) for n, b in bindings.items() if n in names}
    try:
        resolved = infer(parsed.expr, given, source=text, name_sizes=parsed.wrt if symbolic else None)
    except JacliError as err:
        raise _with_hints(err, names, bindings) from None
    values = {n: b.value for n, b in bindings.items() if n in names and b.value is not None}
    structures = {n: b.structure for n, b in bindings.items() if n in names and b.structure is not None}
    problem = Problem(
        text,
        resolved.expr,
        parsed.wrt,
        resolved.names,
        values,
        Shapes(resolved.names, symmetric_names(structures)),
        (),
        tuple(warnings),
        resolved.chosen,
        structures,
    )
    return with_random(problem, seed, max_bytes=max_bytes) if random else problem


def held_bytes(problem: Problem) -> int:
    """What the problem's values take in memory."""
    return sum(v.nbytes for v in problem.values.values())


def budget(problem: Problem, max_bytes: float | None) -> float | None:
    """What the memory limit leaves besides the problem's values (None: no limit)."""
    return None if max_bytes is None else max_bytes - held_bytes(problem)


def with_random(problem: Problem, seed: int = DEFAULT_SEED, *, max_bytes: float | None = None) -> Problem:
    """``problem`` with seeded values, valid for the expression, for every name that has none;
    refused before drawing when they would take, with the values given, more than ``max_bytes``."""
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
    if max_bytes is not None:
        draws.check_memory(problem.expr, problem.names, fill, problem.shapes, max_bytes, held_bytes(problem))
    values = draws.fill(problem.expr, problem.values, problem.names, fill, seed, problem.wrt, problem.structures)
    return problem._replace(values=values, randomized=tuple(fill))


def values_file(binding: Binding) -> str | None:
    """The --values file a binding comes from, if it does."""
    return binding.source[len(VALUES) :] if binding.source.startswith(VALUES) else None


def unused_warnings(bindings: dict[str, Binding], names: set[str]) -> tuple[str, ...]:
    """Warnings for names bound but not in the expression: one a name, or one line for more
    than three (of a --values file, or of NAME=SPEC words)."""
    groups: dict[str, list[str]] = {}  # the --values file, or "" for NAME=SPEC words
    for n, b in bindings.items():
        if n not in names:
            groups.setdefault(values_file(b) or "", []).append(n)
    out = []
    for path, unused in groups.items():
        if path and len(unused) > 3:
            out.append(f"{len(unused):,} names in {short(path, 60)} are not in the expression")
        elif path:
            verb = "is" if len(unused) == 1 else "are"
            out.append(f"{', '.join(short(n) for n in unused)} in {short(path, 60)} {verb} not in the expression")
        elif len(unused) > 3:
            out.append(f"{len(unused):,} bound names do not occur in the expression ({_names_list(unused)})")
        else:
            out.extend(f"{n} is bound but does not occur in the expression" for n in unused)
    return tuple(out)


def _names_list(names: list[str], most: int = 5) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most:,} more" if len(names) > most else "")


def refuse_sizes_as_names(expr: Expr, bindings: dict[str, Binding]) -> None:
    """A dimension name of the problem (in a shape given, or in I(n), ones(n,1) ...) that also
    stands in the expression as a name is refused: it would be a matrix of its own there
    (random values in check), not the size."""
    where: dict[str, str] = {}
    for n, b in bindings.items():
        for d in sizes.names(tuple(b.shape)):
            where.setdefault(d, f"{n} is {sizes.shape_text(b.shape)}")
    for node in expr.walk():
        attr = node.attr if isinstance(node.attr, tuple) else (node.attr,)
        for d in sizes.names(attr):
            where.setdefault(d, f"in {to_text(node)}" + (f" at column {node.col}" if node.col else ""))
    for node in expr.walk():
        if node.op == "name" and node.attr in where:
            n = node.attr
            raise JacliError(
                f"{n} is a size here ({where[n]}), and a size is no number in jacli: {n} at column "
                f"{node.col} would be a matrix of its own (write mean(x) for sum(x)/{n}, or give the "
                "sizes as numbers and write the number)",
                column=node.col,
            )


def _with_hints(err: JacliError, names: list[str], bindings: dict[str, Binding]) -> JacliError:
    """Say what a shape error may come from: 'Ax' is one name, write 'A x' for a product."""
    hints = []
    for n in names:
        for i in range(1, len(n)):
            if n[:i] in bindings and n[i:] in bindings:
                hints.append(f"{n} is one name; for a product write '{n[:i]} {n[i:]}'")
                break
        if len(hints) == 3:
            break
    unused = [n for n in bindings if n not in names]
    if unused and not hints:
        hints.append(f"{_names_list(unused)} {'is' if len(unused) == 1 else 'are'} bound but not in the expression")
    if not hints:
        return err
    return JacliError((*err.parts, f" ({'; '.join(hints)})"), column=err.column, source=err.source)


def require_values(problem: Problem, names: list[str]) -> None:
    """Every one of ``names`` has values, or an error that says how to give them."""
    missing = [n for n in problem.names if n in names and n not in problem.values]
    if missing:
        n = missing[0]
        shape = sizes.shape_text(problem.names[n])
        more = f" (also {', '.join(missing[1:])})" if len(missing) > 1 else ""
        raise JacliError(
            (
                f"{n} ({shape}) has no values{more}: give them (e.g. ",
                Values(n, f"{n}.npy"),
                "), or use ",
                Option("random"),
                ", or ",
                Option("symbolic"),
                " for the formula alone",
            )
        )


def require_numbers(problem: Problem, names: list[str]) -> None:
    """Before any number: every size is a number, every value that ``names`` need is bound,
    and defined there."""
    named = next((node for node in problem.expr.walk() if sizes.in_expr(node) and not node.args), None)
    if named is not None:
        raise JacliError(
            (
                f"{to_text(named)} has a dimension name for a size: numbers need numbers for sizes "
                "(write it with integers, or use ",
                Option("symbolic"),
                " for the formula alone)",
            ),
            column=named.col,
        )
    require_values(problem, names)
    shaped = next((n for n, shape in problem.names.items() if sizes.is_symbolic(shape)), None)
    if shaped is not None:
        raise JacliError(
            (
                f"{short(shaped)} is {short(sizes.shape_text(problem.names[shaped]))}, a shape with dimension names: "
                "numbers need numbers for sizes (give values or a shape of integers, or use ",
                Option("symbolic"),
                " for the formula alone)",
            )
        )
    check_domains(problem.expr, problem.values, problem.wrt)
