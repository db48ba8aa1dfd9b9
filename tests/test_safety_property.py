"""The safety floor, proven over random findings, scores, thresholds and models.

No threshold, top-N, team priority, critical-path policy or model output (even
NaN, infinities or values outside 0..1) can filter out a certain error: a syntax
error, an undefined name, an unreadable/unanalysable file, or a pylint
fatal/error message. Hypothesis searches for a counter-example.
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lintrank.core import priorities
from lintrank.core.config import DEFAULT_SAFETY_CODES, DEFAULT_SAFETY_SEVERITIES, Settings
from lintrank.core.critical import apply_policy
from lintrank.core.finding import SEVERITIES, Finding
from lintrank.core.policy import rank

CODES = frozenset(DEFAULT_SAFETY_CODES)
SEVERITY_FLOOR = frozenset(DEFAULT_SAFETY_SEVERITIES)
TOOLS = ("flake8", "pylint", "ruff", "lintrank", "plugin")
OTHER_CODES = ("E501", "W291", "F401", "C0114", "R0913", "W0611", "E0602", "E1101",
               "F0002", "I001", "UP034", "B006")

findings_st = st.builds(
    Finding,
    tool=st.sampled_from(TOOLS),
    code=st.one_of(st.sampled_from(sorted(CODES)), st.sampled_from(OTHER_CODES),
                   st.from_regex(r"[A-Z]{1,3}[0-9]{3,4}", fullmatch=True)),
    message=st.text(max_size=30),
    path=st.sampled_from(["a.py", "pkg/b.py", "tests/test_c.py", "src/core/d.py"]),
    line=st.integers(1, 400),
    column=st.integers(0, 120),
    severity=st.sampled_from(SEVERITIES),
)
#: Anything a model or a bug could produce, not only valid probabilities.
score_st = st.one_of(st.floats(0.0, 1.0), st.sampled_from([math.nan, math.inf, -math.inf,
                                                           -0.5, 1.5, 0.0, 1.0]))
weights_st = st.dictionaries(
    st.sampled_from(["bugs", "style", "docs", "design", "security", "E", "F4", "E501",
                     "W0611", "pylint:C", "flake8:F821", "F821", "E999"]),
    st.one_of(st.just(0.0), st.floats(0.0, 100.0)), max_size=5)


def certain(f: Finding) -> bool:
    """The oracle: what the safety floor promises never to hide."""
    return f.code in CODES or (f.tool == "pylint" and f.severity in SEVERITY_FLOOR)


def _assert_floor(findings, results) -> None:
    assert sorted(map(repr, (r.finding for r in results))) == sorted(map(repr, findings))
    for r in results:
        if certain(r.finding):
            assert r.kept and r.protected, r


pairs_st = st.lists(st.tuples(findings_st, score_st), max_size=40)


@settings(max_examples=400, deadline=None)
@given(pairs_st, st.floats(0.0, 1.0), st.one_of(st.none(), st.integers(0, 10)))
def test_rank_never_hides_a_certain_error(pairs, threshold, top):
    findings = [f for f, _ in pairs]
    results = rank(findings, [s for _, s in pairs], threshold, top, CODES, SEVERITY_FLOOR)
    _assert_floor(findings, results)
    if top is not None:  # top-N limits only what is not protected
        assert sum(r.kept and not r.protected for r in results) <= top


@settings(max_examples=300, deadline=None)
@given(pairs_st, st.floats(0.0, 1.0), st.one_of(st.none(), st.integers(0, 10)), weights_st,
       st.lists(st.sampled_from(["tests/*", "src/**", "pkg/b.py", "*.py"]), max_size=2),
       st.floats(0.0, 1.0))
def test_priorities_and_critical_paths_never_hide_a_certain_error(
        pairs, threshold, top, weights, critical, critical_threshold):
    findings = [f for f, _ in pairs]
    scores = np.array([s for _, s in pairs], dtype=np.float64)
    weighted, _ = priorities.apply(findings, scores, priorities.Priorities(weights))
    results = rank(findings, weighted.tolist(), threshold, top, CODES, SEVERITY_FLOOR)
    results = apply_policy(results, critical, critical_threshold)
    _assert_floor(findings, results)


# --- through the real scoring path, with hostile ONNX models --------------------

def _constant_model(folder: Path, value: float) -> str:
    """An ONNX model that gives every finding the same score (NaN, 0, 5, ...)."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from lintrank.core.features import N_FEATURES, schema_id
    from lintrank.core.onnx_model import META_SCHEMA

    nodes = [helper.make_node("Mul", ["features", "zero"], ["zeroed"]),
             helper.make_node("ReduceSum", ["zeroed", "axes"], ["summed"], keepdims=0),
             helper.make_node("Add", ["summed", "value"], ["score"])]
    inits = [helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
             helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
             helper.make_tensor("value", TensorProto.FLOAT, [], [value])]
    graph = helper.make_graph(
        nodes, "constant",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", N_FEATURES])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    model.metadata_props.add(key=META_SCHEMA, value=schema_id())
    path = folder / f"constant-{value}.onnx"
    path.write_bytes(model.SerializeToString())
    return str(path)


@pytest.fixture(scope="module")
def hostile_models():
    from lintrank.core.onnx_model import load_model

    with tempfile.TemporaryDirectory() as folder:
        yield [load_model(_constant_model(Path(folder), v))
               for v in (0.0, -3.0, 7.0, math.nan, 1e-9)]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(findings_st, max_size=25), st.data())
def test_no_model_hides_a_certain_error(hostile_models, findings, data):
    from lintrank.core.scoring import score_findings

    model = data.draw(st.sampled_from(hostile_models))
    with tempfile.TemporaryDirectory() as root:
        config = Settings(root=root, history=False, explain=False,
                          threshold=data.draw(st.floats(0.0, 1.0)),
                          top=data.draw(st.one_of(st.none(), st.integers(0, 5))),
                          priorities=data.draw(weights_st))
        results = score_findings(findings, config, model, None)
    _assert_floor(findings, results)
    assert all(0.0 <= r.score <= 1.0 for r in results)
