"""Analyzer subprocesses: run with a time limit, tracked, and stopped together.

When lintrank is interrupted or terminated (Ctrl-C, a CI job's SIGTERM sent to
lintrank alone), the analyzers it started must not run on as orphans for minutes;
the engine's worker threads must not start new ones either. :func:`stop_all` does
both; the CLI calls it from its signal handler.
"""
from __future__ import annotations

import subprocess
import threading
from collections.abc import Mapping, Sequence

_LOCK = threading.RLock()  # re-entrant: stop_all may run in a signal handler
_LIVE: set[subprocess.Popen] = set()
_STOPPING = threading.Event()


class Stopped(Exception):
    """lintrank is stopping: no analyzer is started any more."""


def run(argv: Sequence[str], cwd: str, timeout: float | None,
        env: Mapping[str, str]) -> subprocess.CompletedProcess:
    """Like ``subprocess.run(capture_output=True)``, but stoppable by :func:`stop_all`.

    :raises subprocess.TimeoutExpired: past ``timeout`` (the process is killed first;
        the exception's ``stdout`` holds what it wrote until then).
    :raises Stopped: when lintrank is stopping.
    """
    if _STOPPING.is_set():
        raise Stopped
    proc = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with _LOCK:
        _LIVE.add(proc)
        if _STOPPING.is_set():  # stop_all ran between the check and the start
            proc.kill()
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
    if _STOPPING.is_set():
        raise Stopped
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def stop_all() -> None:
    """Refuse new analyzer runs and kill the running ones (signal-handler safe)."""
    _STOPPING.set()
    with _LOCK:
        live = list(_LIVE)
    for proc in live:
        try:
            proc.kill()
        except OSError:
            pass  # already gone


def reset() -> None:
    """Allow runs again (a long-lived process, e.g. the LSP server, after a stop)."""
    _STOPPING.clear()
