"""Run the analyzers over files: per-file result cache, batches, parallel tasks, budget.

Each analyzer runs once per batch of cache-missing files (so its start-up cost is
paid per batch, not per file); batches run in parallel on an executor (a local pool
or a Dask cluster, see :mod:`lintrank.core.executors`), at most ``capacity`` at a
time, biggest first. An analyzer that fails on a batch is retried on halves until
the failing file is isolated and reported as a finding, so one bad file never loses
the others' results. With a budget, work runs in reward-per-second order and stops
when the budget is spent (see :mod:`lintrank.core.budget`).
"""
from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import hashlib
import os
import time
from collections.abc import Callable, Sequence

from lintrank.core import __version__
from lintrank.core.budget import Budget, CostModel, make_units, order, seconds_limit
from lintrank.core.cache import Cache
from lintrank.core.files import read_regular
from lintrank.core.finding import Finding
from lintrank.core.imports import dependency_digests, module_facts
from lintrank.core.sources import AnalyzerCrash, Source

#: lintrank's own codes (the safety floor protects all of them).
UNREADABLE, CRASHED, TIMED_OUT = "LR901", "LR902", "LR903"
#: Analyzers whose findings in a file depend on the modules it imports.
CROSS_MODULE = frozenset({"pylint"})
MAX_BATCH = 200

#: progress(files_done, files_total, findings_so_far)
Progress = Callable[[int, int, int], None]


@dataclasses.dataclass
class FileTask:
    """One analyzer over one batch of files; picklable for process/Dask executors."""

    source: Source
    files: list[str]
    root: str
    timeout: float
    lines: int = 0
    critical: bool = False
    file_timeout: float = 0.0  # the configured per-file limit (0: ``timeout`` only)


@dataclasses.dataclass
class EngineResult:
    """Findings of one run plus what the cache saved and what the budget skipped."""

    findings: list[Finding]
    analysed: dict[str, int] = dataclasses.field(default_factory=dict)
    cached: dict[str, int] = dataclasses.field(default_factory=dict)
    skipped: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    covered: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    budget: dict[str, object] | None = None


def run_task(task: FileTask) -> list[Finding]:
    """Run one task, isolating files that make the analyzer fail or hang."""
    try:
        return task.source.run(task.files, task.root, task.timeout)
    except Exception as exc:  # a plugin source's own bug must not end the run either
        crash = exc if isinstance(exc, AnalyzerCrash) else \
            AnalyzerCrash(task.source.name, f"{type(exc).__name__}: {exc}")
        if len(task.files) == 1:
            code = TIMED_OUT if crash.timed_out else CRASHED
            return [Finding(tool=task.source.name, code=code, path=task.files[0], line=1,
                            message=f"{task.source.name} could not analyse this file: "
                                    f"{crash.detail}", severity="fatal", category="lintrank")]
        half = len(task.files) // 2
        return [*run_task(_part(task, task.files[:half])),
                *run_task(_part(task, task.files[half:]))]


def _part(task: FileTask, files: list[str]) -> FileTask:
    """A bisected sub-batch: its limit shrinks with it, down to the per-file timeout."""
    timeout = task.timeout
    if task.file_timeout > 0:
        timeout = min(timeout, task.file_timeout * len(files))
    return dataclasses.replace(task, files=files, timeout=timeout)


def timed_task(task: FileTask) -> tuple[list[Finding], float]:
    """:func:`run_task` plus its duration where it ran (for the learned cost model)."""
    started = time.perf_counter()
    findings = run_task(task)
    return findings, time.perf_counter() - started


def read_files(files: Sequence[str], root: str) -> tuple[dict[str, bytes], list[Finding]]:
    """Content per readable file, and an LR901 finding per unreadable one."""
    contents: dict[str, bytes] = {}
    problems: list[Finding] = []
    for rel in files:
        try:
            contents[rel] = read_regular(os.path.join(root, rel))  # never blocks on a FIFO
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            problems.append(Finding(tool="lintrank", code=UNREADABLE, path=rel, line=1,
                                    message=f"cannot read file: {reason}",
                                    severity="fatal", category="lintrank"))
    return contents, problems


