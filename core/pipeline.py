"""The one path every entry point takes: findings -> features -> scores -> policy."""
from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence

import numpy as np

from lintrank.core import diff, explain, notebooks, priorities
from lintrank.core.budget import parse_budget, record_outcomes
from lintrank.core.cache import Cache, cache_dir
from lintrank.core.config import Settings
from lintrank.core.context import FileContext
from lintrank.core.critical import apply_policy as apply_critical, critical_files
from lintrank.core.encoding import syntax_broken
from lintrank.core.engine import EngineResult, Progress, analyse
from lintrank.core.executors import open_executor
from lintrank.core.exceptions import UsageError
from lintrank.core.files import discover
from lintrank.core.finding import Finding, ScoredFinding
from lintrank.core.history import FileHistory, git_root
from lintrank.core.history_cache import cached_history
from lintrank.core.onnx_model import RewardModel, load_or_fallback
from lintrank.core.plugin_manager import get_plugin_manager
from lintrank.core.policy import rank
from lintrank.core.scorer import feature_matrix, score_rows
from lintrank.core.sources import Source
from lintrank.models import DEFAULT_MODEL


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


def resolve_model(settings: Settings) -> RewardModel:
    """The model to score with: --model, else the project's, else the shipped one.

    The project model is the one ``lintrank learn`` wrote to ``.lintrank/model.onnx``,
    only when it ranked the project's later history better than the shipped model.
    """
    if not settings.model:
        from lintrank.core.learn import project_model  # .lintrank/model.onnx

        project = project_model(settings.root)
        if project is not None:
            return project
    path = settings.model or str(DEFAULT_MODEL)
    if settings.model and not os.path.isabs(path):
        path = os.path.join(settings.root, path) if not os.path.exists(path) else path
    return load_or_fallback(os.path.abspath(path), settings.model_fallback,
                            settings.model_sha256)


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


def open_cache(settings: Settings) -> Cache | None:
    return Cache(cache_dir(settings.root, settings.cache_dir)) if settings.cache else None


def score_findings(findings: list[Finding], settings: Settings, model: RewardModel,
                   cache: Cache | None,
                   contexts: dict[str, FileContext] | None = None,
                   history: dict[str, FileHistory] | None = None) -> list[ScoredFinding]:
    """Score and rank findings; the single scoring path of CLI, plugins and LSP.

    ``contexts`` replaces the on-disk text of some files (an editor's unsaved buffer);
    ``history`` is :func:`project_history`, when the caller already has it.
    """
    if history is None:
        history = project_history(settings, cache) if settings.history and findings else {}
    rows = feature_matrix(findings, settings.root, history, contexts, cache)
    changed = diff.for_settings(settings)
    if changed is not None:  # after the features: densities still count every finding
        subset = diff.select(findings, changed, settings)
        findings, rows = [findings[i] for i in subset], rows[subset]
    model_scores = score_rows(model, rows, cache)
    adjusted, extras = _adjust(findings, model_scores, settings.root, explaining(settings),
                               contexts)
    # The one place a team's [tool.lintrank] priorities touch a score (core/priorities.py).
    scores, weights = priorities.apply(findings, adjusted,
                                       priorities.Priorities(settings.priorities))
    threshold = model.default_threshold if settings.threshold is None else settings.threshold
    results = rank(findings, scores.tolist(), threshold, settings.top,
                   settings.protected_codes(), frozenset(settings.safety_severities))
    if explaining(settings):
        results = explain.attach(results, findings, rows, model,
                                 (model_scores, adjusted, scores), weights, extras)
    return results


def explaining(settings: Settings) -> bool:
    """Explanations are on by default where they are machine-read (JSON, SARIF)."""
    return settings.explain if settings.explain is not None else \
        settings.format in ("json", "sarif")


def project_history(settings: Settings, cache: Cache | None = None
                    ) -> dict[str, FileHistory]:
    """Git history features of the project's files, keyed by root-relative path.

    With a cache, the whole-history ``git log`` runs once per HEAD commit.
    """
    top = git_root(settings.root)
    return _rebase(cached_history(top, cache), top, settings.root) if top else {}


