"""ruff as a lintrank finding source, used when ruff is installed."""
from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys

from lintrank.core.files import read_regular
from lintrank.core.finding import Finding
from lintrank.core.hookspecs import hookimpl
from lintrank.core.notebooks import cell_offsets
from lintrank.core.severity import severity_of
from lintrank.core.sources import AnalyzerCrash, ProjectConfigSource, run_command


class RuffSource(ProjectConfigSource):
    """Runs ``ruff check --output-format json`` in the project root."""

    name = "ruff"
    notebooks = True  # ruff parses *.ipynb natively

    def available(self) -> bool:
        return bool(_argv())

    def version(self) -> str:
        return _version()

    def run(self, files: list[str], root: str, timeout: float | None) -> list[Finding]:
        argv = _argv()
        if not argv:
            raise AnalyzerCrash(self.name, "ruff is not installed (pip install ruff)")
        # --force-exclude: explicitly passed files still honour the project's excludes.
        # --no-fix, --no-fix-only: a project's `fix = true` or `fix-only = true` must not
        # let a check rewrite its files (and hide the findings ruff fixed); lintrank
        # only reads.
        stdout = run_command(self.name, [*argv, "check", "--output-format", "json",
                                         "--exit-zero", "--no-fix", "--no-fix-only",
                                         "--force-exclude", "--", *files], root, timeout)
        return parse(stdout, root)


def parse(stdout: str, root: str) -> list[Finding]:
    """Parse ``ruff check --output-format json`` output."""
    try:
        items = json.loads(stdout or "[]")
    except ValueError as exc:
        raise AnalyzerCrash("ruff", f"unreadable output: {stdout[:200]}") from exc
    findings, offsets = [], _NotebookOffsets(root)
    for item in items:
        # Syntax errors have code "invalid-syntax" on current ruff, null on older ruff.
        code = item.get("code") or "invalid-syntax"
        loc, end = item.get("location") or {}, item.get("end_location") or {}
        shift = offsets.before(item)  # a notebook cell's first line in its joined code
        findings.append(Finding(
            tool="ruff", code=code, symbol=item.get("name") or "",
            message=item.get("message", ""),
            path=os.path.normpath(os.path.relpath(item["filename"], root)),
            line=int(loc.get("row") or 1) + shift,
            column=max(int(loc.get("column") or 1) - 1, 0),
            end_line=end["row"] + shift if end.get("row") else None,
            end_column=(end["column"] - 1) if end.get("column") else None,
            severity=severity_of("ruff", code), category=code.rstrip("0123456789"),
        ))
    return findings


class _NotebookOffsets:
    """Turn ruff's cell-relative rows into lines of the notebook's joined code cells."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.files: dict[str, dict[int, int]] = {}

    def before(self, item: dict) -> int:
        cell = item.get("cell")
        if not isinstance(cell, int):
            return 0  # a .py file, or a whole-notebook error (invalid JSON)
        path = os.path.join(self.root, item["filename"])
        if path not in self.files:
            try:
                self.files[path] = cell_offsets(read_regular(path))
            except OSError:
                self.files[path] = {}
        return self.files[path].get(cell, 0)


@functools.lru_cache(maxsize=1)
def _argv() -> tuple[str, ...]:
    if importlib.util.find_spec("ruff") is not None:
        return (sys.executable, "-m", "ruff")
    exe = shutil.which("ruff")
    return (exe,) if exe else ()


@functools.lru_cache(maxsize=1)
def _version() -> str:
    argv = _argv()
    if not argv:
        return "ruff:missing"
    out = subprocess.run([*argv, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "ruff:unknown"


SOURCE = RuffSource()


@hookimpl
def lintrank_sources() -> list[RuffSource]:
    return [SOURCE]
