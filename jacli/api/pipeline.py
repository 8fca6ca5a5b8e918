"""The one pipeline: a service per kind of request, which the command line, ``batch`` and the
Python API all call. Each takes a :class:`~jacli.api.request.Request` (the expression read
once, the bindings, the options) and returns its kind's one result type:

=============  ==========================================================================
derive         :class:`~jacli.api.saving.Derived` (J's closed form, numbers, what was saved)
gradient       :class:`~jacli.api.saving.Derived` (with the gradient shown and saved)
differential   :class:`Differentiated` (dF in matrix form, what was saved)
direction      :class:`Directed` (dF along the directions, shaped like F)
hessian        :class:`~jacli.api.hessians.Saved` (H's closed form, numbers, what was saved)
check          ``CheckResult``, or ``SizedCheck`` where sizes are dimension names
check_hessian  :class:`~jacli.api.hessians.HessianCheck` (``check --hessian``)
explain        :class:`~jacli.api.explaining.Explanation`
parse          :class:`Parsing` (how the expression reads, and its shapes)
=============  ==========================================================================

Nothing is printed: warnings go to the request's ``tell`` as they arise, and errors are
:class:`~jacli.errors.JacliError` in jacli's words, worded by each front end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..errors import JacliError, Option, Values
from ..io.writers import atomic_write, check_output_path
from .problem import Problem, prepare
from .request import Request
from .saving import Derived, Plan, derive_plan
from .vech import as_vech

if TYPE_CHECKING:  # loaded with the services that need them
    from ..syntax.parser import Parsed
    from .checking import CheckResult
    from .differentials import Differential
    from .explaining import Explanation
    from .hessians import HessianCheck, Saved
    from .sized_check import SizedCheck


def problem(
    request: Request,
    *,
    random: bool = False,
    symbolic: bool = False,
    max_bytes: float | None = None,
    require_wrt: bool = True,
) -> Problem:
    """The request's problem: its bindings checked against the expression, every shape
    inferred (once), random values drawn if ``random``; its warnings told."""
    o = request.options
    p = prepare(
        request.source,
        request.bindings,
        random=random,
        seed=o.seed,
        symbolic=symbolic,
        max_bytes=max_bytes,
        require_wrt=require_wrt,
    )
    for warning in p.warnings:
        request.tell(warning)
    return as_vech(p) if o.vech else p


def plan_of(request: Request) -> Plan:
    """What derive or hessian is to show and save, checked before any work."""
    o = request.options
    return Plan.checked(
        vec=o.vec,
        symbolic=o.symbolic,
        gradient=o.gradient,
        output=o.output,
        sparse=o.sparse,
        in_memory=o.in_memory,
        max_bytes=o.max_bytes,
        formula=o.formula,
    )


# -- first derivatives -------------------------------------------------------------------
def derive(request: Request) -> Derived:
    """J = d vec(F) / d vec(X): the closed form; the numbers where they are shown or saved
    (a formula alone needs shapes only, and no values are drawn for it); the output saved."""
    plan = plan_of(request)
    o = request.options
    saving = o.save_values is not None and _values_file(o.save_values)
    random = o.random and (plan.numbers or saving)
    p = problem(request, random=random, symbolic=plan.symbolic, max_bytes=o.max_bytes)
    if o.python and o.output:
        from .formats import writable_as_python

        writable_as_python(p, o.vec, o.gradient)  # refused before anything is saved
    if saving and not p.values:
        raise JacliError("--save-values: no values to save (give values, or --random)")
    d = derive_plan(p, plan, request.ready, request.progress)
    _save_values(o.save_values, p.values)
    return d


def gradient(request: Request) -> Derived:
    """∂f/∂X shaped like X, for a scalar f: shown and saved in J's place."""
    return derive(request._replace(options=request.options._replace(gradient=True)))


class Differentiated(NamedTuple):
    """dF in matrix form (and its LaTeX line), and the file it was saved to."""

    problem: Problem
    differential: Differential
    latex: str  # d(F) = ..., the line --format latex prints and -o F.tex holds
    wrote: str | None


def _differential_options(request: Request) -> str | None:
    """The output's suffix, after the options that go without a differential are refused."""
    o = request.options
    if o.gradient or o.sparse:
        raise JacliError("--differential and --direction go without --gradient and --sparse")
    return check_output_path(o.output) if o.output else None


