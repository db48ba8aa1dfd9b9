"""Recent edits near a line, from the project's first-parent diffs of the last 90 days.

Teams fix findings where they are working: a finding whose lines were edited last
week is far more likely to be touched (and fixed) by the next change than one in
code nobody has opened for a year. Each line carries the times of the edits that
made it, mapped forward through later diffs (a line an edit rewrote inherits the
replaced line's times), so at any revision the edits of the 90 days before it are
known per line. ``lintrank mine`` advances the same state commit by commit through
history (``advance``) and a check reads it from one ``git log -p`` pass
(:func:`log_marks`); both see only the past of the analysed revision.
"""
from __future__ import annotations

import bisect
import math
import re
import subprocess
from collections.abc import Iterable, Sequence

DAY = 86400.0
WINDOW = 90 * DAY
NEAR = 3  # lines either side: a fix must edit within 3 lines of the finding
#: "No edit in the window": one day past it, so trees split it from recent edits.
NONE_DAYS = WINDOW / DAY + 1.0
FAR = 1000.0
#: (old start, old count, new start, new count) of a ``-U0`` hunk.
Hunk = tuple[int, int, int, int]
#: line -> times of the in-window edits it carries (oldest first).
Marks = dict[int, tuple[float, ...]]
#: (old path or None when added, new path or None when deleted, -U0 hunks).
Change = tuple[str | None, str | None, Sequence[Hunk]]
FEATURES = ("near_edit_days", "near_edited_lines", "line_edit_days",
            "file_edited_lines", "edit_distance", "scope_edit_days", "scope_edited_share")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def advance(marks: Marks, hunks: Sequence[Hunk], when: float) -> Marks:
    """``marks`` after a diff with ``-U0`` ``hunks`` made at ``when``.

    Lines outside the hunks move with the lines added or removed before them; a
    removed line's marks go; the lines a hunk adds carry ``when``, plus the marks
    of the line they replace (the i-th old line of the same hunk). Times older than
    the window before ``when`` are dropped: no later revision can see them.
    """
    oldest = when - WINDOW
    moved: Marks = {}
    for line, times in marks.items():
        shift, removed = 0, False
        for a, b, _, d in hunks:
            if b and a <= line < a + b:
                removed = True
                break
            if (b and a + b <= line) or (not b and a < line):
                shift += d - b
        if not removed:
            moved[line + shift] = times
    for a, b, c, d in hunks:
        for i in range(d):
            old = marks.get(a + i, ()) if i < b else ()
            moved[c + i] = (*old, when)
    return {line: kept for line, times in moved.items()
            if (kept := tuple(t for t in times if t >= oldest))}


def apply(state: dict[str, Marks], changes: Iterable[Change], when: float) -> None:
    """Advance every file of one commit (renames carry their marks to the new path)."""
    moves = []
    for old, new, hunks in changes:
        marks = state.pop(old, {}) if old else {}
        if new:
            moves.append((new, advance(marks, hunks, when)))
    for path, marks in moves:
        if marks:
            state[path] = marks


