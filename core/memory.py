"""Project memory: how often *this* project fixed a code, or in a file, before.

The strongest signal the history-free features miss is the team's own past: a
project that fixed 40 ``F401`` findings last year will likely fix the next one.
The memory is built from past outcomes only, never from a finding that is still
open: a fix is a fact once its commit exists, whereas "never fixed" is only known
at the end of a history window (it would leak future labels into the counts).

Two producers, one meaning:

* training data (:func:`past_columns`): for each mined row, the fixes the same
  repository made in commits strictly earlier than the row's labelling commit;
* a checked project (:func:`summarise`, :func:`save`, :func:`load`): ``lintrank
  learn`` counts every fix it mined and writes ``.lintrank/memory.json``; ``check``
  and the plugins read it. Without it the columns are missing, a regime the shipped
  model was trained for (rows are masked at random, :mod:`lintrank.core.train`).
"""
from __future__ import annotations

import collections
import dataclasses
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from lintrank.core.exceptions import LintrankWarning
from lintrank.core.files import atomic_write, read_regular
from lintrank.core.finding import Finding
from lintrank.models import project_memory_path

FORMAT = 1
FIXED = "fixed"  # the mined outcome that counts


@dataclasses.dataclass
class ProjectMemory:
    """Fix counts per (tool, code) and per root-relative file path, and in all."""

    codes: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)
    files: dict[str, int] = dataclasses.field(default_factory=dict)
    total: int = 0

    def row(self, tool: str, code: str, path: str) -> list[float]:
        """The memory columns of one finding (order of ``features.MEMORY_FEATURES``)."""
        fixes = self.codes.get((tool, code), 0)
        return _columns(fixes, self.files.get(path.replace(os.sep, "/"), 0), self.total)


def _columns(code_fixes: int, file_fixes: int, total: int) -> list[float]:
    # The share keeps "this code is what the team fixes" comparable between a long
    # and a short history window; the raw counts keep how much history there is.
    return [float(code_fixes), float(file_fixes), float(total), code_fixes / (total + 1.0)]


WIDTH = len(_columns(0, 0, 0))


def past_columns(repos: Sequence[str], times: Sequence[float], paths: Sequence[str],
                 tools: Sequence[str], codes: Sequence[str], outcomes: Sequence[str]
                 ) -> np.ndarray:
    """Memory columns of mined rows, each from strictly earlier commits of its repo.

    A row's time is that of the commit that decided its outcome and its features come
    from that commit's parent, so fixes at the same time (the same commit) are not
    yet known to it.
    """
    out = np.zeros((len(times), WIDTH), dtype=np.float32)
    by_repo: dict[str, list[int]] = collections.defaultdict(list)
    for i, repo in enumerate(repos):
        by_repo[repo].append(i)
    for indices in by_repo.values():
        indices.sort(key=lambda i: times[i])
        seen = ProjectMemory()
        start = 0
        while start < len(indices):
            end = start
            while end < len(indices) and times[indices[end]] == times[indices[start]]:
                end += 1
            group = indices[start:end]
            for i in group:
                out[i] = seen.row(tools[i], codes[i], paths[i])
            for i in group:
                if outcomes[i] == FIXED:
                    _count(seen, tools[i], codes[i], paths[i])
            start = end
    return out


def _count(memory: ProjectMemory, tool: str, code: str, path: str) -> None:
    memory.codes[(tool, code)] = memory.codes.get((tool, code), 0) + 1
    memory.files[path] = memory.files.get(path, 0) + 1
    memory.total += 1


def summarise(paths: Sequence[str], tools: Sequence[str], codes: Sequence[str],
              outcomes: Sequence[str]) -> ProjectMemory:
    """The memory of a whole mined history (every fix is in the past of today)."""
    memory = ProjectMemory()
    for path, tool, code, outcome in zip(paths, tools, codes, outcomes):
        if outcome == FIXED:
            _count(memory, tool, code, path.replace(os.sep, "/"))
    return memory


def save(memory: ProjectMemory, root: str, head: str | None) -> Path:
    """Write the memory atomically (a concurrent ``check`` reads a whole file)."""
    doc = {"format": FORMAT, "head": head, "total": memory.total,
           "codes": {f"{tool}:{code}": n for (tool, code), n in sorted(memory.codes.items())},
           "files": dict(sorted(memory.files.items()))}
    path = project_memory_path(root)
    atomic_write(str(path), (json.dumps(doc, indent=1) + "\n").encode())
    return path


def load(root: str) -> ProjectMemory | None:
    """The project's memory, or None when ``lintrank learn`` has not written one.

    An unreadable or malformed file is treated as absent (the columns stay missing),
    with a warning: scoring must not fail because of it.
    """
    path = project_memory_path(root)
    try:
        raw = read_regular(str(path))
    except FileNotFoundError:
        return None
    except OSError as exc:
        _warn(path, exc.strerror or str(exc))
        return None
    try:
        doc = json.loads(raw)
        if doc.get("format") != FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, expected {FORMAT}")
        codes = {_code_key(key): _count_value(n) for key, n in doc["codes"].items()}
        files = {str(p): _count_value(n) for p, n in doc["files"].items()}
        return ProjectMemory(codes, files, _count_value(doc["total"]))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        _warn(path, str(exc))
        return None


def _code_key(key: str) -> tuple[str, str]:
    tool, sep, code = str(key).partition(":")
    if not sep or not tool or not code:
        raise ValueError(f"not a tool:code key: {key!r}")
    return tool, code


def _count_value(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"not a count: {value!r}")
    return value


def _warn(path: Path, why: str) -> None:
    import warnings

    warnings.warn(LintrankWarning(
        f"ignoring {path} ({why}); run `lintrank learn` to rebuild it"), stacklevel=3)


def fill(rows: np.ndarray, start: int, findings: Sequence[Finding],
         memory: ProjectMemory | None) -> None:
    """Write the memory columns of ``findings`` into ``rows[:, start:]`` in place."""
    if memory is None:
        rows[:, start:] = math.nan
        return
    for i, f in enumerate(findings):
        rows[i, start:] = memory.row(f.tool, f.code, f.path)
