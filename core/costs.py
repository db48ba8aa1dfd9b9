"""The learned cost model: seconds per analyzer batch, from this machine's past runs.

Budget mode needs to know what analysing a file costs before it runs. Each batch's
(lines, seconds) is remembered in the cache per analyzer, and a line through them
gives a start-up per process and a rate per line; the wall time of the last run
that analysed everything is kept too, as the base of a ``P%`` budget.
"""
from __future__ import annotations

from collections.abc import Iterable

from lintrank.core.cache import Cache

#: Seconds per line and per invocation measured on a 2-core machine (pytest's tree);
#: used until the cache has learned this machine's own rates.
DEFAULT_PER_LINE = {"flake8": 6e-5, "pylint": 5e-4, "ruff": 2e-6}
PER_CALL = {"flake8": 0.3, "pylint": 1.5, "ruff": 0.05}
_OTHER_PER_LINE, _OTHER_PER_CALL = 1e-4, 0.5
_SPREAD = (1.1, 1.5, 2.0)  # least, before any budget run, most
_PACE_SAMPLES = 6  # budget batches whose estimate and duration give the margin
#: The share of a budget kept for what follows the analyzers (collecting their
#: results, scoring, reporting) before a budget run on this machine measured it: every
#: batch ends by the deadline less this, a streaming one is stopped there.
REPORT_SHARE = 0.05
_REPORT_SHARES = (0.01, 0.2)  # the least and most a measured share may set aside
_REPORT_MARGIN = 1.25  # over the median measured share
_REPORT_KEY = "@report"
_MAX_SAMPLES = 40  # costs are fitted to this many recent batches per analyzer


class CostModel:
    """Seconds per analyzer batch as ``per_call + per_line * lines``, learned.

    Recent batches of each analyzer are kept in the cache; a least-squares line
    through them gives both terms once batch sizes vary (pylint's start-up includes
    inferring the modules a batch imports, which can dwarf the per-line work).
    """

    def __init__(self, cache: Cache | None) -> None:
        self.samples: dict[str, list[list[float]]] = dict(cache.get_costs()) if cache else {}
        self._cache = cache
        self._fits: dict[str, tuple[float, float]] = {}

    def fit(self, tool: str) -> tuple[float, float]:
        """(seconds per call, seconds per line) for ``tool``."""
        if tool not in self._fits:
            self._fits[tool] = _fit(self.samples.get(tool, []),
                                    PER_CALL.get(tool, _OTHER_PER_CALL),
                                    DEFAULT_PER_LINE.get(tool, _OTHER_PER_LINE))
        return self._fits[tool]

    def per_call(self, tool: str) -> float:
        return self.fit(tool)[0]

    def spread(self, tool: str) -> float:
        """How much longer than estimated a budget's planned batches ran, within bounds.

        Budget mode plans the most rewarding files, and their cost per line can differ
        from the average the model fits (dense source modules, where pylint finds most,
        cost more per line than long test files full of strings); a batch stopped at
        the deadline yields nothing. The median ratio of recent budget batches (one
        stopped counts with its lower bound) is the margin; before any, a default.
        """
        paced = self.samples.get(_pace_key(tool))
        if not paced:
            return _SPREAD[1]
        return _median_ratio(paced, 1.0, (_SPREAD[0], _SPREAD[2]))

    def estimate(self, tool: str, lines: int) -> float:
        """Seconds for ``lines`` inside a batch (the start-up is paid per batch)."""
        return self.fit(tool)[1] * max(lines, 1)

    def observe(self, tool: str, lines: int, seconds: float, planned: float = 0.0) -> None:
        """Remember one finished batch (``planned``: its estimate, in budget mode).

        A budget's batches hold its chosen files, not a sample of the tree: they
        teach the margin (:meth:`spread`) rather than the average rates.
        """
        key, row = (_pace_key(tool), [planned, seconds]) if planned > 0 else \
            (tool, [float(lines), seconds])
        if row[0] > 0:
            kept = self.samples.setdefault(key, [])
            kept.append(row)
            del kept[:-(_PACE_SAMPLES if planned > 0 else _MAX_SAMPLES)]
            self._fits.pop(tool, None)

    def report_share(self) -> float:
        """The share of a budget to keep for what follows the analyzers.

        What follows them grows with the findings they made, which grow with the
        time they had: the share of its limit that recent budget runs spent after
        their analyzers stopped until their report was written, with a margin. A
        fixed 5% of a 10 s budget kept 0.5 s where scoring 2,500 findings took
        0.15 s, and was too little for explaining them (0.7 s) in JSON output.
        """
        seen = self.samples.get(_REPORT_KEY)
        if not seen:
            return REPORT_SHARE
        return _median_ratio(seen, _REPORT_MARGIN, _REPORT_SHARES)

    def observe_report(self, limit: float, seconds: float) -> None:
        """A budget run with a ``limit`` (seconds) spent ``seconds`` after its analyzers."""
        if limit > 0:
            kept = self.samples.setdefault(_REPORT_KEY, [])
            kept.append([limit, seconds])
            del kept[:-_PACE_SAMPLES]

    def observe_full(self, tools: Iterable[str], lines: int, seconds: float,
                     capacity: int) -> None:
        """Remember the wall time of a run that analysed every file with ``tools``."""
        if lines > 0:
            self.samples[_full_key(tools, capacity)] = [[float(lines), seconds]]

    def measured_full(self, tools: Iterable[str], lines: int, capacity: int
                      ) -> float | None:
        """Wall seconds of the last full run with the same analyzers and capacity,
        scaled to ``lines``; None if there was none (then estimate)."""
        past = self.samples.get(_full_key(tools, capacity))
        if not past or past[-1][0] <= 0:
            return None
        return past[-1][1] * lines / past[-1][0]

    def save(self) -> None:
        if self._cache and self.samples:
            self._cache.put_costs(self.samples)


def _median_ratio(samples: list[list[float]], scale: float,
                  bounds: tuple[float, float]) -> float:
    """``scale`` times the median ``y / x`` of ``[x, y]`` samples, within ``bounds``."""
    ratios = sorted(y / max(x, 1e-9) for x, y in samples)
    return min(max(scale * ratios[len(ratios) // 2], bounds[0]), bounds[1])


def _pace_key(tool: str) -> str:
    return f"@pace:{tool}"


def _full_key(tools: Iterable[str], capacity: int) -> str:
    # Stored beside the per-analyzer samples; no analyzer name starts with "@".
    return f"@full:{max(capacity, 1)}:{','.join(sorted(set(tools)))}"


def _fit(samples: list[list[float]], call: float, line: float) -> tuple[float, float]:
    """``seconds = a + b * lines`` with a, b >= 0, robust to a noisy machine.

    A least-squares line once batch sizes vary; its start-up is capped at what the
    quickest batch took in all (more is timing noise from other load, and a start-up
    above the budget would rule out the analyzer entirely), and the rate is then the
    median of what each batch says. With one batch size only, the default start-up
    is kept and the rate learned around it.
    """
    if not samples:
        return call, line
    xs = [s[0] for s in samples]
    ys = [s[1] for s in samples]
    if len(samples) >= 3 and max(xs) >= 2 * min(xs):
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
        if slope > 0:
            call = min(max(my - slope * mx, 0.0), min(ys))
            rates = sorted(max(y - call, 0.0) / x for x, y in zip(xs, ys))
            return call, rates[len(rates) // 2] or slope
    rates = sorted(max(y - call, 0.2 * y) / x for x, y in zip(xs, ys))
    return call, rates[len(rates) // 2]
