"""Ranking, threshold, top-N and the safety floor (issue 2, point 5)."""
from __future__ import annotations

from lintrank.core.config import DEFAULT_SAFETY_CODES, DEFAULT_SAFETY_SEVERITIES
from lintrank.core.finding import Finding
from lintrank.core.policy import rank

CODES = frozenset(DEFAULT_SAFETY_CODES)
SEVS = frozenset(DEFAULT_SAFETY_SEVERITIES)


def _f(code: str, line: int, tool: str = "flake8", severity: str = "style") -> Finding:
    return Finding(tool=tool, code=code, message="", path="a.py", line=line, severity=severity)


def test_rank_orders_by_score_then_location():
    findings = [_f("E1", 3), _f("E2", 1), _f("E3", 2)]
    ranked = rank(findings, [0.2, 0.5, 0.5], 0.0, None, CODES, SEVS)
    assert [r.finding.code for r in ranked] == ["E2", "E3", "E1"]
    assert all(r.kept for r in ranked)


def test_threshold_and_top():
    findings = [_f("E1", 1), _f("E2", 2), _f("E3", 3)]
    ranked = rank(findings, [0.9, 0.6, 0.1], 0.5, None, CODES, SEVS)
    assert [r.kept for r in ranked] == [True, True, False]
    ranked = rank(findings, [0.9, 0.6, 0.1], 0.0, 1, CODES, SEVS)
    assert [r.kept for r in ranked] == [True, False, False]


def test_safety_floor_never_hides_certain_errors():
    findings = [_f("E999", 1), _f("F821", 2), _f("E0602", 3, "pylint", "error"),
                _f("F0001", 4, "pylint", "fatal"), _f("W0611", 5, "pylint", "warning")]
    ranked = rank(findings, [0.0] * 5, 1.0, 0, CODES, SEVS)
    kept = {r.finding.code for r in ranked if r.kept}
    assert kept == {"E999", "F821", "E0602", "F0001"}
    assert all(r.protected for r in ranked if r.kept)


def test_protected_findings_do_not_use_up_top_n():
    findings = [_f("F821", 1), _f("E1", 2), _f("E2", 3)]
    ranked = rank(findings, [0.99, 0.5, 0.4], 0.0, 1, CODES, SEVS)
    assert [(r.finding.code, r.kept) for r in ranked] == [
        ("F821", True), ("E1", True), ("E2", False)]


def test_safety_is_configurable():
    findings = [_f("E501", 1)]
    assert rank(findings, [0.0], 1.0, None, frozenset({"E501"}), SEVS)[0].kept
    assert not rank(findings, [0.0], 1.0, None, frozenset(), SEVS)[0].kept


def test_certain_errors_rank_first_whatever_their_score():
    findings = [_f("E501", 1), _f("F821", 2), _f("W291", 3)]
    ranked = rank(findings, [0.9, 0.1, 0.5], 0.0, None, CODES, SEVS)
    assert [r.finding.code for r in ranked] == ["F821", "E501", "W291"]
    assert [r.score for r in ranked] == [0.1, 0.9, 0.5]  # scores are shown as they are
