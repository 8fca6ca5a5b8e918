"""``jacli explain``: a problem's derivation, step by step, in text, Markdown or LaTeX."""

from __future__ import annotations

from typing import NamedTuple

from ..calculus.explain import (
    IDENTIFICATION,
    Step,
    differential_steps,
    gradient_steps,
    kron_steps,
    simplified,
    vec_step,
)
from ..errors import JacliError, Option
from ..sizes import shape_text
from ..syntax.printer import latex_name, to_latex, to_text
from .derivation import Block, free_map, jacobian_blocks
from .differentials import _setup
from .problem import Problem


def identified(var: str, dvar: str) -> str:
    """The identification of J, in the variable's own names."""
    return f"vec(dF) = J vec({dvar}) ⇔ J = ∂vec(F)/∂vec({var})"


class Section(NamedTuple):
    title: str
    steps: tuple[Step, ...]


class Explanation(NamedTuple):
    """The derivation of ``problem``'s Jacobian (and gradient, for a scalar f)."""

    problem: Problem
    sections: tuple[Section, ...]
    names: dict[str, str]  # each variable's differential: X -> dX

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(s for section in self.sections for s in section.steps)

    def text(self) -> str:
        return render_text(self)

    def markdown(self) -> str:
        return render_markdown(self)

    def latex(self) -> str:
        return render_latex(self)

    def __repr__(self) -> str:
        p = self.problem
        of = f"{to_text(p.expr)} wrt {', '.join(p.wrt)}"
        return f"<Explanation of {of}: {len(self.steps)} steps; .text(), .markdown()>"

    def _repr_markdown_(self) -> str:
        return self.markdown()


def explain_problem(problem: Problem, vec: str = "col") -> Explanation:
    """Each step of ``problem``'s derivation, as Magnus & Neudecker take them."""
    if vec != "col":
        raise JacliError(("explain derives with vec stacking columns (", Option("vec"), " col)"))
    names, shapes, _ = _setup(problem, problem.wrt)
    expanded = differential_steps(problem.expr, names, shapes)
    sections = [Section("The differential, one rule at a time", tuple(expanded))]
    dF = expanded[-1].expr
    simple = simplified(dF, shapes, expanded[-1].lhs)
    if simple is not None:
        sections.append(Section("Simplified", (simple,)))
        dF = simple.expr
    blocks = jacobian_blocks(problem)
    if problem.shape == (1, 1):
        steps, _ = gradient_steps(problem.expr, names, shapes)
        for b in blocks:
            j = _j(problem, b.var)
            said = f"{j} = vec(∂f/∂{b.var})ᵀ" + (" over every entry" if b.structure is not None else "")
            steps.append(Step(j, b.vec_expr or b.expr, said, words="J is vec of the gradient, transposed"))
            steps += _free_entries(problem, b, names)
        sections.append(Section("The gradient and the Jacobian", tuple(steps)))
    else:
        vstep, found = vec_step(dF, names, shapes)
        steps = kron_steps(dF, names, shapes)
        if not steps or steps[-1].expr != vstep.expr:  # the products were combined already
            steps.append(vstep)
        for b in blocks:
            same = found[b.var] == (b.vec_expr or b.expr)
            said = identified(b.var, names[b.var])
            why = said if same else f"{said}; rearranged as jacli derive prints it"
            words = "the first identification theorem" + ("" if same else "; rearranged as jacli derive prints it")
            steps.append(Step(_j(problem, b.var), b.vec_expr or b.expr, why, IDENTIFICATION, words=words))
            steps += _free_entries(problem, b, names)
        sections.append(Section("The Jacobian", tuple(steps)))
    return Explanation(problem, tuple(sections), names)


_FREE = {
    "sym": ("vech({x})", "symmetric", "the duplication matrix, M&N ch. 3"),
    "lower": ("vech({x})", "lower triangular", "the elimination matrix, M&N ch. 3"),
    "upper": ("vech({x}ᵀ)", "upper triangular", "the elimination and commutation matrices, M&N ch. 3"),
    "diag": ("diag({x})", "diagonal", "the columns eᵢ ⊗ eᵢ"),
}


def _free_entries(problem: Problem, b: Block, names: dict[str, str]) -> list[Step]:
    """For a structured variable: J over its free entries, from vec(dX) = M d(free entries)."""
    if b.structure is None:
        return []
    free, what, cite = _FREE[b.structure]
    x, dx = b.var, names[b.var]
    m = free_map(b.structure, b.var_shape[0])
    shown = to_text(m)
    why = f"{x} is {what}: vec({dx}) = {shown} {free.format(x=dx)} ({cite}), so J over {free.format(x=x)} is J {shown}"
    words = f"{x} is {what}: J over its free entries is J times {to_text(m, 'ascii')}"
    return [Step(_j(problem, b.var), b.expr, why, words=words)]


