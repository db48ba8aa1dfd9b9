"""benchmarks/_ceiling.py: pylint alone, one process against the engine's batches."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from .helpers import REPO, write_tree


def _ceiling_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("_ceiling", REPO / "benchmarks" / "_ceiling.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ceiling_runs_pylint_on_the_whole_tree_and_on_each_batch(tmp_path: Path):
    # Two packages, so the engine's split for 2 jobs keeps each whole in a batch.
    write_tree(tmp_path, {
        "alpha/__init__.py": "",
        "alpha/core.py": "import os\n\n\ndef where():\n    return os.getcwd()\n",
        "beta/__init__.py": "",
        "beta/util.py": "import json\n\n\ndef dump(value):\n    return json.dumps(value)\n",
    })
    bound = _ceiling_module().pylint_ceiling(tmp_path, jobs=2, rounds=1)
    assert bound["batches"] == 2.0
    assert bound["one process cpu"] > 0 and bound["costliest batch cpu"] > 0
    assert bound["batches cpu"] >= bound["costliest batch cpu"]
    # One round: the ceiling is exactly that round's ratio.
    assert bound["ceiling"] == pytest.approx(
        bound["one process cpu"] / bound["costliest batch cpu"])
