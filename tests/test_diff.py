"""--diff REF / --new-only keep the findings a code review would see."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lintrank.core.diff import changed_lines
from lintrank.core.exceptions import UsageError

from tests.helpers import check_json, run_lintrank, write_tree

OLD = """\
import os


def old(x):
    x=x + 1
    return x
"""
NEW = """\
import os
import sys


def old(x):
    x=x + 1
    return x


def new( y ):
    y=y + 2
    return y
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c",
                           "user.email=t@example.com", *args], check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    write_tree(tmp_path, {"pyproject.toml": "[project]\nname = 'd'\n", "pkg/mod.py": OLD,
                          "pkg/untouched.py": "import json\n"})
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    (tmp_path / "pkg" / "mod.py").write_text(NEW, encoding="utf-8")
    return tmp_path


def test_changed_lines(repo: Path) -> None:
    (repo / "pkg" / "fresh.py").write_text("x=1\n", encoding="utf-8")
    changed = changed_lines(str(repo), "HEAD")
    assert changed.ranges == {"pkg/mod.py": [(2, 2), (8, 12)]}
    assert changed.whole == {"pkg/fresh.py"}
    assert changed.touches("pkg/mod.py", 2) and changed.touches("pkg/mod.py", 9)
    assert not changed.touches("pkg/mod.py", 1) and not changed.touches("pkg/mod.py", 6)
    assert not changed.touches("pkg/mod.py", 13)
    assert changed.touches("pkg/fresh.py", 1)
    # From a subfolder, paths are relative to it, like the engine's.
    assert set(changed_lines(str(repo / "pkg"), "HEAD").ranges) == {"mod.py"}


def test_new_only_keeps_findings_on_changed_lines(repo: Path, baseline_model_path: str) -> None:
    everything = check_json("--model", baseline_model_path, "--tools", "flake8",
                            "--threshold", "0", cwd=repo)
    assert {r["path"] for r in everything["findings"]} == {"pkg/mod.py", "pkg/untouched.py"}
    report = check_json("--new-only", "--model", baseline_model_path, "--tools", "flake8",
                        "--threshold", "0", cwd=repo)
    found = {(r["code"], r["line"]) for r in report["findings"]}
    assert ("F401", 2) in found and ("E201", 10) in found and ("E225", 11) in found
    assert ("F401", 1) not in found and ("E225", 6) not in found  # unchanged lines
    assert report["summary"]["files"] == 1  # only the changed file was analysed
    # Staging does not matter; committing does: the diff is against the working tree.
    git(repo, "add", ".")
    staged = check_json("--new-only", "--model", baseline_model_path, "--tools", "flake8",
                        "--threshold", "0", cwd=repo)
    assert {(r["code"], r["line"]) for r in staged["findings"]} == found
    git(repo, "commit", "-qm", "change")
    clean = check_json("--new-only", "--model", baseline_model_path, "--tools", "flake8",
                       "--threshold", "0", cwd=repo)
    assert clean["findings"] == []
    since = check_json("--diff", "HEAD~1", "--model", baseline_model_path, "--tools",
                       "flake8", "--threshold", "0", cwd=repo)
    assert {(r["code"], r["line"]) for r in since["findings"]} == found


def test_certain_errors_in_changed_files_are_kept(repo: Path, baseline_model_path: str) -> None:
    # Removing the import makes an unchanged line's name undefined: still shown.
    (repo / "pkg" / "mod.py").write_text(OLD.replace("import os", "import sys") +
                                         "\n\ndef use():\n    return json\n")
    report = check_json("--new-only", "--model", baseline_model_path, "--tools", "flake8",
                        "--threshold", "0", cwd=repo)
    codes = {r["code"] for r in report["findings"]}
    assert "F821" in codes and "E225" not in codes


def test_repository_without_commits_counts_everything_new(tmp_path: Path,
                                                          baseline_model_path: str) -> None:
    write_tree(tmp_path, {"pyproject.toml": "[project]\nname = 'd'\n", "a.py": OLD})
    git(tmp_path, "init", "-q")
    report = check_json("--new-only", "--model", baseline_model_path, "--tools", "flake8",
                        "--threshold", "0", cwd=tmp_path)
    assert {r["code"] for r in report["findings"]} >= {"F401", "E225"}


def test_bad_ref_and_no_git_are_usage_errors(repo: Path, tmp_path_factory,
                                             baseline_model_path: str) -> None:
    proc = run_lintrank("check", "--diff", "no-such-ref", "--tools", "flake8", "--model",
                        baseline_model_path, cwd=repo)
    assert proc.returncode == 2 and "unknown git revision" in proc.stderr
    plain = tmp_path_factory.mktemp("nogit")
    with pytest.raises(UsageError, match="git work tree"):
        changed_lines(str(plain), "HEAD")


def test_plugins_take_the_diff_options(repo: Path, baseline_model_path: str) -> None:
    import sys

    with open(repo / "pyproject.toml", "a", encoding="utf-8") as handle:
        handle.write(f"\n[tool.lintrank]\nmodel = '{baseline_model_path}'\nthreshold = 0\n")
    bin_dir = Path(sys.executable).parent
    flake8 = subprocess.run([str(bin_dir / "flake8"), "--format=lintrank",
                             "--lintrank-new-only", "pkg"], cwd=repo, capture_output=True,
                            text=True, check=False)
    lines = flake8.stdout.splitlines()
    assert any(":2:1: F401" in line for line in lines), flake8
    assert not any(":1:1: F401" in line or ":6:6: E225" in line for line in lines)
    pylint = subprocess.run([str(bin_dir / "pylint"), "--load-plugins=lintrank.plugins.pylint",
                             "--lintrank-diff=HEAD", "pkg"], cwd=repo, capture_output=True,
                            text=True, check=False)
    assert ":2:0: W0611" in pylint.stdout and ":1:0: W0611" not in pylint.stdout, pylint
    assert "C0116" in pylint.stdout and ":5:0: C0116" not in pylint.stdout  # new def only


def test_precommit_hooks_report_only_staged_lines(tmp_path: Path,
                                                  baseline_model_path: str) -> None:
    from tests.test_precommit import hook_results, hooks_repo, project, try_repo

    hooks = hooks_repo.__wrapped__(tmp_path)  # type: ignore[attr-defined]
    tree = project(tmp_path / "proj", {"old.py": "def f():\n    return undefined_old\n",
                                       "new.py": "X = 1\n"}, baseline_model_path)
    (tree / "new.py").write_text("X = 1\nY = undefined_new\n", encoding="utf-8")
    subprocess.run(["git", "add", "new.py"], cwd=tree, check=True)
    proc = try_repo(hooks, tree, tmp_path)
    assert list(hook_results(proc.stdout).values()) == ["Failed"] * 3, proc.stdout
    assert "undefined_new" in proc.stdout and "undefined_old" not in proc.stdout
    # Nothing staged (a manual `pre-commit run --all-files`): every line is checked.
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
                    "commit", "-qm", "new"], cwd=tree, check=True)
    proc = try_repo(hooks, tree, tmp_path)
    assert "undefined_new" in proc.stdout and "undefined_old" in proc.stdout


def test_staged_outside_git_checks_everything(tmp_path: Path, baseline_model_path: str) -> None:
    write_tree(tmp_path, {"pyproject.toml": "[project]\nname = 'd'\n", "a.py": OLD})
    report = check_json("--staged", "--model", baseline_model_path, "--tools", "flake8",
                        "--threshold", "0", cwd=tmp_path)
    assert {r["code"] for r in report["findings"]} >= {"F401", "E225"}