def _rebase(history: dict, top: str, root: str) -> dict:
    """Re-key git-relative paths to paths relative to the project root."""
    prefix = os.path.relpath(root, top).replace(os.sep, "/")
    if prefix == ".":
        return history
    cut = len(prefix) + 1
    return {k[cut:]: v for k, v in history.items() if k.startswith(prefix + "/")}


def _adjust(findings: list[Finding], scores: np.ndarray, root: str, explaining: bool = False,
            contexts: dict[str, FileContext] | None = None
            ) -> tuple[np.ndarray, list[dict[str, float]]]:
    """Plugins' ``lintrank_adjust_score``; with their extra features when asked for.

    Extras are computed when a plugin adjusts scores, or when explaining (they are
    shown in explanations); returns the scores and one extras mapping per finding.
    """
    hook = get_plugin_manager().hook
    adjusting = bool(hook.lintrank_adjust_score.get_hookimpls())
    extras_hook = hook.lintrank_extra_features
    wanted = bool(extras_hook.get_hookimpls()) and (adjusting or explaining)
    if not adjusting and not wanted:
        return scores, []
    adjusted = scores.copy()
    every: list[dict[str, float]] = []
    parsed: dict[str, FileContext] = dict(contexts or {})  # perf: one parse per file
    for i, f in enumerate(findings):
        extras: dict[str, float] = {}
        if wanted:
            if f.path not in parsed:
                from lintrank.core.scorer import load_context  # only when a plugin asks
                parsed[f.path] = load_context(f.path, root)
            for part in extras_hook(finding=f, context=parsed[f.path]):
                extras.update(part or {})
        every.append(extras)
        new = hook.lintrank_adjust_score(finding=f, score=float(scores[i]),
                                         extras=extras) if adjusting else None
        if new is not None:
            adjusted[i] = min(max(float(new), 0.0), 1.0)
    return adjusted, every


def run_check(settings: Settings, progress: Progress | None = None) -> CheckResult:
    """Analyse, score, rank and filter the files under ``settings.paths``."""
    started = time.perf_counter()
    model = resolve_model(settings)
    sources = select_sources(settings.tools)
    files = discover(settings.paths, settings.root,
                     [*settings.exclude, *settings.extend_exclude], settings.notebooks)
    files = notebooks.analyzable(files, sources, settings.notebooks)
    changed = diff.for_settings(settings)
    if changed is not None:  # --diff/--new-only: only changed files need analysing
        files = [f for f in files if os.path.normpath(f) in changed.paths()]
    cache = open_cache(settings)
    try:
        engine = _analyse(files, settings, sources, cache, progress)
        extra = get_plugin_manager().hook.lintrank_add_findings(files=files,
                                                                root=settings.root)
        findings = engine.findings + [f for part in extra if part for f in part]
        results = score_findings(findings, settings, model, cache)
        results = apply_critical(results, settings.critical, settings.critical_threshold)
        record_outcomes(cache, results, engine.covered)
    finally:
        if cache:
            cache.close()
    threshold = model.default_threshold if settings.threshold is None else settings.threshold
    return CheckResult(model=model, results=results, threshold=threshold, files=len(files),
                       seconds=time.perf_counter() - started, analysed=engine.analysed,
                       cached=engine.cached, skipped=engine.skipped, budget=engine.budget,
                       explained=explaining(settings))


def _analyse(files: list[str], settings: Settings, sources: list[Source],
             cache: Cache | None, progress: Progress | None) -> EngineResult:
    """Run the engine on the configured executor, with budget and critical paths."""
    jobs = settings.effective_jobs()
    budget = parse_budget(settings.budget) if settings.budget else None
    never_skip = critical_files(files, settings.critical)
    if budget:  # a budget must not hide a syntax error: those files always run
        never_skip |= syntax_broken(files, settings.root, cache)
    with open_executor(settings.executor, jobs, settings.scheduler,
                       settings.dask_workers) as (executor, capacity):
        return analyse(files, settings.root, sources, cache, jobs, settings.timeout,
                       progress, executor, capacity, budget, frozenset(never_skip))
