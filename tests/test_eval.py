"""`lintrank eval` on a crafted dataset whose metric values are worked out by hand."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from lintrank.core import evaluate
from lintrank.core.dataset import load
from lintrank.core.features import INDEX, N_ROW_FEATURES
from lintrank.core.finding import SEVERITIES
from lintrank.core.mine import write_dataset

from .helpers import run_lintrank

#: (commit, severity, code, label). Severity order scores error 6, warning 5, style 2.
CRAFTED = [
    ("A", "error", "F821", 1), ("A", "warning", "F401", 1), ("A", "style", "E501", 0),
    ("A", "style", "E501", 0), ("A", "style", "E501", 1),
    ("B", "error", "F821", 0), ("B", "style", "E501", 0), ("B", "style", "E501", 0),
    ("B", "warning", "F401", 1), ("B", "style", "E501", 0),
]
# Worked out by hand for the severity order:
#   AUC: positives 6, 5, 5, 2 against negatives 6, 2, 2, 2, 2, 2 -> 18 / 24 = 0.75
#   AP: thresholds 6 (P 1/2, R 1/4), 5 (P 3/4, R 3/4), 2 (P 4/10, R 1) -> 0.6
#   P@10%: k = 1; two rows tie at the top, one positive -> 0.5 in expectation
#   within commit: A = 5/6, B = 3/4 -> mean 19/24
SEVERITY = {"auc": 0.75, "ap": 0.6, "p_at_10pct": 0.5, "within_commit_auc": 19 / 24}


def _write(path: Path, rows: list[tuple[str, str, str, int]], repo: str = "o/r") -> str:
    items = [{"repo": repo, "commit": commit, "parent": "p", "time": 0.0, "path": "a.py",
              "line": i + 1, "tool": "flake8", "code": code, "severity": severity,
              "outcome": "fixed" if label else "kept", "label": label,
              "lint_intent": False, "x": _x(severity)}
             for i, (commit, severity, code, label) in enumerate(rows)]
    write_dataset(iter(items), str(path), {"repo": repo})
    return str(path)


def _x(severity: str) -> list[float | None]:
    """Features: the severity index (what the baseline model reads), rest missing."""
    x: list[float | None] = [None] * N_ROW_FEATURES
    x[INDEX["severity"]] = float(SEVERITIES.index(severity))
    return x


def test_metric_functions_on_hand_computed_values():
    y = np.array([1, 0, 1, 0])
    s = np.array([0.9, 0.8, 0.3, 0.1])
    assert evaluate.auc(y, s) == 0.75
    assert evaluate.average_precision(y, s) == pytest.approx((1 + 2 / 3) / 2)
    assert evaluate.precision_at(y, s, 0.5) == 0.5
    assert evaluate.within_commit_auc(y, s, ["a", "a", "b", "b"]) == 1.0
    assert math.isnan(evaluate.auc(np.array([1, 1]), np.array([0.1, 0.2])))


def test_severity_baseline_on_crafted_dataset(tmp_path: Path):
    data = load([_write(tmp_path / "d.jsonl.gz", CRAFTED)])
    got = evaluate.metrics(data.y, evaluate.severity_scores(data), data.commits)
    assert got == pytest.approx(SEVERITY)
    # Weighted by pairs: A has 3 x 2 pairs (AUC 5/6), B 1 x 4 (AUC 3/4) -> 8 / 10.
    assert evaluate.within_commit_auc(data.y, evaluate.severity_scores(data), data.commits,
                                      weighted=True) == pytest.approx(0.8)


def test_code_prior_is_smoothed_towards_the_global_rate(tmp_path: Path):
    train = load([_write(tmp_path / "t.jsonl.gz", CRAFTED)])
    prior = evaluate.CodePrior(train, strength=20.0)
    assert prior.base == 0.4
    assert prior.rates[("flake8", "F401")] == pytest.approx((2 + 8) / (2 + 20))
    assert prior.rates[("flake8", "E501")] == pytest.approx((1 + 8) / (6 + 20))
    unseen = load([_write(tmp_path / "u.jsonl.gz", [("C", "info", "X1", 1)])])
    assert prior.scores(unseen).tolist() == [0.4]


def test_cli_eval_json_shape_and_values(tmp_path: Path, baseline_model_path: str):
    data = _write(tmp_path / "d.jsonl.gz", CRAFTED)
    proc = run_lintrank("eval", data, "--model", baseline_model_path, "--train", data,
                        "--format", "json", cwd=tmp_path, check_rc=(0,))
    doc = json.loads(proc.stdout)
    assert (doc["rows"], doc["positives"]) == (10, 4)
    assert set(doc["metrics"]) == {"model", "severity", "random", "prior"}
    for values in doc["metrics"].values():
        assert set(values) == {"auc", "ap", "p_at_10pct", "within_commit_auc"}
    assert doc["metrics"]["severity"] == pytest.approx(SEVERITY)
    # The baseline model *is* the severity order: same ranking, same metrics.
    assert doc["metrics"]["model"] == pytest.approx(SEVERITY)
    text = run_lintrank("eval", data, "--model", baseline_model_path, cwd=tmp_path,
                        check_rc=(0,)).stdout
    assert "severity" in text and "within_commit_auc" in text and "prior" not in text
