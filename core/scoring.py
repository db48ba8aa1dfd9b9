"""The scoring path: model choice, git history, features, scores, policy.

Everything here needs numpy and onnxruntime, so :mod:`lintrank.core.pipeline`
imports it only once the analyzers are running (their start-up is the critical
path of a cold run, see :mod:`lintrank.core.prepare`).
"""
from __future__ import annotations

import numpy as np

from lintrank.core import diff, explain, helptext, priorities
from lintrank.core.cache import Cache
from lintrank.core.config import Settings
from lintrank.core.context import FileContext
from lintrank.core.explain_cache import explanations
from lintrank.core.finding import Finding, ScoredFinding
from lintrank.core.history import FileHistory
from lintrank.core.history_cache import project_history
from lintrank.core.memory import load as load_memory
from lintrank.core.onnx_model import RewardModel, load_or_fallback
from lintrank.core.plugin_manager import get_plugin_manager
from lintrank.core.policy import rank
from lintrank.core.scorer import Parsed, feature_matrix, score_rows
from lintrank.models import DEFAULT_MODEL


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
    return load_or_fallback(settings.model_path() or str(DEFAULT_MODEL),
                            settings.model_fallback, settings.model_sha256)


def score_findings(findings: list[Finding], settings: Settings, model: RewardModel,
                   cache: Cache | None,
                   contexts: dict[str, FileContext] | None = None,
                   history: dict[str, FileHistory] | None = None,
                   prepared: dict[str, Parsed] | None = None) -> list[ScoredFinding]:
    """Score and rank findings; the single scoring path of CLI, plugins and LSP.

    ``contexts`` replaces the on-disk text of some files (an editor's unsaved buffer);
    ``history`` is :func:`project_history`, when the caller already has it;
    ``prepared`` holds files already read and parsed from disk (see ``prepare``).
    """
    if history is None:
        history = project_history(settings.root, cache) \
            if settings.history and findings else {}
    # The project's past fixes come with its history: `history = false` leaves them out too.
    memory = load_memory(settings.root) if settings.history and findings else None
    rows = feature_matrix(findings, settings.root, history, contexts, cache, prepared, memory)
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
                                 (model_scores, adjusted, scores), weights, extras,
                                 explanations(model, rows, cache))
        helptext.preload(cache, {(f.tool, f.code, f.symbol) for f in findings})
    return results


def explaining(settings: Settings) -> bool:
    """Whether results carry explanations (:meth:`Settings.explains`)."""
    return settings.explains()


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
