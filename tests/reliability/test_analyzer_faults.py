"""An analyzer that crashes, hangs, is missing or loses a file mid-run.

The failing analyzers are real subprocesses started by a fake plugin distribution
(``fault_plugin``); flake8 is the real one. Each case asserts the failing file's
finding, that the other files keep their findings, and the exit status.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.reliability import fault_plugin
from tests.reliability.conftest import GOOD_FLAKE8, check, plugin_dist, project
from tests.reliability.stopping import alive, gone, interrupt

FILES = {
    "ok_a.py": "value = 1\n",
    "ok_b.py": "value = 2\n",
    "segfault.py": "# SEGFAULT\n",
    "badexit.py": "# BADEXIT\n",
    "pluginbug.py": "# PLUGINBUG\n",
}


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    return plugin_dist(tmp_path_factory.mktemp("site"), "lrt_faults", fault_plugin.SOURCE)


def _codes(run, path, tool):
    return sorted(f["code"] for f in run.of(path) if f["tool"] == tool)


@pytest.fixture(scope="module")
def crashing(tmp_path_factory, plugin_env, model):
    root = project(tmp_path_factory.mktemp("crashing"), FILES)
    return check(root, "--tools", "flake8,faulty", "--jobs", "1", model=model,
                 env=plugin_env)


@pytest.mark.parametrize("path, detail", [
    ("segfault.py", "killed by signal 11"),
    ("badexit.py", "exit status 3: faulty: internal error on badexit.py"),
    ("pluginbug.py", "RuntimeError: plugin bug on pluginbug.py"),
])
def test_crash_is_lr902_for_that_file_only(crashing, path, detail):
    [finding] = [f for f in crashing.of(path) if f["tool"] == "faulty"]
    assert finding["code"] == "LR902" and finding["kept"] and finding["protected"]
    assert finding["message"] == f"faulty could not analyse this file: {detail}"


def test_crash_keeps_other_files_and_tools(crashing):
    assert crashing.rc == 1, crashing.stderr
    for ok in ("ok_a.py", "ok_b.py", "good.py"):
        assert _codes(crashing, ok, "faulty") == ["FK001"]
    assert [r for r in crashing.rows("good.py") if r[2] == "flake8"] == GOOD_FLAKE8
    for bad in ("segfault.py", "badexit.py", "pluginbug.py"):
        assert _codes(crashing, bad, "flake8") == []  # flake8 analysed them fine


def test_hanging_analyzer_is_lr903_within_the_timeout(tmp_path, plugin_env, model):
    root = project(tmp_path, {"hang.py": "# HANG\n", "ok.py": "value = 1\n"})
    run = check(root, "--tools", "faulty", "--jobs", "1", "--timeout", "2", model=model,
                env=plugin_env, timeout=120)
    assert run.rc == 1, run.stderr
    [finding] = run.of("hang.py")
    assert finding["code"] == "LR903" and finding["kept"]
    assert finding["message"] == "faulty could not analyse this file: timed out after 2 s"
    assert _codes(run, "ok.py", "faulty") == _codes(run, "good.py", "faulty") == ["FK001"]


def test_missing_executable_is_lr902_per_file(tmp_path, plugin_env, model):
    root = project(tmp_path)
    run = check(root, "--tools", "flake8,missing", model=model, env=plugin_env)
    assert run.rc == 1, run.stderr
    [finding] = [f for f in run.of("good.py") if f["tool"] == "missing"]
    assert finding["code"] == "LR902"
    assert finding["message"].startswith("missing could not analyse this file: could not "
                                         "start: [Errno 2] No such file or directory")
    assert [r for r in run.rows("good.py") if r[2] == "flake8"] == GOOD_FLAKE8


def test_unavailable_analyzer_is_a_usage_error(tmp_path, plugin_env, model):
    run = check(project(tmp_path), "--tools", "flake8,unavailable", model=model,
                env=plugin_env)
    assert run.rc == 2
    assert run.stderr.strip().startswith("lintrank: error: unavailable is not installed")


def test_unknown_analyzer_is_a_usage_error(tmp_path, model):
    run = check(project(tmp_path), "--tools", "flake8,nosuchtool", model=model)
    assert run.rc == 2
    assert "unknown tool 'nosuchtool'" in run.stderr


@pytest.mark.parametrize("kind, code, fragment", [
    ("delete", "E902", "No such file or directory"),
    ("dangling", "E902", "No such file or directory"),
])
def test_file_vanishing_mid_run(tmp_path, plugin_env, model, kind, code, fragment):
    """Read by lintrank, gone when flake8 opens it: flake8's own E902, kept."""
    root = project(tmp_path, {"victim.py": "import os\n", "ok.py": "import sys\n"})
    run = check(root, "--tools", "flake8", "--jobs", "1", model=model,
                env={**plugin_env, "LRT_MUTATE": f"victim.py={kind}"})
    assert run.rc == 1, run.stderr
    [finding] = run.of("victim.py")
    assert finding["code"] == code and fragment in finding["message"] and finding["kept"]
    assert run.rows("ok.py") == [("ok.py", 1, "flake8", "F401")]
    assert run.rows("good.py") == GOOD_FLAKE8


