"""benchmarks/plugins.py: its ``history = false`` case changes the tree only while it runs."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from lintrank.core.config import Settings, apply, load_file_options

from .helpers import REPO


def _plugins_module():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(REPO / "benchmarks"))  # its own helpers (_install, _tree)
    try:
        spec = importlib.util.spec_from_file_location("plugins_bench",
                                                      REPO / "benchmarks" / "plugins.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return module


def _settings(root: Path) -> Settings:
    settings = Settings(root=str(root))
    options, path = load_file_options(None, str(root))
    apply(settings, options, path or "pyproject.toml")
    return settings


@pytest.mark.parametrize("pyproject", [
    None,  # no pyproject.toml at all
    b'[project]\nname = "x"\n',
    b'[project]\nname = "x"\n\n[tool.lintrank]\nmodel = "m.onnx"\n\n[tool.other]\na = 1\n',
], ids=["none", "no-table", "table"])
def test_history_off_holds_only_inside_the_block(tmp_path: Path, pyproject: bytes | None):
    path = tmp_path / "pyproject.toml"
    if pyproject is not None:
        path.write_bytes(pyproject)
    assert _settings(tmp_path).history
    with _plugins_module().history_off(tmp_path):
        inside = _settings(tmp_path)
        assert not inside.history
        if pyproject is not None and b"model" in pyproject:
            assert Path(inside.model).name == "m.onnx"  # the table's own keys stay
    if pyproject is None:
        assert not path.exists()
    else:
        assert path.read_bytes() == pyproject
    assert _settings(tmp_path).history
