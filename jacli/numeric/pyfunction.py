"""A Python module on NumPy around the code of a closed form (:mod:`jacli.numeric.codegen`).

The function takes its inputs by keyword, makes each a float matrix (a number 1×1, a 1-D
array a column) and checks it against the shape it was derived for. Sizes that are
dimension names are read from the inputs' shapes when it runs, so one function holds for
every size; an input whose shape alone fixes a size the code needs is taken for that.
"""

from __future__ import annotations

import keyword
import textwrap
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .. import sizes
from ..errors import JacliError
from ..expr import Expr
from ..sizes import Size, SizeLike
from .codegen import HELPERS, Writer, size_code, tidy

if TYPE_CHECKING:
    from ..calculus.ops.registry import Shape, ShapeOf

Axis = tuple[str, int, SizeLike]  # (an input, one of its axes, that axis's size)

_HELPER = '''

def _matrix(value, name, shape=None):
    """``value`` as a float matrix (a number is 1×1, a 1-D array a column), of ``shape`` where given."""
    a = np.asarray(value, dtype=float)
    if a.ndim < 2:
        a = a.reshape(-1, 1)
    if a.ndim > 2:
        raise ValueError(f"{name} has {a.ndim} axes: give a matrix, a vector or a number")
    for axis, want in enumerate(shape or ()):
        if want is not None and a.shape[axis] != want:
            raise ValueError(f"{name} is {a.shape[0]}×{a.shape[1]}, expected {shape[0] or '?'}×{shape[1] or '?'}")
    return a
'''


def function_source(
    fname: str,
    rows: Sequence[Sequence[Expr]],
    *,
    shapes: ShapeOf,
    names: dict[str, Shape],
    doc: str,
    prefer: Sequence[str] = (),
    reshape: tuple[SizeLike, SizeLike, str] | None = None,
) -> str:
    """A Python module on NumPy whose function ``fname`` returns the block matrix of ``rows``.

    ``names`` are every name's shape (sizes may be dimension names), in the expression's
    order; the function takes, by keyword, the names the blocks need, and those whose shapes
    fix a size the code reads (``prefer``: which to try first). ``reshape`` (rows, cols,
    order) reshapes the result (a gradient from a Jacobian row). ``doc`` is its docstring.
    """
    python_names(list(names))
    variables = {n: n for n in names}
    dims = _dim_variables(names, rows, set(names))
    counting = Writer(shapes, variables, dims, set())
    for row in rows:
        for e in row:
            counting(e)
    w = Writer(shapes, variables, dims, {e for e, c in counting.counts.items() if c > 1})
    codes = [[w(e) for e in row] for row in rows]
    result = codes[0][0] if len(codes) == 1 and len(codes[0]) == 1 else _blocks(codes)
    if reshape is not None:
        r, c, order = reshape
        result = f"({result}).reshape({w.size(r)}, {w.size(c)}, order={order!r})"
    result = tidy(result)
    if result in variables.values():
        result += ".copy()"  # not the caller's own array
    needed = [n for n in names if any(n in e.names() for row in rows for e in row)]
    params, prologue = _parameters(needed, names, prefer, w.used, dims)
    doc += "\n\n" + _arguments(params, needed)
    body = [tidy(line, "exec") for line in prologue] + w.lines + [f"return {result}"]
    signature = ", ".join(f"{p}: np.ndarray" for p in params)
    head = f"def {fname}(*, {signature}) -> np.ndarray:" if params else f"def {fname}() -> np.ndarray:"
    imports = ["import numpy as np", *(f"import {m}" for m in sorted(w.imports))]
    lines = [*imports, "", "", head, _docstring(doc), *("    " + line for line in body)]
    helpers = "".join(HELPERS[h] for h in sorted(w.helpers))
    return "\n".join(lines) + "\n" + (_HELPER if params else "") + helpers