def test_file_turning_into_fifo_mid_run_times_out(tmp_path, plugin_env, model):
    """A reader would block forever: the per-file timeout reports LR903 instead."""
    root = project(tmp_path, {"victim.py": "import os\n", "ok.py": "import sys\n"})
    run = check(root, "--tools", "flake8", "--jobs", "1", "--timeout", "2", model=model,
                env={**plugin_env, "LRT_MUTATE": "victim.py=fifo"}, timeout=120)
    assert run.rc == 1, run.stderr
    [finding] = run.of("victim.py")
    assert finding["code"] == "LR903"
    assert finding["message"] == "flake8 could not analyse this file: timed out after 2 s"
    assert run.rows("ok.py") == [("ok.py", 1, "flake8", "F401")]
    assert run.rows("good.py") == GOOD_FLAKE8


def test_unexpected_error_is_one_line_and_exit_2(tmp_path, plugin_env, model):
    """A bug outside the analyzers: one clear line (no traceback), exit status 2."""
    env = {**plugin_env, "LRT_ADD_FINDINGS_BUG": "1"}
    run = check(project(tmp_path), "--tools", "flake8", model=model, env=env)
    assert run.rc == 2
    assert run.stderr == ("lintrank: internal error: RuntimeError: bug in a plugin's "
                          "lintrank_add_findings\n  this is a bug: rerun with "
                          "`lintrank --debug ...` and report the traceback\n")


def test_broken_analyzer_config_fails_fast_for_every_file(tmp_path, model):
    """A config error breaks flake8 on any file: no bisection, one LR902 per file."""
    root = project(tmp_path, {f"m{i}.py": "import os\n" for i in range(8)})
    (root / ".flake8").write_text("[flake8]\nmax-line-length = abc\n", encoding="utf-8")
    run = check(root, "--tools", "flake8", "--jobs", "1", model=model)
    assert run.rc == 1, run.stderr
    assert {(f["code"], f["kept"]) for f in run.report["findings"]} == {("LR902", True)}
    assert len(run.report["findings"]) == 9
    assert {f["message"] for f in run.report["findings"]} == {
        "flake8 could not analyse this file: exit status 1: ValueError: invalid literal for "
        "int() with base 10: 'abc' (it fails on an empty file too: a configuration or "
        "installation problem)"}


@pytest.mark.parametrize("executor", [[], ["--executor", "dask", "--dask-workers", "1"]],
                         ids=["local", "dask"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_terminated_run_leaves_no_analyzer_behind(tmp_path, plugin_env, model, signum,
                                                  executor):
    """A cancelled CI job signals lintrank alone: its hanging analyzer dies with it,
    also one a worker of lintrank's Dask LocalCluster started."""
    root = project(tmp_path, {"hang.py": "# HANG\n"})
    pidfile = tmp_path / "analyzer.pid"
    env = dict(plugin_env, LRT_PIDFILE=str(pidfile), LINTRANK_CACHE_DIR=str(tmp_path / "cache"))
    analyzer, run = interrupt(root, ["--tools", "faulty", "--timeout", "600", "--model", model,
                                     "--quiet", *executor], env, pidfile, signum)
    if signum == signal.SIGTERM:  # ends at once, as without lintrank's handler
        assert run.returncode == -signal.SIGTERM
    else:
        assert run.returncode == 130
        assert run.stderr == "lintrank: interrupted\n"  # nothing else: no traceback, no Dask log
    assert gone(analyzer)


def test_stopping_waits_for_an_analyzer_being_started(tmp_path, monkeypatch):
    """An analyzer whose thread is between starting and tracking it when lintrank
    stops is killed by that thread before the stop returns (SIGTERM ends lintrank
    right after it). The thread is held there on purpose, as a busy GIL can."""
    import sys
    import threading

    from lintrank.core import processes

    started = threading.Event()
    real = subprocess.Popen

    class SlowToTrack(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            started.set()
            time.sleep(0.3)  # returns to the tracking code late

    monkeypatch.setattr(processes.subprocess, "Popen", SlowToTrack)
    pids: list[int] = []
    monkeypatch.setattr(processes, "_LIVE", type("Live", (set,), {
        "add": lambda self, proc: (pids.append(proc.pid), set.add(self, proc))})())
    outcome: list[object] = []

    def analyze() -> None:
        try:
            outcome.append(processes.run([sys.executable, "-c", "import time; time.sleep(60)"],
                                         str(tmp_path), 120, dict(os.environ)))
        except processes.Stopped as exc:
            outcome.append(exc)

    worker = threading.Thread(target=analyze)
    worker.start()
    try:
        assert started.wait(30)
        processes.stop_all()
        assert pids, "stop_all returned before the starting thread tracked its analyzer"
        worker.join(30)
        assert not alive(pids[0])
        assert isinstance(outcome[0], processes.Stopped)
    finally:
        processes.reset()
