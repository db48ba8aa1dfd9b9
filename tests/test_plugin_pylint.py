"""End-to-end tests of ``pylint --load-plugins=lintrank.plugins.pylint`` (real pylint)."""
from __future__ import annotations

import json

import pytest

from lintrank.core.sources import SOURCE_RUN_ENV
from tests.helpers import run_lintrank
from tests.plugin_fixtures import BROKEN, NOISE, git, make_tree, run_tool

PLUGIN = "--load-plugins=lintrank.plugins.pylint"
JSON = "--output-format=json2"
ERROR_BIT, WARNING_BIT, CONVENTION_BIT = 2, 4, 16


def pylint_json(*args: str, cwd, **env) -> tuple[int, dict]:
    proc = run_tool("pylint", JSON, *args, "pkg", cwd=cwd, **env)
    assert proc.stdout.strip(), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def keys(report: dict) -> list[tuple[str, int, str]]:
    return [(m["path"], m["line"], m["messageId"]) for m in report["messages"]]


def test_threshold_zero_keeps_every_message_status_and_score(broken):
    plain_rc, plain = pylint_json(cwd=broken)
    rc, ranked = pylint_json(PLUGIN, "--lintrank-threshold=0", cwd=broken)
    assert rc == plain_rc
    assert sorted(keys(ranked)) == sorted(keys(plain))
    assert ranked["statistics"] == plain["statistics"]


def test_noise_only_tree_passes_with_lintrank_only(noise):
    plain_rc, _ = pylint_json(cwd=noise)
    assert plain_rc & CONVENTION_BIT
    rc, ranked = pylint_json(PLUGIN, "--lintrank-top=0", cwd=noise)
    assert rc == 0
    assert ranked["messages"] == []
    assert ranked["statistics"]["score"] == 10.0


@pytest.mark.parametrize("option", ["--lintrank-threshold=1", "--lintrank-top=0"])
def test_errors_are_kept_and_exit_status_follows_the_kept_set(broken, option):
    rc, ranked = pylint_json(PLUGIN, option, cwd=broken)
    assert {m["messageId"] for m in ranked["messages"]} == {"E0602"}
    assert len(ranked["messages"]) == 2
    assert rc == ERROR_BIT
    counts = ranked["statistics"]["messageTypeCount"]
    assert counts == {"fatal": 0, "error": 2, "warning": 0, "refactor": 0,
                      "convention": 0, "info": 0}


def test_shipped_model_keeps_only_certain_errors_at_top_zero(tmp_path):
    tree = make_tree(tmp_path, BROKEN, None)
    rc, ranked = pylint_json(PLUGIN, "--lintrank-top=0", cwd=tree)
    assert rc == ERROR_BIT
    assert [m["messageId"] for m in ranked["messages"]] == ["E0602", "E0602"]


def test_messages_left_out_by_a_diff_leave_status_and_score(broken):
    git("init", "-q", cwd=broken)
    git("add", "pkg", "pyproject.toml", cwd=broken)
    git("commit", "-q", "-m", "start", cwd=broken)
    rc, ranked = pylint_json(PLUGIN, "--lintrank-new-only", cwd=broken)
    assert (rc, ranked["messages"]) == (0, [])
    assert ranked["statistics"]["score"] == 10.0


@pytest.mark.parametrize("fmt", ["text", "parseable", "colorized"])
def test_any_output_format_is_filtered(broken, fmt):
    proc = run_tool("pylint", PLUGIN, "--lintrank-top=0", f"--output-format={fmt}", "pkg",
                    cwd=broken)
    assert proc.returncode == ERROR_BIT
    assert proc.stdout.count("E0602") == 2
    assert "C0116" not in proc.stdout and "W0611" not in proc.stdout


def test_force_color_still_colours_the_default_reporter(broken):
    proc = run_tool("pylint", PLUGIN, "--lintrank-top=0", "pkg", cwd=broken, FORCE_COLOR="1")
    assert proc.returncode == ERROR_BIT
    assert "\x1b[" in proc.stdout and proc.stdout.count("E0602") == 2


