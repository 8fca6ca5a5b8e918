"""Request traces: which of jacli's modules a command passes through, and in what order.

Each command runs in a fresh interpreter, in process through ``jacli.cli.main``, with a
profile hook on every thread that records each call of a function of jacli (module bodies
run at import, and what they call, are left out). For each command it prints:

- modules: the distinct modules of jacli whose functions ran (the worker threads' too);
- layers: the layer of each call in the main thread (cli, api, io, syntax, calculus, numeric,
  top for jacli/*.py), consecutive repeats merged; the number of changes of layer, and the
  same without the top-level modules (errors, expr, sizes: data every layer uses);
- front end: the same path over the cli, api and io layers, and syntax where the parser's
  entry runs: where control goes between the front end and the library;
- parsed: calls of jacli.syntax.parser.parse (the expression; a claimed formula's parse is
  counted apart), inferred: calls of jacli.calculus.shapes.infer.

    python benchmarks/trace.py            # the four requests
    python benchmarks/trace.py derive "X' wrt X" X=2x3   # any command line
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from typing import Any

COMMANDS = [
    ["derive", "A X B wrt X", "A=samples/A.npy", "B=samples/B.npy", "-o", "{tmp}/J.npy"],
    ["derive", "tr(X' A X) wrt X", "A=3x3", "X=3x2", "--random", "--gradient"],
    ["hessian", "tr(X' A X) wrt X", "A=3x3", "X=3x2", "--random"],
    ["check", "A X B wrt X", "A=2x3", "X=3x4", "B=4x5", "--against", "B' ⊗ A"],
]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "jacli") + os.sep
LAYERS = ("cli", "api", "io", "syntax", "calculus", "numeric")


def module_of(filename: str) -> str | None:
    """``jacli.api.problem`` for its file; None outside the package."""
    if not filename.startswith(PACKAGE):
        return None
    name = "jacli." + filename[len(PACKAGE) : -len(".py")].replace(os.sep, ".")
    return name.removesuffix(".__init__")


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in LAYERS else "top"


def record(argv: list[str]) -> dict[str, Any]:
    """Run ``jacli ARGV`` here with the hook on; what it passed through."""
    calls: list[tuple[str, str]] = []  # (module, function) in the main thread
    modules: set[str] = set()
    counts: Counter[str] = Counter()
    local = threading.local()
    main = threading.get_ident()

    def hook(frame: Any, event: str, arg: Any) -> None:
        stack = getattr(local, "imports", None)
        if stack is None:
            stack = local.imports = []
        if event == "call":
            code = frame.f_code
            if code.co_name == "<module>":
                stack.append(frame)
                return
            if stack:
                return
            module = module_of(code.co_filename)
            if module is None:
                return
            modules.add(module)
            if module == "jacli.syntax.parser" and code.co_name in ("parse", "parse_formula", "parse_expr"):
                counts[code.co_name] += 1
            if module == "jacli.calculus.shapes" and code.co_name == "infer":
                counts["infer"] += 1
            if threading.get_ident() == main:
                calls.append((module, code.co_name))
        elif event == "return" and stack and stack[-1] is frame:
            stack.pop()

    import jacli.cli

    before = {m for m in sys.modules if m == "jacli" or m.startswith("jacli.")}
    sys.argv = ["jacli", *argv]
    threading.setprofile(hook)
    sys.setprofile(hook)
    try:
        jacli.cli.main()
    except SystemExit as stop:
        code = stop.code
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    loaded = {m for m in sys.modules if m == "jacli" or m.startswith("jacli.")}
    layers: list[str] = []
    front: list[str] = []  # the front end's path: cli, api, io, and the parser's entry
    for module, function in calls:
        step = layer_of(module)
        front_end = step in ("cli", "api", "io") or (module == "jacli.syntax.parser" and function == "parse")
        if front_end and (not front or front[-1] != step):
            front.append(step)
    for module, _ in calls:
        layer = layer_of(module)
        if not layers or layers[-1] != layer:
            layers.append(layer)
    inner = [x for x in layers if x != "top"]
    merged = [x for i, x in enumerate(inner) if i == 0 or inner[i - 1] != x]
    return {
        "exit": code,
        "modules": sorted(modules),
        "loaded": len(loaded),
        "loaded_at_start": len(before),
        "front": front,
        "layers": layers,
        "changes": len(layers) - 1,
        "without_top": merged,
        "changes_without_top": len(merged) - 1,
        "parse": counts["parse"],
        "parse_formula": counts["parse_formula"] + counts["parse_expr"],
        "infer": counts["infer"],
    }


def report(argv: list[str], got: dict[str, Any]) -> str:
    shown = " ".join(a if " " not in a and "'" not in a else repr(a) for a in argv)
    lines = [
        f"$ jacli {shown}",
        f"  exit {got['exit']}; modules passed: {len(got['modules'])} (loaded: {got['loaded']}, "
        f"{got['loaded_at_start']} of them by `import jacli.cli`)",
        f"  {', '.join(m.removeprefix('jacli.') for m in got['modules'])}",
        f"  layer changes: {got['changes']} (without the top-level modules: {got['changes_without_top']})",
        f"  front end (cli, api, io, and syntax for the parser's entry): {' → '.join(got['front'])}",
        f"  layers (top-level modules left out): {' → '.join(got['without_top'])}",
        f"  parsed: {got['parse']} (claimed formulas: {got['parse_formula']}); shapes inferred: {got['infer']} "
        "(a claim's included)",
    ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        got = record(sys.argv[2:])
        sys.stdout = sys.__stdout__
        print("\n@@TRACE@@" + json.dumps(got))
        return
    commands = [sys.argv[1:]] if len(sys.argv) > 1 else COMMANDS
    with tempfile.TemporaryDirectory() as tmp:
        for argv in commands:
            argv = [a.replace("{tmp}", tmp) for a in argv]
            r = subprocess.run(
                [sys.executable, __file__, "--one", *argv], cwd=ROOT, capture_output=True, text=True, check=False
            )
            marker = r.stdout.rfind("@@TRACE@@")
            if marker < 0:
                print(r.stdout, r.stderr)
                raise SystemExit(f"no trace for {argv}")
            got = json.loads(r.stdout[marker + len("@@TRACE@@") :])
            print(report([a.replace(tmp, "/tmp") for a in argv], got))
            print()


if __name__ == "__main__":
    main()
