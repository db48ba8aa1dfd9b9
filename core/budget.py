"""Budget mode: order analysis work by expected reward per second, stop at a budget.

Each unit of work is one analyzer on one file. Its *reward* is the importance mass
it is expected to yield: how many of that file's findings were in the top decile
by model score of the last run (``outcomes`` in the cache, written after scoring),
else a prior from cheap features (size, test or not). Its *cost* is the analyzer's
learned seconds per line (from past batches, else a default), and each batch also
pays a learned start-up. Work runs in descending reward/cost order until the budget
is spent; what is left is reported as skipped, never silently dropped.
"""
from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Sequence

from lintrank.core.cache import Cache
from lintrank.core.context import is_test_path
from lintrank.core.costs import CostModel
from lintrank.core.finding import ScoredFinding

#: Expected importance mass per line before any run has been scored: top-decile
#: findings per line of `lintrank check --tools flake8,pylint` with the shipped model
#: (`lintrank-reward-6`), the median over six training trees without their git
#: history (click, flask, requests, gunicorn, rich, pytest; pylint 0.0070-0.0107;
#: flake8 none on any of them, kept above 0 so that its files still order by size),
#: ruff's from two trees with flake8 and ruff (rich, gunicorn: 0.0021-0.0062, with
#: reward-5). Until costs are learned, these decide which analyzer a fresh budget
#: runs first.
DEFAULT_DENSITY = {"flake8": 0.00005, "pylint": 0.0086, "ruff": 0.004}
_OTHER_DENSITY = 0.01
TOP_SHARE = 0.1  # the share of a run's findings that counts as important
_REST_WEIGHT = 0.02  # what any other finding adds, times its score
_TEST_FACTOR = 0.5  # test code matters less to most teams (also what the model learns)
_CUT_KEY = "budget:top-cut"
_PARTIAL = 0.8  # a run with fewer findings than this share of the last whole one
_BUDGET_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%|s)?\s*$")


@dataclasses.dataclass(frozen=True)
class Budget:
    """A limit on analysis time: absolute seconds or a share of the estimated cost."""

    seconds: float | None = None
    fraction: float | None = None

    def __str__(self) -> str:
        if self.fraction is not None:
            return f"{self.fraction * 100:g}%"
        return f"{self.seconds:g}s"


def parse_budget(text: str | float) -> Budget:
    """Parse ``30`` / ``30s`` (seconds) or ``25%`` (of the estimated full cost)."""
    match = _BUDGET_RE.match(str(text))
    if not match:
        raise ValueError(f"budget must be SECONDS or P% (like 30 or 25%), not {text!r}")
    value = float(match.group(1))
    if match.group(2) == "%":
        if not 0 < value <= 100:
            raise ValueError(f"budget percentage must be within (0, 100], not {value:g}")
        return Budget(fraction=value / 100)
    if value <= 0:
        raise ValueError(f"budget must be positive, not {value:g} seconds")
    return Budget(seconds=value)


@dataclasses.dataclass
class Unit:
    """One analyzer on one file, with its expected cost and reward."""

    tool: str
    path: str
    lines: int
    cost: float
    mass: float
    critical: bool = False

    @property
    def priority(self) -> float:
        return float("inf") if self.critical else self.mass / max(self.cost, 1e-9)


def make_units(missing: Iterable[tuple[str, str]], lines: dict[str, int],
               costs: CostModel, outcomes: dict[tuple[str, str], tuple[float, int]],
               critical: set[str]) -> list[Unit]:
    """Units for the cache-missing (tool, path) pairs with cost and reward estimates."""
    pairs = list(missing)
    density = _densities({t for t, _ in pairs}, lines, outcomes)
    units = []
    for tool, path in pairs:
        n = lines.get(path, 1)
        prior = density[tool] * n * (_TEST_FACTOR if is_test_path(path) else 1.0)
        past = outcomes.get((path, tool))
        # A past mass is the best predictor; the prior breaks ties between clean files.
        mass = past[0] + 0.05 * prior if past else prior
        units.append(Unit(tool, path, n, costs.estimate(tool, n), mass, path in critical))
    return units


def _densities(tools: set[str], lines: dict[str, int],
               outcomes: dict[tuple[str, str], tuple[float, int]]) -> dict[str, float]:
    """Mass per line per tool over files seen before (the model's view of this tree)."""
    result = {}
    for tool in tools:
        known = [(m, lines[p]) for (p, t), (m, _) in outcomes.items()
                 if t == tool and p in lines]
        total_lines = sum(n for _, n in known)
        result[tool] = (sum(m for m, _ in known) / total_lines if total_lines
                        else DEFAULT_DENSITY.get(tool, _OTHER_DENSITY))
    return result


def order(units: Sequence[Unit]) -> list[Unit]:
    """Critical first, then by reward per second; ties by path for determinism."""
    return sorted(units, key=lambda u: (-u.priority, u.path, u.tool))


def seconds_limit(budget: Budget, units: Sequence[Unit], costs: CostModel,
                  capacity: int, batches: int) -> tuple[float, float]:
    """(wall seconds of the full work, wall seconds allowed).

    The full work's wall time is the last full run's measured one where there is
    one (same analyzers, same parallelism); otherwise the cost model's estimate.
    """
    full = costs.measured_full({u.tool for u in units}, sum(u.lines for u in units),
                               capacity) if units else None
    if full is None:
        full = sum(estimated_parts(units, costs, capacity, batches).values())
    if budget.seconds is not None:
        return full, budget.seconds
    return full, full * (budget.fraction or 1.0)


