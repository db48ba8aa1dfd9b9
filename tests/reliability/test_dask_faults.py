"""A Dask worker dying mid-run: its task is retried elsewhere, results complete.

Worker processes die (an out-of-memory kill, a crashing extension) on a cluster
of them: lintrank's own LocalCluster runs its workers in lintrank's process, where
a death is lintrank's, as with the local executor. So these runs use a cluster of
worker processes started beside them, through ``--scheduler``, as users do.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.reliability import fault_plugin
from tests.reliability.conftest import check, plugin_dist, project

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
    workers_env = {**os.environ, **env, "LRT_KILL_MARKER": str(marker)}
    cluster = subprocess.Popen([sys.executable, "-c", CLUSTER], env=workers_env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        address = cluster.stdout.readline().strip()
        assert address.startswith("tcp://"), "the worker cluster did not start"
        yield root, {**env, "LRT_KILL_MARKER": str(marker)}, local, address, marker
    finally:
        cluster.communicate("", timeout=60)


def _dask(setup, model, deaths: int):
    root, env, _, address, marker = setup
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

