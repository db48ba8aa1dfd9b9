"""flake8, pylint and ruff sources with the project's own configuration (issue 2, point 2)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from lintrank.core.engine import CRASHED, FileTask, run_task
from lintrank.plugins.flake8_source import SOURCE as FLAKE8
from lintrank.plugins.pylint_source import RUNNER, STREAM, SOURCE as PYLINT
from lintrank.plugins.ruff_source import SOURCE as RUFF
from tests.helpers import write_tree

CODE = {"pkg/__init__.py": "", "pkg/m.py": "import os\n\n\ndef f(a):\n    return undefined + 1  " + "#" * 70 + "\n"}


def _codes(findings):  # type: ignore[no-untyped-def]
    return {(f.path, f.code) for f in findings}


def test_flake8_finding_fields(tmp_path):
    write_tree(tmp_path, CODE)
    findings = FLAKE8.run(["pkg/m.py"], str(tmp_path), 60)
    f821 = next(f for f in findings if f.code == "F821")
    assert (f821.tool, f821.path, f821.line, f821.column) == ("flake8", "pkg/m.py", 5, 11)
    assert f821.severity == "error" and "undefined" in f821.message
    assert ("pkg/m.py", "E501") in _codes(findings)


@pytest.mark.parametrize("config_file, text", [
    ("setup.cfg", "[flake8]\nmax-line-length = 200\nextend-ignore = F401\n"),
    ("tox.ini", "[flake8]\nmax-line-length = 200\nextend-ignore = F401\n"),
    (".flake8", "[flake8]\nmax-line-length = 200\nextend-ignore = F401\n"),
])
def test_flake8_reads_project_config(tmp_path, config_file, text):
    write_tree(tmp_path, {**CODE, config_file: text})
    codes = {c for _, c in _codes(FLAKE8.run(["pkg/m.py"], str(tmp_path), 60))}
    assert "E501" not in codes and "F401" not in codes and "F821" in codes


def test_flake8_ignores_a_user_format_setting(tmp_path):
    write_tree(tmp_path, {**CODE, "setup.cfg": "[flake8]\nformat = pylint\nshow-source = true\n"
                          "count = true\nstatistics = true\n"})
    assert ("pkg/m.py", "F821") in _codes(FLAKE8.run(["pkg/m.py"], str(tmp_path), 60))


def test_pylint_fields_and_pylintrc(tmp_path):
    write_tree(tmp_path, CODE)
    findings = PYLINT.run(["pkg/m.py"], str(tmp_path), 120)
    e0602 = next(f for f in findings if f.code == "E0602")
    assert (e0602.symbol, e0602.severity, e0602.category) == (
        "undefined-variable", "error", "error")
    assert e0602.end_line == 5 and e0602.column == 11
    assert ("pkg/m.py", "C0114") in _codes(findings)
    write_tree(tmp_path, {".pylintrc": "[MESSAGES CONTROL]\ndisable=C0114,C0116\n"})
    codes = _codes(PYLINT.run(["pkg/m.py"], str(tmp_path), 120))
    assert ("pkg/m.py", "C0114") not in codes and ("pkg/m.py", "E0602") in codes


def test_pylint_reads_pyproject(tmp_path):
    write_tree(tmp_path, {**CODE, "pyproject.toml":
                          "[tool.pylint.'messages control']\ndisable = ['C0114']\n"})
    assert ("pkg/m.py", "C0114") not in _codes(PYLINT.run(["pkg/m.py"], str(tmp_path), 120))


@pytest.mark.skipif(not RUFF.available(), reason="ruff not installed")
def test_ruff_fields_and_ruff_toml(tmp_path):
    write_tree(tmp_path, {**CODE, "ruff.toml": "line-length = 88\n[lint]\nselect = ['E', 'F']\n"})
    findings = RUFF.run(["pkg/m.py"], str(tmp_path), 60)
    f821 = next(f for f in findings if f.code == "F821")
    assert (f821.path, f821.line, f821.column, f821.symbol) == ("pkg/m.py", 5, 11, "undefined-name")
    assert ("pkg/m.py", "E501") in _codes(findings)
    write_tree(tmp_path, {"ruff.toml": "[lint]\nselect = ['F']\nignore = ['F401']\n"})
    assert _codes(RUFF.run(["pkg/m.py"], str(tmp_path), 60)) == {("pkg/m.py", "F821")}


@pytest.mark.parametrize("setting", ["fix = true\nunsafe-fixes = true", "fix-only = true"])
def test_ruff_never_fixes_files_even_when_the_project_says_fix(tmp_path, setting):
    """A project's `fix = true` (pallets' projects have it) must not let a check
    rewrite the user's files, nor hide the findings ruff would have fixed."""
    write_tree(tmp_path, {**CODE, "pyproject.toml": f"[tool.ruff]\n{setting}\n"})
    before = (tmp_path / "pkg" / "m.py").read_bytes()
    assert ("pkg/m.py", "F401") in _codes(RUFF.run(["pkg/m.py"], str(tmp_path), 60))
    assert (tmp_path / "pkg" / "m.py").read_bytes() == before


