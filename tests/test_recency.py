"""Per-line edit recency: moved through diffs, equal when mined and when checked."""
from __future__ import annotations

import math
import subprocess

import pytest

from lintrank.core import recency
from lintrank.core.cache import Cache
from lintrank.core.features import INDEX, N_ROW_FEATURES
from lintrank.core.history import repo_history
from lintrank.core.history_cache import cached_history
from lintrank.core.mine import MineOptions, mine
from lintrank.core.pipeline import select_sources
from lintrank.core.recency import DAY, NONE_DAYS, WINDOW, Edits, advance, parse_diff

from .test_mine import Repo

T = 1_600_000_000.0


def test_advance_moves_drops_and_inherits():
    marks = {2: (T,), 5: (T,), 9: (T,)}
    # Replace line 5 with two lines, insert one after line 1, delete line 9.
    out = advance(marks, [(1, 0, 2, 1), (5, 1, 6, 2), (9, 1, 10, 0)], T + DAY)
    assert out == {2: (T + DAY,), 3: (T,), 6: (T, T + DAY), 7: (T + DAY,)}


def test_advance_forgets_edits_older_than_the_window():
    assert advance({1: (T,)}, [(3, 0, 4, 1)], T + WINDOW + DAY) == {4: (T + WINDOW + DAY,)}


def test_parse_diff_reads_renames_additions_and_deletions():
    diff = ("diff --git a/old.py b/new.py\nsimilarity index 100%\nrename from old.py\n"
            "rename to new.py\n"
            "diff --git a/x.py b/x.py\nnew file mode 100644\n--- /dev/null\n+++ b/x.py\n"
            "@@ -0,0 +1,2 @@\n+a\n+b\n"
            "diff --git a/y.py b/y.py\ndeleted file mode 100644\n--- a/y.py\n+++ /dev/null\n"
            "@@ -1 +0,0 @@\n-a\n")
    assert parse_diff(diff) == [("old.py", "new.py", []), (None, "x.py", [(0, 0, 1, 2)]),
                                ("y.py", None, [(1, 1, 0, 0)])]


def test_features_of_a_line():
    edits = Edits({10: (T - 2 * DAY,), 12: (T - 30 * DAY, T - 5 * DAY), 40: (T - DAY,)}, T)
    assert edits.features(11, (11, 20)) == [2.0, 2.0, NONE_DAYS, 3.0, 1.0, 5.0, 0.1]
    assert edits.features(12, (1, 100)) == [2.0, 2.0, 5.0, 3.0, 0.0, 1.0, 0.03]
    assert edits.features(100, (90, 100)) == [NONE_DAYS, 0.0, NONE_DAYS, 3.0, 60.0,
                                               NONE_DAYS, 0.0]
    assert Edits({}, T).features(1, (1, 1)) == [NONE_DAYS, 0.0, NONE_DAYS, 0.0, recency.FAR,
                                                NONE_DAYS, 0.0]


BODY = "".join(f"value_{i} = {i}\n" for i in range(30))


def _history_repo(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("start", {"a.py": "import os\n" + BODY})
    repo.commit("edit near the top", {"a.py": "import os\n" + BODY.replace("= 2\n", "= 22\n")})
    repo.rename("a.py", "b.py", "rename")
    repo.commit("insert", {"b.py": "import sys\nimport os\n" + BODY.replace("= 2\n", "= 22\n")})
    repo.commit("fix", {"b.py": "import sys\n" + BODY.replace("= 2\n", "= 22\n")})
    return repo


def test_mined_recency_equals_check_time_recency(tmp_path):
    """Across a rename and an insertion, the row of the fixed F401 sees the edits
    that `lintrank check` sees on a checkout of its parent."""
    repo = _history_repo(tmp_path)
    sources = select_sources(["flake8"])
    rows = list(mine(MineOptions(str(repo.root), "t/r", cache_dir=str(tmp_path / "c")),
                     sources))
    row = next(r for r in rows if r["outcome"] == "fixed")
    assert (row["path"], row["line"], row["code"]) == ("b.py", 2, "F401")
    names = recency.FEATURES
    mined = [row["x"][INDEX[n]] for n in names]
    # The file is new in the window: every line carries an edit. Line 2 (`import
    # os`) was written on day 1, its neighbour `import sys` on day 4 (the parent).
    assert mined == [0.0, 5.0, 3.0, 32.0, 0.0, 0.0, 1.0]
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(repo.root), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", "HEAD~1"], check=True)
    findings = sources[0].run(["b.py"], str(work), 60)
    from lintrank.core.scorer import feature_matrix

    matrix = feature_matrix(findings, str(work), repo_history(str(work)))
    i = next(i for i, f in enumerate(findings) if (f.code, f.line) == ("F401", 2))
    got = [math.nan if v is None else v for v in row["x"]]
    assert got == pytest.approx(matrix[i, :N_ROW_FEATURES].tolist(), nan_ok=True)


def test_uncommitted_edits_move_cached_recency(tmp_path):
    """Lines inserted in the work tree shift the cached per-line edits, every run."""
    repo = _history_repo(tmp_path)
    (repo.root / "b.py").write_text("# new\n# lines\n" + (repo.root / "b.py").read_text())
    cache = Cache(tmp_path / "cache")
    try:
        first = cached_history(str(repo.root), cache)  # a miss: computed, then cached
        second = cached_history(str(repo.root), cache)  # a hit: HEAD's, moved again
    finally:
        cache.close()
    fresh = repo_history(str(repo.root))
    assert first["b.py"].marks == second["b.py"].marks == fresh["b.py"].marks
    marks = fresh["b.py"].marks
    now = fresh["b.py"].now
    assert marks[1] == marks[2] == (now,)  # the uncommitted lines: edited "now"
    assert marks[3] == (T + 4 * DAY,)  # `import sys` (day 4), moved down by two
    assert marks[4] == (T + DAY,)  # value_0, written on day 1


def test_changed_lines_of_a_file_with_a_space_in_its_name(tmp_path):
    """git ends such names with a tab in ---/+++ lines; the path must not keep it."""
    from lintrank.core.history import last_change, recent_change

    repo = Repo(tmp_path / "r")
    repo.commit("start", {"a b.py": "x = 1\ny = 2\n"})
    (repo.root / "a b.py").write_text("x = 1\ny = 3\n")
    assert last_change(str(repo.root), "HEAD", worktree=True) == {"a b.py": ((2, 1),)}
    assert recent_change(str(repo.root), "HEAD", worktree=True)[1] == [
        ("a b.py", "a b.py", [(2, 1, 2, 1)])]
