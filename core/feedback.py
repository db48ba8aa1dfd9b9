"""A team's explicit verdicts on findings, kept in a committable file in the repository.

``lintrank feedback PATH:LINE CODE --useful|--not-useful`` appends one JSON line
to ``.lintrank/feedback.jsonl``. Each entry remembers the flagged line's text
(as a digest) so that it still finds its finding after lines above it moved;
``lintrank learn`` turns entries into labelled training rows.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

from lintrank.core.exceptions import LintrankWarning
from lintrank.core.files import atomic_write
from lintrank.core.finding import Finding

FOLDER = ".lintrank"
FILE = "feedback.jsonl"


@dataclasses.dataclass(frozen=True)
class Feedback:
    """One verdict: was the finding ``code`` at ``path:line`` worth acting on?"""

    path: str
    line: int
    code: str
    useful: bool
    fingerprint: str = ""  # digest of the flagged line's stripped text
    tool: str = ""  # "" when the code alone identifies the finding
    author: str = ""
    time: float = 0.0
    note: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def feedback_path(root: str) -> Path:
    """Where the feedback file of the project at ``root`` lives."""
    return Path(root) / FOLDER / FILE


def fingerprint(text: str) -> str:
    """A short digest of a line's text, ignoring indentation and trailing spaces."""
    return hashlib.blake2b(text.strip().encode("utf-8", "replace"), digest_size=8).hexdigest()


def load(root: str) -> list[Feedback]:
    """Every entry of the project's feedback file (none when there is no file)."""
    path = feedback_path(root)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        warnings.warn(LintrankWarning(f"cannot read {path}: {exc}"), stacklevel=2)
        return []
    names = {f.name for f in dataclasses.fields(Feedback)}
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            entries.append(Feedback(**{k: v for k, v in data.items() if k in names}))
        except (ValueError, TypeError) as exc:
            # A merge conflict or a hand edit must not stop every run.
            warnings.warn(LintrankWarning(
                f"{path}:{number}: skipped an unreadable entry ({exc})"), stacklevel=2)
    return entries


def record(root: str, entries: Iterable[Feedback]) -> Path:
    """Append ``entries`` to the feedback file atomically; return its path."""
    path = feedback_path(root)
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        old = b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    new = "".join(e.to_json() + "\n" for e in entries).encode("utf-8")
    atomic_write(str(path), old + new)
    return path


def make(path: str, line: int, code: str, useful: bool, line_text: str, tool: str = "",
         author: str = "", note: str = "") -> Feedback:
    """A new entry stamped with the current time."""
    return Feedback(path=path.replace(os.sep, "/"), line=line, code=code, useful=useful,
                    fingerprint=fingerprint(line_text), tool=tool, author=author,
                    time=round(time.time(), 3), note=note)


def latest(entries: Sequence[Feedback]) -> list[Feedback]:
    """The last verdict per (path, fingerprint, code, tool): people change their minds."""
    chosen: dict[tuple[str, str, str, str], Feedback] = {}
    for entry in sorted(entries, key=lambda e: e.time):
        chosen[(entry.path, entry.fingerprint or str(entry.line), entry.code,
                entry.tool)] = entry
    return list(chosen.values())


def match(entry: Feedback, findings: Sequence[Finding], lines: Sequence[str]) -> Finding | None:
    """The finding ``entry`` speaks about, in ``findings`` of its (current) file.

    ``lines`` is the file's current text: the entry's line is found again by its
    fingerprint, nearest to where it was recorded, when code above it moved.
    """
    candidates = [f for f in findings if entry.code in (f.code, f.symbol)
                  and (not entry.tool or entry.tool == f.tool)
                  and f.path.replace(os.sep, "/") == entry.path]
    if not candidates:
        return None

    def distance(f: Finding) -> tuple[int, int]:
        text = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
        same = not entry.fingerprint or fingerprint(text) == entry.fingerprint
        return (0 if same else 1, abs(f.line - entry.line))

    best = min(candidates, key=distance)
    same_line, _ = distance(best)
    return best if same_line == 0 else None


def tally(entries: Sequence[Feedback]) -> dict[str, tuple[int, int]]:
    """Per code: (useful, not useful), from the latest verdicts."""
    counts: dict[str, list[int]] = {}
    for entry in latest(entries):
        pair = counts.setdefault(entry.code, [0, 0])
        pair[0 if entry.useful else 1] += 1
    return {code: (a, b) for code, (a, b) in sorted(counts.items())}
