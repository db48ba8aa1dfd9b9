"""The result cache: markers, corruption, concurrency, `lintrank cache` (issue 5, point 1)."""
from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import warnings
from pathlib import Path

import pytest
from lintrank.core.cache import DB_NAME, Cache, CacheWarning, cache_dir, clean

from tests.helpers import SAMPLE, check_json, lintrank_exe, run_lintrank, write_tree


def _fill(cache: Cache, n: int, prefix: str = "k") -> None:
    cache.put_results({f"{prefix}{i}": [{"code": "E1", "i": i, "pad": "x" * 200}]
                       for i in range(n)})


def test_markers_roundtrip_and_env_override(tmp_path, monkeypatch):
    cache = Cache(tmp_path / "c")
    _fill(cache, 3)
    assert cache.get_results(["k0", "k2", "nope"]).keys() == {"k0", "k2"}
    assert (tmp_path / "c" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f59")
    assert (tmp_path / "c" / ".gitignore").read_text().splitlines()[-1] == "*"
    cache.close()
    monkeypatch.setenv("LINTRANK_CACHE_DIR", str(tmp_path / "env"))
    assert cache_dir(str(tmp_path)) == tmp_path / "env"
    assert cache_dir(str(tmp_path), str(tmp_path / "flag")) == tmp_path / "flag"


@pytest.mark.parametrize("damage", ["garbage", "truncate"])
def test_corrupt_cache_is_rebuilt_with_a_warning(tmp_path, damage):
    folder = tmp_path / "c"
    cache = Cache(folder)
    _fill(cache, 400)
    cache._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cache.close()
    path = folder / DB_NAME
    if damage == "garbage":
        path.write_bytes(b"this is not sqlite" * 100)
    else:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache = Cache(folder)
        cache.get_results([f"k{i}" for i in range(400)])  # may hit the damage only here
        _fill(cache, 5, "new")
        assert cache.get_results(["new1"]).keys() == {"new1"}
    assert cache.enabled
    assert any(issubclass(w.category, CacheWarning) and "rebuilding" in str(w.message)
               for w in caught)
    cache.close()


def test_unusable_folder_disables_the_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.warns(CacheWarning, match="without cache"):
        cache = Cache(blocker / "sub")
    assert not cache.enabled
    cache.put_results({"a": []})  # no crash, no effect
    assert cache.get_results(["a"]) == {}


def _writer(folder: str, tag: str) -> None:
    cache = Cache(Path(folder))
    for batch in range(10):
        cache.put_results({f"{tag}-{batch}-{i}": [{"i": i}] for i in range(50)})
    cache.close()


def test_concurrent_writers_lose_nothing(tmp_path):
    Cache(tmp_path / "c").close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path / "c"), f"w{n}"))
             for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    cache = Cache(tmp_path / "c")
    assert cache.info()["results"] == 4 * 10 * 50
    cache.close()


def test_concurrent_cli_runs_share_one_cache(tmp_path, baseline_model_path):
    write_tree(tmp_path, SAMPLE)
    env = {"LINTRANK_CACHE_DIR": str(tmp_path / "shared-cache")}
    argv = [lintrank_exe(), "check",
            "--format", "json", "--tools", "flake8", "--model", baseline_model_path, "."]
    procs = [subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
             for _ in range(3)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode in (0, 1) for p in procs), outputs
    assert not any("warning" in err for _, err in outputs), outputs
    findings = [json.loads(out)["findings"] for out, _ in outputs]
    assert findings[0] == findings[1] == findings[2]
    warm = check_json("--tools", "flake8", "--model", baseline_model_path, ".", cwd=tmp_path,
                      env=env)
    assert warm["summary"]["analysed"] == {"flake8": 0}
    assert warm["findings"] == findings[0]


def test_cache_info_and_clean_commands(tmp_path, baseline_model_path):
    write_tree(tmp_path, SAMPLE)
    check_json("--tools", "flake8", "--model", baseline_model_path, cwd=tmp_path)
    folder = tmp_path / ".lintrank_cache"
    # The folder option goes before or after the action, before or after the path.
    for argv in (["info", ".", "--cache-dir", str(folder)],
                 ["info", "--cache-dir", str(folder), "."],
                 ["--cache-dir", str(folder), "info", "."]):
        info = json.loads(run_lintrank("cache", *argv, cwd=tmp_path, check_rc=(0,)).stdout)
        assert info["results"] == 3 and info["enabled"] and info["path"] == str(folder)
    assert "ACTION" in run_lintrank("cache", cwd=tmp_path, check_rc=(2,)).stderr
    out = run_lintrank("cache", "clean", ".", "--cache-dir", str(folder), cwd=tmp_path,
                       check_rc=(0,)).stdout
    assert "removed" in out and not folder.exists()
    assert not clean(folder)


def test_entries_unused_for_a_month_are_dropped_and_a_hit_keeps_one(tmp_path):
    import sqlite3
    import time

    from lintrank.core.cache import MAX_UNUSED

    folder = tmp_path / "c"
    cache = Cache(folder)
    _fill(cache, 3)
    cache.put_scores("m", {b"r0": 0.5, b"r1": 0.25})
    cache.put_derived({"rows:a": [1], "rows:b": [2]})
    cache.put_modules({"d0": {"ok": True}})
    cache.close()
    old = time.time() - MAX_UNUSED - 3600
    db = sqlite3.connect(folder / DB_NAME)
    with db:
        for table in ("results", "scores", "derived", "modules"):
            db.execute(f"UPDATE {table} SET used = ?", (old,))
        db.execute("DELETE FROM meta")  # as if the last pruning was long ago
    db.close()
    cache = Cache(folder)
    # Used in this run: refreshed, so they stay; the rest ages out when the run ends.
    assert cache.get_results(["k1"]).keys() == {"k1"}
    assert cache.get_scores("m", [b"r1"]) == {b"r1": 0.25}
    assert cache.get_derived(["rows:b"]) == {"rows:b": [2]}
    cache.close()
    cache = Cache(folder)
    assert cache.get_results(["k0", "k1", "k2"]).keys() == {"k1"}
    assert cache.get_scores("m", [b"r0", b"r1"]) == {b"r1": 0.25}
    assert cache.get_derived(["rows:a", "rows:b"]).keys() == {"rows:b"}
    assert cache.get_modules(["d0"]) == {}
    cache.close()


def test_a_fresh_hit_is_a_pure_read_and_old_layouts_are_removed(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    for suffix in ("", "-wal", "-shm"):
        (folder / f"cache-v1.sqlite{suffix}").write_bytes(b"old layout")
    cache = Cache(folder)
    assert not list(folder.glob("cache-v1.sqlite*"))
    _fill(cache, 2)
    before = cache._db.total_changes
    assert cache.get_results(["k0", "k1"]).keys() == {"k0", "k1"}
    assert cache._db.total_changes == before  # written seconds ago: nothing to refresh
    cache.close()
    (folder / "cache-v1.sqlite").write_bytes(b"old layout")
    assert clean(folder) and not folder.exists()
