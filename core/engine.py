"""Run the analyzers over files: per-file result cache, batches, parallel tasks.

Each analyzer runs once per batch of cache-missing files (so its start-up cost is
paid per batch, not per file); batches run in parallel. An analyzer that fails on
a batch is retried on halves until the failing file is isolated and reported as a
finding, so one bad file never loses the others' results.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import os
from collections.abc import Callable, Sequence

from lintrank.core import __version__
from lintrank.core.cache import Cache
from lintrank.core.finding import Finding
from lintrank.core.sources import AnalyzerCrash, Source

#: lintrank's own codes (the safety floor protects all of them).
UNREADABLE, CRASHED, TIMED_OUT = "LR901", "LR902", "LR903"

Progress = Callable[[int, int], None]


@dataclasses.dataclass
class FileTask:
    """One analyzer over one batch of files; picklable for process/Dask executors."""

    source: Source
    files: list[str]
    root: str
    timeout: float


@dataclasses.dataclass
class EngineResult:
    """Findings of one run plus what the cache saved."""

    findings: list[Finding]
    analysed: dict[str, int] = dataclasses.field(default_factory=dict)
    cached: dict[str, int] = dataclasses.field(default_factory=dict)


def run_task(task: FileTask) -> list[Finding]:
    """Run one task, isolating files that make the analyzer fail or hang."""
    try:
        return task.source.run(task.files, task.root, task.timeout)
    except AnalyzerCrash as exc:
        if len(task.files) == 1:
            code = TIMED_OUT if exc.timed_out else CRASHED
            return [Finding(tool=task.source.name, code=code, path=task.files[0], line=1,
                            message=f"{task.source.name} could not analyse this file: "
                                    f"{exc.detail}", severity="fatal", category="lintrank")]
        half = len(task.files) // 2
        return [*run_task(dataclasses.replace(task, files=task.files[:half])),
                *run_task(dataclasses.replace(task, files=task.files[half:]))]


def read_digests(files: Sequence[str], root: str) -> tuple[dict[str, str], list[Finding]]:
    """Content digest per readable file, and an LR901 finding per unreadable one."""
    digests: dict[str, str] = {}
    problems: list[Finding] = []
    for rel in files:
        try:
            with open(os.path.join(root, rel), "rb") as handle:
                digests[rel] = hashlib.blake2b(handle.read(), digest_size=16).hexdigest()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            problems.append(Finding(tool="lintrank", code=UNREADABLE, path=rel, line=1,
                                    message=f"cannot read file: {reason}",
                                    severity="fatal", category="lintrank"))
    return digests, problems


def batches(files: list[str], jobs: int, max_batch: int = 200) -> list[list[str]]:
    """Split into at least ``jobs`` batches (so all workers are busy), each bounded."""
    if not files:
        return []
    count = max(jobs, -(-len(files) // max_batch))
    size = -(-len(files) // count)
    return [files[i:i + size] for i in range(0, len(files), size)]


def analyse(files: list[str], root: str, sources: Sequence[Source], cache: Cache | None,
            jobs: int, timeout: float, progress: Progress | None = None,
            executor: concurrent.futures.Executor | None = None) -> EngineResult:
    """Analyse ``files`` (relative to ``root``) with every source; use the cache."""
    digests, findings = read_digests(files, root)
    result = EngineResult(findings=findings)
    readable = [f for f in files if f in digests]
    tasks: list[tuple[FileTask, dict[str, str]]] = []
    for source in sources:
        fingerprint = source.config_fingerprint(root)
        keys = {f: _key(source, fingerprint, f, digests[f]) for f in readable}
        hits = cache.get_results(list(keys.values())) if cache else {}
        missing = [f for f in readable if keys[f] not in hits]
        for f in readable:
            if keys[f] in hits:
                findings.extend(Finding.from_dict(d) for d in hits[keys[f]])
        result.cached[source.name] = len(readable) - len(missing)
        result.analysed[source.name] = len(missing)
        for batch in batches(missing, jobs):
            tasks.append((FileTask(source, batch, root, timeout),
                          {f: keys[f] for f in batch}))
    total, done = sum(len(t.files) for t, _ in tasks), 0
    own = executor is None
    pool = executor or concurrent.futures.ThreadPoolExecutor(max(jobs, 1))
    try:
        futures = {pool.submit(run_task, task): (task, keys) for task, keys in tasks}
        for future in concurrent.futures.as_completed(futures):
            task, keys = futures[future]
            batch_findings = future.result()
            findings.extend(batch_findings)
            if cache:
                cache.put_results(_per_file(batch_findings, keys))
            done += len(task.files)
            if progress:
                progress(done, total)
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    findings.sort(key=lambda f: f.sort_key)
    return result


def _key(source: Source, fingerprint: str, rel: str, digest: str) -> str:
    text = "|".join((__version__, source.name, source.version(), fingerprint, rel, digest))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _per_file(findings: list[Finding], keys: dict[str, str]) -> dict[str, list[dict]]:
    """Group a batch's findings by file key; files with no findings cache ``[]``.

    Analyzer failures (LR902/LR903) are not cached: the next run tries again.
    """
    grouped: dict[str, list[dict]] = {key: [] for key in keys.values()}
    failed = set()
    for f in findings:
        key = keys.get(f.path)
        if key is None:
            continue
        if f.code in (CRASHED, TIMED_OUT):
            failed.add(key)
        grouped[key].append(f.to_dict())
    return {k: v for k, v in grouped.items() if k not in failed}
