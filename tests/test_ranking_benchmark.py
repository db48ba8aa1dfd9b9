"""benchmarks/ranking.py, the model card's leave-one-repository-out table, end to end."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lightgbm")

from lintrank.core.mine import write_dataset  # noqa: E402

from .helpers import REPO  # noqa: E402
from .test_train import _rows, _synthetic  # noqa: E402


def test_loro_table_with_means_lifts_and_pooled_metrics(tmp_path: Path):
    paths = []
    for n, repo in enumerate(("o/a", "o/b", "o/c")):
        x, y = _synthetic(500, seed=n)
        path = tmp_path / f"{n}.jsonl.gz"
        write_dataset(iter(_rows(x, y, repo)), str(path), {"repo": repo})
        paths.append(str(path))
    out = tmp_path / "loro.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "ranking.py"), *paths,
                           "--json", str(out), "--params", '{"n_estimators": 50}'],
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert sorted(result["repositories"]) == ["o/a", "o/b", "o/c"]
    assert result["commit_weight"] == 0.5 and result["params"]["n_estimators"] == 50
    positives = sum(r["positives"] for r in result["repositories"].values())
    assert result["pooled_positive_rate"] == pytest.approx(positives / 1500)
    for method in ("model", "model without memory", "prior", "severity", "random"):
        pooled = result["pooled"][method]
        assert 0.0 <= pooled["auc"] <= 1.0 and 0.0 <= pooled["ap"] <= 1.0
    # The synthetic signal (file_commits) transfers across repositories; random does not.
    assert result["pooled"]["model"]["auc"] > 0.7
    assert abs(result["pooled"]["random"]["auc"] - 0.5) < 0.1
    means = [r["metrics"]["model"]["auc"] for r in result["repositories"].values()]
    assert result["mean"]["model"]["auc"] == pytest.approx(np.mean(means))
    assert "| **mean** |" in proc.stdout and "All held-out scores pooled" in proc.stdout
    assert "Model AP lift over repositories: mean" in proc.stdout


def test_loro_with_separate_trees_for_pylint_scores_its_rows(tmp_path: Path):
    from lintrank.core.features import INDEX

    from .test_train import _two_tools

    paths = []
    for n, repo in enumerate(("o/a", "o/b", "o/c")):
        x, y, _ = _two_tools(600, seed=n)
        rows = _rows(x, y, repo)
        for row, tool in zip(rows, x[:, INDEX["tool"]]):
            row["tool"] = "pylint" if tool == 1 else "flake8"
        path = tmp_path / f"{n}.jsonl.gz"
        write_dataset(iter(rows), str(path), {"repo": repo})
        paths.append(str(path))
    out = tmp_path / "loro.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "ranking.py"), *paths,
                           "--json", str(out), "--params", '{"n_estimators": 50}',
                           "--separate-tools", "pylint", "--score-tools", "pylint"],
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["separate_tools"] == ["pylint"] and result["score_tools"] == ["pylint"]
    assert all(r["rows"] == 300 for r in result["repositories"].values())  # pylint's only
    assert result["pooled"]["model"]["auc"] > 0.8
    # A given model scores every fold instead (the same rows and baselines).
    from .helpers import run_lintrank

    model = tmp_path / "m.onnx"
    run_lintrank("train", *paths, "--out", str(model), "--separate-tools", "pylint",
                 cwd=tmp_path, check_rc=(0,))
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "ranking.py"), *paths,
                           "--json", str(out), "--model", str(model), "--score-tools",
                           "pylint"], capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    fixed = json.loads(out.read_text())
    assert fixed["model"] == str(model) and fixed["pooled"]["model"]["auc"] > 0.8
