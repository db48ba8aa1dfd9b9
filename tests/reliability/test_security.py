"""Security: nothing a user, repository or download supplies is unpickled or run.

Static checks walk the syntax tree of every lintrank module; behavioural checks
(edited cache rows, pickled "models") live in test_cache_faults / test_model_faults.
"""
from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.reliability.conftest import GOOD, project

PACKAGE_DIRS = ("core", "plugins", "models")
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill",
                     "cloudpickle", "joblib", "yaml"}
FORBIDDEN_CALLS = {"eval", "exec", "__import__", "execfile"}
FORBIDDEN_ATTRS = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"),
                   ("pty", "spawn")}
#: The only dynamic imports: module names from constant tuples in these files.
IMPORT_MODULE_ALLOWED = {"core/cli.py", "core/plugin_manager.py"}


def _modules() -> list[tuple[str, ast.Module]]:
    found = []
    for folder in PACKAGE_DIRS:
        for path in sorted((REPO / folder).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            found.append((rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel)))
    return found


MODULES = _modules()


def test_the_scan_sees_the_package():
    names = {rel for rel, _ in MODULES}
    assert {"core/cache.py", "core/onnx_model.py", "core/engine.py",
            "plugins/flake8_source.py"} <= names


@pytest.mark.parametrize("rel, tree", MODULES, ids=[rel for rel, _ in MODULES])
def test_no_deserialisation_or_code_execution(rel, tree):
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            problems += [a.name for a in node.names
                         if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                problems.append(node.module)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                problems.append(f"{func.id}() at line {node.lineno}")
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                    and (func.value.id, func.attr) in FORBIDDEN_ATTRS:
                problems.append(f"{func.value.id}.{func.attr}() at line {node.lineno}")
            if isinstance(func, ast.Attribute) and func.attr == "import_module" \
                    and rel not in IMPORT_MODULE_ALLOWED:
                problems.append(f"import_module() at line {node.lineno}")
            for kw in node.keywords:  # subprocesses get argv lists, never a shell
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant)
                                              and kw.value.value is False):
                    problems.append(f"shell= at line {node.lineno}")
            if isinstance(func, ast.Attribute) and func.attr == "load" \
                    and any(kw.arg == "allow_pickle" for kw in node.keywords):
                problems.append(f"allow_pickle at line {node.lineno}")
    assert not problems, f"{rel}: {problems}"


def test_models_are_created_only_by_the_validating_loader():
    """onnxruntime sessions come from one place, after the hash manifest check."""
    creators = [rel for rel, tree in MODULES for node in ast.walk(tree)
                if isinstance(node, ast.Attribute) and node.attr == "InferenceSession"]
    # train.py checks the bytes it has just built itself (ONNX vs LightGBM agreement).
    assert set(creators) <= {"core/onnx_model.py", "core/train.py"}
    source = (REPO / "core" / "onnx_model.py").read_text(encoding="utf-8")
    assert source.index("_check_manifest(path, sha)") < source.index("ort.InferenceSession(")


def test_cache_payloads_are_json_and_numbers_only():
    source = (REPO / "core" / "cache.py").read_text(encoding="utf-8")
    assert "json.loads" in source and "json.dumps" in source


def test_lsp_analyses_only_the_document_it_is_told_about(tmp_path, model):
    pytest.importorskip("pygls")
    from lintrank.core.lsp.analysis import Workspace

    root = project(tmp_path, {"other.py": "import sys\n", "pkg/deep.py": "import json\n"})
    os.mkfifo(root / "fifo.py")  # reading it would block: only the buffer is used
    ws = Workspace(str(root), {"model": model, "tools": "flake8", "threshold": 0})
    try:
        results = ws.analyse("good.py", GOOD)
        assert {r.finding.path for r in results} == {"good.py"}
        assert {r.finding.code for r in results} == {"F401", "F821"}
        unsaved = ws.analyse("fifo.py", "import os\n")
        assert [(r.finding.path, r.finding.code) for r in unsaved] == [("fifo.py", "F401")]
    finally:
        ws.close()
    assert not (Path(root) / ".lintrank_cache" / "other.py").exists()


def test_cache_clean_deletes_only_lintrank_files(tmp_path):
    """A cache_dir pointed at a home folder must not cost the user their files."""
    import subprocess

    from tests.helpers import lintrank_exe

    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitignore").write_text("*.pyc\n", encoding="utf-8")
    (home / "notes.txt").write_text("mine\n", encoding="utf-8")
    from lintrank.core.cache import Cache

    Cache(home).close()  # lintrank's own files appear next to the user's
    proc = subprocess.run([lintrank_exe(), "cache", "clean", "--cache-dir", str(home)],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in home.iterdir()) == [".gitignore", "notes.txt"]
    assert (home / ".gitignore").read_text(encoding="utf-8") == "*.pyc\n"
