"""Packaging: the fixed layout maps to lintrank.core/.plugins/.models (issue 2, point 1)."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from tests.helpers import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(REPO)], check=True,
                   capture_output=True)
    return next(out.glob("lintrank-*.whl"))


def test_wheel_layout(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("lintrank-")}
    assert tops == {"lintrank"}, tops  # no bare core/plugins/models in site-packages
    assert "lintrank/core/py.typed" in names
    assert "lintrank/models/default.onnx" in names and "lintrank/models/default.json" in names
    assert "lintrank/plugins/flake8_source.py" in names
    assert not any(n.startswith("lintrank/__init__") for n in names)  # namespace package
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "lintrank = lintrank.core.cli:console" in text


def test_installed_wheel_runs(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    # -S would drop the dependencies; instead put the wheel's copy first on the path.
    code = ("import lintrank.core, lintrank.models, sys;"
            "print(lintrank.core.__file__); print(lintrank.models.DEFAULT_MODEL.is_file())")
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out[0].startswith(str(target)) and out[1] == "True"
    proc = subprocess.run([sys.executable, "-m", "lintrank.core.cli", "debug"], env=env,
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert str(target) in proc.stdout  # the model path comes from the installed copy


def test_editable_install_points_at_the_checkout():
    import lintrank.core
    import lintrank.models
    # CI and the README install with `pip install -e .`: the code runs from core/.
    assert os.path.dirname(lintrank.core.__file__) == str(REPO / "core")
    assert lintrank.models.DEFAULT_MODEL == REPO / "models" / "default.onnx"
