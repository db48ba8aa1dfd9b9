"""`lintrank train`: LightGBM fit, ONNX export with metadata, parity, loadable model."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lightgbm")
pytest.importorskip("onnxmltools")

from lintrank.core import train  # noqa: E402
from lintrank.core.features import INDEX, N_FEATURES, N_ROW_FEATURES, schema_id  # noqa: E402
from lintrank.core.mine import write_dataset  # noqa: E402
from lintrank.core.onnx_model import load_model  # noqa: E402

from .helpers import run_lintrank  # noqa: E402


def _synthetic(n: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows where age, churn and code carry signal; 15% of values missing."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_FEATURES)).astype(np.float32) * 50
    x[:, INDEX["code_number"]] = rng.integers(100, 900, n)
    logit = 0.02 * x[:, INDEX["file_commits"]] - 0.004 * x[:, INDEX["code_number"]] + 1
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    x[rng.random(x.shape) < 0.15] = np.nan
    return x, y


def _rows(x: np.ndarray, y: np.ndarray, repo: str) -> list[dict]:
    return [{"repo": repo, "commit": f"c{i // 10}", "parent": "p", "time": 0.0,
             "path": "a.py", "line": i, "tool": "flake8", "code": f"E{int(i % 7)}01",
             "severity": "style", "outcome": "fixed" if label else "kept", "label": int(label),
             "lint_intent": False,
             "x": [None if np.isnan(v) else float(v) for v in row[:N_ROW_FEATURES]]}
            for i, (row, label) in enumerate(zip(x, y))]


def test_onnx_matches_lightgbm_including_missing_values():
    x, y = _synthetic()
    model = train.fit(x, y)
    blob = train.to_onnx(model, "t", 0.5)
    nan_rows = np.isnan(x).any(axis=1)
    assert nan_rows.sum() > 100
    gap = np.abs(train.predict(model, x) - train.onnx_scores(blob, x))
    assert gap.max() <= train.PARITY_TOLERANCE
    assert gap[nan_rows].max() <= train.PARITY_TOLERANCE
    all_missing = np.full((3, N_FEATURES), np.nan, dtype=np.float32)
    assert train.parity(model, blob, all_missing) <= train.PARITY_TOLERANCE


def test_parity_when_only_scoring_rows_have_missing_values():
    """Outside git, history features are missing although training rows had them."""
    x, y = _synthetic(800, seed=1)
    dense = np.nan_to_num(x, nan=1.0)
    model = train.fit(dense, y)
    blob = train.to_onnx(model, "t", 0.5)
    assert train.parity(model, blob, x) <= train.PARITY_TOLERANCE


def test_cli_train_writes_a_loadable_learned_model(tmp_path: Path):
    x, y = _synthetic()
    data = tmp_path / "d.jsonl.gz"
    write_dataset(iter(_rows(x, y, "o/r")), str(data), {"repo": "o/r"})
    out = tmp_path / "m.onnx"
    proc = run_lintrank("train", str(data), "--out", str(out), "--name", "test-model",
                        cwd=tmp_path, check_rc=(0,))
    assert "parity" in proc.stderr
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["schema"] == schema_id() and manifest["repositories"] == ["o/r"]
    model = load_model(str(out))  # checks sha256 against the manifest and the schema
    assert (model.name, model.kind) == ("test-model", "learned")
    scores = model.predict(x[:50])
    assert scores.shape == (50,) and ((scores >= 0) & (scores <= 1)).all()
    # The recommended threshold keeps about the top 10% of training findings.
    assert 0.05 <= (model.predict(x) >= model.default_threshold).mean() <= 0.2


def test_train_rejects_a_dataset_of_another_schema(tmp_path: Path):
    data = tmp_path / "old.jsonl"
    data.write_text(json.dumps({"meta": {"schema": "0:deadbeef"}}) + "\n")
    proc = run_lintrank("train", str(data), "--out", str(tmp_path / "m.onnx"), cwd=tmp_path,
                        check_rc=(2,))
    assert "mine it again" in proc.stderr


def test_single_class_is_a_usage_error(tmp_path: Path):
    x, _ = _synthetic(100)
    data = tmp_path / "d.jsonl.gz"
    write_dataset(iter(_rows(x, np.zeros(100, dtype=np.int8), "o/r")), str(data), {})
    proc = run_lintrank("train", str(data), "--out", str(tmp_path / "m.onnx"), cwd=tmp_path,
                        check_rc=(2,))
    assert "both fixed and persisting" in proc.stderr


def test_ignored_features_are_never_used_and_export_stays_exact():
    x, y = _synthetic()
    model = train.fit(x, y, ignore=("file_commits",))  # the strongest signal of _synthetic
    assert model.booster_.feature_importance()[INDEX["file_commits"]] == 0
    blob = train.to_onnx(model, "t", 0.5)
    varied = x.copy()
    varied[:, INDEX["file_commits"]] = np.random.default_rng(2).normal(size=len(x)) * 500
    assert np.array_equal(train.onnx_scores(blob, x), train.onnx_scores(blob, varied))
    assert train.parity(model, blob, varied) <= train.PARITY_TOLERANCE
    # Without ``ignore`` the same feature is used: the option is what removed it.
    assert train.fit(x, y).booster_.feature_importance()[INDEX["file_commits"]] > 0


def test_cli_train_ignores_the_default_features_and_rejects_unknown_ones(tmp_path: Path):
    x, y = _synthetic(600)
    data = tmp_path / "d.jsonl.gz"
    write_dataset(iter(_rows(x, y, "o/r")), str(data), {"repo": "o/r"})
    out = tmp_path / "m.onnx"
    run_lintrank("train", str(data), "--out", str(out), cwd=tmp_path, check_rc=(0,))
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["ignored_features"] == list(train.IGNORED_FEATURES)
    run_lintrank("train", str(data), "--out", str(out), "--ignore-features", "", cwd=tmp_path,
                 check_rc=(0,))
    assert json.loads(out.with_suffix(".json").read_text())["ignored_features"] == []
    proc = run_lintrank("train", str(data), "--out", str(out), "--ignore-features", "nope",
                        cwd=tmp_path, check_rc=(2,))
    assert "unknown feature" in proc.stderr


def test_memory_mask_blanks_only_memory_columns_of_a_seeded_share():
    x = np.ones((4000, N_FEATURES), dtype=np.float32)
    masked = train.mask_memory(x, 0.5, seed=3)
    blank_rows = np.isnan(masked[:, N_ROW_FEATURES:]).all(axis=1)
    assert 0.45 < blank_rows.mean() < 0.55
    assert not np.isnan(masked[:, :N_ROW_FEATURES]).any()
    assert not np.isnan(masked[~blank_rows]).any()  # a row keeps all or none of its memory
    assert np.array_equal(masked, train.mask_memory(x, 0.5, seed=3), equal_nan=True)
    assert train.mask_memory(x, 0.0) is x and np.isnan(train.mask_memory(x, 1.0)[:, -1]).all()


def test_commit_weights_make_each_commit_count_by_the_root_of_its_size():
    commits = ["a"] * 100 + ["b"] * 4 + ["c"]
    w = train.commit_weights(commits)  # default power 0.5
    assert np.allclose(w[:100], 0.1) and np.allclose(w[100:104], 0.5) and w[104] == 1.0
    # A bulk commit of 100 rows weighs 10 rows' worth, not 100: about 10x one row.
    assert w[:100].sum() == pytest.approx(10.0) and w[100:104].sum() == pytest.approx(2.0)
    assert np.array_equal(train.commit_weights(commits, 0.0), np.ones(len(commits)))
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(Exception, match="non-negative number"):
            train.commit_weights(commits, bad)


def test_cli_train_weighs_rows_by_commit_and_records_the_power(tmp_path: Path):
    x, y = _synthetic(600)
    rows = _rows(x, y, "o/r")
    for row in rows[:300]:
        row["commit"] = "bulk"  # one clean-up commit holding half the rows
    data = tmp_path / "d.jsonl.gz"
    write_dataset(iter(rows), str(data), {"repo": "o/r"})
    blobs = {}
    for power in ("0", "0.5"):
        out = tmp_path / f"m{power}.onnx"
        run_lintrank("train", str(data), "--out", str(out), "--commit-weight", power,
                     cwd=tmp_path, check_rc=(0,))
        assert json.loads(out.with_suffix(".json").read_text())["commit_weight"] == float(power)
        blobs[power] = out.read_bytes()
    assert blobs["0"] != blobs["0.5"]  # the weights reached the fit
    run_lintrank("train", str(data), "--out", str(tmp_path / "m.onnx"), cwd=tmp_path,
                 check_rc=(0,))
    assert json.loads((tmp_path / "m.json").read_text())["commit_weight"] == train.COMMIT_WEIGHT
    proc = run_lintrank("train", str(data), "--out", str(tmp_path / "m.onnx"),
                        "--commit-weight", "-1", cwd=tmp_path, check_rc=(2,))
    assert "non-negative number" in proc.stderr


def _two_tools(n: int = 1600, seed: int = 2) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Half flake8, half pylint rows where one feature points opposite ways."""
    x, _ = _synthetic(n, seed)
    tool = np.arange(n) % 2  # 0 flake8, 1 pylint (features.TOOLS order)
    x[:, INDEX["tool"]] = tool
    signal = np.nan_to_num(x[:, INDEX["file_commits"]])
    y = ((signal > 0) ^ (tool == 1)).astype(np.int8)
    return x, y, [f"c{i // 20}" for i in range(n)]


