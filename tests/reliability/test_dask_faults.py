"""A Dask worker dying mid-run: its task is retried elsewhere, results complete; a run
ending early: its analyzers on the workers die with it.

Worker processes die (an out-of-memory kill, a crashing extension) on a cluster
of them: lintrank's own LocalCluster runs its workers in lintrank's process, where
a death is lintrank's, as with the local executor. So these runs use a cluster of
worker processes started beside them, through ``--scheduler``, as users do.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.reliability import fault_plugin
from tests.reliability.conftest import check, plugin_dist, project
from tests.reliability.stopping import alive, gone, interrupt, kill, written_pid

pytest.importorskip("distributed")

FILES = {f"pkg/m{i}.py": f"import os\nvalue_{i} = 1\n" for i in range(4)}
FILES["pkg/victim.py"] = "# KILLWORKER\nimport sys\n"

#: Two single-threaded worker processes (each with its nanny, which restarts it);
#: prints the scheduler's address, closes when its stdin does.
CLUSTER = """
import sys
from distributed import LocalCluster
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                       dashboard_address=None)
print(cluster.scheduler_address, flush=True)
sys.stdin.read()
cluster.close()
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory, model):
    env = plugin_dist(tmp_path_factory.mktemp("site"), "lrt_faults_dask", fault_plugin.SOURCE)
    root = project(tmp_path_factory.mktemp("proj"), FILES)
    local = check(root, "--tools", "flake8,killer", "--jobs", "2", model=model, env=env)
    assert local.rc == 1 and local.stderr == ""
    assert sorted(f["code"] for f in local.of("pkg/victim.py")) == ["F401", "FK001"]
    # The workers read the kill count from this file; each test sets it.
    marker = tmp_path_factory.mktemp("kills") / "deaths"
    marker.write_text("0", encoding="utf-8")
    # A hanging analyzer on a worker writes its pid here.
    pidfile = tmp_path_factory.mktemp("hang") / "analyzer.pid"
    workers_env = {**os.environ, **env, "LRT_KILL_MARKER": str(marker),
                   "LRT_PIDFILE": str(pidfile)}
    cluster = subprocess.Popen([sys.executable, "-c", CLUSTER], env=workers_env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        address = cluster.stdout.readline().strip()
        assert address.startswith("tcp://"), "the worker cluster did not start"
        yield root, {**env, "LRT_KILL_MARKER": str(marker)}, local, address, marker, pidfile
    finally:
        cluster.communicate("", timeout=60)


def _dask(setup, model, deaths: int):
    root, env, _, address, marker, _ = setup
    marker.write_text(str(deaths), encoding="utf-8")
    return check(root, "--tools", "flake8,killer", "--jobs", "2", "--executor", "dask",
                 "--scheduler", address, model=model, timeout=300, env=env)


def test_worker_death_is_retried_and_results_complete(setup, model):
    local, marker = setup[2], setup[4]
    run = _dask(setup, model, deaths=1)
    assert marker.read_text(encoding="utf-8") == "-1"  # a worker did die, then retried
    assert run.rc == 1, run.stderr
    assert run.report["findings"] == local.report["findings"]


def test_task_that_kills_every_worker_is_reported_not_lost(setup, model):
    """Past Dask's retry limit the task's files become LR902; the others stay."""
    local = setup[2]
    run = _dask(setup, model, deaths=100)
    assert run.rc == 1, run.stderr
    killer = [f for f in run.report["findings"] if f["tool"] == "killer"]
    lost = {f["path"] for f in killer if f["code"] == "LR902"}
    assert "pkg/victim.py" in lost
    for f in killer:
        if f["code"] == "LR902":
            assert f["kept"] and "KilledWorker" in f["message"]
    flake8 = [f for f in run.report["findings"] if f["tool"] == "flake8"]
    assert flake8 == [f for f in local.report["findings"] if f["tool"] == "flake8"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM],
                         ids=["sigint", "sigterm"])
