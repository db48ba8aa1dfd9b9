"""[tool.lintrank] priorities steer the score, in one place, visibly."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from lintrank.core import priorities
from lintrank.core.config import Settings, apply
from lintrank.core.exceptions import ConfigError
from lintrank.core.finding import Finding

from tests.helpers import SAMPLE, check_json, run_lintrank, write_tree


def finding(tool: str, code: str, severity: str = "warning", symbol: str = "") -> Finding:
    return Finding(tool=tool, code=code, message="m", path="a.py", line=1,
                   severity=severity, symbol=symbol)


@pytest.mark.parametrize(("tool", "code", "severity", "category"), [
    ("flake8", "E501", "style", "style"), ("flake8", "F401", "warning", "bugs"),
    ("ruff", "S101", "warning", "security"), ("ruff", "D103", "convention", "docs"),
    ("ruff", "C901", "refactor", "complexity"), ("ruff", "SIM108", "refactor", "refactor"),
    ("pylint", "C0116", "convention", "docs"), ("pylint", "E0602", "error", "bugs"),
    ("pylint", "C0103", "convention", "style"), ("pylint", "R0913", "refactor", "complexity"),
    ("ruff", "ERA001", "warning", "style"), ("ruff", "PLE0101", "error", "bugs"),
])
def test_categories(tool: str, code: str, severity: str, category: str) -> None:
    assert priorities.category_of(tool, code, severity) == category


def test_most_specific_key_wins() -> None:
    table = priorities.Priorities({"style": 0.2, "E5": 0.5, "E501": 0.0,
                                   "unused-import": 3.0})
    assert table.rule(finding("flake8", "E501", "style")) == ("E501", 0.0)
    assert table.rule(finding("flake8", "E502", "style")) == ("E5", 0.5)
    assert table.rule(finding("flake8", "W291", "style")) == ("style", 0.2)
    assert table.rule(finding("pylint", "W0611", symbol="unused-import")) == \
        ("unused-import", 3.0)
    assert table.rule(finding("flake8", "F401")) == ("", 1.0)


def test_weight_multiplies_the_odds_and_keeps_order() -> None:
    assert priorities.weigh(0.5, 2.0) == pytest.approx(2 / 3)
    assert priorities.weigh(0.5, 0.0) == 0.0
    assert priorities.weigh(0.3, 1.0) == 0.3
    assert priorities.weigh(1.0, 0.5) == 1.0
    assert priorities.weigh(-0.5, 3.0) == 0.0  # odds -1: was a division by zero
    scores = np.linspace(0.01, 0.99, 50)
    weighed = [priorities.weigh(float(s), 0.3) for s in scores]
    assert weighed == sorted(weighed) and all(0 <= w <= 1 for w in weighed)


def test_config_validation() -> None:
    settings = apply(Settings(), {"priorities": {"bugs": 1, "style": "0.2"}}, "x.toml")
    assert settings.priorities == {"bugs": 1.0, "style": 0.2}
    for bad in ({"style": -1}, {"style": "much"}, "style=0.2"):
        with pytest.raises(ConfigError):
            apply(Settings(), {"priorities": bad}, "x.toml")


def test_priorities_steer_ranking_and_show_in_explanation(
        tmp_path: Path, baseline_model_path: str) -> None:
    write_tree(tmp_path, SAMPLE)
    plain = check_json("--model", baseline_model_path, "--tools", "flake8", "--threshold",
                       "0", cwd=tmp_path)
    with open(tmp_path / "pyproject.toml", "a", encoding="utf-8") as handle:
        handle.write("\n[tool.lintrank]\npriorities = {style = 4.0, F401 = 0.1}\n")
    steered = check_json("--model", baseline_model_path, "--tools", "flake8",
                         "--threshold", "0", cwd=tmp_path)
    before = {(r["code"], r["line"]): r["score"] for r in plain["findings"]}
    after = {(r["code"], r["line"], r["column"]): r for r in steered["findings"]}
    style = next(r for r in after.values() if r["code"].startswith("E2"))
    unused = next(r for r in after.values() if r["code"] == "F401")
    assert style["score"] > before[(style["code"], style["line"])]
    assert unused["score"] < before[("F401", unused["line"])]
    factor = unused["explanation"]["factors"][-1]
    assert factor["kind"] == "priority" and factor["key"] == "F401"
    assert factor["weight"] == 0.1 and factor["effect"] == "lowers"
    assert factor["contribution"] == pytest.approx(
        unused["score"] - before[("F401", unused["line"])], abs=1e-5)
    # The certain error stays on top and kept whatever the weights say.
    assert steered["findings"][0]["protected"]


def test_bad_priorities_exit_2(tmp_path: Path) -> None:
    write_tree(tmp_path, {**SAMPLE, "pyproject.toml": "[tool.lintrank]\npriorities = 3\n"})
    proc = run_lintrank("check", "--tools", "flake8", cwd=tmp_path)
    assert proc.returncode == 2 and "priorities must be a table" in proc.stderr