@pytest.mark.skipif(not RUFF.available(), reason="ruff not installed")
def test_ruff_syntax_error_code(tmp_path):
    write_tree(tmp_path, {"ruff.toml": "", "bad.py": "def f(:\n"})
    assert ("bad.py", "invalid-syntax") in _codes(RUFF.run(["bad.py"], str(tmp_path), 60))


def test_installed_flake8_plugins_run(tmp_path):
    # mccabe ships with flake8 as a plugin; enabling it proves plugins are honoured.
    write_tree(tmp_path, {"setup.cfg": "[flake8]\nmax-complexity = 1\n",
                          "c.py": "def f(a):\n    if a:\n        return 1\n    return 2\n"})
    assert ("c.py", "C901") in _codes(FLAKE8.run(["c.py"], str(tmp_path), 60))


class _Exploding:
    """A source that fails on one file, to test isolation of a crash."""

    name = "exploding"

    def run(self, files, root, timeout):  # type: ignore[no-untyped-def]
        from lintrank.core.sources import AnalyzerCrash
        if "bad.py" in files:
            raise AnalyzerCrash(self.name, "boom")
        return FLAKE8.run(files, root, timeout)


def test_crash_on_one_file_is_isolated(tmp_path):
    write_tree(tmp_path, {"a.py": "import os\n", "bad.py": "x = 1\n", "c.py": "import sys\n"})
    findings = run_task(FileTask(_Exploding(), ["a.py", "bad.py", "c.py"], str(tmp_path), 60))
    assert _codes(findings) == {("a.py", "F401"), ("c.py", "F401"), ("bad.py", CRASHED)}


def test_pylint_batch_sees_the_projects_src_packages(tmp_path):
    # A batch holding only tests/ must resolve the project's own src/ packages, as
    # one `pylint src tests` run does; a really missing module is still reported.
    write_tree(tmp_path, {"pyproject.toml": "", "src/pkg/__init__.py": '"""P."""\n',
                          "src/pkg/mod.py": '"""M."""\nVALUE = 1\n',
                          "tests/test_x.py": '"""T."""\nfrom pkg.mod import VALUE\n'
                                             'import no_such_module_xyz\n\n'
                                             'print(VALUE, no_such_module_xyz)\n'})
    errors = {(f.line, f.code) for f in PYLINT.run(["tests/test_x.py"], str(tmp_path), 120)
              if f.code == "E0401"}
    assert errors == {(3, "E0401")}


def test_pylint_runner_prints_what_python_m_pylint_does(tmp_path):
    # The source's runner skips the exit teardown and collects garbage less often:
    # the same findings (cross-module inference included) and the same exit status.
    write_tree(tmp_path, {**CODE, "pkg/n.py": "from pkg.m import f\n\nprint(f(1).real)\n"})
    args = [f"--load-plugins={STREAM}", "--output-format=lintrank-stream", "--reports=n",
            "--score=n", "--persistent=n"]

    def run(module: str, *more: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", module, *args, *more], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)

    plain, fast = run("pylint", "pkg"), run(RUNNER, "pkg")
    assert '"E0602"' in fast.stdout and '{"end": true}' in fast.stdout
    assert fast.stdout == plain.stdout
    assert fast.returncode == plain.returncode != 0  # pylint's bit-coded status
    plain, fast = run("pylint", "--no-such-option", "pkg"), run(RUNNER, "--no-such-option", "pkg")
    assert fast.returncode == plain.returncode == 32
