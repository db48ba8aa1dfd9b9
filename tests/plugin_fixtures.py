"""Fixture trees and runners for the flake8 / pylint / pre-commit adapter tests."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from lintrank.core.sources import SOURCE_RUN_ENV
from tests.helpers import BIN, write_tree

#: Only style noise: flake8 E2xx/E3xx, pylint conventions; no certain error.
NOISE = {
    "pkg/__init__.py": "",
    "pkg/style.py": """\
        def spaced( x ):
            return x+1
        y = [1,2]
        """,
    "pkg/more.py": """\
        def other(a):
            return a*2
        """,
}

#: Noise plus certain errors (undefined names) in two files.
BROKEN = {
    **NOISE,
    "pkg/broken.py": """\
        import os


        def total(values):
            result = 0
            for value in values:
                result += value
            return reslt
        """,
    "pkg/also.py": """\
        def go():
            return missing_name
        """,
}

#: flake8's line format with lintrank's score appended.
FLAKE8_LINE = re.compile(r"^(?P<path>[^:]+):(?P<row>\d+):(?P<col>\d+): (?P<code>\S+) "
                         r"(?P<text>.*?)(?: \[(?P<score>[0-9.]+)\])?$")


def make_tree(root: Path, files: dict[str, str], model: str | None,
              lintrank: str = "") -> Path:
    """Write ``files`` plus a pyproject.toml pointing lintrank at ``model``.

    ``model=None`` leaves lintrank on its shipped default model.
    """
    write_tree(root, files)
    chosen = f'model = "{model}"\n' if model else ""
    (root / "pyproject.toml").write_text(f"[tool.lintrank]\n{chosen}{lintrank}",
                                         encoding="utf-8")
    return root


def tool_env(root: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no source-run marker, caches inside the test's tree."""
    env = {k: v for k, v in os.environ.items() if k != SOURCE_RUN_ENV}
    for colour in ("NO_COLOR", "FORCE_COLOR"):  # pylint swaps reporters for these
        env.pop(colour, None)
    env.update(LINTRANK_CACHE_DIR=str(root / ".lintrank_cache"),
               PYLINTHOME=str(root / ".pylint.d"))
    env.update(extra)
    return env


def executable(name: str) -> str:
    """The console script installed next to this interpreter."""
    exe = BIN / name
    return str(exe) if exe.exists() else shutil.which(name) or name


def run_tool(name: str, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Run the real ``flake8`` / ``pylint`` executable in ``cwd``."""
    return subprocess.run([executable(name), *args], cwd=cwd, capture_output=True,
                          text=True, env=tool_env(cwd, **env), check=False, timeout=300)


def flake8_rows(stdout: str) -> list[dict[str, str]]:
    """Finding lines of flake8 output (score is None without lintrank)."""
    rows = []
    for line in stdout.splitlines():
        match = FLAKE8_LINE.match(line)
        if match:
            rows.append(match.groupdict())
    return rows


def flake8_keys(stdout: str) -> list[tuple[str, int, int, str]]:
    """(path, row, col, code) of each finding line, in output order."""
    return [(os.path.normpath(r["path"]), int(r["row"]), int(r["col"]), r["code"])
            for r in flake8_rows(stdout)]


def git(*args: str, cwd: Path) -> None:
    """Run git with a fixed identity (tests never touch the user's git config)."""
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
                    *args], cwd=cwd, env=env, check=True, capture_output=True)


def committed(root: Path) -> Path:
    """Make ``root`` a git repository with everything in it in one commit."""
    git("init", "-q", cwd=root)
    git("add", ".", cwd=root)
    git("commit", "-q", "-m", "start", cwd=root)
    return root
