"""Lint many historical file versions at once, each unique version exactly once.

A version is keyed by (blob SHA, path, config digest): the same content under the
same project config always gives the same findings. Versions that share a config
are written into temporary "slot" folders (one version of a path per slot, with
the revision's config files at the top) and each analyzer runs once per slot.
Results are appended to a JSON-lines cache, so an interrupted run resumes.
"""
from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable

from lintrank.core.finding import Finding
from lintrank.core.sources import AnalyzerCrash, Source

SLOT_FILES = 400
TIMEOUT = 900.0


@dataclasses.dataclass(frozen=True)
class Version:
    """One file version to lint under one project config."""

    blob: str
    path: str
    config: str  # digest of the config texts

    @property
    def key(self) -> str:
        return f"{self.blob}:{self.config}:{self.path}"


def config_digest(texts: dict[str, str]) -> str:
    """A short digest of a revision's config file contents."""
    digest = hashlib.sha256()
    for name in sorted(texts):
        digest.update(name.encode() + b"\0" + texts[name].encode() + b"\0")
    return digest.hexdigest()[:16]


class LintCache:
    """Findings per version key, persisted as appended JSON lines."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._data: dict[str, list[Finding]] = {}
        self._lock = threading.Lock()
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    try:
                        item = json.loads(line)
                    except ValueError:
                        continue  # a line cut short by an interruption
                    self._data[item["k"]] = [_finding(item["p"], row) for row in item["f"]]

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def get(self, version: Version) -> list[Finding]:
        return self._data.get(version.key, [])

    def put(self, results: dict[Version, list[Finding]]) -> None:
        lines = []
        for version, findings in results.items():
            self._data[version.key] = findings
            lines.append(json.dumps({"k": version.key, "p": version.path, "f": [
                [f.tool, f.code, f.line, f.column, f.message, f.severity]
                for f in findings]}) + "\n")
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.writelines(lines)


def _finding(path: str, row: list) -> Finding:
    tool, code, line, column, message, severity = row
    return Finding(tool=tool, code=code, message=message, path=path, line=line,
                   column=column, severity=severity, category=code.rstrip("0123456789"))


def slots(versions: Iterable[Version]) -> list[list[Version]]:
    """Split versions of one config into batches with each path at most once."""
    batches: list[list[Version]] = []
    used: list[set[str]] = []
    for version in versions:
        for batch, paths in zip(batches, used):
            if version.path not in paths and len(batch) < SLOT_FILES:
                batch.append(version)
                paths.add(version.path)
                break
        else:
            batches.append([version])
            used.append({version.path})
    return batches


def lint_versions(versions: list[Version], configs: dict[str, dict[str, str]],
                  read_blob: Callable[[str], bytes], sources: list[Source],
                  cache: LintCache, jobs: int = 1,
                  progress: Callable[[int, int], None] | None = None) -> None:
    """Lint every version not yet in ``cache``; ``configs`` maps digest -> texts."""
    todo = sorted({v for v in versions if v.key not in cache},
                  key=lambda v: (v.config, v.path, v.blob))
    by_config: dict[str, list[Version]] = collections.defaultdict(list)
    for version in todo:
        by_config[version.config].append(version)
    batches = [b for config in by_config for b in slots(by_config[config])]
    done = 0
    # Blobs are read in this thread (one cat-file process); analyzers run in a pool.
    with concurrent.futures.ThreadPoolExecutor(max(jobs, 1)) as pool:
        pending = set()
        for batch in batches:
            contents = {v: read_blob(v.blob) for v in batch}
            pending.add(pool.submit(_lint_slot, contents, configs[batch[0].config],
                                    sources, cache))
            while len(pending) >= 2 * max(jobs, 1):
                finished, pending = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    done += future.result()
                    if progress:
                        progress(done, len(todo))
        for future in concurrent.futures.as_completed(pending):
            done += future.result()
            if progress:
                progress(done, len(todo))


def _lint_slot(contents: dict[Version, bytes], config: dict[str, str],
               sources: list[Source], cache: LintCache) -> int:
    folder = tempfile.mkdtemp(prefix="lintrank-mine-")
    try:
        for version, data in contents.items():
            target = os.path.join(folder, version.path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(data)
        files = [v.path for v in contents]
        found: dict[str, list[Finding]] = collections.defaultdict(list)
        for source in sources:
            for f in _run_with_fallback(source, files, folder, config):
                found[f.path.replace(os.sep, "/")].append(f)
        cache.put({v: sorted(found.get(v.path, []), key=lambda f: f.sort_key)
                   for v in contents})
        return len(contents)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_with_fallback(source: Source, files: list[str], folder: str,
                       config: dict[str, str]) -> list[Finding]:
    """Run with the revision's config; if the analyzer rejects it, with defaults."""
    _write_config(folder, config)
    try:
        return source.run(files, folder, TIMEOUT)
    except AnalyzerCrash as exc:
        print(f"lintrank mine: {exc}; retrying with default config", file=sys.stderr)
    _write_config(folder, {})
    try:
        return source.run(files, folder, TIMEOUT)
    except AnalyzerCrash as exc:
        print(f"lintrank mine: {exc}; {len(files)} files skipped", file=sys.stderr)
        return []
    finally:
        _write_config(folder, config)


def _write_config(folder: str, config: dict[str, str]) -> None:
    from lintrank.core.project import CONFIG_NAMES

    for name in CONFIG_NAMES:
        path = os.path.join(folder, name)
        if name in config:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(config[name])
        elif os.path.exists(path):
            os.unlink(path)
