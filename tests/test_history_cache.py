"""History cached per HEAD and feature rows cached per file give the uncached values."""
from __future__ import annotations

import subprocess

import numpy as np

from lintrank.core.cache import Cache
from lintrank.core.finding import Finding
from lintrank.core.history import repo_history
from lintrank.core.history_cache import cached_history
from lintrank.core.scorer import feature_matrix
from tests.helpers import write_tree
from tests.plugin_fixtures import run_tool


def _git(root, *args, **env):  # type: ignore[no-untyped-def]
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
                        "PATH": "/usr/bin:/bin:/usr/local/bin", **env})


def _repo(tmp_path):  # type: ignore[no-untyped-def]
    write_tree(tmp_path, {"setup.cfg": "[flake8]\nmax-line-length = 100\n",
                          "a.py": "import os\n", "b.py": "x = 1\n"})
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "one")
    (tmp_path / "a.py").write_text("import os\nimport sys\n")
    _git(tmp_path, "commit", "-qam", "two")
    return tmp_path


def test_cached_history_equals_uncached_and_follows_head(tmp_path):
    repo = _repo(tmp_path / "r")
    cache = Cache(tmp_path / "cache")
    expected = repo_history(str(repo))
    assert cached_history(str(repo), cache) == expected  # miss: computed and stored
    assert cached_history(str(repo), cache) == expected  # hit: decoded
    (repo / "b.py").write_text("x = 2\n")
    _git(repo, "commit", "-qam", "three")
    moved = cached_history(str(repo), cache)
    assert moved == repo_history(str(repo)) and moved["b.py"].commits == 2
    (repo / "a.py").write_text("import os\nimport sys\nimport re\n")  # uncommitted edit
    assert cached_history(str(repo), cache)["a.py"].recent == \
        repo_history(str(repo))["a.py"].recent
    cache.close()


def test_cached_feature_rows_equal_fresh_and_follow_edits(tmp_path):
    repo = _repo(tmp_path / "r")
    cache = Cache(tmp_path / "cache")
    history = cached_history(str(repo), cache)
    findings = [Finding("flake8", "F401", "m", "a.py", 1, severity="warning"),
                Finding("flake8", "F401", "m", "a.py", 2, severity="warning")]
    fresh = feature_matrix(findings, str(repo), history)
    first = feature_matrix(findings, str(repo), history, cache=cache)
    again = feature_matrix(findings, str(repo), history, cache=cache)
    np.testing.assert_array_equal(first, fresh)
    np.testing.assert_array_equal(again, fresh)
    (repo / "a.py").write_text("import os\n\n\n\n\nimport sys\n")
    moved = [findings[0], Finding("flake8", "F401", "m", "a.py", 6, severity="warning")]
    np.testing.assert_array_equal(feature_matrix(moved, str(repo), history, cache=cache),
                                  feature_matrix(moved, str(repo), history))
    cache.close()


def test_a_shallow_clone_is_named_in_a_warning(tmp_path, baseline_model_path):
    """A depth-1 clone's history is cut: every file looks new to the ranking."""
    from tests.helpers import run_lintrank

    repo = _repo(tmp_path / "r")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)],
                   check=True, capture_output=True)
    args = ("check", "--no-cache", "--tools", "flake8", "--model", baseline_model_path)
    shallow = run_lintrank(*args, cwd=clone)
    assert shallow.returncode in (0, 1), shallow.stderr
    assert "shallow clone" in shallow.stderr and "Traceback" not in shallow.stderr
    whole = run_lintrank(*args, cwd=repo)
    assert whole.returncode in (0, 1) and "shallow" not in whole.stderr
    # The plugins print it as the CLI does, not in Python's warning format.
    for tool, extra in (("flake8", ["--format=lintrank", "a.py"]),
                        ("pylint", ["--load-plugins=lintrank.plugins.pylint", "a.py"])):
        hosted = run_tool(tool, *extra, cwd=clone)
        assert "lintrank: warning: " in hosted.stderr and "shallow clone" in hosted.stderr
        assert "ShallowHistoryWarning" not in hosted.stderr, hosted.stderr


