"""Critical paths: marked, stricter policy, never skipped (issue 5, point 4)."""
from __future__ import annotations

from lintrank.core.critical import apply_policy, critical_files, is_critical
from lintrank.core.finding import Finding, ScoredFinding

from tests.helpers import SAMPLE, check_json, write_tree


def test_patterns_match_files_and_folders():
    patterns = ["src/payments/**", "billing", "./tools/*.py"]
    assert is_critical("src/payments/api/charge.py", patterns)
    assert is_critical("billing/x.py", patterns)
    assert is_critical("tools/run.py", patterns)
    assert not is_critical("src/paymentsx/a.py", patterns)
    assert not is_critical("src/other.py", patterns) and not is_critical("a.py", [])
    assert critical_files(["billing/a.py", "b.py"], patterns) == {"billing/a.py"}


def test_policy_keeps_low_scores_on_critical_paths_only():
    def item(path: str, score: float) -> ScoredFinding:
        f = Finding(tool="flake8", code="E225", message="m", path=path, line=1)
        return ScoredFinding(finding=f, score=score, kept=False)

    results = apply_policy([item("pay/a.py", 0.2), item("pay/b.py", 0.01),
                            item("other.py", 0.2)], ["pay"], 0.1)
    assert [(r.critical, r.kept) for r in results] == [(True, True), (True, False),
                                                       (False, False)]


def test_cli_marks_critical_findings_and_keeps_them(tmp_path, baseline_model_path):
    tree = dict(SAMPLE)
    tree["pyproject.toml"] += ('[tool.lintrank]\ncritical = ["pkg/app.py"]\n'
                               "critical_threshold = 0.0\n")
    write_tree(tmp_path, tree)
    # Threshold 1 filters everything unprotected elsewhere; critical keeps all it has.
    report = check_json("--threshold", "1", "--model", baseline_model_path, cwd=tmp_path)
    app = [f for f in report["findings"] if f["path"] == "pkg/app.py"]
    assert app and all(f["critical"] and f["kept"] for f in app)
    assert {f["tool"] for f in app} == {"flake8", "pylint"}
    others = [f for f in report["findings"] if f["path"] != "pkg/app.py"]
    assert all(not f["critical"] and f["kept"] == f["protected"] for f in others)
    assert report["summary"]["critical"] == len(app)
