"""Diff-aware runs: the lines changed since a git revision, as code review sees them.

``--diff REF`` compares the working tree (staged and unstaged changes) with
``REF``; ``--new-only`` is ``--diff HEAD``. Untracked files count as wholly new.
``--staged`` (for pre-commit) compares the index with HEAD.
A finding is kept when its line was added or changed; a certain error (the
safety floor) anywhere in a changed file is kept too, since the change may
have caused it (a removed import makes an untouched line's name undefined).
"""
from __future__ import annotations

import bisect
import dataclasses
import os
import subprocess
from collections.abc import Sequence

from lintrank.core.config import Settings
from lintrank.core.exceptions import UsageError
from lintrank.core.finding import Finding
from lintrank.core.history import git_root, parse_new_ranges
from lintrank.core.policy import is_protected

#: git's id of the empty tree: the "revision before the first commit".
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclasses.dataclass
class ChangedLines:
    """Changed line ranges per file (paths relative to the project root)."""

    ref: str
    ranges: dict[str, list[tuple[int, int]]] = dataclasses.field(default_factory=dict)
    whole: set[str] = dataclasses.field(default_factory=set)  # untracked: all lines

    def paths(self) -> set[str]:
        """Every file with at least one changed line."""
        return set(self.ranges) | self.whole

    def touches(self, path: str, line: int) -> bool:
        """Whether ``line`` of ``path`` was added or changed."""
        path = os.path.normpath(path)
        if path in self.whole:
            return True
        spans = self.ranges.get(path)
        if not spans:
            return False
        i = bisect.bisect_right(spans, (line, float("inf"))) - 1
        return i >= 0 and spans[i][0] <= line <= spans[i][1]


def _git(root: str, *args: str) -> str:
    try:
        proc = subprocess.run(["git", "-c", "core.quotepath=off", "-C", root, *args],
                              capture_output=True, text=True, errors="replace",
                              stdin=subprocess.DEVNULL, check=False)
    except OSError as exc:
        raise UsageError(f"--diff needs git: {exc}") from exc
    if proc.returncode != 0:
        raise UsageError(f"git {args[0]} failed in {root}: "
                         f"{proc.stderr.strip().splitlines()[-1:] or ['no output']}")
    return proc.stdout


def resolve_ref(root: str, ref: str) -> str:
    """The commit ``ref`` names; HEAD of a repository without commits is the empty tree."""
    if subprocess.run(["git", "-C", root, "rev-parse", "--is-inside-work-tree"],
                      capture_output=True, stdin=subprocess.DEVNULL,
                      check=False).returncode != 0:
        raise UsageError(f"--diff/--new-only need a git work tree; {root} is not in one")
    proc = subprocess.run(["git", "-C", root, "rev-parse", "--verify", "--quiet",
                           f"{ref}^{{commit}}"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    if proc.returncode == 0:
        return proc.stdout.strip()
    if ref == "HEAD":
        return EMPTY_TREE  # nothing committed yet: every line is new
    raise UsageError(f"--diff: unknown git revision {ref!r}")


def changed_lines(root: str, ref: str = "HEAD", staged: bool = False) -> ChangedLines:
    """Lines of the working tree under ``root`` added or changed since ``ref``.

    With ``staged``, the lines of the index instead (what ``git commit`` would
    record); untracked files are then left out, as they are not staged.
    """
    commit = resolve_ref(root, ref)
    # --relative: paths relative to (and limited to) root, like the engine's paths.
    out = _git(root, "diff", *(["--cached"] if staged else []), "--no-color",
               "--no-ext-diff", "--unified=0", "--relative", "--diff-filter=d", commit, "--")
    result = ChangedLines(ref=ref)
    for path, spans in parse_new_ranges(out).items():
        kept = sorted((start, start + count - 1) for start, count in spans if count)
        if kept:  # a pure deletion leaves no new line to flag
            result.ranges[os.path.normpath(path)] = kept
    if staged:
        return result
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "--", ".")
    result.whole = {os.path.normpath(p) for p in untracked.splitlines() if p}
    return result


def for_settings(settings: Settings) -> ChangedLines | None:
    """The changed lines a run is limited to, else None (no limit).

    ``--diff REF`` and ``--new-only`` compare the working tree; ``--staged`` (the
    pre-commit hooks' default) compares the index, where pre-commit has stashed
    unstaged edits away, and limits nothing when nothing is staged, so
    ``pre-commit run --all-files`` on a clean tree still checks every line.
    """
    if settings.staged and not (settings.diff or settings.new_only):
        if git_root(settings.root) is None:
            return None  # the hooks' default must not fail outside git: check everything
        changed = changed_lines(settings.root, "HEAD", staged=True)
        return changed if changed.paths() else None
    ref = settings.diff or ("HEAD" if settings.new_only else None)
    return changed_lines(settings.root, ref) if ref else None


def select(findings: Sequence[Finding], changed: ChangedLines, settings: Settings) -> list[int]:
    """Indices of the findings a diff-aware run keeps (see the module docstring)."""
    codes, severities = settings.protected_codes(), frozenset(settings.safety_severities)
    files = changed.paths()
    return [i for i, f in enumerate(findings)
            if changed.touches(f.path, f.line)
            or (os.path.normpath(f.path) in files
                and is_protected(f.tool, f.code, f.severity, codes, severities))]
