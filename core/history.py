"""File history features from git, computed from commits up to a revision only."""
from __future__ import annotations

import bisect
import dataclasses
import os
import subprocess
from collections.abc import Iterable, Iterator

from lintrank.core.project import ProjectFacts, project_facts

DAY = 86400.0
WINDOW = 90 * DAY
#: ``git log`` output format: record separator, commit time, author e-mail.
LOG_FORMAT = "--format=\x1e%ct\x1f%ae"


@dataclasses.dataclass
class FileHistory:
    """What git says about one file before the analysed revision."""

    first: float
    last: float
    commits: int
    commits_90d: int
    authors: int
    now: float
    churn: int = 0
    churn_90d: int = 0
    project: ProjectFacts | None = None

    def as_row(self) -> list[float]:
        """Values for the schema's history features, in schema order."""
        return [(self.now - self.first) / DAY, float(self.commits), float(self.commits_90d),
                (self.now - self.last) / DAY, float(self.authors), float(self.churn),
                float(self.churn_90d)]


class HistoryStats:
    """Per-path accumulators fed commit by commit, in any order (ancestors only)."""

    def __init__(self) -> None:
        self._times: dict[str, list[float]] = {}
        self._churn: dict[str, list[tuple[float, int]]] = {}
        self._authors: dict[str, set[str]] = {}

    def add(self, when: float, author: str, changes: Iterable[tuple[str, int]]) -> None:
        """Record one commit touching ``(path, lines added + deleted)`` pairs."""
        for path, lines in changes:
            bisect.insort(self._times.setdefault(path, []), when)
            self._churn.setdefault(path, []).append((when, lines))
            self._authors.setdefault(path, set()).add(author)

    def get(self, path: str, now: float, project: ProjectFacts | None = None
            ) -> FileHistory | None:
        """The history of ``path`` as seen at time ``now`` (its revision's commit time)."""
        times = self._times.get(path)
        if not times:
            return None
        recent = len(times) - bisect.bisect_left(times, now - WINDOW)
        churn = self._churn[path]
        return FileHistory(
            first=times[0], last=times[-1], commits=len(times), commits_90d=recent,
            authors=len(self._authors[path]), now=now,
            churn=sum(n for _, n in churn),
            churn_90d=sum(n for t, n in churn if now - t <= WINDOW), project=project)

    def paths(self) -> list[str]:
        return list(self._times)


def parse_log(out: str) -> Iterator[tuple[list[str], list[tuple[str, int]]]]:
    """Parse ``git log --format=\\x1e... --numstat`` into (header fields, changes).

    Header fields are the ``\\x1f``-separated values of the format; changes are
    ``(path, lines added + deleted)`` pairs.
    """
    for chunk in out.split("\x1e")[1:]:
        header, _, body = chunk.partition("\n")
        changes = []
        for line in body.split("\n"):
            parts = line.split("\t", 2)
            if len(parts) != 3:
                continue
            added, deleted, name = parts
            # Binary files show "-"; they still count as a change, with no lines.
            lines = (int(added) if added.isdigit() else 0) + (
                int(deleted) if deleted.isdigit() else 0)
            changes.append((name, lines))
        yield header.split("\x1f"), changes


def repo_history(root: str, rev: str = "HEAD", paths: list[str] | None = None,
                 now: float | None = None) -> dict[str, FileHistory]:
    """Map repo-relative path to its history up to and including ``rev``.

    One ``git log`` pass for the whole repository; returns ``{}`` outside git.
    ``now`` defaults to the commit time of ``rev`` so that mining a past revision
    and checking it today give the same values (no future leakage).
    """
    argv = ["git", "-C", root, "log", "--no-renames", LOG_FORMAT, "--numstat", rev]
    if paths:
        argv += ["--", *paths]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=True,
                             errors="replace", stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    commits = list(parse_log(out))
    if not commits:
        return {}
    ref = float(commits[0][0][0]) if now is None else now
    stats = HistoryStats()
    for (when, author), changes in commits:
        stats.add(float(when), author, changes)
    facts = project_facts(root, rev)
    return {name: hist for name in stats.paths()
            if (hist := stats.get(name, ref, facts)) is not None}


def git_root(path: str) -> str | None:
    """The work tree root containing ``path``, or None outside git."""
    try:
        out = subprocess.run(["git", "-C", path, "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        return None
    return os.path.normpath(out.stdout.strip()) or None
