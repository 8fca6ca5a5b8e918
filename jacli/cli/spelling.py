"""How results are spelt for a stream: in jacli's notation, or in its ASCII spelling where
the stream's encoding lacks ⊗, ᵀ, ×, ∂ (which reads back the same); sizes for JSON."""

from __future__ import annotations

from typing import Any

from ..errors import JacliError
from ..syntax.printer import to_text
from .reporting import can_encode


def json_sizes(shape: tuple[object, ...]) -> list[int | str]:
    return [x if isinstance(x, int) else str(x) for x in shape]


def ascii_only(out: Any) -> bool:
    """Whether ``out`` cannot print jacli's notation (⊗, ᵀ, ×, ∂): then it gets ASCII."""
    return not can_encode(out)


def ascii_formula(text: str) -> str:
    """A formula jacli printed (or a claimed one), in the ASCII notation when it reads."""
    from ..syntax.parser import parse_formula

    try:
        parts = [to_text(e, "ascii") for e in parse_formula(text)]
    except (JacliError, RecursionError):
        return text
    return parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