def test_several_outputs_and_output_file(broken, tmp_path):
    report, copy = tmp_path / "report.json", tmp_path / "text.txt"
    proc = run_tool("pylint", PLUGIN, "--lintrank-top=0",
                    f"--output-format=parseable,json2:{report}", "pkg", cwd=broken)
    assert proc.returncode == ERROR_BIT
    assert proc.stdout.count("E0602") == 2
    assert {m["messageId"] for m in json.loads(report.read_text())["messages"]} == {"E0602"}
    # --output (one format; pylint itself refuses it with several) reaches the
    # wrapped reporter, which pylint only sets after the plugin installed its proxy.
    proc = run_tool("pylint", PLUGIN, "--lintrank-top=0", f"--output={copy}", "pkg",
                    cwd=broken)
    assert proc.returncode == ERROR_BIT
    assert copy.read_text(encoding="utf-8").count("E0602") == 2


@pytest.mark.parametrize("option", ["--lintrank-threshold=0", "--lintrank-top=0"])
def test_jobs_two_gives_the_serial_result(broken, option):
    rc1, serial = pylint_json(PLUGIN, option, "--jobs=1", cwd=broken)
    rc2, parallel = pylint_json(PLUGIN, option, "--jobs=2", cwd=broken)
    assert rc2 == rc1 != 0
    assert keys(parallel) == keys(serial)
    # Workers do not count twice: the statistics describe exactly the kept messages.
    counts = parallel["statistics"]["messageTypeCount"]
    assert sum(counts.values()) == len(parallel["messages"])
    assert parallel["statistics"] == serial["statistics"]


def test_ranked_like_lintrank_check(broken):
    _, ranked = pylint_json(PLUGIN, "--lintrank-threshold=0", cwd=broken)
    proc = run_lintrank("check", "--tools", "pylint", "--threshold", "0", "--format",
                        "json", "--no-cache", "pkg", cwd=broken)
    expected = [(f["path"], f["line"], f["code"]) for f in json.loads(proc.stdout)["findings"]]
    assert keys(ranked) == expected


def test_pylintrc_loads_plugin_and_options(broken):
    (broken / ".pylintrc").write_text(
        "[MAIN]\nload-plugins=lintrank.plugins.pylint\nlintrank-top=0\n", encoding="utf-8")
    rc, ranked = pylint_json(cwd=broken)
    assert rc == ERROR_BIT
    assert {m["messageId"] for m in ranked["messages"]} == {"E0602"}


def test_pyproject_loads_plugin_and_options(tmp_path, baseline_model_path):
    tree = make_tree(tmp_path, NOISE, baseline_model_path,
                     '[tool.pylint.main]\nload-plugins = ["lintrank.plugins.pylint"]\n'
                     "lintrank-threshold = 1\n")
    rc, ranked = pylint_json(cwd=tree)
    assert (rc, ranked["messages"]) == (0, [])


def test_bad_option_value_is_a_usage_error(broken):
    proc = run_tool("pylint", PLUGIN, "--lintrank-threshold=2", "pkg", cwd=broken)
    assert proc.returncode == 32
    assert "threshold must be within 0..1" in proc.stderr


def test_stands_aside_when_lintrank_runs_pylint(broken):
    _, plain = pylint_json(cwd=broken)
    _, aside = pylint_json(PLUGIN, "--lintrank-top=0", cwd=broken, **{SOURCE_RUN_ENV: "1"})
    assert keys(aside) == keys(plain)


def test_lintrank_check_sees_everything_despite_plugin_in_pylintrc(broken):
    _, plain = pylint_json(cwd=broken)
    (broken / ".pylintrc").write_text(
        "[MAIN]\nload-plugins=lintrank.plugins.pylint\nlintrank-top=0\n", encoding="utf-8")
    proc = run_lintrank("check", "--tools", "pylint", "--threshold", "0", "--format",
                        "json", "pkg", cwd=broken)
    assert len(json.loads(proc.stdout)["findings"]) == len(plain["messages"])