def _j(problem: Problem, var: str) -> str:
    return "J" if len(problem.wrt) == 1 else f"J_{var}"


_WORDS = {"sym": " symmetric", "lower": " lower triangular", "upper": " upper triangular", "diag": " diagonal"}


def headline(x: Explanation) -> str:
    p = x.problem
    shapes = ", ".join(f"{n} {shape_text(s)}{_WORDS.get(p.structures.get(n, ''), '')}" for n, s in p.names.items())
    return f"{to_text(p.expr)} wrt {', '.join(p.wrt)}: {shapes}; F is {shape_text(p.shape)}"


# -- text ------------------------------------------------------------------------------------
def render_text(x: Explanation) -> str:
    lines = [headline(x)]
    k = 0
    for section in x.sections:
        lines += ["", section.title]
        last = None
        for step in section.steps:
            k += 1
            lhs = step.lhs if step.lhs != last else " " * len(step.lhs)
            lines.append(f"{k:>3}. {lhs} = {to_text(step.expr)}")
            why = ("by " if step.rule is not None else "") + step.why + (f" ({step.cite})" if step.cite else "")
            lines.append(f"     {' ' * len(step.lhs)}   {why}" if why.strip() else "")
            last = step.lhs
    return "\n".join(line for line in lines if line is not None) + "\n"


# -- Markdown and LaTeX ----------------------------------------------------------------------
LHS_LATEX = {"dF": r"\mathrm{d}F", "df": r"\mathrm{d}f", "vec(dF)": r"\operatorname{vec}(\mathrm{d}F)", "J": "J"}


def lhs_latex(lhs: str) -> str:
    if lhs in LHS_LATEX:
        return LHS_LATEX[lhs]
    if lhs.startswith("∂f/∂"):
        return rf"\frac{{\partial f}}{{\partial {latex_name(lhs[4:])}}}"
    if lhs.startswith("J_"):
        return f"J_{{{latex_name(lhs[2:])}}}"
    raise ValueError(lhs)


def step_latex(x: Explanation, step: Step) -> str:
    marks = {d: v for v, d in x.names.items()}
    return to_latex(step.expr, differentials=marks)


def note_latex(step: Step) -> tuple[str, str]:
    """(the rule in LaTeX math, or ""; plain ASCII words and the source) for a step."""
    math = ""
    if step.rule is not None:
        marks = {"dA": "A", "dB": "B"}
        math = f"{to_latex(step.rule[0], marks)} = {to_latex(step.rule[1], marks)}"
    words = step.words or (step.why if step.why.isascii() and step.rule is None else "")
    return math, "; ".join(w for w in (words, step.cite) if w)


def why_markdown(step: Step) -> str:
    math, words = note_latex(step)
    return " ".join(x for x in (f"${math}$" if math else "", f"({words})" if math and words else words) if x)


def render_markdown(x: Explanation) -> str:
    p = x.problem
    out = [f"# The derivative of ${to_latex(p.expr)}$ with respect to ${', '.join(map(latex_name, p.wrt))}$", ""]
    shapes = ", ".join(f"${latex_name(n)}$ {shape_text(s)}" for n, s in p.names.items())
    out += [f"Shapes: {shapes}; $F$ is {shape_text(p.shape)}.", ""]
    for section in x.sections:
        out += [f"## {section.title}", ""]
        for k, step in enumerate(section.steps, 1):
            out += [
                f"{k}. By {why_markdown(step)}:",
                "",
                "$$",
                f"{lhs_latex(step.lhs)} = {step_latex(x, step)}",
                "$$",
                "",
            ]
    return "\n".join(out)


def render_latex(x: Explanation) -> str:
    rows = []
    last = None
    for step in x.steps:
        lhs = lhs_latex(step.lhs) if step.lhs != last else ""
        math, words = note_latex(step)
        parts = [rf"\text{{by }} {math}" if math else "", rf"\text{{{_text_safe(words)}}}" if words else ""]
        note = r" \quad ".join(p for p in parts if p)
        rows.append(rf"{lhs} &= {step_latex(x, step)} && {note}")
        last = step.lhs
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"


def _text_safe(s: str) -> str:
    """Plain words for \\text{...}: LaTeX's special characters escaped."""
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("_", r"\_"), ("#", r"\#"), ("%", r"\%"), ("$", r"\$")):
        s = s.replace(a, b)
    return s
