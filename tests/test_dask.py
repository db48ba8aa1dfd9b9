"""The Dask executor gives the local engine's results (issue 5, point 5)."""
from __future__ import annotations

import os

import pytest

from tests.helpers import SAMPLE, check_json, run_lintrank, write_tree

pytest.importorskip("distributed")


def test_local_cluster_run_equals_local_run(tmp_path, baseline_model_path):
    write_tree(tmp_path, {**SAMPLE, **{f"pkg/m{i}.py": f"import os\nx{i}=1\n"
                                       for i in range(4)}})
    args = ("--threshold", "0", "--no-cache", "--model", baseline_model_path, "--jobs", "2")
    local = check_json(*args, cwd=tmp_path)
    dask = check_json("--executor", "dask", "--dask-workers", "2", *args, cwd=tmp_path)
    assert dask["findings"] == local["findings"]
    assert dask["summary"]["analysed"] == local["summary"]["analysed"] == \
        {"flake8": 7, "pylint": 7}


def test_unreachable_scheduler_is_a_usage_error(tmp_path, baseline_model_path):
    write_tree(tmp_path, SAMPLE)
    proc = run_lintrank("check", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9",
                        "--no-cache", "--model", baseline_model_path, cwd=tmp_path)
    assert proc.returncode == 2
    assert "cannot connect to the Dask scheduler" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_batches_follow_the_clusters_capacity_not_local_jobs(tmp_path, baseline_model_path):
    from lintrank.core.cache import Cache

    write_tree(tmp_path, {**SAMPLE, **{f"pkg/m{i}.py": f"import os\nx{i}=1\n"
                                       for i in range(4)}})
    check_json("--executor", "dask", "--dask-workers", "2", "--jobs", "1", "--tools", "pylint",
               "--cache-dir", str(tmp_path / "c"), "--model", baseline_model_path,
               cwd=tmp_path)
    # One pylint batch per worker (the cost model keeps one sample per batch): with
    # batches cut for --jobs 1, the second worker would sit idle.
    assert len(Cache(tmp_path / "c").get_costs()["pylint"]) == 2


def _housekeeping() -> dict:
    """How the worker running this task was made: what it runs, and how often."""
    from distributed import get_worker

    worker = get_worker()
    every = {name: pc.callback_time / 1000 for name, pc in worker.periodic_callbacks.items()}
    return {"profile": "profile" in every, "tick": every["tick"],
            "monitor": every["monitor"], "memory_limit": worker.memory_manager.memory_limit,
            "pid": os.getpid()}


def test_local_cluster_workers_run_their_housekeeping_rarely():
    """Profiler, fast ticks and memory polling would take CPU from the analyzers on
    the same cores; worker processes (and their nannies) would take more."""
    from lintrank.core.executors import open_executor

    with open_executor("dask", 1) as (executor, capacity):
        assert capacity == 1
        assert executor.submit(_housekeeping).result(timeout=60) == {
            "profile": False, "tick": 1.0, "monitor": 5.0, "memory_limit": None,
            "pid": os.getpid()}  # its workers run in lintrank's own process