def test_per_tool_model_routes_each_row_to_its_analyzers_trees():
    x, y, commits = _two_tools()
    model = train.fit_per_tool(x, y, commits, ["pylint"], memory_mask=0.0)
    blob = train.to_onnx(model, "t", 0.5)
    assert train.parity(model, blob, x) <= train.PARITY_TOLERANCE
    scores = train.onnx_scores(blob, x)
    pylint = x[:, INDEX["tool"]] == 1
    # Each part is the model fitted on its own rows alone (weighted by its commits).
    for mask, part in ((pylint, model.separate["pylint"]), (~pylint, model.shared)):
        alone = train.fit(x[mask], y[mask], memory_mask=0.0, weights=train.commit_weights(
            [c for c, keep in zip(commits, mask) if keep]))
        assert np.allclose(scores[mask], train.predict(alone, x[mask]), atol=1e-5)
        assert part.booster_.model_to_string() == alone.booster_.model_to_string()
    # Opposite signals are both learned: one model over all rows could not.
    from lintrank.core.evaluate import auc
    assert auc(y[pylint], scores[pylint]) > 0.9 and auc(y[~pylint], scores[~pylint]) > 0.9
    # Rows of only one part, no rows, and an unknown or missing tool (the shared trees).
    odd = x[:6].copy()
    odd[:3, INDEX["tool"]] = [2, 3, np.nan]
    for rows in (x[pylint][:5], x[~pylint][:5], x[:0], odd):
        assert train.parity(model, blob, rows) <= train.PARITY_TOLERANCE
    assert np.allclose(train.onnx_scores(blob, odd[:3]), train.predict(model.shared, odd[:3]),
                       atol=1e-5)


