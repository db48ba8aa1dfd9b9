"""File history features from git, computed from commits up to a revision only."""
from __future__ import annotations

import bisect
import concurrent.futures
import dataclasses
import math
import os
import subprocess
from collections.abc import Iterable, Iterator

from lintrank.core.exceptions import LintrankWarning
from lintrank.core.project import ProjectFacts, project_facts
from lintrank.core.recency import DAY, WINDOW, Change, Marks, apply, log_marks, parse_diff

#: ``git log`` output format: record separator, commit time, author e-mail.
LOG_FORMAT = "--format=\x1e%ct\x1f%ae"
Ranges = tuple[tuple[int, int], ...]


@dataclasses.dataclass
class FileHistory:
    """What git says about one file before the analysed revision."""

    first: float
    last: float
    commits: int
    commits_90d: int
    authors: int
    now: float
    churn_90d: int = 0
    project: ProjectFacts | None = None
    #: (start, count) of the lines the most recent change made in this file, when
    #: the file was part of that change (a pure deletion has count 0); else None.
    recent: Ranges | None = None
    #: Its lines' edits of the 90 days before ``now`` (:mod:`lintrank.core.recency`).
    marks: Marks = dataclasses.field(default_factory=dict)

    def recent_distance(self, line: int) -> float:
        """Lines between ``line`` and the most recent change's lines in this file."""
        if self.recent is None:
            return math.nan
        best = 1 << 20
        for start, count in self.recent:
            end = start + count - 1 if count else start
            first = start if count else start + 1
            best = min(best, max(0, first - line, line - end))
        return float(min(best, 1000))

    def as_row(self) -> list[float]:
        """Values for the schema's history features, in schema order."""
        return [(self.now - self.first) / DAY, float(self.commits), float(self.commits_90d),
                (self.now - self.last) / DAY, float(self.authors), float(self.churn_90d)]


class HistoryStats:
    """Per-path accumulators fed commit by commit, in any order (ancestors only).

    :meth:`snapshot` keeps what a later revision's history still needs, so that a
    check after new commits reads only those commits (:func:`repo_history`'s
    ``base``): each path's commit count, first and last time and authors, with the
    times and line counts of the 90 days' window kept one by one.
    """

    def __init__(self) -> None:
        self._times: dict[str, list[float]] = {}
        self._churn: dict[str, list[tuple[float, int]]] = {}
        self._authors: dict[str, set[str]] = {}
        #: (first, last, count) of the commit times a snapshot summed up, per path.
        self._older: dict[str, tuple[float, float, int]] = {}

    def add(self, when: float, author: str, changes: Iterable[tuple[str, int]],
            churn: bool = True) -> None:
        """Record one commit touching ``(path, lines added + deleted)`` pairs.

        With ``churn=False`` only the commit counts (``--name-only`` logs have no
        line counts); :meth:`add_churn` supplies them for the recent window.
        """
        for path, lines in changes:
            bisect.insort(self._times.setdefault(path, []), when)
            self._authors.setdefault(path, set()).add(author)
        if churn:
            self.add_churn(when, changes)

    def add_churn(self, when: float, changes: Iterable[tuple[str, int]]) -> None:
        """Record the changed-line counts of one commit."""
        for path, lines in changes:
            self._churn.setdefault(path, []).append((when, lines))

    def get(self, path: str, now: float, project: ProjectFacts | None = None,
            recent: Ranges | None = None, marks: Marks | None = None
            ) -> FileHistory | None:
        """The history of ``path`` as seen at time ``now`` (its revision's commit time)."""
        times = self._times.get(path, [])
        first, last, count = self._summary(path, times)
        if not count:
            return None
        in_window = len(times) - bisect.bisect_left(times, now - WINDOW)
        churn = self._churn.get(path, ())
        return FileHistory(
            first=first, last=last, commits=count, commits_90d=in_window,
            authors=len(self._authors[path]), now=now,
            churn_90d=sum(n for t, n in churn if now - t <= WINDOW), project=project,
            recent=recent, marks=marks or {})

    def _summary(self, path: str, times: list[float]) -> tuple[float, float, int]:
        """(first, last, count) of every commit time of ``path``."""
        first, last, count = self._older.get(path, (math.inf, -math.inf, 0))
        if times:
            first, last = min(first, times[0]), max(last, times[-1])
        return first, last, count + len(times)

    def paths(self) -> list[str]:
        return list(dict.fromkeys([*self._older, *self._times]))

    def snapshot(self, now: float) -> dict:
        """JSON data :meth:`restore` rebuilds, for histories at ``now`` or later."""
        oldest = now - WINDOW
        authors = sorted(set().union(*self._authors.values()))
        index = {name: i for i, name in enumerate(authors)}
        files = {}
        for path in self.paths():
            times = self._times.get(path, [])
            cut = bisect.bisect_left(times, oldest)
            first, last, count = self._summary(path, times[:cut])
            files[path] = [first if count else None, last if count else None, count,
                           times[cut:], sorted(index[a] for a in self._authors[path])]
        churn = {path: kept for path, rows in self._churn.items()
                 if (kept := [[t, n] for t, n in rows if now - t <= WINDOW])}
        return {"now": now, "authors": authors, "files": files, "churn": churn}

    @classmethod
    def restore(cls, data: dict) -> HistoryStats | None:
        """The stats a :meth:`snapshot` kept; None for data of another shape."""
        stats = cls()
        try:
            authors = [str(a) for a in data["authors"]]
            for path, (first, last, count, times, names) in data["files"].items():
                if count:
                    stats._older[path] = (float(first), float(last), int(count))
                stats._times[path] = sorted(float(t) for t in times)
                stats._authors[path] = {authors[i] for i in names}
            for path, rows in data["churn"].items():
                stats._churn[path] = [(float(t), int(n)) for t, n in rows]
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            return None
        return stats


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
                if line:  # --name-only: a path without line counts
                    changes.append((line, 0))
                continue
            added, deleted, name = parts
            # Binary files show "-"; they still count as a change, with no lines.
            lines = (int(added) if added.isdigit() else 0) + (
                int(deleted) if deleted.isdigit() else 0)
            changes.append((name, lines))
        yield header.split("\x1f"), changes