def python_names(names: Sequence[str]) -> None:
    """Refuse a name that a Python function cannot take as its own argument: a keyword, NumPy's
    ``np``, one that is no Python name (U+037E, which looks like ';', is no letter), or one that
    Python reads as another (it reads names in NFKC form: ``ϑ`` is ``θ``, ``ϕ`` is ``φ``)."""
    seen: dict[str, str] = {}
    for n in names:
        python = unicodedata.normalize("NFKC", n)
        if not python.isidentifier():
            bad = next((c for c in n if not ("a" + unicodedata.normalize("NFKC", c)).isidentifier()), n[0])
            raise JacliError(
                f"{n} is no Python name (its character U+{ord(bad):04X} is not one a name may hold): rename it"
            )
        if keyword.iskeyword(python):
            raise JacliError(f"{n} is a Python keyword: a Python function cannot take it as an argument (rename it)")
        if python in ("np", "scipy"):
            module = "NumPy" if python == "np" else "SciPy"
            raise JacliError(f"{n} is {module} in the Python code: rename the matrix {n}")
        if python in seen:
            raise JacliError(
                f"{seen[python]} and {n} are one name to Python, which reads names in NFKC form: rename one of them"
            )
        seen[python] = n


def _docstring(doc: str) -> str:
    """``doc`` as the function's docstring: paragraphs wrapped at 88 columns, indented lines kept."""
    text = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    out = []
    for para in text.split("\n\n"):
        if para.startswith("    "):
            out.append(para)
        else:
            out.append("\n".join(textwrap.wrap(" ".join(para.split("\n")), 84, break_long_words=False)))
    body = "\n\n".join(out).split("\n")
    return '    """' + "\n".join(("    " + line).rstrip() if i else line for i, line in enumerate(body)) + '\n    """'


def _arguments(params: list[str], needed: list[str]) -> str:
    """The docstring's line on what the function takes."""
    if not params:
        return "Takes no arguments."
    shape_only = [p for p in params if p not in needed]
    used = [p for p in params if p in needed]
    text = f"Takes {', '.join(used)} by name" if used else "Takes"
    if shape_only:
        text += (
            " and " if used else " "
        ) + f"{', '.join(shape_only)} for {'its' if len(shape_only) == 1 else 'their'} shape only"
    return text + " (arrays; a 1-D array is a column, a number is 1×1)."


def _blocks(codes: list[list[str]]) -> str:
    if len(codes) == 1:
        return f"np.hstack([{', '.join(codes[0])}])"
    return "np.block([" + ", ".join("[" + ", ".join(row) + "]" for row in codes) + "])"


def _dim_variables(names: dict[str, Shape], rows: Sequence[Sequence[Expr]], taken: set[str]) -> dict[str, str]:
    """A Python name for each dimension name: itself, unless an input or Python has it."""
    found: dict[str, None] = {}
    for shape in names.values():
        found.update(dict.fromkeys(sizes.names(shape)))
    for row in rows:
        for e in row:
            for node in e.walk():
                if isinstance(node.attr, (Size, tuple)):
                    found.update(dict.fromkeys(sizes.names(node.attr)))
    out = {}
    for d in found:
        v = d
        while v in taken or keyword.iskeyword(v) or v in ("np", "scipy"):
            v += "_"
        taken.add(v)
        out[d] = v
    return out


def _parameters(
    needed: list[str], names: dict[str, Shape], prefer: Sequence[str], used: set[str], dims: dict[str, str]
) -> tuple[list[str], list[str]]:
    """The function's parameters and the statements that read them: each input made a float
    matrix, checked against the shape it was derived for, the dimension names read from it.
    Where a size the code uses is in no needed input's shape, an input that holds it is taken
    too (``X' wrt X`` needs X's shape only); where none does, the code cannot be written."""
    params = list(needed)
    while True:
        lines, missing = _prologue(params, names, used, dims)
        if not missing:
            return params, lines
        order = [n for n in prefer if n in names] + list(names)
        extra = next((n for n in order if n not in params and missing & set(sizes.names(names[n]))), None)
        if extra is None:
            raise JacliError(
                f"cannot write Python code for every size: {', '.join(sorted(missing))} is no input's "
                f"size (give it a number)"
            )
        params = [n for n in names if n in params or n == extra]


