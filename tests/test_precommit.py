"""The pre-commit hooks, run offline by the real ``pre-commit try-repo``.

``language: python`` hooks would make pre-commit pip-install lintrank and its
dependencies from the network, so the test runs a copy of the checkout's
``.pre-commit-hooks.yaml`` with ``language: system`` against this environment's
executables: same ids, entries, file types and serial mode.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import BIN, REPO
from tests.plugin_fixtures import (BROKEN, NOISE, committed, executable, git, make_tree,
                                   tool_env)

MANIFEST = REPO / ".pre-commit-hooks.yaml"
HOOK_IDS = ("lintrank-flake8", "lintrank-pylint", "lintrank")


def test_manifest_is_valid_and_serial():
    proc = subprocess.run([executable("pre-commit"), "validate-manifest", str(MANIFEST)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hooks = {hook["id"]: hook for hook in yaml.safe_load(MANIFEST.read_text())}
    assert set(HOOK_IDS) <= set(hooks)
    for hook_id in HOOK_IDS:
        assert hooks[hook_id]["require_serial"] is True
        assert hooks[hook_id]["types"] == ["python"]


@pytest.fixture()
def hooks_repo(tmp_path: Path) -> Path:
    """A git repository holding the checkout's hooks, switched to ``language: system``."""
    repo = tmp_path / "hooks"
    repo.mkdir()
    text = MANIFEST.read_text(encoding="utf-8").replace("language: python",
                                                        "language: system")
    (repo / ".pre-commit-hooks.yaml").write_text(text, encoding="utf-8")
    git("init", "-q", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "hooks", cwd=repo)
    return repo


def try_repo(hooks: Path, project: Path, home: Path,
             all_files: bool = True) -> subprocess.CompletedProcess:
    env = tool_env(home, PRE_COMMIT_HOME=str(home / "pre-commit"),
                   PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                   GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    argv = [executable("pre-commit"), "try-repo", str(hooks), "--color=never"]
    return subprocess.run(argv + ["--all-files"] * all_files, cwd=project, env=env,
                          capture_output=True, text=True, check=False, timeout=600)


def project(root: Path, files: dict[str, str], model: str) -> Path:
    """A committed git project whose [tool.lintrank] keeps only certain errors."""
    root.mkdir()
    make_tree(root, files, model, "top = 0\n")
    return committed(root)


def hook_results(output: str) -> dict[str, str]:
    """Map each hook's name line to Passed / Failed."""
    results = {}
    for line in output.splitlines():
        for verdict in ("Passed", "Failed"):
            if line.rstrip().endswith(verdict):
                results[line.split("...")[0].strip()] = verdict
    return results


def test_hooks_pass_on_noise_only(tmp_path, hooks_repo, baseline_model_path):
    tree = project(tmp_path / "proj", NOISE, baseline_model_path)
    proc = try_repo(hooks_repo, tree, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list(hook_results(proc.stdout).values()) == ["Passed"] * 3, proc.stdout


def test_hooks_fail_on_kept_errors(tmp_path, hooks_repo, baseline_model_path):
    tree = project(tmp_path / "proj", BROKEN, baseline_model_path)
    proc = try_repo(hooks_repo, tree, tmp_path)
    assert proc.returncode == 1
    assert list(hook_results(proc.stdout).values()) == ["Failed"] * 3, proc.stdout
    assert "F821" in proc.stdout and "E0602" in proc.stdout
    assert "E231" not in proc.stdout and "C0116" not in proc.stdout


def test_hooks_check_the_staged_change(tmp_path, hooks_repo, baseline_model_path):
    tree = project(tmp_path / "proj", NOISE, baseline_model_path)
    (tree / "pkg" / "new.py").write_text("def run():\n    return nowhere\n",
                                         encoding="utf-8")
    git("add", "pkg/new.py", cwd=tree)
    proc = try_repo(hooks_repo, tree, tmp_path, all_files=False)
    assert proc.returncode == 1
    assert list(hook_results(proc.stdout).values()) == ["Failed"] * 3, proc.stdout
    assert "pkg/new.py:2:12: F821 undefined name 'nowhere'" in proc.stdout
    git("commit", "-q", "-m", "fixed later", cwd=tree)
    (tree / "pkg" / "new.py").write_text("def run():\n    return 1+1\n", encoding="utf-8")
    git("add", "pkg/new.py", cwd=tree)
    proc = try_repo(hooks_repo, tree, tmp_path, all_files=False)
    assert proc.returncode == 0, proc.stdout
