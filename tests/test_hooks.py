"""The pluggy hook system: docs, entry points, a real third-party plugin (issue 2, point 7)."""
from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap

from lintrank.core import hookspecs
from lintrank.core.plugin_manager import DEFAULT_PLUGINS, get_plugin_manager
from tests.helpers import REPO, SAMPLE, run_lintrank, write_tree


def test_every_hook_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    pm = get_plugin_manager()
    names = [n for n in dir(pm.hook) if n.startswith("lintrank_")]
    assert names, "no hooks found"
    for name in names:
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"{name}({params})" in readme, f"{name}({params}) is not documented"


def test_every_hookspec_has_a_docstring():
    for name in dir(hookspecs):
        if name.startswith("lintrank_"):
            doc = getattr(hookspecs, name).__doc__ or ""
            assert ":return:" in doc, name


def test_builtins_are_ordinary_plugins():
    pm = get_plugin_manager()
    registered = {name for name, _ in pm.list_name_plugin()}
    assert set(DEFAULT_PLUGINS) <= registered
    sources = {s.name for part in pm.hook.lintrank_sources() for s in part}
    assert sources == {"flake8", "pylint", "ruff"}
    formats = {k for part in pm.hook.lintrank_reporters() for k in part}
    assert formats >= {"text", "json", "sarif"}


def _fake_distribution(site) -> None:  # type: ignore[no-untyped-def]
    """An installed distribution made of files only: dist-info + module."""
    dist = site / "fakeplug-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplug\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[lintrank]\nfake = fakeplug_mod\n")
    (site / "fakeplug_mod.py").write_text(textwrap.dedent("""\
        from lintrank.core.hookspecs import hookimpl
        from lintrank.core.reporters.base import Reporter

        class Lines(Reporter):
            def report(self, result):
                for item in result.results:
                    self.stream.write(f"FAKE {item.finding.code} {item.kept}\\n")

        @hookimpl
        def lintrank_reporters():
            return {"fake": Lines}

        @hookimpl
        def lintrank_adjust_score(finding, score, extras):
            return 1.0 if finding.code == "E201" else None
        """))


def test_fake_installed_distribution_is_discovered(tmp_path):
    site = tmp_path / "site"
    _fake_distribution(site)
    env = dict(os.environ, PYTHONPATH=str(site))
    code = ("from lintrank.core.plugin_manager import get_plugin_manager, plugin_names;"
            "print(plugin_names(get_plugin_manager()))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert "'fake', 'fakeplug 1.0'" in out
    project = write_tree(tmp_path / "proj", SAMPLE)
    proc = run_lintrank("check", "--tools", "flake8", "--format", "fake", "--threshold",
                        "0.95", cwd=project, env={"PYTHONPATH": str(site)})
    assert "FAKE E201 True" in proc.stdout  # the score hook lifted E201 over 0.95
    assert "FAKE E202 False" in proc.stdout


def test_example_plugin_installs_and_runs_through_entry_point(tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--no-build-isolation", "--target", str(site),
                    str(REPO / "examples" / "lintrank-todo")], check=True,
                   capture_output=True)
    project = write_tree(tmp_path / "proj", {
        "pyproject.toml": "[tool.lintrank]\ntools = ['flake8']\n",
        "a.py": "x = 1  # TODO: remove me\n"})
    proc = run_lintrank("check", "--format", "counts", "--threshold", "0", cwd=project,
                        env={"PYTHONPATH": str(site)})
    assert proc.returncode == 1, proc.stderr
    assert "TD001 kept=1 filtered=0" in proc.stdout
