"""How the benchmarks time jacli: first calls with jacli's caches cleared, and the sides of a
comparison in an order rotated every round.

jacli keeps its derivations (``functools.lru_cache`` on functions keyed by the expression,
its shapes and the layout), so a second call with the same expression and shapes only
evaluates. A *first call* is timed with every such cache of every loaded ``jacli`` module
cleared before it, outside the timing: parse, derive, simplify and evaluate, as a
process's first call does them (imports aside). A *repeated call* finds the caches filled.

``compare`` runs k sides for a number of rounds; round r starts with side r mod k and goes
on in the given order, so no side always runs first (after a cache-cold or allocating
neighbour). Each round gives one value per side (the best of ``repeat`` calls); a side's
time is the median of its rounds, a ratio the median of the per-round ratios.
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

T = TypeVar("T")


def _is_cache(obj: object) -> bool:
    """A function wrapped by functools.lru_cache or functools.cache."""
    try:
        return callable(getattr(obj, "cache_clear", None)) and callable(getattr(obj, "cache_info", None))
    except Exception:  # an object whose attribute lookup itself fails is no cache
        return False


def _caches_in(obj: object, seen: set[int]) -> Iterator[Any]:
    """The caches ``obj`` is or holds as a class: methods, static and class methods, property
    getters, nested classes."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if _is_cache(obj):
        yield obj
    if isinstance(obj, type):
        for attr in vars(obj).values():
            inner = attr.__func__ if isinstance(attr, (staticmethod, classmethod)) else attr
            if isinstance(attr, property):
                inner = attr.fget
            elif isinstance(attr, functools.cached_property):
                inner = attr.func
            yield from _caches_in(inner, seen)


def _jacli_modules() -> list[ModuleType]:
    return [
        m
        for name, m in list(sys.modules.items())
        if isinstance(m, ModuleType) and (name == "jacli" or name.startswith("jacli."))
    ]


def jacli_caches() -> list[Any]:
    """Every lru_cache'd callable of the loaded jacli modules (module level and in classes),
    found by walking ``sys.modules``: no list of names to keep up to date."""
    seen: set[int] = set()
    found: list[Any] = []
    for module in _jacli_modules():
        for obj in list(vars(module).values()):
            if isinstance(obj, ModuleType):
                continue
            if isinstance(obj, type) and not obj.__module__.startswith("jacli"):
                continue  # a class imported from elsewhere (NamedTuple, Enum ...)
            found.extend(_caches_in(obj, seen))
    return found


def cache_names() -> list[str]:
    """The caches ``clear_jacli_caches`` clears, as module.qualname."""
    return sorted(f"{getattr(c, '__module__', '?')}.{getattr(c, '__qualname__', repr(c))}" for c in jacli_caches())


def clear_jacli_caches() -> None:
    """Empty every cache of every loaded jacli module, so the next call derives again."""
    for cache in jacli_caches():
        cache.cache_clear()


@dataclass(frozen=True)
class Side:
    """A timed callable and what runs, untimed, before each of its calls."""

    run: Callable[[], object]
    before: Callable[[], object] | None = None


def first_call(run: Callable[[], object]) -> Side:
    """``run`` timed as a first call: jacli's caches cleared before each call."""
    return Side(run, clear_jacli_caches)


@dataclass(frozen=True)
class Timings:
    """Seconds per side and round."""

    rounds: dict[str, list[float]]

    def __contains__(self, side: str) -> bool:
        return side in self.rounds

    def median(self, side: str) -> float:
        return statistics.median(self.rounds[side])

    def ratio(self, a: str, b: str) -> float:
        """The median of the per-round ratios a / b."""
        return statistics.median(x / y for x, y in zip(self.rounds[a], self.rounds[b], strict=True))


def rotation(items: Sequence[T], r: int) -> list[T]:
    """``items`` in the order of round r: starting with item r mod k."""
    k = r % len(items) if items else 0
    return list(items[k:]) + list(items[:k])


def _once(side: Side) -> float:
    if side.before is not None:
        side.before()
    t0 = time.perf_counter()
    out = side.run()
    seconds = time.perf_counter() - t0
    del out  # freed outside the timing
    return seconds


def compare(
    sides: Mapping[str, Callable[[], object] | Side], rounds: int, repeat: int = 1, warm_up: bool = True
) -> Timings:
    """Time the sides over ``rounds`` rounds, in an order rotated each round; each round's
    value for a side is its best of ``repeat`` calls. ``warm_up`` first calls each side once,
    untimed (imports, JIT compilation, the caches of a repeated call)."""
    made = {k: s if isinstance(s, Side) else Side(s) for k, s in sides.items()}
    if warm_up:
        for side in made.values():
            _once(side)
    times: dict[str, list[float]] = {k: [] for k in made}
    for r in range(rounds):
        for k in rotation(list(made), r):
            times[k].append(min(_once(made[k]) for _ in range(repeat)))
    return Timings(times)
