"""Critical paths: where accuracy is never traded for throughput.

Users list globs (``critical = ["src/payments/**"]``) relative to the project root.
On a critical file budget mode skips nothing, every analyzer runs, and findings are
kept at a stricter (lower) threshold and past any top-N cut.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import functools
import os
from collections.abc import Iterable, Sequence

from lintrank.core.finding import ScoredFinding


def _normal(pattern: str) -> str:
    pattern = pattern.replace(os.sep, "/").strip()
    return pattern[2:] if pattern.startswith("./") else pattern.rstrip("/")


@functools.lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_normal(p) for p in patterns if p.strip())


def is_critical(path: str, patterns: Sequence[str]) -> bool:
    """Whether ``path`` (relative to the root) matches a pattern or lies under one.

    ``*`` also crosses folders (as in flake8's ``exclude``), so ``src/payments/**``
    and ``src/payments`` both cover everything below ``src/payments``.
    """
    if not patterns:
        return False
    rel = path.replace(os.sep, "/")
    for pattern in _compiled(tuple(patterns)):
        if fnmatch.fnmatchcase(rel, pattern) or rel.startswith(pattern + "/"):
            return True
    return False


def critical_files(files: Iterable[str], patterns: Sequence[str]) -> set[str]:
    """The subset of ``files`` on critical paths."""
    return {f for f in files if is_critical(f, patterns)} if patterns else set()


def apply_policy(results: Sequence[ScoredFinding], patterns: Sequence[str],
                 threshold: float) -> list[ScoredFinding]:
    """Mark findings on critical paths and keep those scoring at least ``threshold``."""
    if not patterns:
        return list(results)
    marked = []
    for item in results:
        if is_critical(item.finding.path, patterns):
            item = dataclasses.replace(item, critical=True,
                                       kept=item.kept or item.score >= threshold)
        marked.append(item)
    return marked
