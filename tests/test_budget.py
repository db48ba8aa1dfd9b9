"""Budget mode: ordering, stopping, reporting, critical paths never skipped (issue 5)."""
from __future__ import annotations

import dataclasses
import time

import pytest
from lintrank.core.budget import (
    Budget,
    Clock,
    describe_skipped,
    make_units,
    order,
    parse_budget,
    record_outcomes,
)
from lintrank.core.cache import Cache
from lintrank.core.costs import DEFAULT_PER_LINE, PER_CALL, REPORT_SHARE, CostModel
from lintrank.core.engine import _execute, analyse
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
    findings, _, unfinished = timed_task(task)
    # Reported as skipped by the engine, never as LR903.
    assert findings == [] and unfinished == ["pkg/m0.py", "pkg/m1.py"]
    done, _, unfinished = timed_task(dataclasses.replace(task, budget_left=None))
    assert not unfinished and {f.path for f in done} == {"pkg/m0.py", "pkg/m1.py"}


# A pylint plugin that hangs on one module: the batch is stopped while in it.
HANG = """import time
from pylint.checkers import BaseChecker


class Hang(BaseChecker):
    name = "hang"
    msgs = {"W9999": ("never", "never-emitted", "never")}

    def visit_module(self, node):
        if node.name.endswith("slow"):
            time.sleep(120)


def register(linter):
    linter.register_checker(Hang(linter))
"""


def _hanging(tmp_path):  # type: ignore[no-untyped-def]
    """A project whose pylint plugin hangs on ``pkg/slow.py``."""
    return write_tree(tmp_path / "p", {**FILES, "pkg/slow.py": "import os\n", "hang.py": HANG,
                                       ".pylintrc": "[MAIN]\nload-plugins=hang\n"})


def test_a_stopped_pylint_batch_keeps_the_files_it_finished(tmp_path):
    root = _hanging(tmp_path)
    files = ["pkg/m0.py", "pkg/slow.py", "pkg/m1.py"]
    # Ample time for pylint to start and finish m0 (about 2 s), not for the hang.
    task = FileTask(PYLINT, files, str(root), 200, budget_left=20)
    findings, _, unfinished = timed_task(task)
    assert unfinished == ["pkg/slow.py", "pkg/m1.py"]
    whole = PYLINT.run(["pkg/m0.py"], str(root), 60)
    assert whole and sorted(f.sort_key for f in findings) == sorted(f.sort_key for f in whole)


def test_no_batch_starts_in_the_share_left_to_scoring_and_reporting(tmp_path):
    """A quick flake8 batch that would fit in the time left is still skipped when
    that time is the share reserved for scoring and reporting."""
    root = write_tree(tmp_path / "p", FILES)
    limit = 10.0
    # The reserve (before any budget run measured it) is REPORT_SHARE * limit = 0.5 s;
    # 0.3 s are left.
    clock = Clock(Budget(seconds=limit), full=30.0,
                  started=time.monotonic() - limit + 0.3)
    task = FileTask(FLAKE8, ["pkg/m0.py"], str(root), 60, estimate=0.01)
    ran: list[FileTask] = []
    skipped = _execute([task], None, 1, clock, lambda t, *_: ran.append(t),
                       lambda tool: 0.05)
    assert REPORT_SHARE * limit > 0.3
    assert skipped == [task] and ran == []
    # With the whole budget ahead, the same batch runs.
    clock = Clock(Budget(seconds=limit), full=30.0, started=time.monotonic())
    assert _execute([task], None, 1, clock, lambda t, *_: ran.append(t),
                    lambda tool: 0.05) == []
    assert [t.files for t in ran] == [["pkg/m0.py"]]


def test_an_uncalibrated_budget_starts_no_batch_past_its_estimated_deadline(tmp_path):
    """Before any batch finished, a P% budget runs batches uncut to learn its pace,
    but not once even its estimated deadline has passed."""
    root = write_tree(tmp_path / "p", FILES)
    task = FileTask(FLAKE8, ["pkg/m0.py"], str(root), 60, estimate=0.01)
    ran: list[FileTask] = []
    late = Clock(parse_budget("25%"), full=40.0, started=time.monotonic() - 11.0)
    assert not late.calibrated and late.limit == pytest.approx(10.0)
    assert _execute([task], None, 1, late, lambda t, *_: ran.append(t),
                    lambda tool: 0.05) == [task] and ran == []
    early = Clock(parse_budget("25%"), full=40.0, started=time.monotonic())
    assert _execute([task], None, 1, early, lambda t, *_: ran.append(t),
                    lambda tool: 0.05) == []
    # It ran uncut (no limit of its own): its time teaches the clock the pace.
    assert [t.budget_left for t in ran] == [None]


