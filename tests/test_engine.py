"""The engine: cache hits, invalidation, cross-module keys, deterministic order (issue 5)."""
from __future__ import annotations

import pytest
from lintrank.core.cache import Cache
from lintrank.core.engine import analyse, batches
from lintrank.core.imports import dependency_digests, module_facts
from lintrank.plugins.flake8_source import SOURCE as FLAKE8
from lintrank.plugins.flake8_source import Flake8Source
from lintrank.plugins.pylint_source import SOURCE as PYLINT

from tests.helpers import SAMPLE, check_json, write_tree

TREE = {
    "pkg/__init__.py": "",
    "pkg/a.py": "from pkg import b\n\n\ndef f(x):\n    return b.g(x)  " + "#" * 70 + "\n",
    "pkg/b.py": "import os\n\n\ndef g(x):\n    return x+1\n",
    "pkg/c.py": "def h( y ):\n    return y\n",
}


def _run(root, sources, cache, jobs=2):  # type: ignore[no-untyped-def]
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    return analyse(files, str(root), sources, cache, jobs, 60)


def _keys(findings):  # type: ignore[no-untyped-def]
    return [(f.tool, f.path, f.line, f.code) for f in findings]


@pytest.fixture()
def tree(tmp_path):
    return write_tree(tmp_path / "proj", TREE)


def test_warm_run_analyses_nothing_and_edit_reanalyses_one_file(tree, tmp_path):
    cache = Cache(tmp_path / "cache")
    cold = _run(tree, [FLAKE8], cache)
    assert cold.analysed == {"flake8": 4} and cold.cached == {"flake8": 0}
    warm = _run(tree, [FLAKE8], cache)
    assert warm.analysed == {"flake8": 0} and warm.cached == {"flake8": 4}
    assert _keys(warm.findings) == _keys(cold.findings)
    (tree / "pkg" / "c.py").write_text("def h(y):\n    return y\n")
    edited = _run(tree, [FLAKE8], cache)
    assert edited.analysed == {"flake8": 1}
    assert not [f for f in edited.findings if f.path == "pkg/c.py"]


def test_config_and_analyzer_version_changes_invalidate(tree, tmp_path):
    cache = Cache(tmp_path / "cache")
    before = _run(tree, [FLAKE8], cache)
    assert "E501" in {f.code for f in before.findings}
    (tree / "setup.cfg").write_text("[flake8]\nmax-line-length = 200\n")
    after = _run(tree, [FLAKE8], cache)
    assert after.analysed == {"flake8": 4}
    assert "E501" not in {f.code for f in after.findings}

    class NewerFlake8(Flake8Source):
        def version(self) -> str:
            return super().version() + " upgraded"

    upgraded = _run(tree, [NewerFlake8()], cache)
    assert upgraded.analysed == {"flake8": 4}
    assert _run(tree, [NewerFlake8()], cache).analysed == {"flake8": 0}


def test_pylint_keys_follow_imported_modules(tree, tmp_path):
    cache = Cache(tmp_path / "cache")
    _run(tree, [FLAKE8, PYLINT], cache)
    # A comment or formatting edit in b does not change what a imports.
    (tree / "pkg" / "b.py").write_text("import os\n\n\ndef g(x):  # why\n    return x + 1\n")
    cosmetic = _run(tree, [FLAKE8, PYLINT], cache)
    assert cosmetic.analysed == {"flake8": 1, "pylint": 1}
    # A code change in b can change pylint's inference in a: a is re-analysed too.
    (tree / "pkg" / "b.py").write_text("import os\n\n\ndef g(x, y=1):\n    return x + y\n")
    code = _run(tree, [FLAKE8, PYLINT], cache)
    assert code.analysed == {"flake8": 1, "pylint": 2}
    assert {f.path for f in code.findings if f.tool == "pylint"} >= {"pkg/a.py", "pkg/b.py"}


def test_local_import_resolution():
    facts = {
        "src/pkg/__init__.py": module_facts(b"from .core import run\n"),
        "src/pkg/core.py": module_facts(b"from . import util\nimport os\n"),
        "src/pkg/util.py": module_facts(b"x = 1\n"),
        "tests/test_core.py": module_facts(b"from pkg.core import run\nimport pkg.util\n"),
    }
    base = dependency_digests(list(facts), facts)
    changed = dict(facts, **{"src/pkg/util.py": module_facts(b"x = 2\n")})
    after = dependency_digests(list(changed), changed)
    moved = {f for f in facts if base[f] != after[f]}
    assert moved == {"src/pkg/core.py", "tests/test_core.py"}
    assert module_facts(b"def f(:\n")["imports"] == []


