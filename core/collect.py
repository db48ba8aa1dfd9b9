"""Fewer garbage collections for runs that build many objects which all live on.

CPython starts a young-generation collection every 700 allocations, and each one
also walks the survivors of earlier ones on their way to the old generation. A
lintrank check (thousands of findings, decoded and scored, that live until the
report) and a pylint batch (astroid keeps every module it builds or infers) free
almost nothing in those collections: they only cost time. Measured: a warm check of
pytest's tree 0.51 -> 0.48 s; a pylint batch of 9 modules 8.6 -> 5.5 s, with the
same peak memory.
"""
from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: Allocations between young collections (CPython's default: 700).
YOUNG = 100_000


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect about 140x less often inside; the previous thresholds after."""
    previous = gc.get_threshold()
    gc.set_threshold(YOUNG, 100, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