def test_engine_reports_a_stopped_batchs_unfinished_files_as_skipped(tmp_path):
    root = _hanging(tmp_path)
    files = ["pkg/m0.py", "pkg/slow.py"]
    result = analyse(files, str(root), [PYLINT], None, jobs=1, timeout=200,
                     budget=Budget(seconds=20))
    assert result.skipped == {"pylint": ["pkg/slow.py"]}
    assert ("pkg/m0.py", "pylint") in result.covered
    assert {f.path for f in result.findings} == {"pkg/m0.py"}


def test_a_percentage_budget_without_any_past_run_still_stops_pylint(tmp_path):
    """No cache, so no pace known: pylint, which keeps what it finishes, is held to
    the estimated deadline instead of running uncut (here it would hang)."""
    root = _hanging(tmp_path)
    files = ["pkg/m0.py", "pkg/slow.py"]
    result = analyse(files, str(root), [PYLINT], None, jobs=1, timeout=120,
                     budget=Budget(fraction=1.0))
    assert "pkg/slow.py" in result.skipped["pylint"]
    assert ("pkg/slow.py", "pylint") not in result.covered
    assert not any(f.path == "pkg/slow.py" for f in result.findings)  # no timeout finding


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


def test_each_analyzers_pace_rescales_its_own_part_of_the_estimate():
    """flake8 slower than its default cost says nothing of pylint's part."""
    clock = Clock(parse_budget("25%"), full=100.0, started=0.0,
                  parts={"flake8": 20.0, "pylint": 80.0})
    clock.observe(estimated=2.0, seconds=4.0, tool="flake8")  # twice its estimate
    assert clock.calibrated and clock.limit == pytest.approx(0.25 * (40.0 + 80.0))
    clock.observe(estimated=10.0, seconds=5.0, tool="pylint")  # half its estimate
    assert clock.limit == pytest.approx(0.25 * (40.0 + 40.0))
    learned = Clock(parse_budget("25%"), full=100.0, started=0.0, learned=True,
                    parts={"flake8": 20.0, "pylint": 80.0})
    learned.observe(2.0, 4.0, "flake8")  # costs learned here are trusted as they are
    assert learned.limit == pytest.approx(25.0)


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


def _costs(call: float, rate: float) -> CostModel:
    costs = CostModel(None)
    for lines in (1000, 4000, 8000):
        costs.observe("pylint", lines, call + rate * lines)
        costs.observe("flake8", lines, 0.1 + 1e-5 * lines)
    return costs


def test_plan_pays_a_slow_start_up_once_per_slot_on_the_best_files():
    from lintrank.core.tasks import plan_budget

    costs = _costs(call=6.0, rate=1e-3)
    lines = {f"f{i:02}.py": 500 for i in range(80)}
    # Past outcomes: pylint's important findings sit in the first ten files.
    outcomes = {(f, "pylint"): (5.0 if i < 10 else 0.1, 5) for i, f in enumerate(lines)}
    units = order(make_units([(t, f) for t in ("pylint", "flake8") for f in lines], lines,
                             costs, outcomes, set()))
    tasks, _, summary = plan_budget(Budget(seconds=20.0), units,
                                       {"pylint": PYLINT, "flake8": FLAKE8}, ".", 60, lines,
                                       costs, capacity=2)
    first = tasks[:2]
    assert all(t.source.name == "pylint" for t in first)
    planned = [f for t in first for f in t.files[:t.expected_files]]
    assert {f"f{i:02}.py" for i in range(10)} <= set(planned)  # the start-up pays there
    assert len(planned) * 500 * 1e-3 + 2 * 6.0 <= 2 * 20.0
    # pylint streams its findings file by file: the files that did not fit the plan
    # follow in the same two processes (no more start-ups), cut at the deadline, as
    # far as STREAM_SLACK allows; only the rest is left to later batches.
    assert sum(t.source.name == "pylint" and t.expected_files is not None for t in tasks) == 2
    assert all(t.files[t.expected_files:] for t in first)
    assert 0 < summary["planned_units"] < len(units)
    # What does not fit still follows, in reward order, for the engine to skip or run.
    assert {f for t in tasks for f in t.files} == set(lines)


