"""A Dask worker dying mid-run: its task is retried elsewhere, results complete."""
from __future__ import annotations

import pytest

from tests.reliability import fault_plugin
from tests.reliability.conftest import check, plugin_dist, project

pytest.importorskip("distributed")

FILES = {f"pkg/m{i}.py": f"import os\nvalue_{i} = 1\n" for i in range(4)}
FILES["pkg/victim.py"] = "# KILLWORKER\nimport sys\n"


@pytest.fixture(scope="module")
def setup(tmp_path_factory, model):
    env = plugin_dist(tmp_path_factory.mktemp("site"), "lrt_faults_dask", fault_plugin.SOURCE)
    root = project(tmp_path_factory.mktemp("proj"), FILES)
    local = check(root, "--tools", "flake8,killer", "--jobs", "2", model=model, env=env)
    assert local.rc == 1 and local.stderr == ""
    assert sorted(f["code"] for f in local.of("pkg/victim.py")) == ["F401", "FK001"]
    return root, env, local


def _dask(root, env, model, marker, deaths: int):
    marker.write_text(str(deaths), encoding="utf-8")
    return check(root, "--tools", "flake8,killer", "--jobs", "2", "--executor", "dask",
                 "--dask-workers", "2", model=model, timeout=300,
                 env={**env, "LRT_KILL_MARKER": str(marker)})


def test_worker_death_is_retried_and_results_complete(setup, model, tmp_path):
    root, env, local = setup
    marker = tmp_path / "deaths"
    run = _dask(root, env, model, marker, deaths=1)
    assert marker.read_text(encoding="utf-8") == "-1"  # a worker did die, then retried
    assert run.rc == 1, run.stderr
    assert run.report["findings"] == local.report["findings"]


def test_task_that_kills_every_worker_is_reported_not_lost(setup, model, tmp_path):
    """Past Dask's retry limit the task's files become LR902; the others stay."""
    root, env, local = setup
    run = _dask(root, env, model, tmp_path / "deaths", deaths=100)
    assert run.rc == 1, run.stderr
    killer = [f for f in run.report["findings"] if f["tool"] == "killer"]
    lost = {f["path"] for f in killer if f["code"] == "LR902"}
    assert "pkg/victim.py" in lost
    for f in killer:
        if f["code"] == "LR902":
            assert f["kept"] and "KilledWorker" in f["message"]
    flake8 = [f for f in run.report["findings"] if f["tool"] == "flake8"]
    assert flake8 == [f for f in local.report["findings"] if f["tool"] == "flake8"]