def test_only_the_latest_heads_histories_are_kept(tmp_path):
    """One history is cached per HEAD: older ones go, the cache does not grow forever."""
    from lintrank.core.history_cache import KEPT_HEADS, head_sha

    repo = _repo(tmp_path / "r")
    cache = Cache(tmp_path / "cache")
    try:
        heads = []
        for i in range(KEPT_HEADS + 2):
            (repo / "b.py").write_text(f"x = {i}\n")
            _git(repo, "commit", "-qam", f"c{i}")
            cached_history(str(repo), cache)
            heads.append(head_sha(str(repo)))
        stored = [k for (k,) in cache._query("SELECT key FROM derived WHERE key LIKE ?",
                                             ["history:%"])]
        assert sorted(k.split(":")[3] for k in stored) == sorted(heads[-KEPT_HEADS:])
        assert cached_history(str(repo), cache) == repo_history(str(repo))
    finally:
        cache.close()


DAY = 86400


def _commit(root, message, day, author="t@x", *command):  # type: ignore[no-untyped-def]
    """Commit everything (or run ``command``) at ``day`` days after 2024-01-01."""
    when = f"@{1704067200 + day * DAY} +0000"
    _git(root, "add", "-A")
    _git(root, *(command or ("commit", "-qm", message)), GIT_AUTHOR_EMAIL=author,
         GIT_COMMITTER_EMAIL=author, GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)


def _aged_repo(root):  # type: ignore[no-untyped-def]
    """Commits spread over a year, older and newer than the 90 days' window."""
    write_tree(root, {"a.py": "a = 0\n", "b.py": "b = 0\n"})
    _git(root, "init", "-q")
    _commit(root, "start", 0, "ann@x")
    for day, name, author in ((40, "a.py", "bob@x"), (150, "b.py", "ann@x"),
                              (200, "a.py", "cy@x")):
        (root / name).write_text((root / name).read_text() + f"v{day} = {day}\n")
        _commit(root, f"day {day}", day, author)
    return root


def test_a_new_head_reads_only_the_commits_since_the_last_one(tmp_path):
    """After a commit, the history starts from the counts kept for the previous HEAD
    (its ancestor) and equals the history read from scratch, window included."""
    from lintrank.core.history import HistoryStats, read_history
    from lintrank.core.history_cache import head_sha

    repo = _aged_repo(tmp_path / "r")
    cache = Cache(tmp_path / "cache")
    try:
        cached_history(str(repo), cache)
        old = head_sha(str(repo))
        # A merged branch with an old commit, a new author and a new file, 60 days on.
        _git(repo, "checkout", "-qb", "side")
        (repo / "c.py").write_text("c = 1\n")
        _commit(repo, "side", 210, "dee@x")
        _git(repo, "checkout", "-q", "-")
        (repo / "a.py").write_text((repo / "a.py").read_text() + "late = 1\n")
        _commit(repo, "late", 260, "ann@x")
        _commit(repo, "merge", 265, "ann@x", "merge", "-q", "--no-edit", "side")
        moved = cached_history(str(repo), cache)
        assert moved == repo_history(str(repo))
        assert (moved["a.py"].commits, moved["a.py"].commits_90d, moved["a.py"].authors,
                moved["a.py"].first) == (4, 2, 3, 1704067200)
        assert moved["c.py"].commits_90d == 1 and moved["b.py"].commits_90d == 0
        # From an empty base, only the commits after it are read.
        since = read_history(str(repo), base=(old, HistoryStats(), 0.0))[0]
        assert set(since) == {"a.py", "c.py"} and since["a.py"].commits == 1
    finally:
        cache.close()


def test_history_after_a_rewritten_or_unreadable_base_is_read_whole(tmp_path):
    """An amended HEAD is no descendant of the counts kept, and counts of the wrong
    shape or naming no commit are ignored: the history is read from scratch."""
    from lintrank.core.history_cache import TALLY

    repo = _aged_repo(tmp_path / "r")
    cache = Cache(tmp_path / "cache")
    try:
        cached_history(str(repo), cache)
        (repo / "b.py").write_text("b = 2\n")
        _commit(repo, "amended", 201, "eve@x")  # a sibling, then the old HEAD is gone
        _git(repo, "reset", "-q", "--soft", "HEAD~1")
        _commit(repo, "amended", 202, "eve@x")
        assert cached_history(str(repo), cache) == repo_history(str(repo))
        tally = next(k for (k,) in cache._query("SELECT key FROM derived WHERE key LIKE ?",
                                                [TALLY + "%"]))
        for bad in ({"head": "--output=/tmp/x", "files": {}}, {"head": "0" * 40},
                    {"files": 3}, [1, 2]):
            cache.put_derived({tally: bad})
            (repo / "a.py").write_text((repo / "a.py").read_text() + "x = 1\n")
            _commit(repo, "again", 203, "eve@x")
            assert cached_history(str(repo), cache) == repo_history(str(repo))
    finally:
        cache.close()
