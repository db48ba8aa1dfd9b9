"""Benchmark trees: a local clone of a training-corpus mirror, or generated files.

Nothing here is committed from the mirrors: trees are built under a temporary folder
at run time and deleted afterwards.
"""
from __future__ import annotations

import os
import random
import subprocess
import textwrap
from pathlib import Path

MIRRORS = Path(os.environ.get("LINTRANK_MIRRORS", "/work/.mirror"))

_TEMPLATE = textwrap.dedent('''\
    """Generated module {n} for lintrank benchmarks."""
    import os
    import sys


    class Service{n}:
        def __init__(self, items=[]):
            self.items = items

        def total(self, factor):
            result = 0
            for item in self.items:
                if item == None:
                    continue
                result += item*factor
            return result

        def load(self, path):
            try:
                with open(path) as handle:
                    return handle.read()
            except:
                return None


    def helper_{n}( value ):
        unused = {n}
        return value + {n}  # a comment that makes this line longer than seventy-nine characters
    ''')


def generated_tree(root: Path, count: int, seed: int = 0) -> Path:
    """Write ``count`` synthetic modules (with style noise and real warnings)."""
    rng = random.Random(seed)
    pkg = root / "generated"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    for n in range(count):
        text = _TEMPLATE.format(n=n)
        if rng.random() < 0.1:
            text += f"\n\ndef broken_{n}():\n    return missing_name_{n}\n"
        (pkg / f"mod_{n:04d}.py").write_text(text, encoding="utf-8")
    return root


def clone_mirror(repo: str, dest: Path) -> Path | None:
    """Clone a fetched mirror (owner+name) into ``dest``; None when it is absent."""
    for candidate in (MIRRORS / repo / "repo", MIRRORS / repo / "repo" / ".git"):
        if candidate.exists():
            subprocess.run(["git", "clone", "-q", str(candidate), str(dest)], check=True)
            return dest
    return None
