"""File discovery: flake8/ruff-style default excludes and user globs on names and paths."""
from __future__ import annotations

from lintrank.core.files import discover
from tests.helpers import write_tree


def test_default_and_user_excludes_match_names_and_relative_paths(tmp_path):
    write_tree(tmp_path, {rel: "x = 1\n" for rel in (
        "pkg/a.py", "pkg/gen_b.py", "pkg/sub/c.py", "docs/conf.py", "build/lib/d.py",
        ".git/hooks/e.py", "venv/lib/f.py", "pkg/__pycache__/g.py", "pkg/notes.txt",
        "x.egg/h.py")})
    assert discover(["."], str(tmp_path)) == [
        "docs/conf.py", "pkg/a.py", "pkg/gen_b.py", "pkg/sub/c.py"]
    assert discover(["."], str(tmp_path), ["gen_*.py", "pkg/sub", "docs/*"]) == ["pkg/a.py"]
    # A file named explicitly is a request: excludes never drop it.
    assert discover(["pkg/gen_b.py"], str(tmp_path), ["gen_*.py"]) == ["pkg/gen_b.py"]
