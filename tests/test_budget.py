"""Budget mode: ordering, stopping, reporting, critical paths never skipped (issue 5)."""
from __future__ import annotations

import dataclasses

import pytest
from lintrank.core.budget import (
    DEFAULT_PER_LINE,
    PER_CALL,
    Budget,
    Clock,
    CostModel,
    describe_skipped,
    make_units,
    order,
    parse_budget,
    record_outcomes,
)
from lintrank.core.cache import Cache
from lintrank.core.engine import analyse
from lintrank.core.finding import Finding, ScoredFinding
from lintrank.core.tasks import FileTask, timed_task
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


def test_cost_model_learns_start_up_and_rate_and_persists(tmp_path):
    cache = Cache(tmp_path / "c")
    costs = CostModel(cache)
    assert costs.fit("pylint") == (PER_CALL["pylint"], DEFAULT_PER_LINE["pylint"])
    for lines in (500, 1000, 4000, 8000):
        costs.observe("pylint", lines, 10.0 + 0.001 * lines)
    costs.save()
    call, rate = CostModel(cache).fit("pylint")
    assert call == pytest.approx(10.0) and rate == pytest.approx(0.001)
    one_size = CostModel(None)
    one_size.observe("flake8", 1000, 0.3 + 1000 * 2e-4)
    assert one_size.fit("flake8")[1] == pytest.approx(2e-4)


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


def test_a_batch_running_past_the_budget_is_stopped_and_not_a_failure(tmp_path):
    root = write_tree(tmp_path / "p", FILES)
    task = FileTask(PYLINT, ["pkg/m0.py", "pkg/m1.py"], str(root), 60, budget_left=0.01)
    findings, _ = timed_task(task)
    assert findings is None  # reported as skipped by the engine, never as LR903
    done, _ = timed_task(dataclasses.replace(task, budget_left=None))
    assert done is not None and {f.path for f in done} == {"pkg/m0.py", "pkg/m1.py"}


@pytest.mark.parametrize("args, message", [
    (["--budget", "soon"], "budget must be SECONDS or P%"),
    (["--budget", "150%"], "within (0, 100]"),
    (["--executor", "dask", "--config", "bad.toml"], "executor must be local or dask"),
])
def test_bad_engine_options_exit_2(tmp_path, args, message):
    write_tree(tmp_path, {**FILES, "bad.toml": '[tool.lintrank]\nexecutor = "spark"\n'})
    proc = run_lintrank("check", *args, cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_percentage_budget_follows_the_observed_pace():
    clock = Clock(parse_budget("25%"), full=100.0, started=0.0)
    assert not clock.calibrated and clock.limit == pytest.approx(25.0)
    clock.observe(estimated=10.0, seconds=30.0)  # the machine is 3x slower than learned
    assert clock.calibrated and clock.limit == pytest.approx(75.0)
    assert clock.left(now=70.0) == pytest.approx(5.0)
    fixed = Clock(parse_budget("20"), full=100.0, started=0.0)
    fixed.observe(10.0, 30.0)
    assert fixed.calibrated and fixed.limit == 20.0


def test_outcomes_count_a_runs_top_decile(tmp_path):
    cache = Cache(tmp_path / "c")
    results = [ScoredFinding(finding=Finding(tool="pylint", code="W1", message="m",
                                             path=f"f{i % 2}.py", line=i),
                             score=i / 20, kept=False) for i in range(20)]
    record_outcomes(cache, results, [("f0.py", "pylint"), ("f1.py", "pylint"),
                                     ("clean.py", "pylint")])
    outcomes = cache.get_outcomes()
    assert outcomes[("clean.py", "pylint")] == (0.0, 0)
    # Scores 0.90 (f0) and 0.95 (f1) are the top decile; the rest add little.
    assert 1.0 < outcomes[("f0.py", "pylint")][0] < 1.2
    assert 1.0 < outcomes[("f1.py", "pylint")][0] < 1.2
    assert outcomes[("f0.py", "pylint")][1] == 10
