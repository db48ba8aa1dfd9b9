"""A team's own priorities, applied on top of the model's score.

``[tool.lintrank] priorities = {bugs = 1.0, security = 1.0, style = 0.2, E501 = 0}``
weights findings by lintrank category, by code prefix or exact code, or by symbol.
The most specific key wins: exact code or symbol, then the longest matching code
prefix, then the category. A weight multiplies the *odds* ``s / (1 - s)`` of the
score ``s``: 1 leaves it alone, 0 sends it to 0, 2 doubles the odds, and the
result always stays inside 0..1 with the model's order kept within a weight.
This module is the one place where priorities touch a score
(:func:`lintrank.core.pipeline.score_findings` calls :func:`apply`).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence

import numpy as np
from lintrank.core.exceptions import ConfigError
from lintrank.core.finding import Finding

#: lintrank's categories, the keys a team can weight without knowing any code.
CATEGORIES = ("bugs", "security", "performance", "complexity", "typing", "docs",
              "refactor", "style")

# Code prefixes (analyzer-independent; longest first) that decide a category.
_PREFIX_CATEGORY = (
    ("PLE", "bugs"), ("PLW", "bugs"), ("PLR09", "complexity"), ("PLR", "refactor"),
    ("PLC", "style"), ("C90", "complexity"), ("C4", "refactor"), ("ANN", "typing"),
    ("ASYNC", "bugs"), ("PERF", "performance"), ("SIM", "refactor"), ("UP", "refactor"),
    ("RUF", "bugs"), ("BLE", "bugs"), ("TRY", "bugs"), ("FBT", "refactor"),
    ("S", "security"), ("B", "bugs"), ("F", "bugs"), ("D", "docs"), ("N", "style"),
    ("I", "style"), ("Q", "style"), ("E9", "bugs"), ("E", "style"), ("W", "style"),
)
# pylint codes by message-id prefix; its letters are severities, not families.
_PYLINT_CATEGORY = (
    ("C0114", "docs"), ("C0115", "docs"), ("C0116", "docs"), ("R09", "complexity"),
    ("W1510", "security"), ("W0123", "security"), ("W1201", "performance"),
    ("W1202", "performance"), ("W1203", "performance"), ("E", "bugs"), ("F", "bugs"),
    ("W", "bugs"), ("R", "refactor"), ("C", "style"), ("I", "style"),
)


@functools.lru_cache(maxsize=4096)
def category_of(tool: str, code: str, severity: str = "warning") -> str:
    """lintrank's category of a code (one of :data:`CATEGORIES`)."""
    table = _PYLINT_CATEGORY if tool == "pylint" else _PREFIX_CATEGORY
    for prefix, category in table:
        # A bare letter prefix must be followed by a digit ("E501", not "ERA001").
        if code.startswith(prefix) and (len(prefix) > 1 or code[1:2].isdigit()):
            return category
    return "bugs" if severity in ("fatal", "error") else "style"


def validate(value: object, source: str) -> dict[str, float]:
    """Check a ``priorities`` table from the configuration; return it as floats."""
    if not isinstance(value, Mapping):
        raise ConfigError(source, "priorities must be a table, e.g. "
                                  "priorities = {bugs = 1.0, style = 0.2}")
    weights: dict[str, float] = {}
    for key, weight in value.items():
        try:
            number = float(weight)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or number < 0:
            raise ConfigError(source, f"priority of {key!r} must be a number >= 0, "
                                      f"not {weight!r}")
        weights[str(key)] = number
    return weights


class Priorities:
    """Resolved weights; looks each (tool, code, symbol) up once."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        self.weights = dict(weights)
        self._prefixes = sorted((k for k in weights if k not in CATEGORIES),
                                key=len, reverse=True)
        self._lookup = functools.lru_cache(maxsize=4096)(self._resolve)

    def __bool__(self) -> bool:
        return bool(self.weights)

    def rule(self, finding: Finding) -> tuple[str, float]:
        """The (key, weight) deciding ``finding``'s weight; ("", 1.0) when none."""
        return self._lookup(finding.tool, finding.code, finding.symbol, finding.severity)

    def _resolve(self, tool: str, code: str, symbol: str, severity: str) -> tuple[str, float]:
        for key in (code, symbol):
            if key and key in self.weights and key not in CATEGORIES:
                return key, self.weights[key]
        for key in self._prefixes:
            if code.startswith(key):
                return key, self.weights[key]
        category = category_of(tool, code, severity)
        if category in self.weights:
            return category, self.weights[category]
        return "", 1.0


def weigh(score: float, weight: float) -> float:
    """Multiply the odds of ``score`` by ``weight``; stays within 0..1."""
    if weight == 1.0:
        return score
    if score >= 1.0:
        return 1.0 if weight > 0 else 0.0
    if score <= 0.0:  # no odds to multiply (a model's negative score divided by zero)
        return 0.0
    odds = weight * score / (1.0 - score)
    return odds / (1.0 + odds)


def apply(findings: Sequence[Finding], scores: np.ndarray, priorities: Priorities
          ) -> tuple[np.ndarray, list[tuple[str, float] | None]]:
    """Weighted scores plus, per finding, the (key, weight) used or None."""
    if not priorities:
        return scores, [None] * len(findings)
    out = scores.copy()
    used: list[tuple[str, float] | None] = []
    for i, f in enumerate(findings):
        key, weight = priorities.rule(f)
        used.append((key, weight) if key else None)
        out[i] = weigh(float(scores[i]), weight)
    return out, used
