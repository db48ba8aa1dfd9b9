"""File tasks: one analyzer over a batch of files, how batches are cut and run.

Tasks are picklable (module-level dataclass, sources are module-level objects) so
any executor can run them: a local pool or a Dask cluster.
"""
from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import time
from collections.abc import Sequence

from lintrank.core.budget import Budget, CostModel, Unit, seconds_limit
from lintrank.core.finding import Finding
from lintrank.core.sources import AnalyzerCrash, Source

#: lintrank's own codes (the safety floor protects all of them).
UNREADABLE, CRASHED, TIMED_OUT = "LR901", "LR902", "LR903"
MAX_BATCH = 200
#: Budget mode plans this share of the time left (and each analyzer's estimates
#: times its spread, see CostModel.spread): a batch stopped at the deadline yields
#: nothing.
SAFETY = 0.9
#: A streaming analyzer's planned batch is topped up with the files that did not fit,
#: to run on until the deadline, up to this many times its slot's usable time of
#: estimated work. Not with every remaining file: pylint builds the syntax tree of
#: every file it is given (astroid's transforms infer, importing what they need)
#: before it lints the first, and on pytest's tree all 236 files put the first result
#: 2.5 s later than 20 files do, a third of a 33% budget. Twice the usable time
#: leaves room for estimates that were too high (1.5 found no more in probes).
STREAM_SLACK = 2.0


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
    budget_left: float | None = None  # budget mode: seconds left when it was started
    estimate: float = 0.0  # expected seconds, from the learned cost model
    #: Budget mode: how many leading files the plan expects to finish in time
    #: (None: all). A streaming analyzer's batch also holds the files after them,
    #: which it reaches if the machine is faster than planned.
    expected_files: int | None = None


def run_task(task: FileTask, probed: bool = False) -> list[Finding]:
    """Run one task, isolating files that make the analyzer fail or hang."""
    try:
        return task.source.run(task.files, task.root, task.timeout)
    except Exception as exc:  # noqa: BLE001 - a plugin source's bug must not end the run
        crash = exc if isinstance(exc, AnalyzerCrash) else \
            AnalyzerCrash(task.source.name, f"{type(exc).__name__}: {exc}")
        if len(task.files) == 1:
            return failed(task, crash)
        if not probed and _fails_on_empty_file(task):
            # A broken config or install fails on every file: bisecting would run the
            # analyzer 2n-1 times (minutes for a pre-commit hook) to learn nothing.
            return failed(task, AnalyzerCrash(
                crash.tool, f"{crash.detail} (it fails on an empty file too: a "
                            "configuration or installation problem)", crash.timed_out))
        half = len(task.files) // 2
        return [*run_task(_part(task, task.files[:half]), True),
                *run_task(_part(task, task.files[half:]), True)]


def _fails_on_empty_file(task: FileTask) -> bool:
    """Whether the analyzer also fails on an empty module (run from the same root)."""
    with tempfile.TemporaryDirectory(prefix="lintrank-probe-") as folder:
        probe = os.path.join(folder, "lintrank_probe.py")
        open(probe, "wb").close()
        try:
            limit = min(task.timeout, task.file_timeout or task.timeout)
            task.source.run([probe], task.root, limit)
        except Exception:  # noqa: BLE001 - any failure counts, as in run_task
            return True
    return False


def failed(task: FileTask, crash: AnalyzerCrash) -> list[Finding]:
    """LR902 (LR903 for a timeout) for every file of ``task``: not analysed, and why."""
    code = TIMED_OUT if crash.timed_out else CRASHED
    return [Finding(tool=task.source.name, code=code, path=path, line=1,
                    message=f"{task.source.name} could not analyse this file: "
                            f"{crash.detail}", severity="fatal", category="lintrank")
            for path in task.files]


def _part(task: FileTask, files: list[str]) -> FileTask:
    """A bisected sub-batch: its limit shrinks with it, down to the per-file timeout."""
    timeout = task.timeout
    if task.file_timeout > 0:
        timeout = min(timeout, task.file_timeout * len(files))
    return dataclasses.replace(task, files=files, timeout=timeout)