def test_streaming_batches_take_only_what_they_could_finish():
    """pylint builds the syntax tree of every file it is given before it lints the
    first: a batch that runs to the deadline gets the files that did not fit the plan
    only up to STREAM_SLACK times its slot's time, not every remaining file."""
    from lintrank.core.tasks import SAFETY, STREAM_SLACK, plan_budget

    costs = _costs(call=2.0, rate=1e-3)
    lines = {f"f{i:03}.py": 500 for i in range(400)}  # 200 s of pylint, 2 s each batch
    units = order(make_units([("pylint", f) for f in lines], lines, costs, {}, set()))
    tasks, _, _ = plan_budget(Budget(seconds=10.0), units, {"pylint": PYLINT}, ".", 60,
                              lines, costs, capacity=2)
    first, rest = tasks[:2], tasks[2:]
    spread = costs.spread("pylint")
    for task in first:
        assert task.expected_files < len(task.files)  # topped up beyond the plan ...
        work = spread * (costs.per_call("pylint") + 0.5 * len(task.files))
        assert work <= STREAM_SLACK * SAFETY * 10.0 + 1e-6  # ... but not without end
    assert rest and all(t.expected_files is None for t in rest)
    # Nothing is lost: the others follow, in reward order, for the engine to skip.
    assert sorted(f for t in tasks for f in t.files) == sorted(lines)


def test_plan_keeps_critical_units_whatever_the_budget():
    from lintrank.core.tasks import plan_budget

    costs = _costs(call=30.0, rate=1e-3)  # a start-up far over the whole budget
    lines = {"a.py": 100, "crit.py": 100}
    units = order(make_units([("pylint", f) for f in lines], lines, costs, {}, {"crit.py"}))
    tasks, _, summary = plan_budget(Budget(seconds=5.0), units, {"pylint": PYLINT}, ".", 60,
                                    lines, costs, capacity=2)
    assert tasks[0].critical and tasks[0].files == ["crit.py"]
    assert summary["planned_units"] == 1  # a.py is left for the engine to skip


def test_percentage_base_is_the_last_full_runs_measured_wall_time(tmp_path):
    from lintrank.core.budget import Unit, seconds_limit

    cache = Cache(tmp_path / "c")
    costs = CostModel(cache)
    costs.observe_full(["pylint", "flake8"], 2000, 40.0, capacity=2)
    costs.save()
    units = [Unit(t, f"f{i}.py", 500, 0.1, 1.0) for t in ("pylint", "flake8") for i in range(2)]
    full, limit = seconds_limit(parse_budget("25%"), units, CostModel(cache), 2, 2)
    assert full == pytest.approx(40.0) and limit == pytest.approx(10.0)
    # Other parallelism or other analyzers: no measurement, the model's estimate.
    assert seconds_limit(parse_budget("25%"), units, CostModel(cache), 4, 4)[0] < 5.0


def test_start_up_fit_resists_a_noisy_small_batch():
    costs = CostModel(None)
    for lines, seconds in ((50000, 40.0), (52000, 60.0), (5000, 25.0)):
        costs.observe("pylint", lines, seconds)
    call, rate = costs.fit("pylint")
    assert call <= 25.0 and rate > 0  # never more than the quickest batch took
    assert 1.1 <= costs.spread("pylint") <= 1.5