def batches(files: list[str], jobs: int, lines: dict[str, int] | None = None,
            max_batch: int = MAX_BATCH) -> list[list[str]]:
    """Split into at least ``jobs`` contiguous batches of about equal lines, bounded."""
    if not files:
        return []
    count = min(len(files), max(jobs, -(-len(files) // max_batch)))
    weight = [max((lines or {}).get(f, 1), 1) for f in files]
    target = sum(weight) / count
    result: list[list[str]] = [[]]
    acc = 0.0
    for f, w in zip(files, weight):
        if result[-1] and (acc + w / 2 > target or len(result[-1]) >= max_batch) \
                and len(result) < count:
            result.append([])
            acc = 0.0
        result[-1].append(f)
        acc += w
    return result


def analyse(files: list[str], root: str, sources: Sequence[Source], cache: Cache | None,
            jobs: int, timeout: float, progress: Progress | None = None,
            executor: concurrent.futures.Executor | None = None, capacity: int = 0,
            budget: Budget | None = None, critical: frozenset[str] = frozenset()
            ) -> EngineResult:
    """Analyse ``files`` (relative to ``root``) with every source; use the cache."""
    started = time.monotonic()
    contents, findings = read_files(files, root)
    result = EngineResult(findings=findings)
    readable = [f for f in files if f in contents]
    digests = {f: hashlib.blake2b(contents[f], digest_size=16).hexdigest() for f in readable}
    lines = {f: contents[f].count(b"\n") + 1 for f in readable}
    deps = (_dependencies(readable, contents, digests, cache)
            if any(s.name in CROSS_MODULE for s in sources) else {})
    costs = CostModel(cache)
    missing: dict[str, list[str]] = {}
    keys: dict[tuple[str, str], str] = {}
    for source in sources:
        fingerprint = source.config_fingerprint(root)
        extra = deps if source.name in CROSS_MODULE else {}
        for f in readable:
            keys[(source.name, f)] = _key(source, fingerprint, f, digests[f], extra.get(f, ""))
        hits = cache.get_results([keys[(source.name, f)] for f in readable]) if cache else {}
        missing[source.name] = [f for f in readable if keys[(source.name, f)] not in hits]
        for f in readable:
            if keys[(source.name, f)] in hits:
                findings.extend(Finding.from_dict(d) for d in hits[keys[(source.name, f)]])
                result.covered.add((f, source.name))
        result.cached[source.name] = len(readable) - len(missing[source.name])
    by_name = {s.name: s for s in sources}
    capacity = capacity or max(jobs, 1)
    deadline = None
    if budget is None:
        tasks = [_task(by_name[name], batch, root, timeout, lines, costs)
                 for name, todo in missing.items() for batch in batches(todo, jobs, lines)]
        # Longest first: the slow pylint batches start at once, flake8 fills the gaps.
        tasks.sort(key=lambda t: -costs.estimate(t.source.name, t.lines))
    else:
        tasks, deadline, result.budget = _plan(budget, missing, by_name, root, timeout, lines,
                                               costs, cache, critical, capacity, started)
    total = sum(len(t.files) for t in tasks)
    done = 0

    def finished(task: FileTask, batch_findings: list[Finding], seconds: float) -> None:
        nonlocal done
        findings.extend(batch_findings)
        costs.observe(task.source.name, task.lines, seconds)
        if cache:
            cache.put_results(_per_file(batch_findings, {
                f: keys[(task.source.name, f)] for f in task.files}))
        result.covered.update((f, task.source.name) for f in task.files)
        done += len(task.files)
        if progress:
            progress(done, total, len(findings))

    if progress:
        progress(0, total, len(findings))
    skipped = _execute(tasks, executor, capacity, deadline, finished)
    for task in skipped:
        result.skipped.setdefault(task.source.name, []).extend(task.files)
    for name, todo in missing.items():
        result.skipped[name] = sorted(result.skipped.get(name, []))
        result.analysed[name] = len(todo) - len(result.skipped[name])
    result.skipped = {k: v for k, v in result.skipped.items() if v}
    if result.budget is not None:
        result.budget.update(spent_seconds=round(time.monotonic() - started, 3),
                             skipped_units=sum(map(len, result.skipped.values())))
    costs.save()
    findings.sort(key=lambda f: f.sort_key)
    return result


def _execute(tasks: list[FileTask], executor: concurrent.futures.Executor | None,
             capacity: int, deadline: float | None,
             finished: Callable[[FileTask, list[Finding], float], None]) -> list[FileTask]:
    """Run tasks in order, ``capacity`` at a time; return those the deadline skipped.

    Submitting only as slots free up keeps the order meaningful and lets the run
    stop at the deadline without cancelling anything half-done.
    """
    queue = collections.deque(tasks)
    skipped: list[FileTask] = []
    own = executor is None
    pool = executor or concurrent.futures.ThreadPoolExecutor(capacity)
    running: dict[concurrent.futures.Future, FileTask] = {}
    try:
        while queue or running:
            if deadline is not None and time.monotonic() >= deadline:
                skipped.extend(t for t in queue if not t.critical)
                queue = collections.deque(t for t in queue if t.critical)
            while queue and len(running) < capacity:
                task = queue.popleft()
                running[pool.submit(timed_task, task)] = task
            if not running:
                break
            done, _ = concurrent.futures.wait(running, return_when="FIRST_COMPLETED")
            for future in done:
                task = running.pop(future)
                finished(task, *future.result())
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    return skipped


def _task(source: Source, files: list[str], root: str, timeout: float,
          lines: dict[str, int], costs: CostModel, critical: bool = False) -> FileTask:
    n = sum(lines[f] for f in files)
    # The configured timeout is per file; a batch also gets slack for its size, but
    # never more than ``timeout`` per file, so a 10 MB file on which pylint never
    # finishes costs a bounded time (its estimated slack would be minutes).
    limit = min(timeout + 4 * costs.estimate(source.name, n), timeout * len(files))
    return FileTask(source, files, root, limit, n, critical, file_timeout=timeout)


def _plan(budget: Budget, missing: dict[str, list[str]], by_name: dict[str, Source],
          root: str, timeout: float, lines: dict[str, int], costs: CostModel,
          cache: Cache | None, critical: frozenset[str], capacity: int, started: float
          ) -> tuple[list[FileTask], float, dict[str, object]]:
    """Budget mode: batches in reward-per-second order, a deadline, and a summary."""
    units = order(make_units(((t, f) for t, todo in missing.items() for f in todo), lines,
                             costs, cache.get_outcomes() if cache else {}, set(critical)))
    full, limit = seconds_limit(budget, units, costs, capacity,
                                batches=max(capacity, 1))
    # Small batches keep the overshoot past the deadline small; not so small that
    # analyzer start-up dominates.
    target = min(max(limit * capacity / 6, 1.0), 30.0)
    open_batches: dict[tuple[str, bool], list] = {}
    tasks: list[tuple[float, FileTask]] = []
    for unit in [*units, None]:
        group = (unit.tool, unit.critical) if unit else None
        for key, (prio, files, cost) in list(open_batches.items()):
            if unit is None or (key == group and (cost + unit.cost > target
                                                  or len(files) >= MAX_BATCH)):
                tasks.append((prio, _task(by_name[key[0]], files, root, timeout, lines,
                                          costs, key[1])))
                del open_batches[key]
        if unit is not None:
            prio, files, cost = open_batches.setdefault(group, (unit.priority, [], 0.0))
            files.append(unit.path)
            open_batches[group] = (prio, files, cost + unit.cost)
    tasks.sort(key=lambda pt: (-pt[0], pt[1].source.name, pt[1].files[0]))
    summary: dict[str, object] = {"budget": str(budget), "limit_seconds": round(limit, 3),
                                  "estimated_full_seconds": round(full, 3)}
    return [t for _, t in tasks], started + limit, summary


def _dependencies(files: list[str], contents: dict[str, bytes], digests: dict[str, str],
                  cache: Cache | None) -> dict[str, str]:
    """Per file, the digest of the local modules it imports (facts cached by content)."""
    known = cache.get_modules(list(set(digests.values()))) if cache else {}
    fresh = {digests[f]: module_facts(contents[f]) for f in files if digests[f] not in known}
    if cache and fresh:
        cache.put_modules(fresh)
    known.update(fresh)
    return dependency_digests(files, {f: known[digests[f]] for f in files})


def _key(source: Source, fingerprint: str, rel: str, digest: str, deps: str) -> str:
    text = "|".join((__version__, source.name, source.version(), fingerprint, rel, digest,
                     deps))
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