def timed_task(task: FileTask) -> tuple[list[Finding], float, list[str]]:
    """:func:`run_task` plus its duration and the files it left unanalysed.

    In budget mode a batch still running when the budget ends is stopped: its
    findings are those of the files it finished where its analyzer can tell
    (``Source.partial``), and the other files come back as unanalysed, which the
    engine reports as skipped, never as analyzer failures.
    """
    started = time.perf_counter()
    if task.budget_left is not None and task.budget_left < task.timeout:
        try:
            findings = task.source.run(task.files, task.root, task.budget_left)
        except AnalyzerCrash as exc:
            if exc.timed_out:
                kept, done = _partial(task, exc.output)
                return kept, time.perf_counter() - started, \
                    [f for f in task.files if f not in done]
            findings = run_task(task)  # a real failure: isolate it as usual
        except Exception:  # noqa: BLE001 - isolated (and reported) by run_task
            findings = run_task(task)
    else:
        findings = run_task(task)
    return findings, time.perf_counter() - started, []


def _partial(task: FileTask, output: str) -> tuple[list[Finding], set[str]]:
    """What a stopped run finished, per its source; nothing if it cannot tell."""
    reader = getattr(task.source, "partial", None)
    if reader is None or not output:
        return [], set()
    try:
        kept, done = reader(output)
    except Exception:  # noqa: BLE001 - a plugin source's bug: treat as nothing finished
        return [], set()
    inside = set(task.files) & set(done)
    return [f for f in kept if f.path in inside], inside


