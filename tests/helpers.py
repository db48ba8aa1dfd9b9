"""Small shared helpers for tests: fixture trees, running the installed CLI."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Create ``files`` (relative path -> dedented text) under ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def lintrank_exe() -> str:
    """The installed ``lintrank`` console script next to this interpreter."""
    exe = BIN / "lintrank"
    return str(exe) if exe.exists() else shutil.which("lintrank") or "lintrank"


def run_lintrank(*args: str, cwd: Path, env: dict | None = None,
                 check_rc: tuple[int, ...] | None = None) -> subprocess.CompletedProcess:
    """Run the real installed ``lintrank`` in ``cwd`` with an isolated cache."""
    full_env = dict(os.environ)
    full_env.setdefault("LINTRANK_CACHE_DIR", str(cwd / ".lintrank_cache"))
    full_env.update(env or {})
    proc = subprocess.run([lintrank_exe(), *args], cwd=cwd, capture_output=True, text=True,
                          env=full_env, check=False, timeout=600)
    if check_rc is not None:
        assert proc.returncode in check_rc, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def check_json(*args: str, cwd: Path, **kw) -> dict:  # type: ignore[no-untyped-def]
    """Run ``lintrank check --format json`` and parse the report."""
    proc = run_lintrank("check", "--format", "json", *args, cwd=cwd, **kw)
    assert proc.returncode in (0, 1), (proc.returncode, proc.stderr)
    return json.loads(proc.stdout)


#: A small project with one certain error, real warnings and pure style noise.
SAMPLE = {
    "pyproject.toml": """\
        [project]
        name = "sample"
        version = "0"
        """,
    "pkg/__init__.py": "",
    "pkg/app.py": """\
        import os


        def total(values):
            result = 0
            for value in values:
                result += value
            return reslt


        def style( x ):
            return x+1
        """,
    "pkg/clean.py": '''\
        """A clean module."""


        def double(value: int) -> int:
            """Return twice the value."""
            return value * 2
        ''',
}
