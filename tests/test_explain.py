"""Explanations come from the model itself and are faithful to it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from lintrank.core import explain
from lintrank.core.features import FEATURES, INDEX, MEMORY_FEATURES, N_FEATURES, schema_id
from lintrank.core.onnx_model import (
    META_KIND,
    META_NAME,
    META_SCHEMA,
    META_THRESHOLD,
    load_model,
)

from tests.helpers import SAMPLE, check_json, run_lintrank, write_tree


def stamp(model: Any, path: Path, name: str, extra: dict[str, str] | None = None) -> str:
    """Write an onnx ModelProto with lintrank's metadata; return its path."""
    for key, value in {META_SCHEMA: schema_id(), META_NAME: name, META_KIND: "test",
                       META_THRESHOLD: "0.5", **(extra or {})}.items():
        model.metadata_props.add(key=key, value=value)
    path.write_bytes(model.SerializeToString())
    return str(path)


def synthetic(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows around the reference finding; the label depends on three features."""
    rng = np.random.default_rng(seed)
    ref = np.asarray([explain.REFERENCE.get(f, 0.0) for f in FEATURES], dtype=np.float32)
    x = np.tile(ref, (n, 1))
    x[:, INDEX["severity"]] = rng.integers(0, 7, n)
    x[:, INDEX["line_length"]] = rng.integers(10, 140, n)
    x[:, INDEX["in_loop"]] = rng.integers(0, 2, n)
    x[:, INDEX["file_lines"]] = rng.integers(20, 2000, n)  # noise the trees may use
    logit = (2.0 - x[:, INDEX["severity"]]) + 1.5 * x[:, INDEX["in_loop"]] \
        - 0.03 * (x[:, INDEX["line_length"]] - 80)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


@pytest.fixture(scope="module")
def tree_model_path(tmp_path_factory) -> str:
    """A small LightGBM classifier exported to ONNX like `lintrank train` does."""
    lightgbm = pytest.importorskip("lightgbm")
    onnxmltools = pytest.importorskip("onnxmltools")
    from onnxmltools.convert.common.data_types import FloatTensorType

    x, y = synthetic()
    clf = lightgbm.LGBMClassifier(n_estimators=30, num_leaves=8, min_child_samples=5,
                                  verbose=-1).fit(x, y)
    onx = onnxmltools.convert_lightgbm(
        clf, initial_types=[("features", FloatTensorType([None, N_FEATURES]))],
        zipmap=False, target_opset=13)
    return stamp(onx, tmp_path_factory.mktemp("m") / "trees.onnx", "trees")


@pytest.fixture(scope="module")
def linear_model_path(tmp_path_factory) -> str:
    """sigmoid(x . w + b) built with onnx.helper: every feature may matter."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    w = np.zeros((N_FEATURES, 1), dtype=np.float32)
    w[INDEX["severity"], 0], w[INDEX["depth"], 0] = -0.8, 0.3
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["features", "w"], ["z"]),
         helper.make_node("Add", ["z", "b"], ["zb"]),
         helper.make_node("Sigmoid", ["zb"], ["s"]),
         helper.make_node("Reshape", ["s", "flat"], ["score"])],
        "linear",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", N_FEATURES])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])],
        [onnx.numpy_helper.from_array(w, "w"),
         onnx.numpy_helper.from_array(np.asarray([1.0], dtype=np.float32), "b"),
         helper.make_tensor("flat", TensorProto.INT64, [1], [-1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    # A linear model cannot take missing values, so its reference has none.
    return stamp(model, tmp_path_factory.mktemp("m") / "linear.onnx", "linear",
                 {explain.META_REFERENCE: json.dumps({n: 0.0 for n in MEMORY_FEATURES})})


def assert_faithful(model: Any, rows: np.ndarray) -> int:
    """Setting each named feature to the reference moves the score as stated."""
    ref = explain.reference_row(model)
    checked = 0
    for row, entries in zip(rows, explain.explain_rows(model, rows)):
        base = float(model.predict(row[None, :])[0])
        for label, delta in entries:
            name = label.split("=", 1)[0]
            changed = row.copy()
            changed[INDEX[name]] = ref[INDEX[name]]
            after = float(model.predict(changed[None, :])[0])
            # "raises" (delta > 0) means the score drops without this value.
            assert np.sign(base - after) == np.sign(delta), (label, base, after)
            assert base - after == pytest.approx(delta, abs=1e-5)
            checked += 1
        magnitudes = [abs(d) for _, d in entries]
        assert magnitudes == sorted(magnitudes, reverse=True)
    return checked


def test_tree_model_explanations_are_faithful(tree_model_path: str) -> None:
    model = load_model(tree_model_path)
    rows, _ = synthetic(n=60, seed=1)
    assert assert_faithful(model, rows) > 60
    # The model's own splits decide which features are ablated at all.
    used = {FEATURES[i] for i in explain.used_features(model)}
    assert "severity" in used and "depth" not in used


def test_top_feature_is_the_one_that_drives_the_score(tree_model_path: str) -> None:
    model = load_model(tree_model_path)
    row = explain.reference_row(model).copy()
    row[INDEX["severity"]] = 0.0  # fatal: far more likely to be acted on here
    (top_label, top_delta), *_ = explain.explain_rows(model, row[None, :])[0]
    assert top_label == "severity=fatal" and top_delta > 0


def test_linear_model_uses_all_features_and_stays_faithful(linear_model_path: str) -> None:
    model = load_model(linear_model_path)
    assert explain.used_features(model) == tuple(range(N_FEATURES))
    rows, _ = synthetic(n=20, seed=2)
    rows = np.nan_to_num(rows)  # no project memory: 0 (see linear_model_path)
    rows[:, INDEX["depth"]] = np.arange(20)
    assert assert_faithful(model, rows) >= 20
    labels = [label for label, _ in explain.explain_rows(model, rows)[5]]
    assert any(label.startswith("depth=") for label in labels)


def test_baseline_names_severity(baseline_model_path: str) -> None:
    model = load_model(baseline_model_path)
    assert explain.used_features(model) == (INDEX["severity"],)
    row = explain.reference_row(model).copy()
    row[INDEX["severity"]] = 5.0  # style
    assert explain.explain_rows(model, row[None, :]) == [(("severity=style", -0.5),)]


def test_model_metadata_can_carry_its_reference(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from lintrank.core.baseline import build

    build(str(tmp_path / "b.onnx"))
    proto = onnx.load(str(tmp_path / "b.onnx"))
    del proto.metadata_props[:]
    path = stamp(proto, tmp_path / "ref.onnx", "ref",
                 {explain.META_REFERENCE: json.dumps({"severity": 1.0})})
    model = load_model(path)
    assert explain.reference_row(model)[INDEX["severity"]] == 1.0
    row = explain.reference_row(model).copy()
    row[INDEX["severity"]] = 2.0  # warning vs the model's reference "error"
    [(label, delta)] = explain.explain_rows(model, row[None, :])[0]
    assert label == "severity=warning" and delta < 0


def test_display_decodes_values() -> None:
    assert explain.display("code_letter", 5.0) == "E"
    assert explain.display("code_letter", float(16 * 27 * 27 + 12 * 27 + 5)) == "PLE"
    assert explain.display("in_loop", 1.0) == "yes"
    assert explain.display("tool", 1.0) == "pylint"
    assert explain.display("file_age_days", float("nan")) == "unknown"
    assert explain.display("line_length", 88.0) == "88"


def test_json_output_explains_by_default(tmp_path: Path, baseline_model_path: str) -> None:
    write_tree(tmp_path, SAMPLE)
    report = check_json("--model", baseline_model_path, "--threshold", "0",
                        "--tools", "flake8,pylint", cwd=tmp_path)
    records = report["findings"]
    assert records and all("explanation" in r for r in records)
    error = next(r for r in records if r["severity"] == "error")
    [factor] = error["explanation"]["factors"]
    assert factor == {"kind": "feature", "feature": "severity", "value": "error",
                      "contribution": pytest.approx(0.3), "effect": "raises",
                      "reference": "warning"}
    pylint = next(r for r in records if r["tool"] == "pylint")
    assert pylint["explanation"]["help"]["text"]  # pylint's own message description
    assert pylint["explanation"]["help"]["uri"].startswith("https://pylint")


def test_text_explain_flag(tmp_path: Path, baseline_model_path: str) -> None:
    write_tree(tmp_path, SAMPLE)
    plain = run_lintrank("check", "--model", baseline_model_path, "--tools", "flake8",
                         "--threshold", "0", cwd=tmp_path, check_rc=(1,))
    assert "why:" not in plain.stdout
    explained = run_lintrank("check", "--explain", "--model", baseline_model_path,
                             "--tools", "flake8", "--threshold", "0", cwd=tmp_path,
                             check_rc=(1,))
    assert "why: " in explained.stdout and "help:" in explained.stdout


def test_sarif_carries_explanations_and_config_can_turn_them_off(
        tmp_path: Path, baseline_model_path: str) -> None:
    write_tree(tmp_path, SAMPLE)
    proc = run_lintrank("check", "--format", "sarif", "--model", baseline_model_path,
                        "--tools", "flake8", cwd=tmp_path, check_rc=(1,))
    run = json.loads(proc.stdout)["runs"][0]
    result = next(r for r in run["results"] if r["ruleId"] == "F821")
    assert result["properties"]["explanation"][0]["feature"] == "severity"
    rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert "undefined names" in rule["help"]["text"]  # the analyzer's own description
    with open(tmp_path / "pyproject.toml", "a", encoding="utf-8") as handle:
        handle.write("\n[tool.lintrank]\nexplain = false\n")
    report = check_json("--model", baseline_model_path, "--tools", "flake8", cwd=tmp_path)
    assert all("explanation" not in r for r in report["findings"])


class TodoPlugin:
    """A third-party plugin: an extra feature, and a score adjustment using it."""

    from lintrank.core.hookspecs import hookimpl

    @hookimpl
    def lintrank_extra_features(self, finding, context):  # type: ignore[no-untyped-def]
        return {"todo_in_file": float(sum("TODO" in line for line in context.lines))}

    @hookimpl
    def lintrank_adjust_score(self, finding, score, extras):  # type: ignore[no-untyped-def]
        return score / 2 if extras.get("todo_in_file") else None


def test_plugin_adjustments_and_extras_are_explained(tmp_path: Path,
                                                     baseline_model_path: str) -> None:
    from lintrank.core.config import Settings
    from lintrank.core.finding import Finding
    from lintrank.core.scoring import score_findings
    from lintrank.core.plugin_manager import get_plugin_manager

    (tmp_path / "a.py").write_text("x = 1  # TODO\n", encoding="utf-8")
    finding = Finding("flake8", "F821", "undefined name", "a.py", 1, severity="error")
    settings = Settings(root=str(tmp_path), explain=True, history=False, threshold=0.0)
    pm = get_plugin_manager()
    pm.register(TodoPlugin(), name="todo-test")
    try:
        [result] = score_findings([finding], settings, load_model(baseline_model_path), None)
    finally:
        pm.unregister(name="todo-test")
    assert result.score == pytest.approx(0.45)
    assert result.explanation == (("severity=error", 0.3), ("plugin=adjusted", -0.45),
                                  ("extra:todo_in_file=1", 0.0))
    assert explain.records(result.explanation)[1:] == [
        {"kind": "plugin", "contribution": -0.45, "effect": "lowers"},
        {"kind": "extra", "name": "todo_in_file", "value": 1.0}]
    assert "todo_in_file=1" in explain.summary(result.explanation)


def test_explanations_are_cached_by_model_and_row(tmp_path: Path,
                                                  baseline_model_path: str) -> None:
    from lintrank.core.cache import Cache
    from lintrank.core.explain_cache import explanations

    model = load_model(baseline_model_path)
    rows, _ = synthetic(50)
    expected = explain.explain_rows(model, rows)
    cache = Cache(tmp_path / "cache")
    assert explanations(model, rows, cache) == expected  # computed and stored
    stored = cache.get_derived([k for k in _explain_keys(cache)])
    assert len(stored) == len({r.tobytes() for r in rows})
    assert explanations(model, rows, cache) == expected  # read back, identical
    # A damaged entry is recomputed, never shown.
    cache.put_derived({key: [["severity=error", "x"]] for key in stored})
    assert explanations(model, rows, cache) == expected
    cache.close()


def _explain_keys(cache: Any) -> list[str]:
    return [key for (key,) in cache._db.execute(
        "SELECT key FROM derived WHERE key LIKE 'explain:%'")]


def test_help_texts_are_kept_in_the_cache_per_analyzer_version(tmp_path, monkeypatch):
    """A run's help texts come from the cache once a run has looked them up."""
    from lintrank.core import helptext
    from lintrank.core.cache import Cache

    keys = {("pylint", "W0611", "unused-import"), ("flake8", "E225", ""),
            ("flake8", "F401", "")}
    cache = Cache(tmp_path / "cache")
    monkeypatch.setattr(helptext, "_KNOWN", {})
    helptext.preload(cache, keys)
    texts = {k: helptext.help_text(*k) for k in keys}
    assert "unused" in texts[("flake8", "F401", "")].lower()  # ruff's F401 docs
    assert "not used" in texts[("pylint", "W0611", "unused-import")]
    assert texts[("flake8", "E225", "")]  # pycodestyle's docstring

    def no_lookup(*_: object) -> str:
        raise AssertionError("looked up again instead of read from the cache")

    # A new process (nothing known) with the same cache reads every text back.
    monkeypatch.setattr(helptext, "_KNOWN", {})
    monkeypatch.setattr(helptext, "_lookup", no_lookup)
    helptext.preload(cache, keys)
    assert {k: helptext.help_text(*k) for k in keys} == texts
    cache.close()
