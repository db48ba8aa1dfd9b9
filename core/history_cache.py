"""Git history features cached per HEAD commit, so warm runs skip ``git log``.

The expensive part of :func:`lintrank.core.history.repo_history` (whole-history
``git log`` passes and the project's config facts) depends only on the commit, so it
is cached under the HEAD sha. The lines of the most recent change (uncommitted edits
included) move without a commit and are recomputed on every run; that diff is cheap,
and the uncommitted edits also move the cached per-line edit times (recency).

A new HEAD (every pre-commit run follows a commit) starts from the counts of the last
HEAD read when that one is its ancestor (:data:`TALLY`): only the commits between
them are read, not the whole history again.
"""
from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import warnings

from lintrank.core.cache import Cache
from lintrank.core.features import schema_id
from lintrank.core.history import (Base, FileHistory, HistoryStats, ShallowHistoryWarning,
                                   git_root, is_shallow, read_history, recent_change,
                                   repo_history)
from lintrank.core.project import ProjectFacts
from lintrank.core.recency import Marks, apply

_FIELDS = ("first", "last", "commits", "commits_90d", "authors", "now", "churn_90d")
#: Histories kept in the cache (the latest HEADs: a few branches switched between).
#: One is stored per commit checked out, up to megabytes on a busy repository (the
#: per-line edits), so older ones are dropped rather than kept forever.
KEPT_HEADS = 4
_TYPES = (float, float, int, int, int, float, int)
#: Derived-table key prefix of the history counts of the last HEAD read, per work tree.
TALLY = "history-tally:"
_SHA = re.compile(r"[0-9a-f]{40,64}")


def head_sha(top: str) -> str | None:
    """The commit checked out in ``top``, or None (no git, or no commit yet)."""
    try:
        out = subprocess.run(["git", "-C", top, "rev-parse", "--verify", "-q", "HEAD"],
                             capture_output=True, text=True, check=True,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def project_history(root: str, cache: Cache | None = None) -> dict[str, FileHistory]:
    """Git history features of the files under ``root``, keyed by root-relative path."""
    top = git_root(root)
    if top is None:
        return {}
    if is_shallow(top):
        # The clone's boundary reads as a commit that added every file: every file
        # looks new and every line just edited, which raises scores across the board.
        warnings.warn(ShallowHistoryWarning(
            f"{top} is a shallow clone: its files look new to the ranking; fetch the "
            "history (git fetch --unshallow, or fetch-depth: 0 in CI)"), stacklevel=2)
    return _rebase(cached_history(top, cache), top, root)


def cached_history(top: str, cache: Cache | None) -> dict[str, FileHistory]:
    """:func:`repo_history` of ``top`` at HEAD, reusing the cache for the same HEAD."""
    head = head_sha(top) if cache is not None and cache.enabled else None
    if head is None:
        return repo_history(top)
    key = f"history:{schema_id()}:{head}:{top}"
    payload = cache.get_derived([key]).get(key)
    decoded = _decode(payload) if isinstance(payload, dict) else None
    if decoded is None:
        # Cached as of HEAD: the uncommitted edits are applied below, on every run.
        tally = f"{TALLY}{schema_id()}:{top}"
        base = _base(top, head, cache.get_derived([tally]).get(tally))
        # The last change is read below on every run, uncommitted edits included.
        decoded, stats, now = read_history(top, worktree=False, base=base,
                                           last_change=False)
        cache.put_derived({key: _encode(decoded),
                           tally: {"head": head, **stats.snapshot(now)}})
        cache.keep_latest_derived("history:", KEPT_HEADS)
    recent, dirty = recent_change(top, "HEAD", worktree=True)
    if dirty and decoded:
        marks = {name: h.marks for name, h in decoded.items() if h.marks}
        apply(marks, dirty, next(iter(decoded.values())).now)
        decoded = {name: dataclasses.replace(h, marks=marks.get(name, {}))
                   for name, h in decoded.items()}
    return {name: dataclasses.replace(h, recent=recent.get(name))
            for name, h in decoded.items()}


def _base(top: str, head: str, payload: object) -> Base | None:
    """The cached counts of an earlier HEAD that is an ancestor of ``head``, or None."""
    old = payload.get("head") if isinstance(payload, dict) else None
    if not isinstance(old, str) or not _SHA.fullmatch(old):  # never an option to git
        return None
    try:
        ancestor = subprocess.run(["git", "-C", top, "merge-base", "--is-ancestor", old, head],
                                  capture_output=True, check=False,
                                  stdin=subprocess.DEVNULL).returncode == 0
    except OSError:
        return None
    stats = HistoryStats.restore(payload) if ancestor else None
    if stats is None or not isinstance(now := payload.get("now"), (int, float)):
        return None
    return old, stats, float(now)


def _rebase(history: dict[str, FileHistory], top: str, root: str) -> dict[str, FileHistory]:
    """Re-key git-relative paths to paths relative to the project root."""
    prefix = os.path.relpath(root, top).replace(os.sep, "/")
    if prefix == ".":
        return history
    cut = len(prefix) + 1
    return {k[cut:]: v for k, v in history.items() if k.startswith(prefix + "/")}


def _encode(history: dict[str, FileHistory]) -> dict:
    facts = next((h.project for h in history.values() if h.project is not None), None)
    return {
        "facts": None if facts is None else {"max_line_length": facts.max_line_length,
                                             "codes": sorted(facts.codes)},
        "files": {name: [getattr(h, f) for f in _FIELDS] for name, h in history.items()},
        "marks": {name: [[line, list(times)] for line, times in h.marks.items()]
                  for name, h in history.items() if h.marks},
    }


def _decode(payload: dict) -> dict[str, FileHistory] | None:
    """Rebuild histories; a payload of the wrong shape is a miss, never a crash."""
    try:
        raw = payload["facts"]
        facts = None if raw is None else ProjectFacts(int(raw["max_line_length"]),
                                                      frozenset(map(str, raw["codes"])))
        marks = {str(name): _marks(rows) for name, rows in payload["marks"].items()}
        return {str(name): FileHistory(*(t(v) for t, v in zip(_TYPES, values)),
                                       project=facts, marks=marks.get(name, {}))
                for name, values in payload["files"].items() if len(values) == len(_FIELDS)}
    except (KeyError, TypeError, ValueError):
        return None


def _marks(rows: list) -> Marks:
    return {int(line): tuple(float(t) for t in times) for line, times in rows}
