"""Read git history for mining: mainline commits, per-commit diffs, blobs.

Works on work trees and bare mirrors alike (``git -C``); nothing is checked out.
"""
from __future__ import annotations

import dataclasses
import subprocess

from lintrank.core.exceptions import UsageError
from lintrank.core.history import parse_log
from lintrank.core.recency import parse_hunk



@dataclasses.dataclass
class Commit:
    """One commit of the mainline, with its first parent."""

    sha: str
    parent: str
    time: float
    author: str
    subject: str


@dataclasses.dataclass
class FileChange:
    """One Python file changed between a parent and a commit."""

    status: str  # A, D, M, R (renamed), C (copied), T (type change)
    old_path: str
    new_path: str
    old_blob: str
    new_blob: str
    #: (old_start, old_count, new_start, new_count) per hunk, from ``diff -U0``.
    hunks: list[tuple[int, int, int, int]] = dataclasses.field(default_factory=list)


def git(git_dir: str, *args: str, data: bytes | None = None) -> str:
    """Run a git command in ``git_dir`` and return its stdout (errors replaced)."""
    try:
        proc = subprocess.run(["git", "-C", git_dir, *args], input=data,
                              capture_output=True, check=True)
    except FileNotFoundError as exc:
        raise UsageError("git is not installed") from exc
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {args[0]} failed in {git_dir}: "
                         f"{detail[-1] if detail else exc.returncode}") from exc
    return proc.stdout.decode("utf-8", "replace")


def mainline(git_dir: str, rev: str = "HEAD", since: str | None = None,
             max_commits: int | None = None) -> list[Commit]:
    """First-parent commits of ``rev`` with a parent, oldest first."""
    args = ["log", "--first-parent", "--format=%H%x1f%P%x1f%ct%x1f%ae%x1f%s"]
    if since:
        args.append(f"--since={since}")
    if max_commits:
        args.append(f"--max-count={max_commits}")
    commits = []
    for line in git(git_dir, *args, rev).splitlines():
        sha, parents, when, author, subject = (line.split("\x1f") + [""] * 5)[:5]
        if parents:
            commits.append(Commit(sha, parents.split()[0], float(when), author, subject))
    return commits[::-1]


def full_log(git_dir: str, rev: str = "HEAD") -> dict[str, tuple[list[str], float, str,
                                                                  list[tuple[str, int]]]]:
    """Every ancestor of ``rev``: sha -> (parents, time, author, numstat changes)."""
    out = git(git_dir, "log", "--no-renames", "--format=\x1e%H\x1f%P\x1f%ct\x1f%ae",
              "--name-only", rev)
    lines = _py_line_counts(git_dir, rev)
    return {fields[0]: (fields[1].split(), float(fields[2]), fields[3],
                        [(path, lines.get((fields[0], path), 0)) for path, _ in changes])
            for fields, changes in parse_log(out)}


def _py_line_counts(git_dir: str, rev: str) -> dict[tuple[str, str], int]:
    """Changed lines per (commit, Python file); only Python blobs are read, so a
    mirror whose large non-Python blobs are absent still works."""
    try:
        out = git(git_dir, "log", "--no-renames", "--full-history", "--format=\x1e%H",
                  "--numstat", rev, "--", "*.py")
    except UsageError:
        return {}
    return {(fields[0], path): lines for fields, changes in parse_log(out)
            for path, lines in changes}


def changed_files(git_dir: str, parent: str, commit: str) -> list[FileChange]:
    """Python files changed from ``parent`` to ``commit`` with their ``-U0`` hunks."""
    out = git(git_dir, "diff-tree", "-r", "-M", "--raw", "-p", "-U0", "--full-index",
              "--no-commit-id", "--no-color", parent, commit, "--", "*.py")
    changes: list[FileChange] = []
    current = -1
    for line in out.split("\n"):
        if line.startswith(":"):
            meta, _, names = line.partition("\t")
            fields = meta.split()
            status = fields[4][:1]
            paths = names.split("\t")
            old, new = (paths[0], paths[-1])
            changes.append(FileChange(status, _unquote(old), _unquote(new),
                                      fields[2], fields[3]))
        elif line.startswith("diff --git "):
            current += 1
        elif line.startswith("@@") and 0 <= current < len(changes) and \
                (hunk := parse_hunk(line)) is not None:
            changes[current].hunks.append(hunk)
    return [c for c in changes if c.status in "ADMRT"]


def _unquote(path: str) -> str:
    if path.startswith('"') and path.endswith('"'):
        return path[1:-1].encode("latin-1", "backslashreplace").decode(
            "unicode_escape").encode("latin-1").decode("utf-8", "replace")
    return path


class BlobReader:
    """A persistent ``git cat-file --batch`` process."""

    def __init__(self, git_dir: str) -> None:
        self._proc = subprocess.Popen(["git", "-C", git_dir, "cat-file", "--batch"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read(self, sha: str) -> bytes:
        """The content of blob ``sha`` (empty when missing)."""
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(sha.encode() + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().split()
        if len(header) != 3:
            return b""
        data = self._proc.stdout.read(int(header[2]))
        self._proc.stdout.read(1)
        return data

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