def test_a_partial_run_counts_importance_against_the_whole_runs_cut(tmp_path):
    cache = Cache(tmp_path / "c")

    def scored(path: str, scores: list[float]) -> list[ScoredFinding]:
        return [ScoredFinding(finding=Finding(tool="pylint", code="W1", message="m",
                                              path=path, line=i + 1), score=s, kept=False)
                for i, s in enumerate(scores)]

    whole = scored("a.py", [0.9] * 10) + scored("b.py", [0.1] * 90)
    record_outcomes(cache, whole, [("a.py", "pylint"), ("b.py", "pylint")])
    assert cache.get_outcomes()[("a.py", "pylint")][0] >= 10
    # A budget run that analysed a.py only: its own top decile would be one finding.
    record_outcomes(cache, scored("a.py", [0.9] * 10), [("a.py", "pylint")])
    assert cache.get_outcomes()[("a.py", "pylint")][0] >= 10


def test_budget_margin_learns_how_planned_batches_ran(tmp_path):
    cache = Cache(tmp_path / "c")
    costs = CostModel(cache)
    assert costs.spread("pylint") == pytest.approx(1.5)  # before any budget run
    costs.observe("pylint", 5000, 14.0, planned=10.0)  # ran 1.4x its estimate
    costs.observe("pylint", 6000, 15.0, planned=10.0)  # stopped: at least 1.5x
    costs.observe("pylint", 50000, 40.0)  # not a budget batch: no margin sample
    costs.save()
    assert CostModel(cache).spread("pylint") == pytest.approx(1.5)
    assert CostModel(cache).spread("flake8") == pytest.approx(1.5)


def test_a_whole_run_records_its_wall_time_scoring_included(tmp_path, baseline_model_path):
    write_tree(tmp_path, FILES)
    cache_dir = tmp_path / "cache"
    report = check_json("--tools", "flake8", "--jobs", "1", "--cache-dir", str(cache_dir),
                        "--model", baseline_model_path, cwd=tmp_path)
    lines = sum(text.count("\n") + 1 for text in FILES.values())
    cache = Cache(cache_dir)
    measured = CostModel(cache).measured_full(["flake8"], lines, 1)
    cache.close()
    # The base of --budget P% is the whole run as `summary.seconds` reports it
    # (recorded just before its end), not the analysis alone.
    assert measured is not None and 0 < measured <= report["summary"]["seconds"]


def test_the_share_kept_for_reporting_is_learned_from_budget_runs(tmp_path):
    cache = Cache(tmp_path / "c")
    costs = CostModel(cache)
    assert costs.report_share() == REPORT_SHARE  # before any budget run
    for seconds in (0.15, 0.2, 0.9):  # scoring after analyzers stopped, of a 10 s limit
        costs.observe_report(10.0, seconds)
    costs.save()
    # The median share (2%) with a margin of a quarter.
    assert CostModel(cache).report_share() == pytest.approx(0.025)
    slow = CostModel(None)
    slow.observe_report(10.0, 9.0)
    assert slow.report_share() == pytest.approx(0.2)  # never more than a fifth
    quick = CostModel(None)
    quick.observe_report(10.0, 0.0)
    assert quick.report_share() == pytest.approx(0.01)


def test_a_budget_run_counts_from_its_start_and_measures_its_reporting(
        tmp_path, baseline_model_path):
    write_tree(tmp_path, FILES)
    cache_dir = tmp_path / "cache"
    report = check_json("--budget", "0.001", "--tools", "flake8,pylint", "--jobs", "1",
                        "--cache-dir", str(cache_dir), "--model", baseline_model_path,
                        cwd=tmp_path)
    budget = report["summary"]["budget"]
    assert report["summary"]["skipped"] and budget["report_share"] == REPORT_SHARE
    cache = Cache(cache_dir)
    learned = CostModel(cache).samples.get("@report")
    cache.close()
    assert learned and learned[0][0] == budget["limit_seconds"] and learned[0][1] > 0


def test_a_budget_counts_from_the_start_its_caller_gives(tmp_path):
    """The time a check spent before its analyzers (finding files, parsing them for
    syntax errors, starting a Dask cluster) is part of its budget."""
    root = write_tree(tmp_path / "p", FILES)
    files = sorted(FILES)
    spent = analyse(files, str(root), [FLAKE8], None, 1, 60, budget=Budget(seconds=5),
                    started=time.monotonic() - 10)
    assert spent.skipped == {"flake8": files} and not spent.findings
    fresh = analyse(files, str(root), [FLAKE8], None, 1, 60, budget=Budget(seconds=30),
                    started=time.monotonic())
    assert not fresh.skipped and fresh.findings
