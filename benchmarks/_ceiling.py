"""The most N workers can gain over one on pylint-only work, whatever the engine does.

Each pylint process builds astroid trees of every module its files import (the
standard library's included), so the engine's N batches cost more CPU together than
one process over the whole tree. This measures it without lintrank's or Dask's
overhead and without contention: pylint run exactly as the engine's tasks run it
(:class:`~lintrank.plugins.pylint_source.PylintSource`), once over all files and
then once per batch of the engine's split for N jobs, one run after the other.
The ceiling is the one-process CPU time over the costliest batch's, a median over
rounds: this machine's speed drifts by a fifth within minutes, so each round
compares runs made one right after the other.
"""
from __future__ import annotations

import resource
import statistics
from pathlib import Path

from lintrank.core.engine import scan_files
from lintrank.core.files import discover
from lintrank.core.tasks import batches
from lintrank.plugins.pylint_source import SOURCE


def _cpu_seconds(files: list[str], root: str) -> float:
    """CPU seconds (user + system) of one pylint task over ``files``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    SOURCE.run(files, root, None)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def pylint_ceiling(tree: Path, jobs: int = 2, rounds: int = 3) -> dict[str, float]:
    """CPU seconds of one pylint process and of the engine's ``jobs`` batches
    (medians over ``rounds``), and the ceiling they set."""
    root = str(tree)
    files = discover([root], root)
    _, lines, _ = scan_files(files, root)
    parts = batches(files, jobs, lines, by_package=True)
    rows = []
    for _ in range(max(rounds, 1)):
        whole = _cpu_seconds(files, root)
        each = [_cpu_seconds(part, root) for part in parts]
        rows.append((whole, sum(each), max(each)))
    return {"one process cpu": statistics.median(r[0] for r in rows),
            "batches cpu": statistics.median(r[1] for r in rows),
            "costliest batch cpu": statistics.median(r[2] for r in rows),
            "batches": float(len(parts)),
            "ceiling": statistics.median(r[0] / r[2] for r in rows)}
