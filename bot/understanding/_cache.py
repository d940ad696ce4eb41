"""Small memos for work that several readers repeat on the same text within one conversation step.

A step hands one DM to several readers (language, concern, order number, rating, intents), and each
starts from the same normalized text; `classify_intents` also reads the rating that the step may have
read already. Caching is safe because every cached function is pure: its argument is an immutable `str`
and its result is immutable (`str`, `int`, `None`), so a hit returns exactly what a call would.

The memos are kept small on purpose: the reuse they exist for is back to back, so the latest texts
are enough, and the bound caps what they pin in memory at a few MB even for 10,000-character DMs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol, TypeVar

_T = TypeVar("_T")

CACHE_SIZE = 64


class _Clearable(Protocol):
    def cache_clear(self) -> None: ...


_caches: list[_Clearable] = []


def per_text_cache(function: Callable[[str], _T]) -> Callable[[str], _T]:
    """Memoize a pure function of one text (see the module docstring for when that is safe)."""
    cached = functools.lru_cache(maxsize=CACHE_SIZE)(function)
    _caches.append(cached)
    return cached


def clear_caches() -> None:
    """Forget every memoized text: for benchmarks that time cold calls, and for tests."""
    for cache in _caches:
        cache.cache_clear()
