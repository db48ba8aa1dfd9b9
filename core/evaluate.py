"""Ranking metrics for the reward model and its baselines.

Metrics: ROC-AUC, average precision, precision at the top 10% (ties shared out
in expectation, so tie-heavy baselines are not flattered by row order), and the
mean within-commit AUC over commits that hold both labels.
"""
from __future__ import annotations

import collections
import math
from collections.abc import Sequence

import numpy as np

from lintrank.core.dataset import Dataset
from lintrank.core.exceptions import UsageError
from lintrank.core.finding import SEVERITIES

PRIOR_STRENGTH = 20.0  # pseudo-findings pulling a code's fix rate to the global rate
METRICS = ("auc", "ap", "p_at_10pct", "within_commit_auc")


def auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC-AUC with ties counted as half (NaN when only one class is present)."""
    y = np.asarray(y, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return math.nan
    ranks = _average_ranks(np.asarray(s, dtype=np.float64))
    return float((ranks[y].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def _average_ranks(s: np.ndarray) -> np.ndarray:
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    ranks = np.empty(len(s), dtype=np.float64)
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    """Average precision (scikit-learn's step definition; tied scores form one step)."""
    try:
        from sklearn.metrics import average_precision_score
    except ImportError as exc:
        raise UsageError("evaluation needs scikit-learn: pip install 'lintrank[train]'") from exc

    y = np.asarray(y, dtype=int)
    if y.sum() == 0:
        return math.nan
    return float(average_precision_score(y, s))


def precision_at(y: np.ndarray, s: np.ndarray, fraction: float = 0.1) -> float:
    """Expected precision of the top ``ceil(fraction * n)`` rows, ties broken at random."""
    n = len(y)
    if n == 0:
        return math.nan
    k = max(1, math.ceil(fraction * n))
    y = np.asarray(y, dtype=np.float64)
    s = np.asarray(s, dtype=np.float64)
    cut = np.sort(s)[::-1][k - 1]
    above = s > cut
    tied = s == cut
    need = k - int(above.sum())
    return float((y[above].sum() + need * y[tied].mean()) / k)


def within_commit_auc(y: np.ndarray, s: np.ndarray, groups: Sequence[str],
                      weighted: bool = False) -> float:
    """Mean AUC over the groups (commits) that contain both labels.

    ``weighted`` weighs each group by its (positive, negative) pair count instead
    of equally, so that two-finding commits do not dominate.
    """
    by_group: dict[str, list[int]] = collections.defaultdict(list)
    for i, g in enumerate(groups):
        by_group[g].append(i)
    values, weights = [], []
    for idx in map(np.asarray, by_group.values()):
        value = auc(y[idx], s[idx])
        if not math.isnan(value):
            pos = int(y[idx].sum())
            values.append(value)
            weights.append(pos * (len(idx) - pos) if weighted else 1)
    return float(np.average(values, weights=weights)) if values else math.nan


def metrics(y: np.ndarray, s: np.ndarray, groups: Sequence[str]) -> dict[str, float]:
    """All four metrics of scores ``s`` against labels ``y``."""
    return {"auc": auc(y, s), "ap": average_precision(y, s),
            "p_at_10pct": precision_at(y, s), "within_commit_auc": within_commit_auc(
                y, s, groups)}


def severity_scores(data: Dataset) -> np.ndarray:
    """The analyzer's own order: more severe first."""
    rank = {name: len(SEVERITIES) - i for i, name in enumerate(SEVERITIES)}
    return np.asarray([rank.get(s, 0) for s in data.severities], dtype=np.float64)


def random_scores(data: Dataset, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(len(data))


class CodePrior:
    """Smoothed fix rate per (tool, code) learned from training findings."""

    def __init__(self, train: Dataset, strength: float = PRIOR_STRENGTH) -> None:
        self.base = float(train.y.mean()) if len(train) else 0.0
        counts: dict[tuple[str, str], list[int]] = collections.defaultdict(lambda: [0, 0])
        for tool, code, label in zip(train.tools, train.codes, train.y.tolist()):
            entry = counts[(tool, code)]
            entry[0] += label
            entry[1] += 1
        self.rates = {key: (pos + strength * self.base) / (n + strength)
                      for key, (pos, n) in counts.items()}

    def scores(self, data: Dataset) -> np.ndarray:
        return np.asarray([self.rates.get((t, c), self.base)
                           for t, c in zip(data.tools, data.codes)], dtype=np.float64)


def report(data: Dataset, model_scores: np.ndarray | None,
           train: Dataset | None = None) -> dict:
    """The ``lintrank eval`` JSON document for ``data``."""
    y, groups = data.y, data.commits
    result = {}
    if model_scores is not None:
        result["model"] = metrics(y, model_scores, groups)
    result["severity"] = metrics(y, severity_scores(data), groups)
    result["random"] = metrics(y, random_scores(data), groups)
    if train is not None:
        result["prior"] = metrics(y, CodePrior(train).scores(data), groups)
    return {"rows": int(len(data)), "positives": int(y.sum()), "metrics": result}
