"""File history features from git, computed from commits up to a revision only."""
from __future__ import annotations

import dataclasses
import math
import os
import subprocess

DAY = 86400.0


@dataclasses.dataclass
class FileHistory:
    """What git says about one file before the analysed revision."""

    first: float
    last: float
    commits: int
    commits_90d: int
    authors: int
    now: float

    def as_row(self) -> list[float]:
        """Values for the schema's history features, in schema order."""
        return [(self.now - self.first) / DAY, float(self.commits), float(self.commits_90d),
                (self.now - self.last) / DAY, float(self.authors)]


def repo_history(root: str, rev: str = "HEAD", paths: list[str] | None = None,
                 now: float | None = None) -> dict[str, FileHistory]:
    """Map repo-relative path to its history up to and including ``rev``.

    One ``git log`` pass for the whole repository; returns ``{}`` outside git.
    ``now`` defaults to the commit time of ``rev`` so that mining a past revision
    and checking it today give the same values (no future leakage).
    """
    argv = ["git", "-C", root, "log", "--no-renames", "--format=\x1e%ct\x1f%ae",
            "--name-only", rev]
    if paths:
        argv += ["--", *paths]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=True,
                             errors="replace", stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    stats: dict[str, list] = {}
    commits = out.split("\x1e")[1:]
    if not commits:
        return {}
    head_time = float(commits[0].split("\x1f", 1)[0])
    ref = head_time if now is None else now
    for chunk in commits:
        header, _, names = chunk.partition("\n")
        stamp, _, author = header.partition("\x1f")
        when = float(stamp)
        for name in names.split("\n"):
            if not name:
                continue
            entry = stats.setdefault(name, [when, when, 0, 0, set()])
            entry[0] = min(entry[0], when)
            entry[1] = max(entry[1], when)
            entry[2] += 1
            entry[3] += ref - when <= 90 * DAY
            entry[4].add(author)
    return {name: FileHistory(e[0], e[1], e[2], e[3], len(e[4]), ref)
            for name, e in stats.items()}


def git_root(path: str) -> str | None:
    """The work tree root containing ``path``, or None outside git."""
    try:
        out = subprocess.run(["git", "-C", path, "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        return None
    return os.path.normpath(out.stdout.strip()) or None