def differential(request: Request) -> Differentiated:
    """dF as Magnus & Neudecker write it; sizes nothing fixes get names. ``-o`` saves its
    LaTeX (.tex) or a Markdown note (.md)."""
    from .differentials import differential_latex, differential_of
    from .formats import note
    from .saving import save_text

    o = request.options
    suffix = _differential_options(request)
    if suffix not in (None, ".tex", ".md"):
        raise JacliError(f"--differential prints a formula: -o {o.output} would save numbers (use -o dF.tex or dF.md)")
    p = problem(request, random=o.random, symbolic=True)
    d = differential_of(p)
    latex = differential_latex(p, d)
    if o.output:
        save_text(o.output, note(latex, []) if suffix == ".md" else latex + "\n")
    return Differentiated(p, d, latex, o.output)


class Directed(NamedTuple):
    """dF along the directions given (the other variables held), shaped like F."""

    problem: Problem
    differential: Differential
    matrix: np.ndarray
    head: list[str]  # what dF is and its shape: the lines shown above it, and the file's comments
    wrote: str | None


def direction(request: Request) -> Directed:
    """dF at dX = V for each ``NAME=SPEC`` of ``directions``: J vec(V) without forming J."""
    from ..io.specs import parse_spec
    from ..io.writers import save_matrix
    from ..sizes import shape_text
    from ..syntax.printer import to_text
    from .differentials import directional

    o = request.options
    _differential_options(request)
    given: dict[str, np.ndarray] = {}
    texts: dict[str, str] = {}
    # the directions are read within what the values read before them left of the limit
    read = sum(b.value.nbytes for b in request.bindings.values() if b.value is not None)
    left = None if o.max_bytes is None else o.max_bytes - read
    for spec in o.directions:
        name, eq, text = spec.partition("=")
        if not eq:
            raise JacliError(f"--direction {spec!r}: write NAME=SPEC, as in --direction X=V.npy")
        b = parse_spec(name.strip(), text, max_bytes=None if left is None else max(int(left), 0))
        if b.value is None:
            raise JacliError(f"--direction {spec}: a direction needs values (a file or a literal), not a shape")
        given[name.strip()] = b.value
        texts.setdefault(name.strip(), text)
        left = None if left is None else left - b.value.nbytes
    limit = None if o.max_bytes is None else o.max_bytes - sum(v.nbytes for v in given.values())
    p = problem(request, random=o.random, max_bytes=limit)  # random values within what the directions leave
    d, dF = directional(p, given, max_bytes=o.max_bytes)
    along = ", ".join(f"d{v} = {texts[v]}" for v in given)
    head = [f"{d.text()}, along {along}", f"shape: {shape_text(dF.shape)}, F's (F = {to_text(p.expr)})"]
    if o.output:
        save_matrix(o.output, dF, formula=d.formula, comments=head)
    return Directed(p, d, dF, head, o.output)


# -- second derivatives ------------------------------------------------------------------
def hessian(request: Request) -> Saved:
    """H = ∂²f / ∂vec(X) ∂vec(X)ᵀ (for a matrix F its entries' Hessians stacked): shown and
    saved as derive shows and saves J."""
    from .hessians import hessian_of, hessian_plan, hessian_python

    plan = plan_of(request)
    o = request.options
    p = problem(request, random=o.random and plan.numbers, symbolic=o.symbolic, max_bytes=o.max_bytes)
    if o.python and o.output and not plan.gradient:
        hessian_python(hessian_of(p, o.vec, symbolic=True))  # refused before anything is saved
    return hessian_plan(p, plan, request.ready, request.progress)


# -- checks ------------------------------------------------------------------------------
def _values_file(path: str) -> bool:
    """``--save-values PATH``, checked before any work: a .npz that can be written."""
    if check_output_path(path, "values.npz") != ".npz":
        raise JacliError("--save-values writes a .npz file")
    return True


def _checked_problem(request: Request) -> Problem:
    o = request.options
    if o.save_values is not None:
        _values_file(o.save_values)
    return problem(request)


def check(request: Request) -> CheckResult | SizedCheck:
    """jacli's Jacobian against the numerical derivative (and the claim ``against``), at
    seeded random values for names without any; where sizes are dimension names, at several
    assignments of them. ``save_values`` saves the values used."""
    from .checking import check_problem
    from .problem import with_random

    o = request.options
    p = _checked_problem(request)
    if p.symbolic:
        from .claims import refuse_numbers
        from .sized_check import check_at_sizes

        refuse_numbers(o.against, "numbers for the sizes (give shapes such as X=3x4)")
        if o.save_values is not None:
            raise JacliError("--save-values needs numbers for the sizes: the check draws several")
        return check_at_sizes(
            p, against=o.against, tol=o.tol, vec=o.vec, method=o.method, max_bytes=o.max_bytes, seed=o.seed
        )
    result = check_problem(
        with_random(p, o.seed, max_bytes=o.max_bytes),
        against=o.against,
        tol=o.tol,
        vec=o.vec,
        method=o.method,
        max_bytes=o.max_bytes,
        seed=o.seed,
        progress=request.progress,
    )
    _save_values(o.save_values, result.values)
    return result