def test_cli_train_separate_tools_writes_one_loadable_model(tmp_path: Path):
    from lintrank.core.explain import used_features

    x, y, _ = _two_tools(1200)
    rows = _rows(x, y, "o/r")
    for row, tool in zip(rows, x[:, INDEX["tool"]]):
        row["tool"] = "pylint" if tool == 1 else "flake8"
    data = tmp_path / "d.jsonl.gz"
    write_dataset(iter(rows), str(data), {"repo": "o/r"})
    out = tmp_path / "m.onnx"
    run_lintrank("train", str(data), "--out", str(out), "--separate-tools", "pylint",
                 cwd=tmp_path, check_rc=(0,))
    assert json.loads(out.with_suffix(".json").read_text())["separate_tools"] == ["pylint"]
    model = load_model(str(out))
    scores = model.predict(x)
    assert scores.shape == (len(x),) and ((scores >= 0) & (scores <= 1)).all()
    # Explanations still ablate only what the trees read (not every feature).
    used = used_features(model)
    assert INDEX["tool"] in used and INDEX["file_age_days"] not in used
    proc = run_lintrank("train", str(data), "--out", str(tmp_path / "n.onnx"),
                        "--separate-tools", "pylnt", cwd=tmp_path, check_rc=(2,))
    assert "unknown analyzer(s) to separate: pylnt" in proc.stderr
    proc = run_lintrank("train", str(data), "--out", str(tmp_path / "n.onnx"),
                        "--separate-tools", "pylint,flake8", cwd=tmp_path, check_rc=(2,))
    assert "hold no findings of other analyzers" in proc.stderr


def test_data_manifest_counts_each_dataset_of_a_repository_by_its_tools(tmp_path: Path):
    x, y, _ = _two_tools(400)
    paths = []
    for tool, keep in (("flake8", 0), ("pylint", 1)):
        rows = [r for r, t in zip(_rows(x, y, "o/r"), x[:, INDEX["tool"]]) if t == keep]
        for row in rows:
            row["tool"] = tool
        path = tmp_path / f"{tool}.jsonl.gz"
        write_dataset(iter(rows), str(path), {"repo": "o/r", "tools": [tool]})
        paths.append(str(path))
    run_lintrank("train", *paths, "--out", str(tmp_path / "m.onnx"), "--separate-tools",
                 "pylint", "--data-manifest", str(tmp_path / "data.json"), cwd=tmp_path,
                 check_rc=(0,))
    doc = json.loads((tmp_path / "data.json").read_text())
    assert doc["rows"] == 400
    entries = {tuple(e["tools"]): e for e in doc["repositories"]}
    for tool, keep in (("flake8", 0), ("pylint", 1)):
        mask = x[:, INDEX["tool"]] == keep
        assert (entries[(tool,)]["rows"], entries[(tool,)]["positives"]) == (
            int(mask.sum()), int(y[mask].sum()))


def test_per_tool_offsets_keep_the_same_share_of_each_tool_and_its_order():
    x, y, commits = _two_tools()
    y[x[:, INDEX["tool"]] == 1] &= np.random.default_rng(3).random(800) < 0.2  # rarer fixes
    model = train.fit_per_tool(x, y, commits, ["pylint"], memory_mask=0.0)
    pylint = x[:, INDEX["tool"]] == 1
    raw = train.predict(model, x)
    threshold = model.align(x, 0.1)
    assert model.offsets["pylint"] != 0
    blob = train.to_onnx(model, "t", threshold)
    assert train.parity(model, blob, x) <= train.PARITY_TOLERANCE
    scores = train.onnx_scores(blob, x)
    for mask in (pylint, ~pylint):
        assert abs((scores[mask] >= threshold).mean() - 0.1) < 0.02
    assert np.allclose(scores[~pylint], raw[~pylint], atol=1e-6)  # the shared part as fitted
    order = np.argsort(raw[pylint], kind="stable")
    assert (np.diff(scores[pylint][order]) >= -1e-6).all()  # monotone: the same ranking
