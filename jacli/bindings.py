"""Bindings from the command line: NAME=SPEC words, --values files, --max-memory sizes."""
from __future__ import annotations

import os
import re

from .errors import JacliError
from .files import Binding, load_values_file, parse_spec

_NAME = re.compile(r"[A-Za-z\u0370-\u03ff][A-Za-z0-9_\u0370-\u03ff]*")


def read_bindings(specs: list[str] | None, values_file: str | None, max_bytes: float | None) -> dict[str, Binding]:
    """NAME=SPEC words (and a --values file, which they override) to bindings."""
    bindings: dict[str, Binding] = {}
    if values_file:
        for n, arr in load_values_file(values_file).items():
            bindings[n] = Binding(arr.shape, arr, f"--values {values_file}")
    seen = set()
    for spec in specs or []:
        name, eq, text = spec.partition("=")
        name = name.strip()
        if spec.startswith("-"):
            raise JacliError(f"unknown option {spec.split('=')[0]!r} (see --help)")
        if not eq or not _NAME.fullmatch(name):
            raise JacliError(f"expected NAME=SPEC (as in A=A.npy or X=3x4), got {spec!r}")
        if name in seen:
            raise JacliError(f"{name} is bound twice")
        seen.add(name)
        bindings[name] = parse_spec(name, text, max_bytes=int(max_bytes) if max_bytes else None)
    return bindings


def parse_size(text: str | None) -> float:
    """--max-memory: bytes, or a number with kB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/TiB."""
    if text is None:
        return default_max_memory()
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKMGT]i?B?|B)?\s*", text)
    if not m:
        raise JacliError(f"--max-memory {text!r}: give bytes or a size such as 2GB or 512MiB")
    unit = (m.group(2) or "B").upper().rstrip("B").replace("I", "i")
    factor = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
              "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}[unit]
    return float(m.group(1)) * factor


def default_max_memory() -> float:
    """Half the memory available now."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 * 0.5
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * 0.5
    except (ValueError, OSError, AttributeError):
        return 4e9
