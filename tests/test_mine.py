"""`lintrank mine` on small git repositories built here: exact labels, dedup, no leakage."""
from __future__ import annotations

import gzip
import math
import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from lintrank.core.features import INDEX, N_ROW_FEATURES
from lintrank.core.labels import lint_intent
from lintrank.core.matching import LineMap
from lintrank.core.mine import MineOptions, mine
from lintrank.core.pipeline import select_sources

from .helpers import run_lintrank


class Repo:
    """A throw-away git repository with deterministic commit times."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.day = 0
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        stamp = f"@{1_600_000_000 + self.day * 86400} +0000"
        env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@x",
                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@x",
                   GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp,
                   GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
        return subprocess.run(["git", "-C", str(self.root), *args], env=env, check=True,
                              capture_output=True, text=True).stdout

    def commit(self, message: str, files: dict[str, str | None]) -> str:
        self.day += 1
        for rel, text in files.items():
            path = self.root / rel
            if text is None:
                self.git("rm", "-q", rel)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
            self.git("add", rel)
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def rename(self, old: str, new: str, message: str) -> str:
        self.day += 1
        self.git("mv", old, new)
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


A0 = """\
    import os
    import sys
    import re


    def keep():
        unused = 1
        return sys
    """
A1 = """\
    import sys
    import re


    def keep():
        unused = 1
        return sys
    """
A3 = """\
    import sys
    import re  # noqa: F401


    def keep():
        unused = 1
        return sys
    """
B5 = """\
    import sys
    import re  # noqa: F401


    def keep():
        return sys
    """
C0 = """\
    def gone():
        import json
        return 1


    def stays():
        return 2
    """
C2 = """\
    def stays():
        return 2
    """


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Repo, dict[str, str]]:
    repo = Repo(tmp_path_factory.mktemp("repo"))
    shas = {"c0": repo.commit("initial", {"a.py": A0, "c.py": C0})}
    shas["c1"] = repo.commit("drop os", {"a.py": A1})  # fixes F401 'os'
    shas["c2"] = repo.commit("remove gone()", {"c.py": C2})  # scope deleted: no label
    shas["c3"] = repo.commit("silence re", {"a.py": A3})  # suppression
    shas["c4"] = repo.rename("a.py", "b.py", "move a to b")  # identity follows the rename
    shas["c5"] = repo.commit("use the variable", {"b.py": B5})  # fixes F841 after rename
    return repo, shas


def _mine(repo: Repo, cache: Path) -> list[dict]:
    options = MineOptions(repo=str(repo.root), name="t/repo", cache_dir=str(cache))
    return list(mine(options, select_sources(["flake8"])))


def _by_key(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["code"], r["path"]): r for r in rows}


def test_exact_labels_and_dedup(history, tmp_path):
    repo, shas = history
    rows = _mine(repo, tmp_path / "cache")
    summary = sorted((r["code"], r["path"], r["outcome"], r["label"], r["commit"])
                     for r in rows)
    assert summary == sorted([
        ("F401", "a.py", "fixed", 1, shas["c1"]),  # import os removed
        ("F401", "a.py", "suppressed", 0, shas["c3"]),  # import re got a noqa
        ("F841", "b.py", "fixed", 1, shas["c5"]),  # one row across the rename
    ])
    # `import json` vanished with its function: neither fixed nor persisting.
    assert not any(r["path"] == "c.py" for r in rows)


def test_rows_carry_provenance_without_source_text(history, tmp_path):
    repo, shas = history
    row = _by_key(_mine(repo, tmp_path / "cache"))[("F401", "a.py")]
    assert set(row) == {"repo", "commit", "parent", "time", "path", "line", "tool", "code",
                        "severity", "outcome", "label", "lint_intent", "x"}
    assert row["repo"] == "t/repo" and row["tool"] == "flake8"
    assert all(not isinstance(v, str) for v in row["x"])


def test_features_come_from_the_parent_revision(history, tmp_path):
    repo, shas = history
    fixed = next(r for r in _mine(repo, tmp_path / "cache") if r["outcome"] == "fixed"
                 and r["code"] == "F401")
    x = fixed["x"]
    assert fixed["parent"] == shas["c0"] and fixed["line"] == 1
    assert x[INDEX["file_commits"]] == 1  # a.py had one commit at c0, not the later ones
    assert x[INDEX["file_lines"]] == 8
    assert x[INDEX["file_age_days"]] == 0.0


def test_no_future_leakage(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("initial", {"a.py": A0})
    c1 = repo.commit("drop os", {"a.py": A1})
    before = {(r["commit"], r["code"], r["line"]): r["x"]
              for r in _mine(repo, tmp_path / "cache1")}
    repo.commit("more", {"a.py": A3, "d.py": "x = 1\n"})
    repo.commit("more again", {"a.py": B5})
    after = {(r["commit"], r["code"], r["line"]): r["x"]
             for r in _mine(repo, tmp_path / "cache2")}
    assert (c1, "F401", 1) in before
    shared = set(before) & set(after)
    assert (c1, "F401", 1) in shared
    assert all(before[k] == after[k] for k in shared)


def test_line_length_fix_needs_a_reflow_not_a_rewrite(tmp_path):
    repo = Repo(tmp_path / "r")
    long_call = "call_something(argument_number_one, argument_number_two, argument_three_x)"
    repo.commit("initial", {"e.py": f"""\
        def f():
            return {long_call}


        def g():
            return "{'a' * 90}"
        """})
    c1 = repo.commit("refactor", {"e.py": """\
        def f():
            return call_something(
                argument_number_one, argument_number_two, argument_three_x
            )


        def g():
            return "short"
        """})
    rows = [r for r in _mine(repo, tmp_path / "cache") if r["code"] == "E501"]
    assert [(r["line"], r["outcome"], r["commit"]) for r in rows] == [(2, "fixed", c1)]


def test_cli_writes_dataset_and_resumes_from_cache(history, tmp_path):
    repo, _ = history
    out = tmp_path / "ds.jsonl.gz"
    args = ("mine", str(repo.root), "--out", str(out), "--tools", "flake8",
            "--cache-dir", str(tmp_path / "cache"))
    first = run_lintrank(*args, cwd=tmp_path, check_rc=(0,))
    assert "3 findings, 2 fixed" in first.stderr
    lines = gzip.open(out, "rt").read().splitlines()
    assert json.loads(lines[0])["meta"]["tools"] == ["flake8"]
    assert len(lines) == 4
    cached = (tmp_path / "cache").glob("*.jsonl")
    size = sum(p.stat().st_size for p in cached)
    run_lintrank(*args, cwd=tmp_path, check_rc=(0,))
    # Every file version was linted once; the second run only read the cache.
    assert sum(p.stat().st_size for p in (tmp_path / "cache").glob("*.jsonl")) == size


def test_line_map_and_distance():
    lines = LineMap([(3, 1, 3, 2), (10, 0, 12, 1)])  # change line 3, insert after 10
    assert lines.new_line(1) == 1 and lines.new_line(3) is None
    assert lines.new_line(5) == 6 and lines.new_line(11) == 13
    assert lines.distance(3) == 0 and lines.distance(6) == 3 and lines.distance(11) == 0


def test_lint_intent():
    assert lint_intent("Fix flake8 warnings") and lint_intent("E501: wrap long lines")
    assert not lint_intent("Add a session interface")


def test_mined_features_equal_check_time_features(history, tmp_path):
    """A row's features are what `lintrank check` computes on a checkout of its parent."""
    from lintrank.core.history import repo_history
    from lintrank.core.scorer import feature_matrix

    repo, shas = history
    rows = [r for r in _mine(repo, tmp_path / "cache") if r["commit"] == shas["c3"]]
    assert rows
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(repo.root), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", shas["c2"]], check=True)
    source = select_sources(["flake8"])[0]
    findings = source.run(["a.py"], str(work), 60)
    matrix = feature_matrix(findings, str(work), repo_history(str(work)))
    for row in rows:
        i = next(i for i, f in enumerate(findings)
                 if (f.code, f.line) == (row["code"], row["line"]))
        got = [math.nan if v is None else v for v in row["x"]]
        assert got == pytest.approx(matrix[i, :N_ROW_FEATURES].tolist(), rel=1e-6,
                                    nan_ok=True)
    assert rows[0]["x"][INDEX["in_last_change"]] == 0.0  # c2 changed c.py, not a.py


