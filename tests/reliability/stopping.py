"""Stopping a run midway: signal ``lintrank`` once its analyzer runs, then look for
that analyzer's process (Linux ``/proc``)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from tests.helpers import lintrank_exe


def interrupt(root: Path, args: Sequence[str], env: dict[str, str], pidfile: Path,
              signum: int) -> tuple[int, subprocess.CompletedProcess]:
    """Run ``lintrank check args`` in ``root`` and send it ``signum`` once its analyzer
    has written its pid to ``pidfile`` (fault_plugin's HANG); return that pid and how
    lintrank ended."""
    proc = subprocess.Popen([lintrank_exe(), "check", *args], cwd=root,
                            env=dict(os.environ, **env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        analyzer = written_pid(pidfile)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)  # a hang guard, not a timing assertion
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return analyzer, subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def written_pid(pidfile: Path) -> int:
    """The pid a hanging analyzer writes to ``pidfile``, once it has (within 60 s)."""
    for _ in range(6000):
        if pidfile.exists() and pidfile.read_text():
            break
        time.sleep(0.01)
    return int(pidfile.read_text())


def gone(pid: int, within: float = 5.0) -> bool:
    """Whether process ``pid`` has ended (a zombie counts) or does within ``within`` s:
    a kill is asynchronous."""
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone before the open or the read
        return False


def kill(pid: int) -> None:
    """Kill process ``pid`` if it still runs: a test leaves no analyzer behind."""
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
