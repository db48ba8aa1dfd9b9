"""Analyzer subprocesses: run with a time limit, tracked, and stopped together.

When lintrank is interrupted or terminated (Ctrl-C, a CI job's SIGTERM sent to
lintrank alone), the analyzers it started must not run on as orphans for minutes;
the engine's worker threads must not start new ones either. :func:`stop_all` does
both; the CLI calls it from its signal handler. A :class:`Group` stops one task's
analyzers alone (a Dask task's, on a worker process that runs other runs' tasks too),
and :func:`stopping_with` has :func:`stop_all` also stop analyzers elsewhere.
"""
from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

_LOCK = threading.RLock()  # re-entrant: stop_all may run in a signal handler
_LIVE: set[subprocess.Popen] = set()
_STOPPING = threading.Event()
#: Threads between starting an analyzer and tracking it (a thread runs one at a time).
_STARTING: set[int] = set()
#: How long :func:`stop_all` waits for those threads to track what they started.
SETTLE_SECONDS = 2.0
#: What :func:`stop_all` also calls: stops of analyzers not in this process.
_ELSEWHERE: list[Callable[[], None]] = []
_THREAD = threading.local()  # .group: the Group of the task this thread runs


class Stopped(Exception):
    """lintrank is stopping: no analyzer is started any more."""


class Group:
    """The analyzers of one task, stoppable apart from the rest of the process's.

    A thread's analyzers join the group it runs :func:`grouped` in.
    """

    def __init__(self) -> None:
        self.live: set[subprocess.Popen] = set()
        self.stopped = False

    def stop(self) -> None:
        """Refuse the group's new analyzer runs and kill its running ones."""
        with _LOCK:  # run() tracks and checks under it: no analyzer slips between
            self.stopped = True
            live = list(self.live)
        _kill(live)


@contextlib.contextmanager
def grouped(group: Group) -> Iterator[None]:
    """Put the analyzers this thread starts inside into ``group``."""
    previous = getattr(_THREAD, "group", None)
    _THREAD.group = group
    try:
        yield
    finally:
        _THREAD.group = previous


@contextlib.contextmanager
def stopping_with(stop: Callable[[], None]) -> Iterator[None]:
    """Have :func:`stop_all` call ``stop`` (which must not raise) while inside."""
    _ELSEWHERE.append(stop)
    try:
        yield
    finally:
        _ELSEWHERE.remove(stop)


def run(argv: Sequence[str], cwd: str, timeout: float | None,
        env: Mapping[str, str]) -> subprocess.CompletedProcess:
    """Like ``subprocess.run(capture_output=True)``, but stoppable by :func:`stop_all`.

    :raises subprocess.TimeoutExpired: past ``timeout`` (the process is killed first;
        the exception's ``stdout`` holds what it wrote until then).
    :raises Stopped: when lintrank or the thread's :class:`Group` is stopping.
    """
    group = getattr(_THREAD, "group", None) or Group()
    if _stopping(group):
        raise Stopped
    me = threading.get_ident()
    with _LOCK:
        _STARTING.add(me)
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        with _LOCK:
            _LIVE.add(proc)
            group.live.add(proc)
            if _stopping(group):  # a stop ran between the check and the start
                proc.kill()
    finally:
        with _LOCK:
            _STARTING.discard(me)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        # What it wrote before the kill: an analyzer that streams its findings
        # file by file still gave the finished files' (see Source.partial).
        exc.stdout, exc.stderr = proc.communicate()
        raise
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    finally:
        with _LOCK:
            _LIVE.discard(proc)
            group.live.discard(proc)
    if _stopping(group):
        raise Stopped
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def _stopping(group: Group) -> bool:
    return _STOPPING.is_set() or group.stopped


def _kill(procs: Sequence[subprocess.Popen]) -> None:
    for proc in procs:
        try:
            proc.kill()
        except OSError:
            pass  # already gone


def stop_all() -> None:
    """Refuse new analyzer runs and kill the running ones (signal-handler safe),
    and call the stops of :func:`stopping_with` (a Dask run's, on its workers).

    An analyzer another thread has just started but not yet tracked is killed by
    that thread, which sees the stop: this waits (at most SETTLE_SECONDS, sleeping,
    so that thread gets the GIL) until no other thread is in between. Without the
    wait a SIGTERM, which ends lintrank right after this, could leave such an
    analyzer running when the starting thread was kept from the GIL past the
    analyzer's own start-up (by threads parsing git's output, say): the reliability
    suite's SIGTERM test failed in 1 run of 30 so, and in none of 40 with the wait.
    """
    _STOPPING.set()
    with _LOCK:
        live = list(_LIVE)
    _kill(live)
    for stop in _ELSEWHERE:
        stop()
    me = threading.get_ident()
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        with _LOCK:
            if not _STARTING - {me}:
                return
        time.sleep(0.001)


def reset() -> None:
    """Allow runs again (a long-lived process, e.g. the LSP server, after a stop)."""
    _STOPPING.clear()
