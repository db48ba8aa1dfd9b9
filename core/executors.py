"""Where file tasks run: a local pool, or a Dask distributed cluster.

Both give a :class:`concurrent.futures.Executor` plus its capacity (tasks that can
run at once), so the engine has one code path. Local tasks run on threads because
each one spends its time waiting on an analyzer *subprocess*: the parallelism is
in processes either way, without pickling results back from a process pool.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import logging
from collections.abc import Iterator

from lintrank.core import dask_stop
from lintrank.core.exceptions import UsageError

DASK_HINT = "install the extra: pip install 'lintrank[dask]'"

#: Dask settings of the LocalCluster lintrank starts. Its housekeeping runs on the
#: cores the analyzers use and shows nothing of theirs (a task only waits for its
#: analyzer's process, for seconds): the workers' statistical profiler (a stack
#: sample every 10 ms) is off, and the event loops' tick (every 20 ms) and system
#: monitor (every 500 ms) run rarely. With ``memory_limit=0`` nothing polls the
#: workers' memory every 100 ms either: the analyzers' memory is in their own
#: processes, which that limit does not count. Read when the cluster is made.
QUIET_CLUSTER = {"distributed.worker.profile.enabled": False,
                 "distributed.admin.tick.interval": "1s",
                 "distributed.admin.system-monitor.interval": "5s"}


@contextlib.contextmanager
def open_executor(kind: str, jobs: int, scheduler: str | None = None,
                  workers: int = 0) -> Iterator[tuple[concurrent.futures.Executor, int]]:
    """Yield ``(executor, capacity)`` for ``kind`` (``local`` or ``dask``)."""
    if kind == "local":
        pool = concurrent.futures.ThreadPoolExecutor(max(jobs, 1),
                                                     thread_name_prefix="lintrank")
        try:
            yield pool, max(jobs, 1)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    if kind != "dask":
        raise UsageError(f"unknown executor {kind!r}; use local or dask")
    with _dask_client(jobs, scheduler, workers) as client:
        capacity = sum(client.nthreads().values()) or 1
        if not scheduler:  # our own cluster's workers: stop_all kills their analyzers
            yield client.get_executor(pure=False), capacity
            return
        with dask_stop.stoppable(client) as executor:
            yield executor, capacity


@contextlib.contextmanager
def _dask_client(jobs: int, scheduler: str | None, workers: int) -> Iterator:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise UsageError(f"--executor dask needs dask.distributed; {DASK_HINT}") from exc
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="10s")
        else:
            import dask

            # One single-threaded worker per job: analyzers are CPU-bound subprocesses,
            # so more threads per worker would only oversubscribe. The workers live in
            # this process (Dask's advice for tasks that release the GIL: these wait on
            # their analyzer's process): worker processes, each with a nanny process,
            # took 0.4 s to start and 0.5 s of CPU each per run on the analyzers' cores
            # (2-worker pylint runs on 2 cores: 0.4-1.3 s faster, see README).
            with dask.config.set(QUIET_CLUSTER):
                cluster = LocalCluster(n_workers=max(workers or jobs, 1),
                                       threads_per_worker=1, processes=False,
                                       dashboard_address=None, memory_limit=0)
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        where = scheduler or "a LocalCluster"
        raise UsageError(f"cannot connect to the Dask scheduler at {where}: {exc}") from exc
    if cluster is None:
        with contextlib.closing(client):
            yield client
        return
    dask_log = logging.getLogger("distributed")
    level = dask_log.level
    try:
        yield client
    except BaseException:
        # Our own cluster closing on an interrupt or an error cancels its running
        # tasks, and Dask logs a warning for each: nothing a user can act on.
        dask_log.setLevel(logging.ERROR)
        raise
    finally:
        client.close()
        cluster.close()
        dask_log.setLevel(level)