def test_batches_cover_all_files_in_order():
    files = [f"f{i:03}.py" for i in range(450)]
    for jobs in (1, 2, 7):
        parts = batches(files, jobs, {f: (i % 13) + 1 for i, f in enumerate(files)})
        assert [f for part in parts for f in part] == files  # one folder: contiguous
        assert len(parts) >= min(jobs, len(files)) and max(map(len, parts)) <= 200


def test_batches_keep_packages_whole_and_balanced():
    # Three packages: a split at the middle would cut "b" in two (inferred twice).
    sizes = {"a": 40, "b": 30, "c": 30}
    files = [f"src/{p}/{name}" for p, n in sizes.items()
             for name in ["__init__.py", *(f"m{i}.py" for i in range(n))]]
    lines = {f: 10 for f in files}
    # An analyzer of one file at a time: contiguous halves, whatever the packages.
    assert [f for part in batches(files, 2, lines) for f in part] == files
    parts = batches(files, 2, lines, by_package=True)
    assert sorted({f.split("/")[1] for f in part} for part in parts) == \
        sorted([{"a"}, {"b", "c"}], key=sorted)
    assert all(part == sorted(part, key=files.index) for part in parts)
    # A package far over a batch's share is still cut, for balance.
    heavy = {**lines, **{f: 100 for f in files if "/a/" in f}}
    big = batches(files, 2, heavy, by_package=True)
    assert len(big) == 2 and all(any("/a/" in f for f in part) for part in big)
    halves = [sum(heavy[f] for f in part) for part in big]
    assert abs(halves[0] - halves[1]) <= 100
    assert sorted(f for part in big for f in part) == sorted(files)


def test_output_order_is_the_same_for_any_jobs(tmp_path, baseline_model_path):
    write_tree(tmp_path, {**SAMPLE, **{f"pkg/m{i}.py": "import sys\nx=1\n" for i in range(6)}})
    args = ("--threshold", "0", "--no-cache", "--model", baseline_model_path)
    one = check_json("--jobs", "1", *args, cwd=tmp_path)
    two = check_json("--jobs", "2", *args, cwd=tmp_path)
    assert one["findings"] == two["findings"]
    assert one["summary"]["analysed"] == {"flake8": 9, "pylint": 9}


def test_findings_outside_the_batch_are_kept_once_and_cached(tree, tmp_path):
    # pylint reports its own config problems against the config file, in every batch.
    (tree / "pyproject.toml").write_text(
        '[tool.pylint."messages control"]\ndisable = ["no-such-message-here"]\n')
    cache = Cache(tmp_path / "cache")

    def config_findings(result):  # type: ignore[no-untyped-def]
        return [f for f in result.findings if f.path == "pyproject.toml"]

    cold = _run(tree, [PYLINT], cache, jobs=2)
    warm = _run(tree, [PYLINT], cache, jobs=2)
    assert len(config_findings(cold)) == 1 and warm.analysed == {"pylint": 0}
    assert _keys(warm.findings) == _keys(cold.findings)


def test_progress_reports_files_and_findings(tree, tmp_path):
    seen: list[tuple[int, int, int]] = []
    files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.py"))
    result = analyse(files, str(tree), [FLAKE8], None, 2, 60,
                     progress=lambda *a: seen.append(a))
    assert seen[0][0] == 0 and seen[-1][:2] == (4, 4)
    assert seen[-1][2] == len(result.findings)


def test_damaged_module_facts_in_the_cache_are_misses(tree, tmp_path):
    cache = Cache(tmp_path / "cache")
    _run(tree, [PYLINT], cache)
    digests = [row[0] for row in cache._query("SELECT digest FROM modules", ())]
    cache.put_modules({d: {"syntax": 1, "imports": [["x"]]} for d in digests})
    again = _run(tree, [PYLINT], cache)
    assert again.analysed == {"pylint": 0}  # same facts recomputed: same keys


def test_whole_run_pylint_checks_are_kept_once_and_cached(tmp_path):
    # Two modules importing each other: pylint pins cyclic-import on a batch's last file.
    root = write_tree(tmp_path / "p", {
        "pkg/__init__.py": "",
        "pkg/x.py": "from pkg import y\n\n\ndef fx():\n    return y.fy\n",
        "pkg/y.py": "from pkg import x\n\n\ndef fy():\n    return x.fx\n",
        "pkg/z.py": "VALUE = 1\n",
    })
    one = _run(root, [PYLINT], None, jobs=1)
    cycles = [f for f in one.findings if f.code == "R0401"]
    assert len(cycles) == 1  # pinned on the batch's last file by pylint, kept once
    cache = Cache(tmp_path / "cache")
    cold = _run(root, [PYLINT], cache, jobs=2)
    warm = _run(root, [PYLINT], cache, jobs=2)
    assert warm.analysed == {"pylint": 0} and _keys(warm.findings) == _keys(cold.findings)
