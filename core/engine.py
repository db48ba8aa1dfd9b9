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

from lintrank.core.budget import (
    Budget,
    Clock,
    CostModel,
    estimated_parts,
    make_units,
    order,
)
from lintrank.core.cache import Cache
from lintrank.core.costs import REPORT_SHARE
from lintrank.core.files import read_regular
from lintrank.core.finding import Finding
from lintrank.core.imports import local_dependencies
from lintrank.core.notebooks import is_notebook
from lintrank.core.result_cache import decode, per_file, result_key
from lintrank.core.sources import AnalyzerCrash, Source
from lintrank.core.tasks import (
    CRASHED,
    MAX_BATCH,
    TIMED_OUT,
    UNREADABLE,
    FileTask,
    alone_if_heavy,
    batches,
    failed,
    make_task,
    plan_budget,
    run_task,
    streams,
    timed_task,
)

__all__ = ["CRASHED", "MAX_BATCH", "TIMED_OUT", "UNREADABLE", "EngineResult", "FileTask",
           "Progress", "analyse", "batches", "run_task", "timed_task"]

#: Analyzers whose findings in a file depend on the modules it imports.
CROSS_MODULE = frozenset({"pylint"})
#: Checks over a whole pylint run (cyclic-import, duplicate-code), not of one file.
WHOLE_RUN = frozenset({("pylint", "R0401"), ("pylint", "R0801")})

#: progress(files_done, files_total, findings_so_far)
Progress = Callable[[int, int, int], None]


@dataclasses.dataclass
class EngineResult:
    """Findings of one run plus what the cache saved and what the budget skipped."""

    findings: list[Finding]
    analysed: dict[str, int] = dataclasses.field(default_factory=dict)
    cached: dict[str, int] = dataclasses.field(default_factory=dict)
    skipped: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    covered: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    budget: dict[str, object] | None = None
    #: A run that analysed every file: (analyzers, lines, capacity), for the base of
    #: a later ``--budget P%`` (the caller records the whole run's time, scoring too).
    full_run: tuple[list[str], int, int] | None = None


def scan_files(files: Sequence[str], root: str
               ) -> tuple[dict[str, str], dict[str, int], list[Finding]]:
    """Content digest and line count per readable file; LR901 per unreadable one.

    Contents are not kept: on 5,000 files they would be the engine's largest memory.
    """
    digests: dict[str, str] = {}
    lines: dict[str, int] = {}
    problems: list[Finding] = []
    for rel in files:
        try:
            data = read_regular(os.path.join(root, rel))  # never blocks on a FIFO
            digests[rel] = hashlib.blake2b(data, digest_size=16).hexdigest()
            lines[rel] = data.count(b"\n") + 1
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            problems.append(Finding(tool="lintrank", code=UNREADABLE, path=rel, line=1,
                                    message=f"cannot read file: {reason}",
                                    severity="fatal", category="lintrank"))
    return digests, lines, problems


def accepts(source: Source, rel: str) -> bool:
    """Whether ``source`` may analyze ``rel``: notebooks only go to those that parse them."""
    return not is_notebook(rel) or bool(getattr(source, "notebooks", False))