def test_a_pure_rename_or_mode_change_is_in_the_last_change_as_when_mined(tmp_path):
    """The row's parent renamed b.py (no line changed) and made m.py executable: both
    files are part of that change, at check time as in the mined row."""
    from lintrank.core.history import last_change, repo_history
    from lintrank.core.scorer import feature_matrix

    repo = Repo(tmp_path / "r")
    repo.commit("one", {"a.py": "import os\nimport sys\n\nprint(sys.argv)\n",
                        "m.py": "import re\n"})
    repo.day += 1
    repo.git("mv", "a.py", "b.py")
    (repo.root / "m.py").chmod(0o755)
    repo.git("add", "m.py")
    repo.git("commit", "-q", "-m", "rename, mode")
    renamed = repo.git("rev-parse", "HEAD").strip()
    repo.commit("fix", {"b.py": "import sys\n\nprint(sys.argv)\n"})
    row = next(r for r in _mine(repo, tmp_path / "cache") if r["outcome"] == "fixed")
    assert (row["path"], row["code"]) == ("b.py", "F401")
    assert row["x"][INDEX["in_last_change"]] == 1.0
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(repo.root), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", renamed], check=True)
    assert last_change(str(work)) == {"b.py": (), "m.py": ()}
    findings = select_sources(["flake8"])[0].run(["b.py"], str(work), 60)
    matrix = feature_matrix(findings, str(work), repo_history(str(work)))
    i = next(i for i, f in enumerate(findings) if (f.code, f.line) == ("F401", row["line"]))
    got = [math.nan if v is None else v for v in row["x"]]
    assert got == pytest.approx(matrix[i, :N_ROW_FEATURES].tolist(), rel=1e-6, nan_ok=True)


