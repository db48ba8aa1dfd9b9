"""A broken, locked, shared, killed, read-only or full cache never changes results.

Each case damages the real SQLite cache the way a crash, a disk or a person would,
runs the real CLI with the cache on, and asserts the findings equal those of a
clean uncached run, the exit status, and the one warning (or none) on stderr.
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from lintrank.core.cache import DB_NAME

from tests.helpers import lintrank_exe
from tests.reliability.conftest import check, project

DB = DB_NAME
FILES = {f"pkg/mod_{i}.py": f"import os\nvalue_{i}=1\n" for i in range(12)}
FILES["pkg/many.py"] = "".join(f"x{i}=1\n" for i in range(600))  # a big payload


@pytest.fixture(scope="module")
def reference(tmp_path_factory, model):
    root = project(tmp_path_factory.mktemp("reference"), FILES)
    run = check(root, "--tools", "flake8", model=model)
    assert run.rc == 1 and len(run.report["findings"]) > 600, run.stderr
    return run.report["findings"]


@pytest.fixture()
def warm(tmp_path, model, reference):
    """A project whose cache holds a complete warm run."""
    root = project(tmp_path / "proj", FILES)
    cache = tmp_path / "cache"
    run = check(root, "--tools", "flake8", model=model, cache=True,
                env={"LINTRANK_CACHE_DIR": str(cache)})
    assert run.report["findings"] == reference
    return root, cache


def _rerun(root, cache, model, **kw):
    return check(root, "--tools", "flake8", model=model, cache=True,
                 env={"LINTRANK_CACHE_DIR": str(cache)}, **kw)


def _same(run, reference) -> None:
    assert run.rc == 1, run.stderr
    assert run.report["findings"] == reference


def test_corrupt_cache_is_rebuilt_with_one_warning(warm, model, reference):
    root, cache = warm
    for suffix in ("", "-wal", "-shm"):
        if (cache / (DB + suffix)).exists():
            (cache / (DB + suffix)).unlink()
    (cache / DB).write_bytes(b"this is not a database" * 512)
    run = _rerun(root, cache, model)
    _same(run, reference)
    assert run.stderr.count("lintrank: warning:") == 1
    assert "is corrupt" in run.stderr and "rebuilding" in run.stderr
    again = _rerun(root, cache, model)  # the rebuilt cache works: all hits, no warning
    _same(again, reference)
    assert again.stderr == "" and again.report["summary"]["cached"]["flake8"] == 14


def test_truncated_cache(warm, model, reference):
    root, cache = warm
    _checkpoint(cache)
    data = (cache / DB).read_bytes()
    (cache / DB).write_bytes(data[: len(data) // 2])
    run = _rerun(root, cache, model)
    _same(run, reference)
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith(f"lintrank: warning: cache {cache / DB} is corrupt (")
    assert run.stderr.rstrip().endswith("; rebuilding")


def test_edited_rows_are_misses_and_never_executed(warm, model, reference, tmp_path):
    root, cache = warm
    marker = tmp_path / "PWNED"
    code = f'__import__("os").system("touch {marker}")'
    with sqlite3.connect(cache / DB) as db:
        db.execute("UPDATE results SET payload = ?", (code,))
        db.execute("UPDATE scores SET score = ?", (code,))
        db.execute("UPDATE modules SET payload = ?", ('[{"imports": 1}]',))
    run = _rerun(root, cache, model)
    _same(run, reference)
    assert not marker.exists()
    with sqlite3.connect(cache / DB) as db:
        db.execute("UPDATE results SET payload = ?", ('[{"tool": 1, "line": "x"}]',))
        db.execute("UPDATE scores SET score = 7.5")
    _same(_rerun(root, cache, model), reference)


def test_locked_cache_waits_then_completes(warm, model, reference):
    root, cache = warm
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         f"db = sqlite3.connect({str(cache / DB)!r}, isolation_level=None)\n"
         "db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True)\n"
         "time.sleep(3); db.execute('COMMIT')"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        (root / "pkg" / "new.py").write_text("import sys\n", encoding="utf-8")
        run = _rerun(root, cache, model)  # must write: new.py is not cached
    finally:
        holder.wait(timeout=30)
    assert run.rc == 1 and run.stderr == ""
    assert [f for f in run.report["findings"] if f["path"] != "pkg/new.py"] == reference
    assert [f["code"] for f in run.of("pkg/new.py")] == ["F401"]


def test_concurrent_runs_share_a_cache(tmp_path, model, reference):
    root = project(tmp_path / "proj", FILES)
    env = dict(os.environ, LINTRANK_CACHE_DIR=str(tmp_path / "cache"))
    argv = [lintrank_exe(), "check", "--format", "json", "--threshold", "1", "--quiet",
            "--model", model, "--tools", "flake8", "--jobs", "1"]
    procs = [subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 1 and err == "", err
        assert json.loads(out)["findings"] == reference
    run = _rerun(root, tmp_path / "cache", model)
    _same(run, reference)
    assert run.report["summary"]["cached"]["flake8"] == 14


def test_kill_9_during_cache_writes_then_next_run_is_correct(tmp_path, model, reference):
    root = project(tmp_path / "proj", FILES)
    cache = tmp_path / "cache"
    env = dict(os.environ, LINTRANK_CACHE_DIR=str(cache))
    argv = [lintrank_exe(), "check", "--format", "json", "--threshold", "1", "--quiet",
            "--model", model, "--tools", "flake8", "--jobs", "2"]
    proc = subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if _rows(cache, "results"):  # the first batch is being committed: kill now
            break
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL  # it was still running
    run = _rerun(root, cache, model)
    _same(run, reference)
    assert run.stderr == ""


def test_cache_path_is_a_file(tmp_path, model, reference):
    root = project(tmp_path / "proj", FILES)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    run = check(root, "--tools", "flake8", model=model, cache=True,
                env={"LINTRANK_CACHE_DIR": str(blocker / "cache")})
    _same(run, reference)
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith(f"lintrank: warning: cache {blocker / 'cache'} unusable")
    assert run.stderr.rstrip().endswith("running without cache")


def test_read_only_cache_runs_uncached_with_one_warning(warm, model, reference):
    root, cache = warm
    _checkpoint(cache)
    for path in cache.iterdir():
        path.chmod(0o444)
    cache.chmod(0o555)
    try:
        run = check(root, "--tools", "flake8", model=model, cache=True,
                    env={"LINTRANK_CACHE_DIR": str(cache)}, preexec=_without_root_bypass)
    finally:
        cache.chmod(0o755)
    _same(run, reference)  # cached results were still read; writes were not possible
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith(f"lintrank: warning: cache {cache} unusable (")
    assert run.stderr.rstrip().endswith("running without cache")


def test_full_disk_runs_uncached_with_one_warning(tmp_path, model, reference):
    """RLIMIT_FSIZE makes every write past 64 KiB fail the way a full disk does."""
    root = project(tmp_path / "proj", FILES)

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    run = check(root, "--tools", "flake8", model=model, cache=True, preexec=small_disk,
                env={"LINTRANK_CACHE_DIR": str(tmp_path / "cache")})
    _same(run, reference)
    assert run.stderr.count("\n") == 1
    assert "unusable" in run.stderr and "running without cache" in run.stderr


def _rows(cache, table: str) -> int:
    try:
        with sqlite3.connect(f"file:{cache / DB}?mode=ro", uri=True, timeout=0.1) as db:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return 0


def _checkpoint(cache) -> None:
    """Fold the WAL into the main file so damaging the file damages the data."""
    with sqlite3.connect(cache / DB) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _without_root_bypass() -> None:
    """Tests run as root, which ignores file modes: drop CAP_DAC_OVERRIDE first."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            os._exit(99)  # noqa: SLF001 - reported below as a skip
