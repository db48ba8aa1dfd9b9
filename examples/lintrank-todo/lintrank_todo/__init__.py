"""A tiny third-party lintrank plugin: a finding source and a reporter."""
from __future__ import annotations

import collections
import os
import re

from lintrank.core.finding import Finding
from lintrank.core.hookspecs import hookimpl
from lintrank.core.reporters.base import Reporter

_TODO = re.compile(r"#\s*(TODO|FIXME|XXX)\b:?\s*(.*)")


@hookimpl
def lintrank_add_findings(files: list[str], root: str) -> list[Finding]:
    """Report every TODO/FIXME/XXX comment as a TD001 finding."""
    found = []
    for rel in files:
        try:
            with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
                lines = fh.readlines()
        except OSError:
            continue  # lintrank reports unreadable files itself (LR901)
        for number, line in enumerate(lines, 1):
            match = _TODO.search(line)
            if match:
                found.append(Finding(tool="todo", code="TD001", path=rel, line=number,
                                     column=match.start(), severity="info",
                                     message=f"{match.group(1)} comment: {match.group(2)}"))
    return found


class CountsReporter(Reporter):
    """Prints one line per code: how many findings were kept and filtered."""

    def report(self, result) -> None:  # type: ignore[no-untyped-def]
        counts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
        for item in result.results:
            counts[item.finding.code][0 if item.kept else 1] += 1
        for code, (kept, filtered) in sorted(counts.items()):
            self.stream.write(f"{code} kept={kept} filtered={filtered}\n")


@hookimpl
def lintrank_reporters() -> dict[str, type[Reporter]]:
    return {"counts": CountsReporter}
