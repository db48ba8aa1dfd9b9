"""End-to-end tests of ``flake8 --format=lintrank`` (real flake8 subprocesses)."""
from __future__ import annotations

import json

import pytest

from lintrank.core.sources import SOURCE_RUN_ENV
from tests.helpers import run_lintrank
from tests.plugin_fixtures import (BROKEN, NOISE, flake8_keys, flake8_rows, make_tree,
                                   run_tool)

LR = "--format=lintrank"


def test_threshold_zero_shows_everything_ranked(broken):
    plain = run_tool("flake8", "pkg", cwd=broken)
    ranked = run_tool("flake8", LR, "--lintrank-threshold=0", "pkg", cwd=broken)
    assert plain.returncode == ranked.returncode == 1
    assert sorted(flake8_keys(ranked.stdout)) == sorted(flake8_keys(plain.stdout))
    scores = [float(r["score"]) for r in flake8_rows(ranked.stdout)]
    assert scores and scores == sorted(scores, reverse=True)


def test_same_order_and_scores_as_lintrank_check(broken):
    ranked = run_tool("flake8", LR, "--lintrank-threshold=0", "pkg", cwd=broken)
    proc = run_lintrank("check", "--tools", "flake8", "--threshold", "0", "--format",
                        "json", "--no-cache", "pkg", cwd=broken)
    report = json.loads(proc.stdout)
    expected = [(f["path"], f["line"], f["column"] + 1, f["code"], f"{f['score']:.2f}")
                for f in report["findings"]]
    got = [(*key, row["score"])
           for key, row in zip(flake8_keys(ranked.stdout), flake8_rows(ranked.stdout))]
    assert got == expected


def test_noise_only_tree_passes_with_lintrank_only(noise):
    assert run_tool("flake8", "pkg", cwd=noise).returncode == 1
    for option in ("--lintrank-threshold=1", "--lintrank-top=0"):
        proc = run_tool("flake8", LR, option, "pkg", cwd=noise)
        assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr


def test_shipped_model_keeps_only_certain_errors_at_top_zero(tmp_path):
    tree = make_tree(tmp_path, BROKEN, None)
    proc = run_tool("flake8", LR, "--lintrank-top=0", "pkg", cwd=tree)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert [key[3] for key in flake8_keys(proc.stdout)] == ["F821", "F821"]


@pytest.mark.parametrize("option", ["--lintrank-threshold=0", "--lintrank-threshold=1",
                                    "--lintrank-top=0"])
def test_undefined_names_are_never_filtered(broken, option):
    proc = run_tool("flake8", LR, option, "pkg", cwd=broken)
    assert proc.returncode == 1
    codes = [key[3] for key in flake8_keys(proc.stdout)]
    assert codes.count("F821") == 2
    if option != "--lintrank-threshold=0":
        assert set(codes) == {"F821"}


def test_users_exit_zero_still_wins(broken):
    proc = run_tool("flake8", LR, "--lintrank-top=0", "--exit-zero", "pkg", cwd=broken)
    assert proc.returncode == 0
    assert "F821" in proc.stdout


def test_jobs_two_gives_the_serial_result(broken):
    serial = run_tool("flake8", LR, "--lintrank-threshold=0", "--jobs=1", "pkg", cwd=broken)
    parallel = run_tool("flake8", LR, "--lintrank-threshold=0", "--jobs=2", "pkg",
                        cwd=broken)
    assert parallel.returncode == serial.returncode == 1
    assert parallel.stdout == serial.stdout
    assert len(flake8_rows(parallel.stdout)) > 5


@pytest.mark.parametrize("config", ["setup.cfg", "tox.ini", ".flake8"])
def test_options_from_flake8_config_files(broken, config):
    (broken / config).write_text("[flake8]\nformat = lintrank\nlintrank-top = 0\n",
                                 encoding="utf-8")
    proc = run_tool("flake8", "pkg", cwd=broken)
    assert proc.returncode == 1
    assert {key[3] for key in flake8_keys(proc.stdout)} == {"F821"}
    assert all(row["score"] for row in flake8_rows(proc.stdout))
    (broken / config).write_text("[flake8]\nformat = lintrank\nlintrank-threshold = 0\n",
                                 encoding="utf-8")
    everything = run_tool("flake8", "pkg", cwd=broken)
    assert len(flake8_rows(everything.stdout)) > len(flake8_rows(proc.stdout))


def test_tool_lintrank_is_the_default_and_options_override(tmp_path, baseline_model_path):
    tree = make_tree(tmp_path, NOISE, baseline_model_path, "threshold = 1\n")
    assert run_tool("flake8", LR, "pkg", cwd=tree).returncode == 0
    proc = run_tool("flake8", LR, "--lintrank-threshold=0", "pkg", cwd=tree)
    assert proc.returncode == 1 and flake8_rows(proc.stdout)


def test_show_source_statistics_and_count(broken):
    proc = run_tool("flake8", LR, "--lintrank-top=0", "--show-source", "--statistics",
                    "--count", "pkg", cwd=broken)
    lines = proc.stdout.splitlines()
    found = [i for i, line in enumerate(lines) if flake8_rows(line)]
    assert len(found) == 2
    for i in found:
        assert lines[i + 1].strip() in ("return reslt", "return missing_name")
        assert lines[i + 2].strip() == "^"
    # --statistics counts the kept findings; --count is flake8's own total.
    statistics = [line.split()[:2] for line in lines[found[-1] + 3:-1]]
    assert statistics == [["2", "F821"]]
    total = len(flake8_rows(run_tool("flake8", "pkg", cwd=broken).stdout))
    assert lines[-1] == str(total)


def test_bad_option_value_is_a_clear_error(broken):
    proc = run_tool("flake8", LR, "--lintrank-threshold=2", "pkg", cwd=broken)
    assert proc.returncode == 1
    assert "threshold must be within 0..1" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_stands_aside_when_lintrank_runs_flake8(broken):
    plain = run_tool("flake8", "pkg", cwd=broken)
    aside = run_tool("flake8", LR, "--lintrank-top=0", "pkg", cwd=broken,
                     **{SOURCE_RUN_ENV: "1"})
    assert aside.returncode == 1
    assert flake8_keys(aside.stdout) == flake8_keys(plain.stdout)
    assert not any(row["score"] for row in flake8_rows(aside.stdout))


def test_lintrank_check_sees_everything_despite_format_lintrank_config(broken):
    (broken / "setup.cfg").write_text("[flake8]\nformat = lintrank\nlintrank-top = 0\n",
                                      encoding="utf-8")
    plain = run_tool("flake8", "--format=default", "pkg", cwd=broken)
    proc = run_lintrank("check", "--tools", "flake8", "--threshold", "0", "--format",
                        "json", "pkg", cwd=broken)
    assert len(json.loads(proc.stdout)["findings"]) == len(flake8_rows(plain.stdout))