def analyse(files: list[str], root: str, sources: Sequence[Source], cache: Cache | None,
            jobs: int, timeout: float, progress: Progress | None = None,
            executor: concurrent.futures.Executor | None = None, capacity: int = 0,
            budget: Budget | None = None, critical: frozenset[str] = frozenset(),
            on_start: Callable[[list[str]], None] | None = None,
            started: float | None = None) -> EngineResult:
    """Analyse ``files`` (relative to ``root``) with every source; use the cache.

    ``on_start`` is called with the files being analysed once the first analyzers
    run: the caller's own work can then overlap with theirs. ``started`` (a
    ``time.monotonic()``) is when the caller's run began: a budget counts from there.
    """
    started = time.monotonic() if started is None else started
    digests, lines, findings = scan_files(files, root)
    result = EngineResult(findings=findings)
    readable = [f for f in files if f in digests]
    # The imported modules' digests only key the cache (parsing every file's imports
    # takes about 1 s per 150 files): without a cache they would serve nothing.
    deps = (local_dependencies(readable, root, digests, cache)
            if cache and any(s.name in CROSS_MODULE for s in sources) else {})
    costs = CostModel(cache)
    missing: dict[str, list[str]] = {}
    keys: dict[tuple[str, str], str] = {}
    # Findings of the batch rather than of a file (pylint's warnings about its own
    # config; cycles and duplicate code, which pylint pins on a batch's last file)
    # repeat per batch: kept once, cached under a path-less key (see README).
    general: dict[str, dict[tuple, Finding]] = {}
    stored: set[str] = set()
    for source in sources:
        fingerprint = source.config_fingerprint(root)
        extra = deps if source.name in CROSS_MODULE else {}
        mine = [f for f in readable if accepts(source, f)]
        for f in mine:
            keys[(source.name, f)] = result_key(source, fingerprint, f, digests[f],
                                                extra.get(f, ""))
        keys[(source.name, "")] = result_key(source, fingerprint, "", "", "")
        hits = decode(cache.get_results([keys[(source.name, f)] for f in ["", *mine]])
                      if cache else {})
        missing[source.name] = [f for f in mine if keys[(source.name, f)] not in hits]
        general[source.name] = {}
        if keys[(source.name, "")] in hits:
            stored.add(source.name)
        if len(missing[source.name]) < len(mine):  # a full run starts them afresh
            for f in hits.get(keys[(source.name, "")], []):
                _merge(general[source.name], f)
        for f in mine:
            if keys[(source.name, f)] in hits:
                findings.extend(hits[keys[(source.name, f)]])
                result.covered.add((f, source.name))
        result.cached[source.name] = len(mine) - len(missing[source.name])
    by_name = {s.name: s for s in sources}
    capacity = capacity or max(jobs, 1)
    clock = None
    if budget is None:
        tasks = [make_task(by_name[name], batch, root, timeout, lines, costs)
                 for name, todo in missing.items()
                 for batch in alone_if_heavy(todo, capacity, lines, costs.estimate(name, 1),
                                             timeout, getattr(by_name[name], "max_batch",
                                                              MAX_BATCH),
                                             by_package=name in CROSS_MODULE)]
        # Longest first: the slow pylint batches start at once, flake8 fills the gaps.
        tasks.sort(key=lambda t: -costs.estimate(t.source.name, t.lines))
    else:
        units = order(make_units(((t, f) for t, todo in missing.items() for f in todo),
                                 lines, costs, cache.get_outcomes() if cache else {},
                                 set(critical)))
        tasks, full, result.budget = plan_budget(budget, units, by_name, root, timeout,
                                                 lines, costs, capacity,
                                                 time.monotonic() - started)
        learned = all(costs.samples.get(name) for name in missing)
        clock = Clock(budget, full, started, learned=learned,
                      parts=None if learned else estimated_parts(
                          units, costs, capacity, max(capacity, 1)))
    total = sum(len(t.files) for t in tasks)
    done = 0

    def finished(task: FileTask, batch_findings: list[Finding], seconds: float,
                 unfinished: list[str]) -> None:
        nonlocal done
        if unfinished:  # stopped at the end of the budget
            if len(unfinished) == len(task.files):
                # It needed more than ``seconds``: teach the cost model at least that.
                costs.observe(task.source.name, task.lines, seconds, task.estimate)
            cut.append(dataclasses.replace(task, files=unfinished))
            left = set(unfinished)
            task = dataclasses.replace(task, files=[f for f in task.files if f not in left])
            if not task.files:
                return
        inside = set(task.files)
        own = [f for f in batch_findings
               if f.path in inside and (f.tool, f.code) not in WHOLE_RUN]
        findings.extend(own)
        for f in batch_findings:
            if f.path not in inside or (f.tool, f.code) in WHOLE_RUN:
                _merge(general[task.source.name], f)
        if not unfinished:
            costs.observe(task.source.name, task.lines, seconds,
                          task.estimate if task.budget_left is not None else 0.0)
            if clock:
                clock.observe(task.estimate, seconds, task.source.name)
        if cache:
            cache.put_results(per_file(own, {
                f: keys[(task.source.name, f)] for f in task.files}))
        result.covered.update((f, task.source.name) for f in task.files)
        done += len(task.files)
        if progress:
            progress(done, total, len(findings))

    if progress:
        progress(0, total, len(findings))
    cut: list[FileTask] = []
    # With a budget only the planned tasks are expected to run: parsing the files of
    # the others ahead would take CPU from the analyzers within the budget.
    count = result.budget.get("planned_tasks") if result.budget else None
    planned = tasks[:count] if isinstance(count, int) else tasks
    running = list(dict.fromkeys(f for t in planned for f in t.files[:t.expected_files]))
    reserve = costs.report_share()
    if result.budget is not None:
        result.budget["report_share"] = round(reserve, 4)
    skipped = _execute(tasks, executor, capacity, clock, finished, costs.per_call,
                       (lambda: on_start(running)) if on_start else None, reserve)
    for task in [*skipped, *cut]:
        result.skipped.setdefault(task.source.name, []).extend(task.files)
    for name, todo in missing.items():
        result.skipped[name] = sorted(result.skipped.get(name, []))
        result.analysed[name] = len(todo) - len(result.skipped[name])
    result.skipped = {k: v for k, v in result.skipped.items() if v}
    for name, extra_findings in general.items():
        findings.extend(extra_findings.values())
        if cache and missing[name] and (extra_findings or name in stored):
            cache.put_results({keys[(name, "")]: [f.to_dict() for f in extra_findings.values()]})
    if result.budget is not None:
        result.budget.update(limit_seconds=round(clock.limit, 3) if clock else None,
                             spent_seconds=round(time.monotonic() - started, 3),
                             skipped_units=sum(map(len, result.skipped.values())))
    elif tasks and not any(result.cached.values()) and not result.skipped:
        # A whole run: the caller records its wall time as the base of a later
        # ``--budget P%`` (a check records it with scoring; the editor server's
        # one-file runs and feedback's must not replace it).
        result.full_run = ([n for n, todo in missing.items() if todo],
                           sum(t.lines for t in tasks), capacity)
    costs.save()
    findings.sort(key=lambda f: f.sort_key)
    return result


