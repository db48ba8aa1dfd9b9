"""A run that ends early stops its analyzers on the workers of a user's Dask cluster.

Dask cannot interrupt a running task's thread: when a run with ``--scheduler`` ends
early (Ctrl-C, a CI job's SIGTERM, an error), its cancelled tasks would each wait on
their analyzer, on the user's worker processes, until it ended by itself (minutes of
pylint). So each run has a name; in a worker process its tasks keep their analyzers
(a :class:`~lintrank.core.processes.Group` each) under it, and a run that ends early
has every worker kill them (:func:`stop_run`, out of band) once its tasks are
cancelled. A run that ends normally makes no call for this. lintrank's own
LocalCluster runs its workers in lintrank's process: :func:`processes.stop_all`
kills their analyzers.
"""
from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from lintrank.core import processes

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")

#: How long the client waits for its run's tasks to be cancelled and their analyzers
#: killed: an unreachable scheduler must not hold up the end of the run for long.
STOP_SECONDS = 2.0

_LOCK = threading.Lock()
#: In a worker process: run name -> the groups of its tasks running here.
_RUNNING: dict[str, set[processes.Group]] = {}
#: In a worker process: the runs stopped lately, so that a task of one that begins
#: after the stop (cancelled as it began) starts no analyzer. Such a task begins
#: moments after it, if at all: the last few runs are enough.
_STOPPED: collections.deque[str] = collections.deque(maxlen=64)


@contextlib.contextmanager
def stoppable(client: Client) -> Iterator[concurrent.futures.Executor]:
    """An executor on ``client`` whose tasks' analyzers die when the run ends early:
    on an exception out of this block, or :func:`processes.stop_all` (a signal)."""
    executor = client.get_executor(pure=False)
    stop = _RunStop(client, executor)
    with processes.stopping_with(stop):
        try:
            yield _Executor(executor, stop.name)
        except BaseException:
            stop()  # before the client closes, which leaves running tasks running
            raise


class _RunStop:
    """Cancels the run's tasks and has the workers kill their analyzers, once."""

    def __init__(self, client: Client, executor: concurrent.futures.Executor) -> None:
        self.client = client
        self.executor = executor
        self.name = f"lintrank-{uuid.uuid4().hex}"
        self.done = False

    def __call__(self) -> None:
        if self.done:
            return
        self.done = True
        thread = threading.Thread(target=self._stop, name="lintrank-stop", daemon=True)
        thread.start()
        thread.join(STOP_SECONDS)

    def _stop(self) -> None:
        with contextlib.suppress(Exception):  # no scheduler: nothing can stop the tasks
            # Cancelled first: a task whose analyzer is killed ends at once, and its
            # result would reach the closing client (Dask logs a traceback then).
            self.executor.shutdown(wait=False)
            self.client.run(stop_run, self.name)


class _Executor(concurrent.futures.Executor):
    """A Dask executor whose calls run through :func:`run_stoppable` for one run."""

    def __init__(self, executor: concurrent.futures.Executor, name: str) -> None:
        self._executor = executor
        self._name = name

    def submit(self, fn: Callable[..., T], /, *args: Any,
               **kwargs: Any) -> concurrent.futures.Future[T]:
        return self._executor.submit(run_stoppable, self._name, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait)


def run_stoppable(name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a Dask task of the run ``name``: :func:`stop_run`
    kills the analyzers it starts, and it starts none once the run is stopped."""
    group = processes.Group()
    with _LOCK:
        _RUNNING.setdefault(name, set()).add(group)
        if name in _STOPPED:
            group.stop()
    try:
        with processes.grouped(group):
            return fn(*args, **kwargs)
    finally:
        with _LOCK:
            running = _RUNNING.get(name, set())
            running.discard(group)
            if not running:
                _RUNNING.pop(name, None)


def stop_run(name: str) -> None:
    """Kill the analyzers of the run ``name``'s tasks in this process, and refuse
    its later ones (the client runs this on every worker)."""
    with _LOCK:
        _STOPPED.append(name)
        groups = _RUNNING.pop(name, set())
    for group in groups:
        group.stop()
