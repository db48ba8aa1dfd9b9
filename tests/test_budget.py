"""Budget mode: ordering, stopping, reporting, critical paths never skipped (issue 5)."""
from __future__ import annotations

import pytest
from lintrank.core.budget import (
    Budget,
    CostModel,
    describe_skipped,
    make_units,
    order,
    parse_budget,
)
from lintrank.core.cache import Cache
from lintrank.core.engine import analyse
from lintrank.plugins.flake8_source import SOURCE as FLAKE8
from lintrank.plugins.pylint_source import SOURCE as PYLINT

from tests.helpers import check_json, run_lintrank, write_tree

FILES = {f"pkg/m{i}.py": f"import os\n\n\ndef f{i}( x ):\n    return x+{i}\n" for i in range(6)}
FILES.update({"pkg/__init__.py": "", "pkg/core/__init__.py": "",
              "pkg/core/pay.py": "import sys\n\n\ndef pay( x ):\n    return x+1\n"})


def test_parse_budget():
    assert parse_budget("30") == Budget(seconds=30.0) == parse_budget("30s")
    assert parse_budget("25%") == Budget(fraction=0.25)
    assert str(parse_budget("2.5")) == "2.5s" and str(parse_budget("10%")) == "10%"
    for bad in ("0", "-1", "150%", "soon", "0%"):
        with pytest.raises(ValueError):
            parse_budget(bad)


def test_units_order_by_past_mass_per_second_with_critical_first(tmp_path):
    costs = CostModel(None)
    lines = {"a.py": 100, "b.py": 100, "c.py": 100, "crit.py": 10}
    outcomes = {("b.py", "pylint"): (5.0, 3), ("a.py", "pylint"): (0.0, 0)}
    units = order(make_units([("pylint", f) for f in lines], lines, costs, outcomes,
                             {"crit.py"}))
    assert [u.path for u in units][:2] == ["crit.py", "b.py"]
    assert units[-1].path == "a.py"  # analysed last time and found nothing


def test_cost_model_learns_and_persists(tmp_path):
    cache = Cache(tmp_path / "c")
    costs = CostModel(cache)
    default = costs.per_line("pylint")
    for _ in range(5):
        costs.observe("pylint", 1000, 1.5 + 1000 * default * 4)
    costs.save()
    learned = CostModel(cache).per_line("pylint")
    assert learned > 2 * default


def test_tiny_budget_stops_reports_and_never_skips_critical(tmp_path):
    root = write_tree(tmp_path / "p", FILES)
    files = sorted(FILES)
    result = analyse(files, str(root), [FLAKE8, PYLINT], Cache(tmp_path / "c"), 1, 60,
                     budget=Budget(seconds=0.001), critical=frozenset({"pkg/core/pay.py"}))
    assert result.skipped, "a 1 ms budget must skip work"
    for tool, paths in result.skipped.items():
        assert "pkg/core/pay.py" not in paths
        assert result.analysed[tool] + len(paths) == len(files)
        assert not {f.path for f in result.findings if f.tool == tool} & set(paths)
    assert {f.tool for f in result.findings if f.path == "pkg/core/pay.py"} == \
        {"flake8", "pylint"}
    assert result.budget and result.budget["skipped_units"] == \
        sum(map(len, result.skipped.values()))
    assert "budget 0.001s: skipped" in describe_skipped(result.skipped, result.budget)


def test_cli_budget_summary_and_full_budget(tmp_path, baseline_model_path):
    write_tree(tmp_path, {**FILES, "pyproject.toml":
                          '[tool.lintrank]\ncritical = ["pkg/core"]\n'})
    base = ("--model", baseline_model_path, "--jobs", "1", "--no-cache")
    tight = check_json("--budget", "0.001", *base, cwd=tmp_path)
    summary = tight["summary"]
    assert summary["budget"]["budget"] == "0.001s" and summary["skipped"]
    assert all("pkg/core/pay.py" not in v for v in summary["skipped"].values())
    full = check_json("--budget", "100%", "--threshold", "0", *base, cwd=tmp_path)
    assert full["summary"]["budget"]["estimated_full_seconds"] > 0
    proc_text = run_lintrank("check", "--budget", "0.001", *base, cwd=tmp_path)
    assert "skipped" in proc_text.stdout and "--format json lists them" in proc_text.stdout