def repo_history(root: str, rev: str = "HEAD", paths: list[str] | None = None,
                 now: float | None = None, worktree: bool | None = None
                 ) -> dict[str, FileHistory]:
    """Map repo-relative path to its history up to and including ``rev``.

    One ``git log`` pass for the whole repository; returns ``{}`` outside git.
    ``now`` defaults to the commit time of ``rev`` so that mining a past revision
    and checking it today give the same values (no future leakage). ``worktree``
    (default: when ``rev`` is HEAD) counts uncommitted edits as the latest change.
    """
    return read_history(root, rev, paths, now, worktree)[0]


#: An ancestor's sha, its :class:`HistoryStats` and the time they were taken at.
Base = tuple[str, HistoryStats, float]


def read_history(root: str, rev: str = "HEAD", paths: list[str] | None = None,
                 now: float | None = None, worktree: bool | None = None,
                 base: Base | None = None, last_change: bool = True
                 ) -> tuple[dict[str, FileHistory], HistoryStats, float]:
    """:func:`repo_history`, with the stats behind it and the time it was taken at.

    With ``base``, the stats of an ancestor of ``rev`` taken no later than ``rev``'s
    time, only the commits since that ancestor are read (a check after a commit
    read pytest's 17,666 commits again); the result is the same. Without
    ``last_change`` the most recent change is left out (no ``recent`` lines, no
    uncommitted edits): for a caller that reads it itself.
    """
    # The time of the log's first commit (``rev``'s, or the latest on ``paths``).
    first = _log(root, [rev, "-1"], paths)
    if not first:
        return {}, HistoryStats(), 0.0
    ref = float(first[0][0][0]) if now is None else now
    stats, since = HistoryStats(), None
    if base is not None and base[2] <= ref and not paths:
        stats, since = base[1], base[0]
    # perf: merges list no files in `git log` (so mining skips them too); walking past
    # them only costs (pytest's 4,556 merges: 0.48 -> 0.32 s for --name-only).
    span = [rev if since is None else f"{since}..{rev}", "--no-merges"]
    # The window's line counts: all commits since the base (its stats hold the rest).
    window = [f"--since={int(ref - WINDOW) - 1}"] if since is None else []
    # perf: the git commands below depend on nothing but ``ref``: run at once, they
    # read pytest's history in 0.58 s instead of 0.88 s on an idle 2-core machine
    # (a check after a commit, its analyzers' results cached). Beside busy analyzers
    # (a cold `flake8 --format=lintrank`) it makes no difference.
    # --numstat over the whole history costs more than flake8 itself on a large
    # repository (9 s vs 1.2 s for --name-only on pytest), so line counts come from
    # a second pass over the 90-day window only.
    with concurrent.futures.ThreadPoolExecutor(5, thread_name_prefix="lintrank-git") as pool:
        commits = pool.submit(_log, root, [*span, "--name-only"], paths)
        churn = pool.submit(_log, root, [*span, "--numstat", *window], paths)
        facts = pool.submit(project_facts, root, rev)
        change = pool.submit(recent_change, root, rev,
                             rev == "HEAD" if worktree is None else worktree) \
            if last_change else None
        marked = pool.submit(log_marks, root, rev, ref - WINDOW)
        for (when, author), changes in commits.result():
            stats.add(float(when), author, changes, churn=False)
        for (when, _), changes in churn.result():
            stats.add_churn(float(when), changes)
        recent, dirty = change.result() if change is not None else ({}, [])
        marks = marked.result()
        project = facts.result()
    apply(marks, dirty, ref)
    history = {name: hist for name in stats.paths()
               if (hist := stats.get(name, ref, project, recent.get(name), marks.get(name)))
               is not None}
    return history, stats, ref


