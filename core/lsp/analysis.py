"""Analyse one editor document with the core pipeline, saved or not.

A saved document (its buffer equals the file) is analysed in place, through
the same per-file result cache as ``lintrank check``, so re-opening or saving an
unchanged file costs a cache lookup. An unsaved buffer is written to a shadow
tree that links the project's configuration files, so the analyzers read the
same settings and the cache keys match; pylint, which must resolve imports
from the real project, only runs on saved files, and its last findings are
carried over to the lines whose text has not changed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading

from lintrank.core.cache import Cache
from lintrank.core.config import Settings, apply, load_file_options
from lintrank.core.context import build_context, read_source
from lintrank.core.engine import analyse
from lintrank.core.finding import Finding, ScoredFinding
from lintrank.core.onnx_model import RewardModel, load_model
from lintrank.core.history_cache import project_history
from lintrank.core.pipeline import open_cache, select_sources
from lintrank.core.scoring import resolve_model, score_findings
from lintrank.core.sources import CONFIG_FILES

#: Analyzers that need the real project around the file (imports) run on save only.
SAVED_ONLY = frozenset({"pylint"})


@dataclasses.dataclass
class _Last:
    """The last saved-file findings of one analyzer set, with the text they saw."""

    findings: list[Finding]
    lines: list[str]


class Workspace:
    """One project root: its settings, its model and a shadow tree for buffers."""

    def __init__(self, root: str, overrides: dict | None = None) -> None:
        self.root = root
        self.stamp = _stamp(root)
        if self.stamp[-1] is not None:
            # `lintrank learn` may have rewritten the project model in place.
            load_model.cache_clear()
        self.settings = Settings(root=root)
        options, source = load_file_options(None, root)
        apply(self.settings, options, source or "pyproject.toml")
        apply(self.settings, dict(overrides or {}), "initializationOptions")
        self.settings.explain = True  # the editor shows why, so always compute it
        self.model: RewardModel = resolve_model(self.settings)
        self.sources = select_sources(self.settings.tools)
        self._shadow: str | None = None
        self._last: dict[str, _Last] = {}
        self._lock = threading.Lock()  # one analysis at a time per workspace
        self._history_key: str | None = None
        self._history_value: dict = {}

    def stale(self) -> bool:
        """Whether the configuration or the project model changed since this was built."""
        return _stamp(self.root) != self.stamp

    def analyse(self, rel: str, text: str) -> list[ScoredFinding]:
        """Ranked findings of ``text``, the current content of ``rel`` (root-relative)."""
        with self._lock:
            return self._analyse(rel, text)

    def _analyse(self, rel: str, text: str) -> list[ScoredFinding]:
        path = os.path.join(self.root, rel)
        try:  # only a regular file can match the buffer (a FIFO would block a read)
            saved = os.path.isfile(path) and read_source(path) == text
        except OSError:
            saved = False
        lines = text.splitlines()
        cache = open_cache(self.settings)
        try:
            if saved:
                findings = self._run(rel, self.root, self.sources, cache)
                self._last[rel] = _Last([f for f in findings if f.tool in SAVED_ONLY], lines)
            else:
                live = [s for s in self.sources if s.name not in SAVED_ONLY]
                findings = self._run(rel, self._write_shadow(rel, text), live, cache)
                findings += self._carried(rel, lines)
            contexts = {rel: build_context(rel, text)}
            return score_findings(findings, self.settings, self.model, cache, contexts,
                                  self._history())
        finally:
            if cache:
                cache.close()

    def _run(self, rel: str, root: str, sources: list, cache: Cache | None) -> list[Finding]:
        jobs = max(len(sources), 1)  # the analyzers of one file run side by side
        result = analyse([rel], root, sources, cache, jobs, self.settings.timeout)
        return [f for f in result.findings if os.path.normpath(f.path) == os.path.normpath(rel)]

    def _history(self) -> dict:
        """:func:`project_history`, recomputed only when HEAD or the edits on disk move.

        perf: the full ``git log`` behind it costs most of a warm save (0.35 s of
        0.4 s on click); HEAD plus a digest of the uncommitted diff (what its
        last-change features read) cost about 30 ms.
        """
        if not self.settings.history:
            return {}
        key = _git_state(self.root)
        if key is None or key != self._history_key:
            self._history_value = project_history(self.settings.root)
            self._history_key = key
        return self._history_value

    def _carried(self, rel: str, lines: list[str]) -> list[Finding]:
        """Saved-only findings whose line text is unchanged, moved with their line."""
        last = self._last.get(rel)
        if not last:
            return []
        where: dict[str, list[int]] = {}
        for number, line in enumerate(lines, 1):
            where.setdefault(line, []).append(number)
        carried = []
        for f in last.findings:
            old = last.lines[f.line - 1] if 0 < f.line <= len(last.lines) else None
            spots = where.get(old, []) if old is not None and old.strip() else []
            if spots:
                line = min(spots, key=lambda n: abs(n - f.line))
                shift = line - f.line
                carried.append(dataclasses.replace(
                    f, line=line, end_line=f.end_line + shift if f.end_line else None))
        return carried

    def _write_shadow(self, rel: str, text: str) -> str:
        if self._shadow is None:
            self._shadow = tempfile.mkdtemp(prefix="lintrank-lsp-")
            for name in CONFIG_FILES:  # same config, same analyzer behaviour and cache keys
                if os.path.isfile(os.path.join(self.root, name)):
                    os.symlink(os.path.join(self.root, name), os.path.join(self._shadow, name))
        target = os.path.join(self._shadow, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        return self._shadow

    def close(self) -> None:
        """Remove the shadow tree."""
        if self._shadow:
            shutil.rmtree(self._shadow, ignore_errors=True)
            self._shadow = None


def _git_state(root: str) -> str | None:
    """HEAD and a digest of the uncommitted Python diff; None outside git."""
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True, stdin=subprocess.DEVNULL).stdout
        diff = subprocess.run(["git", "-C", root, "diff", "-U0", "--no-color", "--no-ext-diff",
                               "HEAD", "--", "*.py"], capture_output=True, check=True,
                              stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.strip() + ":" + hashlib.blake2b(diff, digest_size=16).hexdigest()


#: Files whose change means a new Workspace: settings, and the learned model.
WATCHED = ("pyproject.toml", os.path.join(".lintrank", "model.onnx"))


def _stamp(root: str) -> tuple[tuple[int, int] | None, ...]:
    """(mtime, size) of each :data:`WATCHED` file, None where it is absent."""
    out = []
    for name in WATCHED:
        try:
            info = os.stat(os.path.join(root, name))
        except OSError:
            out.append(None)
            continue
        out.append((info.st_mtime_ns, info.st_size))
    return tuple(out)
