"""The progress bar appears on a terminal and stays out of pipes and --quiet runs."""
from __future__ import annotations

import os
import pty
import subprocess

from tests.helpers import SAMPLE, lintrank_exe, write_tree


def _run_with_tty_stderr(args: list[str], cwd) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    master, slave = pty.openpty()
    env = dict(os.environ, LINTRANK_CACHE_DIR=str(cwd / ".cache"), COLUMNS="100",
               TERM="xterm")
    proc = subprocess.Popen([lintrank_exe(), *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=slave, env=env, text=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read() if proc.stdout else ""
    rc = proc.wait(timeout=300)
    os.close(master)
    return rc, out, b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_only(tmp_path):
    write_tree(tmp_path, SAMPLE)
    args = ["check", "--tools", "flake8", "--no-cache", "--threshold", "0"]
    rc, out, err = _run_with_tty_stderr(args, tmp_path)
    assert rc == 1 and "F821" in out
    assert "analysing" in err  # rich drew the bar on the terminal
    rc, out, err = _run_with_tty_stderr([*args, "--quiet"], tmp_path)
    assert rc == 1 and "analysing" not in err
    piped = subprocess.run([lintrank_exe(), *args], cwd=tmp_path, capture_output=True,
                           text=True, check=False)
    assert "analysing" not in piped.stderr and "F821" in piped.stdout
