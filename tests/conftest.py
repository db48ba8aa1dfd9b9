"""Shared fixtures."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def baseline_model_path(tmp_path_factory) -> str:
    """A freshly built severity-baseline model for the current feature schema."""
    from lintrank.core.baseline import build

    out = tmp_path_factory.mktemp("model") / "baseline.onnx"
    build(str(out))
    return str(out)