def _execute(tasks: list[FileTask], executor: concurrent.futures.Executor | None,
             capacity: int, clock: Clock | None,
             finished: Callable[[FileTask, list[Finding], float, list[str]], None],
             startup: Callable[[str], float],
             on_start: Callable[[], None] | None = None,
             reserve: float = REPORT_SHARE) -> list[FileTask]:
    """Run tasks in order, ``capacity`` at a time; return those the deadline skipped.

    Submitting only as slots free up keeps the order meaningful; a task started
    under a deadline gets the time left as its limit (critical ones are exempt), and
    one whose analyzer cannot even start up in the time left is skipped.
    """
    queue = collections.deque(tasks)
    skipped: list[FileTask] = []
    own = executor is None
    pool = executor or concurrent.futures.ThreadPoolExecutor(capacity)
    running: dict[concurrent.futures.Future, FileTask] = {}
    try:
        while queue or running:
            while queue and len(running) < capacity:
                task = queue.popleft()
                admitted = _admit(task, clock, reserve, startup)
                if admitted is None:
                    skipped.append(task)
                    continue
                task = admitted
                running[pool.submit(timed_task, task)] = task
            if not running:
                break
            if on_start:
                on_start()
                on_start = None
            done, _ = concurrent.futures.wait(running, return_when="FIRST_COMPLETED")
            for future in done:
                task = running.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # noqa: BLE001 - the executor lost the task
                    # (a Dask worker died on it more often than Dask retries): its
                    # files are reported, never silently missing from the results.
                    outcome = (failed(task, AnalyzerCrash(
                        task.source.name, f"{type(exc).__name__}: {exc}")), 0.0, [])
                finished(task, *outcome)
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    return skipped


def _admit(task: FileTask, clock: Clock | None, reserve: float,
           startup: Callable[[str], float]) -> FileTask | None:
    """``task`` as it may start now under the budget (with its time left), or None
    when the budget skips it."""
    if clock is None or task.critical:
        return task
    # Every batch ends by the deadline less the share ``reserve`` kept for scoring
    # and reporting (CostModel.report_share): a quick batch started once the
    # streaming ones were stopped for it would spend that share and end the run late.
    left = clock.left(time.monotonic()) - reserve * clock.limit
    if not (clock.calibrated or streams(task.source)):
        # Until a P% budget has seen a batch finish, its pace is unknown: the first
        # batches run uncut to measure it, but none starts once even the estimated
        # deadline has passed (pylint's streaming batches, stopped there, measure
        # nothing: a flake8 batch started after them ended a fresh `--budget 25%` at
        # 44% of a full run). Not a streaming one: it keeps what it finishes by an
        # estimated deadline, and run uncut the batch that holds every file left
        # would spend the whole run (with no cache, `--budget 25%` took 101%).
        return task if left > 0 else None
    # A batch that cannot finish in time is skipped, not started and stopped: a
    # smaller one further down may still fit. A streaming analyzer's keeps what it
    # finishes: worth it past its start-up.
    call = startup(task.source.name)
    needed = 2 * call if streams(task.source) else max(call, task.estimate)
    if left < needed:
        return None
    return dataclasses.replace(task, budget_left=left)


def _merge(found: dict[tuple, Finding], f: Finding) -> None:
    """Add a batch-level finding once; a whole-run one once whatever file it is on."""
    whole = (f.tool, f.code) in WHOLE_RUN
    key: tuple = (f.tool, f.code, f.message)
    if not whole:
        key += (f.path, f.line, f.column)
    if key not in found or f.sort_key < found[key].sort_key:
        found[key] = f  # the same file whatever order batches finish in
