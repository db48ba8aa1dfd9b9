"""Project memory: past-only counts from mined rows, the memory file, scoring with it."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from lintrank.core import memory
from lintrank.core.features import INDEX, MEMORY_FEATURES, N_FEATURES
from lintrank.core.finding import Finding
from lintrank.core.scorer import feature_matrix
from lintrank.models import project_memory_path

CODE_FIXES, FILE_FIXES, ALL_FIXES, SHARE = (INDEX[n] - INDEX[MEMORY_FEATURES[0]]
                                            for n in MEMORY_FEATURES)

# (repo, time, path, tool, code, outcome)
ROWS = [
    ("a", 1.0, "x.py", "flake8", "E225", "fixed"),
    ("a", 1.0, "x.py", "flake8", "E225", "fixed"),    # same commit: not yet known
    ("a", 2.0, "y.py", "flake8", "E225", "kept"),     # "kept" is never counted
    ("a", 3.0, "x.py", "flake8", "E225", "suppressed"),
    ("a", 4.0, "x.py", "ruff", "E225", "fixed"),       # another tool's E225
    ("a", 5.0, "y.py", "flake8", "E225", "fixed"),
    ("b", 9.0, "x.py", "flake8", "E225", "fixed"),     # another repository
]


def _columns(rows: list[tuple]) -> np.ndarray:
    return memory.past_columns(*(list(c) for c in zip(*rows)))


def test_past_columns_count_strictly_earlier_fixes_of_the_same_repository():
    cols = _columns(ROWS)
    assert cols[:, CODE_FIXES].tolist() == [0, 0, 2, 2, 0, 2, 0]
    assert cols[:, FILE_FIXES].tolist() == [0, 0, 0, 2, 2, 0, 0]
    assert cols[:, ALL_FIXES].tolist() == [0, 0, 2, 2, 2, 3, 0]
    assert cols[5, SHARE] == pytest.approx(2 / 4)


def test_past_columns_do_not_change_when_later_history_is_added():
    """No leakage: a row's memory is the same whatever the later commits are."""
    early = _columns(ROWS[:4])
    later = ROWS[:4] + [("a", 7.0, "x.py", "flake8", "E225", "fixed")] * 5
    assert np.array_equal(early, _columns(later)[:4])
    # Input order does not matter either (rows are grouped by time per repository).
    assert np.array_equal(_columns(ROWS[::-1])[::-1], _columns(ROWS))


def test_summarise_save_and_load_round_trip(tmp_path: Path):
    paths, tools, codes, outcomes = zip(*[(r[2], r[3], r[4], r[5]) for r in ROWS[:6]])
    found = memory.summarise(paths, tools, codes, outcomes)
    assert found.codes == {("flake8", "E225"): 3, ("ruff", "E225"): 1}
    assert found.files == {"x.py": 3, "y.py": 1} and found.total == 4
    memory.save(found, str(tmp_path), "abc")
    assert memory.load(str(tmp_path)) == found
    assert memory.load(str(tmp_path / "nowhere")) is None


@pytest.mark.parametrize("content", [
    "{not json", '{"format": 99}', '{"format": 1, "codes": {}, "files": {}}',
    '{"format": 1, "codes": {"flake8:E1": -2}, "files": {}, "total": 1}',
    '{"format": 1, "codes": {"E1": 2}, "files": {}, "total": 1}',
    '{"format": 1, "codes": {}, "files": {"a.py": "many"}, "total": 1}',
    '[1, 2]',
])
def test_a_broken_memory_file_is_ignored_with_a_warning(tmp_path: Path, content: str):
    path = project_memory_path(str(tmp_path))
    path.parent.mkdir()
    path.write_text(content, encoding="utf-8")
    with pytest.warns(UserWarning, match="lintrank learn"):
        assert memory.load(str(tmp_path)) is None


def test_feature_matrix_fills_memory_columns_from_the_project_memory(tmp_path: Path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("import os\nx=1\n", encoding="utf-8")
    findings = [Finding("flake8", "F401", "unused", "pkg/m.py", 1),
                Finding("flake8", "E225", "spaces", "pkg/m.py", 2)]
    known = memory.ProjectMemory({("flake8", "E225"): 6}, {"pkg/m.py": 2}, 8)
    with_memory = feature_matrix(findings, str(tmp_path), memory=known)
    without = feature_matrix(findings, str(tmp_path))
    assert with_memory.shape == (2, N_FEATURES)
    start = INDEX[MEMORY_FEATURES[0]]
    assert with_memory[:, start:].tolist() == [[0, 2, 8, 0], [6, 2, 8, pytest.approx(6 / 9)]]
    assert all(math.isnan(v) for v in without[:, start:].ravel())
    # The per-finding part does not depend on the memory.
    assert np.array_equal(with_memory[:, :start], without[:, :start], equal_nan=True)


def test_memory_file_is_written_atomically_as_json(tmp_path: Path):
    path = memory.save(memory.ProjectMemory({("flake8", "F401"): 1}, {"a.py": 1}, 1),
                       str(tmp_path), None)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["codes"] == {"flake8:F401": 1} and doc["total"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["memory.json"]  # no temp file left


def test_learn_writes_paths_relative_to_the_project_root(tmp_path: Path):
    """A project in a sub-folder of its git repository: findings are root-relative."""
    from lintrank.core.learn import save_memory

    root = tmp_path / "sub"
    root.mkdir()
    mined = memory.ProjectMemory({("flake8", "F401"): 2}, {"sub/a.py": 1, "lib/b.py": 1}, 2)
    save_memory(mined, str(root), str(tmp_path))
    loaded = memory.load(str(root))
    assert loaded is not None and loaded.files == {"a.py": 1, "../lib/b.py": 1}


def test_check_scores_with_the_memory_learn_wrote(tmp_path: Path):
    """End to end with the shipped model: the memory moves scores and explains them."""
    from tests.helpers import check_json, write_tree

    write_tree(tmp_path, {"pyproject.toml": "[project]\nname = 'm'\n",
                          "pkg/__init__.py": "", "pkg/a.py": "import os\nx=1\n"})
    args = ("--threshold", "0", "--tools", "flake8", "--explain", "--no-cache")

    def ranked(*extra: str) -> dict[str, dict]:
        report = check_json(*args, *extra, cwd=tmp_path)
        return {r["code"]: r for r in report["findings"]}

    def named(finding: dict) -> list[str]:
        return [f.get("feature", "") for f in finding["explanation"]["factors"]]

    before = ranked()
    assert not any(n.startswith("project_") for r in before.values() for n in named(r))
    memory.save(memory.ProjectMemory({("flake8", "F401"): 40}, {"pkg/a.py": 40}, 40),
                str(tmp_path), None)
    after = ranked()
    # A team that fixed F401 forty times: the next F401 is more likely to be fixed.
    assert after["F401"]["score"] > before["F401"]["score"]
    # `history = false` leaves the memory out, like the git history (none here).
    (tmp_path / "off.toml").write_text("[tool.lintrank]\nhistory = false\n", encoding="utf-8")
    assert ranked("--config", str(tmp_path / "off.toml"))["F401"]["score"] == \
        before["F401"]["score"]
    project_memory_path(str(tmp_path)).unlink()
    assert ranked()["F401"]["score"] == before["F401"]["score"]
