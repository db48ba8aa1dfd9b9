"""ONNX loading, validation, batching and the score cache (issue 2, point 4)."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from lintrank.core.cache import Cache
from lintrank.core.exceptions import ModelError
from lintrank.core.features import INDEX, N_FEATURES
from lintrank.core.finding import SEVERITIES
from lintrank.core.onnx_model import META_SCHEMA, PARALLEL_ROWS, load_model
from lintrank.core.scorer import score_rows
from lintrank.models import DEFAULT_MODEL


def _rows(severities: list[str]) -> np.ndarray:
    rows = np.zeros((len(severities), N_FEATURES), dtype=np.float32)
    rows[:, INDEX["severity"]] = [SEVERITIES.index(s) for s in severities]
    return rows


def _baseline(tmp_path):
    from lintrank.core.baseline import build
    out = tmp_path / "baseline.onnx"
    build(str(out))
    return out


def test_baseline_model_golden_values(tmp_path):
    from lintrank.core.baseline import SEVERITY_SCORES
    model = load_model(str(_baseline(tmp_path)))
    assert model.kind == "baseline" and model.name == "severity-baseline"
    scores = model.predict(_rows(list(SEVERITIES)))
    np.testing.assert_allclose(scores, SEVERITY_SCORES, rtol=1e-6)


def test_shipped_model_loads_and_matches_its_manifest():
    model = load_model(str(DEFAULT_MODEL))
    manifest = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text())
    assert model.sha256 == manifest["sha256"]
    assert model.kind in ("baseline", "learned")
    scores = model.predict(_rows(["fatal", "style"] * 50))
    assert scores.shape == (100,) and ((scores >= 0) & (scores <= 1)).all()


def test_schema_mismatch_is_a_clear_error(tmp_path):
    import onnx
    path = _baseline(tmp_path)
    proto = onnx.load(str(path))
    for prop in proto.metadata_props:
        if prop.key == META_SCHEMA:
            prop.value = "0:deadbeef"
    other = tmp_path / "old.onnx"
    onnx.save(proto, str(other))
    with pytest.raises(ModelError, match="feature schema '0:deadbeef' does not match"):
        load_model(str(other))


def test_tampered_model_fails_hash_check(tmp_path):
    path = _baseline(tmp_path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="differs from .* recorded in baseline.json"):
        load_model(str(path))


def test_missing_and_corrupt_model(tmp_path):
    with pytest.raises(ModelError, match="file not found"):
        load_model(str(tmp_path / "none.onnx"))
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00" * 10)
    with pytest.raises(ModelError, match="not a valid ONNX model"):
        load_model(str(bad))


def test_session_is_created_once_per_process(tmp_path):
    path = str(_baseline(tmp_path))
    assert load_model(path) is load_model(path)


def test_score_cache_hits_give_identical_scores(tmp_path):
    model = load_model(str(_baseline(tmp_path)))
    cache = Cache(tmp_path / "cache")
    rows = _rows(["error", "warning", "style"])
    first = score_rows(model, rows, cache)
    assert cache.info()["scores"] == 3
    second = score_rows(model, rows, cache)
    np.testing.assert_array_equal(first, second)
    cache.close()


def test_copy_without_manifest_still_loads(tmp_path):
    src = _baseline(tmp_path)
    dst = tmp_path / "copy" / "m.onnx"
    dst.parent.mkdir()
    shutil.copy(src, dst)
    assert load_model(str(dst)).sha256 == load_model(str(src)).sha256


def test_a_big_batch_scored_on_threads_equals_row_by_row_scoring():
    """Big batches go to several threads in parts: same scores, same order."""
    model = load_model(str(DEFAULT_MODEL))
    rng = np.random.default_rng(3)
    rows = (rng.random((PARALLEL_ROWS + 777, N_FEATURES)) * 4).astype(np.float32)
    whole = model.predict(rows)
    parts = np.concatenate([model.predict(rows[i:i + 1000])
                            for i in range(0, len(rows), 1000)])
    assert whole.shape == (len(rows),)
    assert np.array_equal(whole, parts)
    assert len(np.unique(whole)) > 100  # the rows really differ