def estimated_parts(units: Sequence[Unit], costs: CostModel, capacity: int,
                    batches: int) -> dict[str, float]:
    """Each analyzer's part of the estimated wall seconds of the full work."""
    work: dict[str, float] = {}
    for unit in units:
        work[unit.tool] = work.get(unit.tool, 0.0) + unit.cost
    return {tool: (seconds + costs.per_call(tool) * batches) / max(capacity, 1)
            for tool, seconds in work.items()}


class Clock:
    """Seconds left in a budget; a ``P%`` budget follows how fast work really goes.

    Without costs learned on this machine the estimate of the full cost uses
    defaults, which a slow or busy machine can make far too low: each finished batch
    then rescales the limit of a percentage budget by observed/estimated time, so
    ``25%`` stays about a quarter of the real cost. With ``parts`` (each analyzer's
    share of ``full``), an analyzer's pace rescales its own part only: flake8 running
    at twice its default cost on pytest's tree said nothing of pylint, which ran at
    less than its own, and stretched a fresh ``--budget 25%`` to 40% of a full run.
    An analyzer not yet seen keeps its estimate.
    """

    def __init__(self, budget: Budget, full: float, started: float,
                 learned: bool = False, parts: dict[str, float] | None = None) -> None:
        self.budget, self.full, self.started = budget, full, started
        self.learned = learned  # costs measured on this machine before: trust them
        self.parts = parts or {}
        self._estimated: dict[str, float] = {}
        self._observed: dict[str, float] = {}

    @property
    def limit(self) -> float:
        if self.budget.seconds is not None:
            return self.budget.seconds
        # Costs learned here already reflect this machine; only defaults are rescaled.
        full = self.full if self.learned else self._rescaled()
        return full * (self.budget.fraction or 1.0)

    def _rescaled(self) -> float:
        def pace(tools: list[str]) -> float:
            estimated = sum(self._estimated.get(t, 0.0) for t in tools)
            return sum(self._observed.get(t, 0.0) for t in tools) / estimated \
                if estimated else 1.0

        if not self.parts:
            return self.full * pace(list(self._estimated))
        rest = max(self.full - sum(self.parts.values()), 0.0)
        return rest + sum(seconds * pace([tool]) for tool, seconds in self.parts.items())

    def left(self, now: float) -> float:
        return self.started + self.limit - now

    def observe(self, estimated: float, seconds: float, tool: str = "") -> None:
        """One batch of ``tool`` estimated at ``estimated`` seconds took ``seconds``."""
        self._estimated[tool] = self._estimated.get(tool, 0.0) + estimated
        self._observed[tool] = self._observed.get(tool, 0.0) + seconds

    @property
    def calibrated(self) -> bool:
        return self.budget.seconds is not None or self.learned or \
            any(e > 0 for e in self._estimated.values())


def record_outcomes(cache: Cache | None, results: Sequence[ScoredFinding],
                    analysed: Iterable[tuple[str, str]]) -> None:
    """Store each analysed (path, tool)'s importance mass from this run's scores.

    A finding in the run's top decile by score (or protected) counts 1, any other
    a small fraction of its score: budget mode exists to find the important few
    first, and ranks rather than raw scores keep this independent of the model's
    calibration and threshold.
    """
    if not cache:
        return
    cut = _top_cut(cache, sorted((item.score for item in results), reverse=True))
    outcomes = {pair: (0.0, 0) for pair in analysed}
    for item in results:
        pair = (item.finding.path, item.finding.tool)
        if pair in outcomes:
            mass, n = outcomes[pair]
            top = item.protected or item.score >= cut
            outcomes[pair] = (mass + (1.0 if top else _REST_WEIGHT * item.score), n + 1)
    cache.put_outcomes(outcomes)


def _top_cut(cache: Cache, scores: list[float]) -> float:
    """The score at a run's top-decile rank, stable across partial runs.

    A run that saw far fewer findings than the last whole one (a budget run, a
    sub-folder) would count its own top decile: files analysed first would then
    look less important than files it skipped. It uses the whole run's cut instead.
    """
    cut = scores[max(math.ceil(len(scores) * TOP_SHARE) - 1, 0)] if scores else 1.0
    last = cache.get_derived([_CUT_KEY]).get(_CUT_KEY)
    if isinstance(last, dict) and isinstance(last.get("cut"), float) \
            and isinstance(last.get("findings"), int) \
            and len(scores) < _PARTIAL * last["findings"]:
        return last["cut"]
    if scores:
        cache.put_derived({_CUT_KEY: {"cut": cut, "findings": len(scores)}})
    return cut


def describe_skipped(skipped: dict[str, list[str]], budget: dict[str, object] | None
                     ) -> str | None:
    """One summary line saying what budget mode left out, or None if nothing."""
    if not skipped:
        return None
    files = {f for paths in skipped.values() for f in paths}
    parts = ", ".join(f"{tool} on {len(paths)} files" for tool, paths in sorted(skipped.items()))
    limit = f" {budget['budget']}" if budget else ""
    return (f"budget{limit}: skipped {parts} ({len(files)} files not fully analysed; "
            "--format json lists them)")