def test_last_change_distance_in_mined_rows(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("initial", {"a.py": "import os\nimport sys\n"})
    repo.commit("touch", {"a.py": "import os\nimport sys\nimport re\n"})  # adds line 3
    repo.commit("fix", {"a.py": "import sys\nimport re\n"})  # removes os
    row = next(r for r in _mine(repo, tmp_path / "c") if r["outcome"] == "fixed")
    assert row["x"][INDEX["in_last_change"]] == 1.0
    assert row["x"][INDEX["last_change_distance"]] == 2.0  # line 1 vs added line 3


def test_project_facts_from_config_texts():
    from lintrank.core.project import facts_from_texts

    facts = facts_from_texts({"setup.cfg": "[flake8]\nmax-line-length = 100\n"
                                           "extend-ignore = E203, W503\n"
                                           "per-file-ignores = tests/*: F401\n"})
    assert facts.max_line_length == 100
    assert facts.mentions("E203") and facts.mentions("F401") and not facts.mentions("E501")
    ruff = facts_from_texts({"pyproject.toml": '[tool.ruff]\nline-length = 120\n'
                                               '[tool.ruff.lint]\nselect = ["UP", "B9"]\n'})
    assert ruff.max_line_length == 120 and ruff.mentions("B904") and not ruff.mentions("UP006")
    assert facts_from_texts({"pyproject.toml": "[tool.black]\n"}).max_line_length == 88
    assert facts_from_texts({"tox.ini": "[flake8\nbroken"}).max_line_length == 79


def test_last_change_prefers_uncommitted_edits(tmp_path):
    from lintrank.core.history import last_change, repo_history

    repo = Repo(tmp_path / "r")
    repo.commit("one", {"a.py": "a = 1\nb = 2\n", "b.py": "c = 3\n"})
    repo.commit("two", {"a.py": "a = 1\nb = 3\n"})
    assert last_change(str(repo.root), "HEAD", worktree=True) == {"a.py": ((2, 1),)}
    (repo.root / "b.py").write_text("c = 3\nd = 4\n")
    assert last_change(str(repo.root), "HEAD", worktree=True) == {"b.py": ((2, 1),)}
    history = repo_history(str(repo.root))
    assert history["a.py"].recent is None and history["b.py"].recent_distance(1) == 1.0


def test_findings_of_deleted_files_get_no_label(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("initial", {"d.py": "import os\n", "keep.py": "x = 1\n"})
    repo.commit("drop d.py", {"d.py": None})
    assert _mine(repo, tmp_path / "c") == []
