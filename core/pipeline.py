"""The one path every entry point takes: files -> findings -> scores -> policy.

Scoring itself (numpy, onnxruntime) lives in :mod:`lintrank.core.scoring` and is
imported only once the analyzers are running.
"""
from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from lintrank.core import diff, notebooks
from lintrank.core.budget import parse_budget, record_outcomes
from lintrank.core.cache import Cache, open_cache
from lintrank.core.config import Settings
from lintrank.core.costs import CostModel
from lintrank.core.critical import apply_policy as apply_critical, critical_files
from lintrank.core.encoding import remember_parsed, syntax_broken
from lintrank.core.engine import EngineResult, Progress, analyse
from lintrank.core.executors import open_executor
from lintrank.core.exceptions import UsageError
from lintrank.core.files import discover
from lintrank.core.finding import ScoredFinding
from lintrank.core.plugin_manager import get_plugin_manager
from lintrank.core.prepare import Preparer
from lintrank.core.sources import Source

if TYPE_CHECKING:
    from lintrank.core.onnx_model import RewardModel


@dataclasses.dataclass
class CheckResult:
    """Everything a reporter needs about one run."""

    model: RewardModel
    results: list[ScoredFinding]
    threshold: float
    files: int
    seconds: float
    analysed: dict[str, int] = dataclasses.field(default_factory=dict)
    cached: dict[str, int] = dataclasses.field(default_factory=dict)
    skipped: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # budget mode
    budget: dict[str, object] | None = None
    explained: bool = False  # results carry explanations (--explain, json, sarif)
    analysed_at: float = 0.0  # time.monotonic() when the analyzers had finished

    @property
    def kept(self) -> list[ScoredFinding]:
        return [r for r in self.results if r.kept]

    def summary(self) -> dict[str, object]:
        kept = self.kept
        return {"files": self.files, "findings": len(self.results), "kept": len(kept),
                "filtered": len(self.results) - len(kept),
                "protected": sum(r.protected for r in self.results),
                "threshold": self.threshold, "seconds": round(self.seconds, 3),
                "analysed": self.analysed, "cached": self.cached,
                "critical": sum(r.critical for r in self.results),
                "skipped": self.skipped, "budget": self.budget}


def select_sources(tools: Sequence[str]) -> list[Source]:
    """Sources for the requested tool names, from all registered plugins."""
    available: dict[str, Source] = {}
    # pluggy returns results last-registered first: reversed, later plugins win.
    for provided in reversed(get_plugin_manager().hook.lintrank_sources()):
        for source in provided:
            available[source.name] = source  # later plugins override earlier
    chosen = []
    for name in tools:
        if name not in available:
            raise UsageError(f"unknown tool {name!r}; available: "
                             f"{', '.join(sorted(available))}")
        if not available[name].available():
            raise UsageError(f"{name} is not installed; install it (pip install {name}) "
                             "or leave it out of --tools")
        chosen.append(available[name])
    return chosen


def record_reporting(settings: Settings, result: CheckResult) -> None:
    """Teach budget mode what a bound budget run spent after its analyzers stopped.

    Called once the report is written (collecting results, scoring and reporting
    grow with the findings, so with the time the analyzers had): see
    :meth:`CostModel.report_share`. Only runs whose budget bound (work was skipped).
    """
    limit = (result.budget or {}).get("limit_seconds")
    if not result.skipped or not isinstance(limit, (int, float)) or not result.analysed_at:
        return
    cache = open_cache(settings)
    if cache is None:
        return
    try:
        costs = CostModel(cache)
        costs.observe_report(float(limit), time.monotonic() - result.analysed_at)
        costs.save()
    finally:
        cache.close()


def run_check(settings: Settings, progress: Progress | None = None,
              started: float | None = None) -> CheckResult:
    """Analyse, score, rank and filter the files under ``settings.paths``.

    ``started`` (a ``time.monotonic()``, default now) is when the check began, for a
    command line its process's main: a budget, and the run's seconds, count from it.
    """
    begun = time.monotonic() if started is None else started
    sources = select_sources(settings.tools)
    files = discover(settings.paths, settings.root,
                     [*settings.exclude, *settings.extend_exclude], settings.notebooks)
    files = notebooks.analyzable(files, sources, settings.notebooks)
    changed = diff.for_settings(settings)
    if changed is not None:  # --diff/--new-only: only changed files need analysing
        files = [f for f in files if os.path.normpath(f) in changed.paths()]
    cache = open_cache(settings)
    try:
        # The model, history and parsing are prepared while the analyzers run.
        preparer = Preparer(settings, cache)
        engine = _analyse(files, settings, sources, cache, progress, preparer.start, begun)
        analysed = time.monotonic()
        extra = get_plugin_manager().hook.lintrank_add_findings(files=files,
                                                                root=settings.root)
        findings = engine.findings + [f for part in extra if part for f in part]
        ready = preparer.finish(needs_history=bool(findings))
        from lintrank.core.scoring import explaining, score_findings  # perf: see prepare

        results = score_findings(findings, settings, ready.model, cache,
                                 history=ready.history, prepared=ready.parsed)
        remember_parsed(cache, ready.parses)  # a later budget run's syntax checks
        results = apply_critical(results, settings.critical, settings.critical_threshold)
        record_outcomes(cache, results, engine.covered)
        if cache and engine.full_run:
            # ``--budget P%`` is a share of what a whole run takes, scoring included.
            tools, lines, capacity = engine.full_run
            costs = CostModel(cache)
            costs.observe_full(tools, lines, time.monotonic() - begun, capacity)
            costs.save()
    finally:
        if cache:
            cache.close()
    model = ready.model
    threshold = model.default_threshold if settings.threshold is None else settings.threshold
    return CheckResult(model=model, results=results, threshold=threshold, files=len(files),
                       seconds=time.monotonic() - begun, analysed=engine.analysed,
                       cached=engine.cached, skipped=engine.skipped, budget=engine.budget,
                       explained=explaining(settings), analysed_at=analysed)


def _analyse(files: list[str], settings: Settings, sources: list[Source],
             cache: Cache | None, progress: Progress | None,
             on_start: Callable[[list[str]], None] | None = None,
             begun: float | None = None) -> EngineResult:
    """Run the engine on the configured executor, with budget and critical paths."""
    jobs = settings.effective_jobs()
    budget = parse_budget(settings.budget) if settings.budget else None
    never_skip = critical_files(files, settings.critical)
    if budget:  # a budget must not hide a syntax error: those files always run
        never_skip |= syntax_broken(files, settings.root, cache)
    with open_executor(settings.executor, jobs, settings.scheduler,
                       settings.dask_workers) as (executor, capacity):
        return analyse(files, settings.root, sources, cache, jobs, settings.timeout,
                       progress, executor, capacity, budget, frozenset(never_skip),
                       on_start, begun)
