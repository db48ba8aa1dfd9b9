"""Reliability suite: the real ``lintrank`` CLI over hostile trees and broken state.

Every case runs the installed console script as a subprocess (real flake8, pylint,
ruff, onnxruntime, SQLite, Dask), reads its JSON report and asserts the exact
outcome: the finding code and message for the bad input, the exit status, and that
the well-formed file's findings are exactly those of a clean run.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.helpers import lintrank_exe

#: A well-formed file with known flake8 findings: F401 (filtered at threshold 1)
#: and F821 (protected, always kept).
GOOD = "import os\n\n\ndef total(values):\n    return sum(values) + undefined_name\n"
GOOD_FLAKE8 = [("good.py", 1, "flake8", "F401"), ("good.py", 5, "flake8", "F821")]
PROJECT = '[project]\nname = "hostile"\nversion = "0"\n'


@dataclasses.dataclass
class Run:
    """One finished ``lintrank check --format json`` run."""

    rc: int
    report: dict
    stderr: str

    def rows(self, path: str | None = None) -> list[tuple[str, int, str, str]]:
        """(path, line, tool, code) of every finding, optionally of one file."""
        return sorted((f["path"], f["line"], f["tool"], f["code"])
                      for f in self.report.get("findings", [])
                      if path is None or f["path"] == path)

    def of(self, path: str) -> list[dict]:
        return [f for f in self.report.get("findings", []) if f["path"] == path]

    def kept(self) -> list[dict]:
        return [f for f in self.report.get("findings", []) if f["kept"]]


def check(root: Path, *args: str, model: str, env: dict | None = None,
          timeout: float = 300, cache: bool = False, preexec=None) -> Run:
    """Run ``lintrank check --format json --threshold 1`` in ``root``.

    Threshold 1 keeps exactly the protected findings, so the exit status says
    whether the safety floor kept something (1) or not (0).
    """
    full_env = dict(os.environ)
    full_env.setdefault("LINTRANK_CACHE_DIR", str(root / ".lintrank_cache"))
    full_env["PYLINTHOME"] = str(root / ".pylint.d")
    full_env.update(env or {})
    argv = [lintrank_exe(), "check", "--format", "json", "--threshold", "1", "--quiet",
            *(["--model", str(model)] if model else []),
            *([] if cache else ["--no-cache"]), *args]
    proc = subprocess.run(argv, cwd=root, capture_output=True, text=True, env=full_env,
                          check=False, timeout=timeout, preexec_fn=preexec)
    if proc.returncode == 99 and preexec is not None:
        pytest.skip("cannot drop root's file-permission bypass here")
    report = json.loads(proc.stdout) if proc.returncode in (0, 1) else {}
    return Run(proc.returncode, report, proc.stderr)


def project(root: Path, files: dict[str, str | bytes] | None = None) -> Path:
    """A project folder with ``pyproject.toml``, ``good.py`` and ``files``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PROJECT, encoding="utf-8")
    (root / "good.py").write_text(GOOD, encoding="utf-8")
    for rel, content in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def plugin_dist(site: Path, module: str, source: str) -> dict[str, str]:
    """Install a fake plugin distribution under ``site``; return env to activate it.

    A real ``*.dist-info`` with a ``lintrank`` entry point, found by
    ``importlib.metadata`` through PYTHONPATH, as pip would install it.
    """
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{module}-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[lintrank]\n{module} = {module}\n",
                                           encoding="utf-8")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path}


@pytest.fixture(scope="session")
def model(baseline_model_path: str) -> str:
    """The severity-baseline model for the current feature schema."""
    return baseline_model_path


@pytest.fixture(scope="session")
def good_only(tmp_path_factory, model) -> list[tuple[str, int, str, str]]:
    """flake8 findings of good.py in a clean project: the reference for 'intact'."""
    root = project(tmp_path_factory.mktemp("reference"))
    run = check(root, "--tools", "flake8", model=model)
    assert run.rc == 1, run.stderr
    assert run.rows("good.py") == GOOD_FLAKE8
    return run.rows("good.py")