def check_hessian(request: Request) -> HessianCheck:
    """``check --hessian``: the first derivative, then H as the Jacobian of the gradient, at
    seeded random values for names without any."""
    from .hessians import check_hessian as check_h
    from .problem import with_random

    o = request.options
    p = _checked_problem(request)
    if p.symbolic:
        raise JacliError("check --hessian needs numbers for the sizes (give shapes such as X=3x4)")
    from .claims import refuse_numbers

    refuse_numbers(o.against, "a formula with --hessian (H's closed form, as jacli hessian prints it)")
    checked = check_h(
        with_random(p, o.seed, max_bytes=o.max_bytes), against=o.against, tol=o.tol, vec=o.vec, method=o.method,
        max_bytes=o.max_bytes,
    )  # fmt: skip
    _save_values(o.save_values, checked.first.values)
    return checked


def _save_values(path: str | None, values: dict[str, np.ndarray]) -> None:
    if path is not None:
        # mypy is right here: a value named allow_pickle is taken for savez's flag, and not saved
        atomic_write(path, lambda f: np.savez(f, **values))  # type: ignore[arg-type]


# -- reading -----------------------------------------------------------------------------
def explain(request: Request) -> Explanation:
    """The derivation step by step; sizes nothing fixes get names, no values are needed."""
    from .explaining import explain_problem

    return explain_problem(problem(request, symbolic=True))


class Parsing(NamedTuple):
    """How the expression reads, and its shapes: ``problem`` when all are known, else
    ``unknown`` says why; ``error``, any other refusal of the shapes, is for after the
    reading is shown."""

    parsed: Parsed
    problem: Problem | None = None
    unknown: str = ""
    error: JacliError | None = None


def parse(request: Request) -> Parsing:
    """The expression as jacli reads it (``wrt`` optional), and the shapes if they follow."""
    from ..calculus.shapes import UNKNOWN

    parsed = request.source.expression(require_wrt=False)
    try:
        return Parsing(parsed, problem(request, require_wrt=False))
    except JacliError as err:
        if err.message.startswith(UNKNOWN):
            return Parsing(parsed, unknown=err.message)
        return Parsing(parsed, error=err)


# -- values ------------------------------------------------------------------------------
class Evaluated(NamedTuple):
    """F's value at the values given or drawn, and the file it was saved to."""

    problem: Problem
    value: np.ndarray
    wrote: str | None


def evaluate(request: Request) -> Evaluated:
    """F itself (no ``wrt`` needed): its value, each operator's domain checked; ``-o`` saves
    it by suffix."""
    from ..io.writers import save_matrix
    from ..numeric.evaluate import Evaluator, check_domains
    from ..sizes import shape_text
    from ..syntax.printer import to_text

    o = request.options
    if o.output is not None and check_output_path(o.output, "F.npy") in (".tex", ".md", ".py"):
        raise JacliError(f"-o {o.output}: eval saves numbers (.npy .npz .csv .txt .json)")
    p = problem(request, random=o.random, max_bytes=o.max_bytes, require_wrt=False)
    missing = [n for n in p.expr.names() if n not in p.values]
    if missing:
        n = missing[0]
        raise JacliError(
            (
                f"{n} ({shape_text(p.names[n])}) has no values: give them (e.g. ",
                Values(n, f"{n}.npy"),
                "), or use ",
                Option("random"),
            )
        )
    ev = check_domains(p.expr, p.values, (), Evaluator(p.values, check=True, shapes=p.shapes, max_bytes=o.max_bytes))
    value = np.asarray(ev(p.expr), dtype=float)
    if not np.all(np.isfinite(value)):
        raise JacliError(f"{to_text(p.expr)} has infinite or NaN entries for these values (overflow)")
    if o.output:
        text = to_text(p.expr)
        save_matrix(o.output, value, formula=text, comments=[f"F = {text}", f"shape {shape_text(value.shape)}"])
    return Evaluated(p, value, o.output)
