"""Shared fixtures."""
from __future__ import annotations

import pytest

from tests import plugin_fixtures


@pytest.fixture(scope="session")
def baseline_model_path(tmp_path_factory) -> str:
    """A freshly built severity-baseline model for the current feature schema."""
    from lintrank.core.baseline import build

    out = tmp_path_factory.mktemp("model") / "baseline.onnx"
    build(str(out))
    return str(out)


@pytest.fixture()
def broken(tmp_path, baseline_model_path):
    """A project with noise and two undefined names."""
    return plugin_fixtures.make_tree(tmp_path, plugin_fixtures.BROKEN, baseline_model_path)


@pytest.fixture()
def noise(tmp_path, baseline_model_path):
    """A project with style noise only."""
    return plugin_fixtures.make_tree(tmp_path, plugin_fixtures.NOISE, baseline_model_path)