def _plain(s: SizeLike) -> str | None:
    """The dimension name a size is, where it is one name alone (``m``, not ``2 m`` or ``m n``)."""
    if isinstance(s, Size) and s.coef == 1 and len(s.factors) == 1 and s.factors[0][1] == 1:
        return s.factors[0][0]
    return None


def _prologue(
    params: list[str], names: dict[str, Shape], used: set[str], dims: dict[str, str]
) -> tuple[list[str], set[str]]:
    """The statements that read the inputs, and the used sizes no input's shape fixes."""
    axes = [(p, k, s) for p in params for k, s in enumerate(names[p])]
    seen = Counter(d for _, _, s in axes for d in set(sizes.names(s)))
    want = set(used) | {d for d, c in seen.items() if c > 1}  # read to be used, or to check two inputs agree
    defining: dict[str, tuple[str, int]] = {}
    for p, k, s in axes:
        d = _plain(s)
        if d in want and d not in defining:
            defining[d] = (p, k)
    divided: dict[str, tuple[str, int, SizeLike]] = {}  # m from an axis of m n, once n is known
    progress = True
    while progress:
        progress = False
        for p, k, s in axes:
            unknown = [(d, e) for d, e in (s.factors if isinstance(s, Size) else ()) if d not in defining | divided]
            if len(unknown) == 1 and unknown[0][1] == 1 and unknown[0][0] in want:
                divided[unknown[0][0]] = (p, k, s)
                progress = True
    readable = set(defining) | set(divided)
    missing = set(used) - readable
    if missing:
        return [], missing
    code: Callable[[SizeLike], str] = lambda s: size_code(s, dims)  # noqa: E731
    lines: list[str] = []
    known: set[str] = set()
    pending: list[Axis] = []
    for p in params:
        own = sorted((k, d) for d, (q, k) in defining.items() if q == p)
        checks: list[str | None] = [None, None]
        for k, s in enumerate(names[p]):
            if (k, _plain(s)) in own or not set(sizes.names(s)) <= readable:
                continue
            if set(sizes.names(s)) <= known:
                checks[k] = code(s)
            else:
                pending.append((p, k, s))
        lines.append(f'{p} = _matrix({p}, "{p}"' + (f", ({checks[0]}, {checks[1]}))" if any(checks) else ")"))
        if own:
            targets = ", ".join(dims[d] for _, d in own)
            lines.append(f"{targets} = {p}.shape" if len(own) == 2 else f"{targets} = {p}.shape[{own[0][0]}]")
            known |= {d for _, d in own}
        pending = _flush(pending, known, lines, code)
    for d, (p, k, s) in divided.items():
        rest = sizes.div(s, sizes.dim(d))
        if rest is None:  # cannot happen: d is a factor of s
            raise RuntimeError(f"{d} does not divide {sizes.text(s)}")
        lines.append(f"{dims[d]} = {p}.shape[{k}] // {code(rest)}" if rest != 1 else f"{dims[d]} = {p}.shape[{k}]")
        known.add(d)
    _flush(pending, known, lines, code)
    return lines, set()


def _flush(pending: list[Axis], known: set[str], lines: list[str], code: Callable[[SizeLike], str]) -> list[Axis]:
    """Check the axes whose sizes are now known, one statement per input; the rest wait."""
    ready: dict[str, list[str | None]] = {}
    waiting = []
    for p, k, s in pending:
        if set(sizes.names(s)) <= known:
            ready.setdefault(p, [None, None])[k] = code(s)
        else:
            waiting.append((p, k, s))
    for p, (a, b) in ready.items():
        lines.append(f'{p} = _matrix({p}, "{p}", ({a}, {b}))')
    return waiting