def test_interrupted_run_leaves_no_analyzer_on_the_workers(setup, model, tmp_path, signum):
    """Dask cannot stop a running task's thread: the analyzer it waits on, on a worker
    process of the cluster, is killed by lintrank's run ending all the same."""
    env, address, pidfile = setup[1], setup[3], setup[5]
    pidfile.unlink(missing_ok=True)
    root = project(tmp_path, {"hang.py": "# HANG\n"})
    env = dict(env, LINTRANK_CACHE_DIR=str(tmp_path / "cache"))
    # hang.py alone, one task: no other task's result reaches the client as it closes
    # (Dask's executor then logs a traceback, a race apart from this test).
    analyzer, run = interrupt(root, ["--tools", "faulty", "--timeout", "600", "--model", model,
                                     "--quiet", "--executor", "dask", "--scheduler", address,
                                     "hang.py"], env, pidfile, signum)
    try:
        if signum == signal.SIGTERM:
            assert run.returncode == -signal.SIGTERM
        else:
            assert run.returncode == 130
            assert run.stderr == "lintrank: interrupted\n"
        assert gone(analyzer)
    finally:
        kill(analyzer)  # before the fix: it would sleep on for 10 minutes


def test_task_of_a_stopped_run_starts_no_analyzer(setup, tmp_path):
    """A task that begins on a worker once its run has been stopped (it was cancelled
    as it began) does not start its analyzer."""
    from distributed import Client
    from lintrank.core import dask_stop, processes

    name = f"lintrank-{uuid.uuid4().hex}"
    started = tmp_path / "started"
    argv = [sys.executable, "-c", f"open({str(started)!r}, 'w').close()"]
    with Client(setup[3], timeout="10s") as client:
        client.run(dask_stop.stop_run, name)
        future = client.submit(dask_stop.run_stoppable, name, processes.run, argv,
                               str(tmp_path), 60, dict(os.environ), pure=False)
        with pytest.raises(processes.Stopped):
            future.result(timeout=60)
    assert not started.exists()


def test_run_ending_on_an_error_kills_its_analyzers_on_the_workers(setup, tmp_path):
    """An exception out of the run (a bug, say) stops its tasks' analyzers too."""
    from distributed import Client
    from lintrank.core import dask_stop, processes

    pidfile = tmp_path / "analyzer.pid"
    with Client(setup[3], timeout="10s") as client, pytest.raises(RuntimeError), \
            dask_stop.stoppable(client) as executor:
        executor.submit(processes.run, _hanging(pidfile), str(tmp_path), 600, dict(os.environ))
        analyzer = written_pid(pidfile)
        raise RuntimeError("a bug while the task runs")
    try:
        assert gone(analyzer)
    finally:
        kill(analyzer)


def test_stopping_a_run_leaves_another_runs_analyzers_running(setup, tmp_path):
    """Runs share the cluster: stopping one kills none of another's analyzers."""
    from distributed import Client
    from lintrank.core import dask_stop, processes

    runs = [f"lintrank-{uuid.uuid4().hex}" for _ in range(2)]
    pidfiles = [tmp_path / f"{run}.pid" for run in runs]
    with Client(setup[3], timeout="10s") as client:
        client.wait_for_workers(2, timeout=60)  # one analyzer each: both run at once
        workers = list(client.scheduler_info()["workers"])
        futures = [client.submit(dask_stop.run_stoppable, run, processes.run,
                                 _hanging(pidfile), str(tmp_path), 600, dict(os.environ),
                                 pure=False, workers=[worker])
                   for run, pidfile, worker in zip(runs, pidfiles, workers)]
        pids: list[int] = []
        try:
            for pidfile in pidfiles:
                pids.append(written_pid(pidfile))
            client.run(dask_stop.stop_run, runs[0])
            assert gone(pids[0])
            assert alive(pids[1]) and not futures[1].done()
        finally:
            for pid in pids:
                kill(pid)


def _hanging(pidfile: Path) -> list[str]:
    """An analyzer's argv that writes its pid to ``pidfile`` and sleeps 10 minutes."""
    code = (f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); "
            "time.sleep(600)")
    return [sys.executable, "-c", code]