def batches(files: list[str], jobs: int, lines: dict[str, int] | None = None,
            max_batch: int = MAX_BATCH, by_package: bool = False) -> list[list[str]]:
    """Split into at least ``jobs`` batches of about equal lines, bounded.

    ``by_package`` (for pylint): pylint infers the modules a file imports in every
    process that analyses it, so a package split over two processes, or its
    importers sent elsewhere, is inferred twice. Packages then stay whole where
    their size allows (only one over a batch's share by a fifth is cut, into
    contiguous pieces) and are packed onto the batches largest first, each onto the
    lightest. Otherwise (an analyzer that sees one file at a time) the batches are
    contiguous and as even as the files allow. Files keep their input order within a
    batch. The balance is computed first and oversized batches are then cut into
    pieces: closing a batch early at ``max_batch`` files would push all the
    remaining (possibly heavy) files into the last batch and leave a worker idle.
    Tasks run longest first, so the extra pieces fill the gaps.
    """
    if not files:
        return []
    count = min(len(files), max(jobs, -(-len(files) // max_batch)))
    weight = {f: max((lines or {}).get(f, 1), 1) for f in files}
    target = sum(weight.values()) / count
    pieces = [piece for group in _packages(files)
              for piece in _contiguous(group, weight, target)] if by_package \
        else _contiguous(files, weight, target, slack=0.0)
    bins: list[list[str]] = [[] for _ in range(count)]
    load = [0.0] * count
    position = {f: i for i, f in enumerate(files)}
    for piece in sorted(pieces, key=lambda p: (-sum(weight[f] for f in p), position[p[0]])):
        lightest = min(range(count), key=lambda b: (load[b], b))
        bins[lightest].extend(piece)
        load[lightest] += sum(weight[f] for f in piece)
    result = sorted((sorted(b, key=position.__getitem__) for b in bins if b),
                    key=lambda b: position[b[0]])
    return [part[i:i + size] for part in result
            for size in [-(-len(part) // -(-len(part) // max_batch))]
            for i in range(0, len(part), size)]


def _packages(files: list[str]) -> list[list[str]]:
    """Files grouped by top-level package (else folder), in order of first appearance."""
    inits = {os.path.dirname(f) for f in files if os.path.basename(f) == "__init__.py"}
    groups: dict[str, list[str]] = {}
    for f in files:
        folder = os.path.dirname(f)
        key = folder
        parts = folder.split("/") if folder else []
        for depth in range(1, len(parts) + 1):
            if "/".join(parts[:depth]) in inits:
                key = "/".join(parts[:depth])
                break
        groups.setdefault(key, []).append(f)
    return list(groups.values())


def _contiguous(files: list[str], weight: dict[str, int], target: float,
                slack: float = 0.2) -> list[list[str]]:
    """``files`` in contiguous pieces of about ``target`` lines each (a share of up to
    ``1 + slack`` targets stays one piece)."""
    # For pylint a package up to a fifth over the share stays whole: inferring it
    # twice would cost more than the imbalance.
    count = max(1, math.ceil(sum(weight[f] for f in files) / target - slack - 1e-9)) \
        if target else 1
    share = sum(weight[f] for f in files) / count
    result: list[list[str]] = [[]]
    acc = 0.0
    for f in files:
        w = weight[f]
        if result[-1] and acc + w / 2 > share and len(result) < count:
            result.append([])
            acc = 0.0
        result[-1].append(f)
        acc += w
    return result


def alone_if_heavy(files: list[str], jobs: int, lines: dict[str, int], per_line: float,
                   timeout: float, max_batch: int = MAX_BATCH, by_package: bool = False
                   ) -> list[list[str]]:
    """:func:`batches`, but a file expected to take over half the per-file timeout
    runs alone: in a batch, it would stretch the batch's limit and every bisection
    step after a timeout (a 10 MB module: minutes instead of ``timeout``)."""
    heavy = {f for f in files if per_line * lines.get(f, 1) > timeout / 2}
    rest = [f for f in files if f not in heavy]
    return [[f] for f in files if f in heavy] + batches(rest, jobs, lines, max_batch,
                                                        by_package)


def make_task(source: Source, files: list[str], root: str, timeout: float,
              lines: dict[str, int], costs: CostModel, critical: bool = False) -> FileTask:
    """A task for ``files`` with a time limit that grows with its size, within bounds."""
    n = sum(lines[f] for f in files)
    # The configured timeout is per file; a batch also gets slack for its size, but
    # never more than ``timeout`` per file, so a 10 MB file on which pylint never
    # finishes costs a bounded time (its estimated slack would be minutes).
    limit = min(timeout + 4 * costs.estimate(source.name, n), timeout * len(files))
    return FileTask(source, files, root, limit, n, critical, file_timeout=timeout,
                    estimate=costs.per_call(source.name) + costs.estimate(source.name, n))


def plan_budget(budget: Budget, units: Sequence[Unit], by_name: dict[str, Source],
                root: str, timeout: float, lines: dict[str, int], costs: CostModel,
                capacity: int, elapsed: float = 0.0
                ) -> tuple[list[FileTask], float, dict[str, object]]:
    """Budget mode: batches in planned start order, the full wall seconds, a summary.

    ``units`` come ordered (critical first, then by reward per second). Each is
    placed on a simulated slot (a worker) within the time left: appended to a batch
    of its analyzer already open on a slot, or as a new batch that also pays the
    analyzer's start-up. A slow analyzer thus runs on the few files where it pays
    most with its start-up paid once per slot, rather than in many small batches
    (each paying it) or not at all. Units that do not fit follow in reward order;
    the engine skips those that the time left cannot finish.
    """
    full, limit = seconds_limit(budget, units, costs, capacity, batches=max(capacity, 1))
    plan = Schedule(capacity, SAFETY * (limit - elapsed), by_name)
    for unit in units:
        spread = costs.spread(unit.tool)
        plan.add(dataclasses.replace(unit, cost=unit.cost * spread),
                 costs.per_call(unit.tool) * spread)
    planned = list(plan.batches)
    expected = {id(b): len(b.units) for b in planned}
    later: dict[str, Batch] = {}  # the rest, in reward order, in batches as big
    for unit in plan.left:
        if unit.tool in plan.whole and plan.extend(unit):
            continue
        batch = later.get(unit.tool)
        if batch is None or batch.work + unit.cost > max(plan.cap, 4 * costs.per_call(
                unit.tool)) or len(batch.units) >= MAX_BATCH:
            batch = later[unit.tool] = Batch(unit.tool, -1, float("inf"), False)
            plan.batches.append(batch)
        batch.units.append(unit)
        batch.work += unit.cost
    # Planned batches longest first (the slow analyzer's, which matter most, start at
    # once; short ones fill the gaps and lose little if the deadline cuts them),
    # then the rest in reward order.
    ranked = sorted(planned, key=lambda b: (not b.critical, -b.call - b.work)) + \
        plan.batches[len(planned):]
    tasks = [dataclasses.replace(make_task(by_name[b.tool], [u.path for u in b.units], root,
                                           timeout, lines, costs, b.critical),
                                 expected_files=expected.get(id(b))) for b in ranked]
    summary: dict[str, object] = {"budget": str(budget), "limit_seconds": round(limit, 3),
                                  "estimated_full_seconds": round(full, 3),
                                  "planned_units": sum(expected.values()),
                                  "planned_tasks": len(planned)}
    return tasks, full, summary


@dataclasses.dataclass
class Batch:
    """Planned units of one analyzer, run in one process on one slot."""

    tool: str
    slot: int
    start: float
    critical: bool
    call: float = 0.0
    units: list[Unit] = dataclasses.field(default_factory=list)
    work: float = 0.0


class Schedule:
    """Units placed on ``capacity`` slots of ``usable`` seconds each (greedy)."""

    def __init__(self, capacity: int, usable: float, sources: dict[str, Source]) -> None:
        self.usable = max(usable, 0.0)
        self.busy = [0.0] * max(capacity, 1)
        self.open: dict[tuple[int, str, bool], Batch] = {}  # (slot, tool, critical)
        self.batches: list[Batch] = []
        self.left: list[Unit] = []
        # A batch's findings arrive when it ends, and one stopped at the deadline
        # yields none: two batches per slot halve what an overrun loses, at the price
        # of one more start-up (not worth it where a start-up would be over a fifth
        # of the batch, see add).
        # A streaming analyzer's stopped batch keeps its finished files: one batch
        # per slot, one start-up.
        self.cap = self.usable / 2
        #: Analyzers that stream (a batch stopped at the deadline keeps its files).
        self.whole = {name for name, source in sources.items() if streams(source)}

    def add(self, unit: Unit, call: float) -> None:
        """Place ``unit`` (critical ones always), or keep it in ``left``."""
        cap = self.usable if unit.tool in self.whole else max(self.cap, 4 * call)
        fits = [b for b in self.open.values()
                if b.tool == unit.tool and b.critical == unit.critical
                and len(b.units) < MAX_BATCH and b.work + unit.cost <= cap
                and (unit.critical or self.busy[b.slot] + unit.cost <= self.usable)]
        if fits:
            batch = min(fits, key=lambda b: (self.busy[b.slot], b.slot))
        else:
            slot = min(range(len(self.busy)), key=lambda s: self.busy[s])
            if not unit.critical and self.busy[slot] + call + unit.cost > self.usable:
                self.left.append(unit)
                return
            batch = Batch(unit.tool, slot, self.busy[slot], unit.critical, call)
            self.batches.append(batch)
            self.open[(slot, unit.tool, unit.critical)] = batch
            self.busy[slot] += call
        batch.units.append(unit)
        batch.work += unit.cost
        self.busy[batch.slot] += unit.cost

    def extend(self, unit: Unit) -> bool:
        """Append a unit that did not fit to its analyzer's planned batch that ends
        first (it runs if time allows; the deadline cuts what does not), within
        :data:`STREAM_SLACK` times the usable time."""
        fits = [b for b in self.batches if b.tool == unit.tool and not b.critical
                and len(b.units) < MAX_BATCH
                and b.call + b.work + unit.cost <= STREAM_SLACK * self.usable]
        if not fits:
            return False
        batch = min(fits, key=lambda b: (b.start + b.call + b.work, b.slot))
        batch.units.append(unit)
        batch.work += unit.cost
        return True


def streams(source: Source) -> bool:
    """Whether a stopped run of ``source`` still yields its finished files."""
    return callable(getattr(source, "partial", None))