def log_marks(root: str, rev: str, since: float) -> dict[str, Marks]:
    """Per-path marks at ``rev`` from its first-parent commits since ``since``."""
    try:
        out = subprocess.run(
            ["git", "-C", root, "-c", "core.quotepath=off", "log", "--first-parent", "-M",
             "-p", "-U0", "--no-color", "--no-ext-diff", "--format=\x1e%ct",
             f"--since={int(since) - 1}", rev, "--", "*.py"],
            capture_output=True, text=True, errors="replace", check=True,
            stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    state: dict[str, Marks] = {}
    for when, changes in reversed(list(parse_patches(out))):
        apply(state, changes, when)
    return state


def parse_patches(out: str) -> Iterable[tuple[float, list[Change]]]:
    """``git log -p -U0 --format=\\x1e%ct`` output as (time, changes) per commit."""
    for chunk in out.split("\x1e")[1:]:
        header, _, body = chunk.partition("\n")
        yield float(header.strip()), parse_diff(body)


def parse_diff(diff: str) -> list[Change]:
    """The files and ``-U0`` hunks of a ``git diff`` (``a/``, ``b/`` prefixes).

    Files without content lines (a mode change, an empty file added or deleted) are
    named by the ``diff --git`` header alone; they are listed too, with no hunks, as
    the miner's ``diff-tree --raw`` lists them.
    """
    changes: list[Change] = []
    old = new = None
    hunks: list[Hunk] = []
    header = None
    for line in diff.split("\n"):
        if line.startswith("diff --git "):
            if old or new:
                changes.append((old, new, hunks))
            header = _header_path(line[len("diff --git "):])
            old = new = header
            hunks = []
        elif line.startswith("new file mode") and old == header:
            old = None
        elif line.startswith("deleted file mode") and new == header:
            new = None
        elif line.startswith("--- "):
            old = _side(line[4:], "a/")
        elif line.startswith("+++ "):
            new = _side(line[4:], "b/")
        elif line.startswith("rename from "):  # a pure rename has no ---/+++ lines
            old = _side(line[12:], "")
        elif line.startswith("rename to "):
            new = _side(line[10:], "")
        elif line.startswith("@@") and (hunk := parse_hunk(line)) is not None:
            hunks.append(hunk)
    if old or new:
        changes.append((old, new, hunks))
    return changes


def parse_hunk(line: str) -> Hunk | None:
    """The numbers of a ``-U0`` hunk header (``@@ -a,b +c,d @@``), else None."""
    match = _HUNK.match(line)
    if match is None:
        return None
    a, b, c, d = match.groups()
    return int(a), 1 if b is None else int(b), int(c), 1 if d is None else int(d)


def _header_path(rest: str) -> str | None:
    """The path of ``a/P b/P`` (a ``diff --git`` header naming one file), else None.

    A rename's two names, or names git quoted, are left to the lines that follow."""
    half = (len(rest) - 1) // 2
    a, b = rest[:half], rest[half + 1:]
    if rest[half:half + 1] == " " and a.startswith("a/") and b.startswith("b/") \
            and a[2:] == b[2:]:
        return a[2:]
    return None


def _side(name: str, prefix: str) -> str | None:
    name = name.rstrip("\t")
    if name.startswith('"') and name.endswith('"'):
        name = name[1:-1]
    return name[len(prefix):] if name.startswith(prefix) else None


class Edits:
    """One file's in-window edits as seen at time ``now``, for its findings' rows."""

    def __init__(self, marks: Marks, now: float) -> None:
        oldest = now - WINDOW
        self.now = now
        self.latest = {n: max(t for t in times if t >= oldest)
                       for n, times in marks.items() if times[-1] >= oldest}
        self.lines = sorted(self.latest)

    def features(self, line: int, scope: tuple[int, int]) -> list[float]:
        """:data:`FEATURES` of ``line`` in the def/class (or module) spanning ``scope``
        (first and last line)."""
        near = [self.latest[n] for n in range(line - NEAR, line + NEAR + 1)
                if n in self.latest]
        own = self.latest.get(line)
        at = bisect.bisect_left(self.lines, line)
        distance = min((abs(self.lines[i] - line) for i in (at - 1, at)
                        if 0 <= i < len(self.lines)), default=FAR)
        first, last = scope
        inside = self.lines[bisect.bisect_left(self.lines, first):
                            bisect.bisect_right(self.lines, last)]
        return [(self.now - max(near)) / DAY if near else NONE_DAYS, float(len(near)),
                (self.now - own) / DAY if own is not None else NONE_DAYS,
                float(len(self.lines)), float(min(distance, FAR)),
                (self.now - max(self.latest[n] for n in inside)) / DAY if inside
                else NONE_DAYS, len(inside) / max(last - first + 1, 1)]


#: The features of a file without git history.
UNKNOWN = [math.nan] * len(FEATURES)
