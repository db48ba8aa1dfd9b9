"""Ranking and filtering: pure functions over scored findings.

The safety floor is applied here and only here: a protected finding is kept
whatever the threshold, the top-N limit or the model says.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

from lintrank.core.finding import Finding, ScoredFinding


@functools.lru_cache(maxsize=4096)
def is_protected(tool: str, code: str, severity: str, codes: frozenset[str],
                 severities: frozenset[str]) -> bool:
    """Whether a finding is a certain error that must never be filtered (cached per code)."""
    if code in codes:
        return True
    # pylint's fatal/error categories are certain errors by its own definition.
    return tool == "pylint" and severity in severities


def rank(findings: Sequence[Finding], scores: Sequence[float], threshold: float,
         top: int | None, codes: frozenset[str], severities: frozenset[str],
         critical: Sequence[bool] = ()) -> list[ScoredFinding]:
    """Return findings ordered certain errors first, then by score (ties by location).

    Protected findings lead whatever the model says: a learned score is about which
    findings teams act on, and a syntax error or undefined name is acted on first.
    """
    protected_of = [is_protected(f.tool, f.code, f.severity, codes, severities)
                    for f in findings]
    order = sorted(range(len(findings)),
                   key=lambda i: (not protected_of[i], -scores[i], findings[i].sort_key))
    result: list[ScoredFinding] = []
    kept_unprotected = 0
    for i in order:
        f = findings[i]
        protected = protected_of[i]
        keep = scores[i] >= threshold and (top is None or kept_unprotected < top)
        if keep and not protected:
            kept_unprotected += 1
        result.append(ScoredFinding(finding=f, score=float(scores[i]),
                                    kept=keep or protected, protected=protected,
                                    critical=bool(critical[i]) if critical else False))
    return result