def _log(root: str, args: list[str], paths: list[str] | None
         ) -> list[tuple[list[str], list[tuple[str, int]]]]:
    argv = ["git", "-C", root, "log", "--no-renames", LOG_FORMAT, *args]
    if paths:
        argv += ["--", *paths]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=True,
                             errors="replace", stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return list(parse_log(out))


def parse_new_ranges(diff: str) -> dict[str, Ranges]:
    """New-side (start, count) ranges per path from ``git diff -U0`` output."""
    return new_ranges(parse_diff(diff))


def new_ranges(changes: Iterable[Change]) -> dict[str, Ranges]:
    """New-side (start, count) ranges per file the changes left with changed lines
    (a deleted file or a pure rename has none)."""
    return {path: spans for path, spans in change_ranges(changes).items() if spans}


def last_change(root: str, rev: str = "HEAD", worktree: bool = False) -> dict[str, Ranges]:
    """Lines touched by the most recent change: uncommitted edits when ``worktree``
    and there are any, else the commit ``rev`` itself (against its first parent)."""
    return recent_change(root, rev, worktree)[0]


def recent_change(root: str, rev: str = "HEAD", worktree: bool = False
                  ) -> tuple[dict[str, Ranges], list[Change]]:
    """:func:`last_change`, plus the files and hunks of the uncommitted edits when it
    is made of them (else none): they move lines after ``rev``'s history."""
    base = ["git", "-C", root, "-c", "core.quotepath=off"]
    try:
        if worktree:
            dirty = subprocess.run([*base, "diff", "-U0", "--no-color", "--no-ext-diff",
                                    "-M", "HEAD", "--", "*.py"],
                                   capture_output=True, text=True, errors="replace",
                                   stdin=subprocess.DEVNULL).stdout
            if dirty.strip():
                changes = parse_diff(dirty)
                return change_ranges(changes), changes
        out = subprocess.run([*base, "diff-tree", "-p", "-U0", "--no-color", "-M",
                              "--root", "-m", "--first-parent", rev, "--", "*.py"],
                             capture_output=True, text=True, errors="replace",
                             stdin=subprocess.DEVNULL).stdout
    except OSError:
        return {}, []
    return change_ranges(parse_diff(out)), []


def change_ranges(changes: Iterable[Change]) -> dict[str, Ranges]:
    """Every file a change left in place, with its new-side ranges: unlike
    :func:`new_ranges`, a pure rename or mode change counts, with no lines (the file
    is part of the change). ``lintrank mine`` reads its last change with this too."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    for _, new, hunks in changes:
        if new is not None:
            ranges.setdefault(new, []).extend((c, d) for _, _, c, d in hunks)
    return {k: tuple(v) for k, v in ranges.items()}


class ShallowHistoryWarning(LintrankWarning):
    """The clone's history is cut short: its history features describe the cut."""


def is_shallow(top: str) -> bool:
    """Whether the repository at ``top`` is a shallow clone (CI's ``--depth 1``)."""
    try:
        out = subprocess.run(["git", "-C", top, "rev-parse", "--is-shallow-repository"],
                             capture_output=True, text=True, check=False,
                             stdin=subprocess.DEVNULL).stdout
    except OSError:
        return False
    return out.strip() == "true"


def git_root(path: str) -> str | None:
    """The work tree root containing ``path``, or None outside git."""
    try:
        out = subprocess.run(["git", "-C", path, "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        return None
    return os.path.normpath(out.stdout.strip()) or None
