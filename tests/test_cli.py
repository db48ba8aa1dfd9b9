"""End-to-end tests of the installed `lintrank` command (issue 2, CLI contract)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from lintrank.core import __version__
from tests.helpers import SAMPLE, check_json, lintrank_exe, run_lintrank, write_tree


@pytest.fixture()
def project(tmp_path):
    return write_tree(tmp_path, SAMPLE)


def test_version(tmp_path):
    proc = run_lintrank("--version", cwd=tmp_path, check_rc=(0,))
    assert proc.stdout.strip() == f"lintrank {__version__}"


def test_json_contract_and_threshold_zero_keeps_all(project):
    report = check_json("--tools", "flake8,pylint", "--threshold", "0", cwd=project)
    assert set(report["model"]) >= {"name", "sha256", "kind"}
    assert report["model"]["kind"] in ("baseline", "learned")
    assert report["findings"], "the sample has findings"
    for item in report["findings"]:
        assert {"tool", "code", "message", "path", "line", "column", "score", "kept"} <= set(item)
        assert item["kept"] is True
    # certain errors first, then best score first
    protected = [f["protected"] for f in report["findings"]]
    assert protected == sorted(protected, reverse=True)
    scores = [f["score"] for f in report["findings"] if not f["protected"]]
    assert scores == sorted(scores, reverse=True)
    assert report["summary"]["findings"] == len(report["findings"])
    assert report["summary"]["kept"] == len(report["findings"])
    codes = {(f["tool"], f["code"]) for f in report["findings"]}
    assert ("flake8", "F821") in codes and ("pylint", "E0602") in codes
    assert ("flake8", "E201") in codes  # style noise is there, just ranked low


def test_threshold_one_keeps_only_protected_and_exit_code(project):
    proc = run_lintrank("check", "--tools", "flake8", "--threshold", "1", "--format", "json",
                        cwd=project)
    assert proc.returncode == 1  # the undefined name can never be filtered
    kept = [f for f in json.loads(proc.stdout)["findings"] if f["kept"]]
    assert [(f["code"], f["protected"]) for f in kept] == [("F821", True)]


def test_exit_zero_when_nothing_kept(tmp_path):
    write_tree(tmp_path, {"setup.cfg": "", "ok.py": "x = 1\n", "noisy.py": "y = ( 1 )\n"})
    proc = run_lintrank("check", "--tools", "flake8", "--threshold", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_lintrank("check", "--tools", "flake8", "--threshold", "0", cwd=tmp_path)
    assert proc.returncode == 1 and "E201" in proc.stdout


def test_top_n_keeps_n_plus_protected(project):
    report = check_json("--tools", "flake8,pylint", "--threshold", "0", "--top", "2",
                        cwd=project)
    kept = [f for f in report["findings"] if f["kept"]]
    assert len([f for f in kept if not f["protected"]]) == 2
    assert {f["code"] for f in kept if f["protected"]} >= {"F821", "E0602"}


def test_defaults_from_pyproject(project):
    (project / "pyproject.toml").write_text(
        '[project]\nname = "s"\nversion = "0"\n[tool.lintrank]\ntools = ["flake8"]\n'
        'threshold = 0\n', encoding="utf-8")
    report = check_json(cwd=project)
    assert {f["tool"] for f in report["findings"]} == {"flake8"}
    assert all(f["kept"] for f in report["findings"])
    # the command line wins over the file
    report = check_json("--threshold", "1", cwd=project)
    assert not [f for f in report["findings"] if f["kept"] and not f["protected"]]


def test_config_file_option(project, tmp_path_factory):
    cfg = tmp_path_factory.mktemp("cfg") / "lintrank.toml"
    cfg.write_text('[tool.lintrank]\ntools = "ruff"\n', encoding="utf-8")
    report = check_json("--config", str(cfg), "--threshold", "0", cwd=project)
    assert {f["tool"] for f in report["findings"]} == {"ruff"}


@pytest.mark.parametrize("args, message", [
    (["--tools", "nosuchtool"], "unknown tool 'nosuchtool'"),
    (["--format", "xml"], "unknown format 'xml'"),
    (["--threshold", "7"], "threshold must be within 0..1"),
    (["missing_dir"], "path not found: missing_dir"),
    (["--config", "nope.toml"], "nope.toml: file not found"),
    (["--model", "nope.onnx"], "nope.onnx: file not found"),
])
def test_usage_errors_exit_2_without_traceback(project, args, message):
    proc = run_lintrank("check", *args, cwd=project)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_config_value_and_debug_traceback(project):
    (project / "pyproject.toml").write_text("[tool.lintrank]\ntop = 'many'\n", encoding="utf-8")
    proc = run_lintrank("check", cwd=project)
    assert proc.returncode == 2 and "invalid value 'many' for 'top'" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_lintrank("--debug", "check", cwd=project)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_unknown_config_key_is_an_error(project):
    (project / "pyproject.toml").write_text("[tool.lintrank]\nthreshhold = 0.2\n",
                                            encoding="utf-8")
    proc = run_lintrank("check", cwd=project)
    assert proc.returncode == 2 and "unknown option 'threshhold'" in proc.stderr


def test_corrupt_model_is_a_clear_error(project):
    bad = project / "bad.onnx"
    bad.write_bytes(b"this is not onnx")
    proc = run_lintrank("check", "--model", str(bad), cwd=project)
    assert proc.returncode == 2
    assert f"cannot use model {bad}: not a valid ONNX model" in proc.stderr
    assert "hint:" in proc.stderr and "Traceback" not in proc.stderr


def test_syntax_error_and_unreadable_file_become_findings(project):
    (project / "pkg" / "broken.py").write_text("def f(:\n", encoding="utf-8")
    secret = project / "pkg" / "secret.py"
    secret.write_text("x = 1\n", encoding="utf-8")
    secret.chmod(0)
    try:
        report = check_json("--tools", "flake8,pylint", "--threshold", "1", cwd=project)
    finally:
        secret.chmod(0o644)
    kept = {(f["path"], f["code"]) for f in report["findings"] if f["kept"]}
    assert ("pkg/broken.py", "E999") in kept and ("pkg/broken.py", "E0001") in kept
    assert ("pkg/app.py", "F821") in kept  # other files' findings are not lost
    import os
    if os.geteuid() != 0:  # root can read a chmod-0 file
        assert ("pkg/secret.py", "LR901") in kept


def test_paths_relative_to_cwd_and_single_file(project):
    report = check_json("--tools", "flake8", "--threshold", "0", "pkg/app.py", cwd=project)
    assert {f["path"] for f in report["findings"]} == {"pkg/app.py"}


def test_text_output_shows_score_location_code_message(project):
    proc = run_lintrank("check", "--tools", "flake8", "--threshold", "0", cwd=project)
    assert proc.returncode == 1
    line = next(l for l in proc.stdout.splitlines() if "F821" in l)
    assert "pkg/app.py:8:12: F821 undefined name 'reslt'" in line
    assert float(line.split()[0].rstrip("!*")) > 0
    assert "baseline" in proc.stdout or "learned" in proc.stdout


def test_debug_reports_versions_model_and_plugins(tmp_path):
    proc = run_lintrank("debug", cwd=tmp_path, check_rc=(0,))
    info = json.loads(proc.stdout)
    assert info["lintrank"] == __version__
    assert len(info["model"]["sha256"]) == 64
    assert info["analyzers"]["flake8"]["available"] is True
    assert any(p["name"] == "lintrank.plugins.flake8_source" for p in info["plugins"])
    assert info["dependencies"]["onnxruntime"]


def test_quick_exit_after_check_keeps_every_line_and_the_exit_code(project, tmp_path):
    # `check` ends the process without interpreter teardown (cli.console): the whole
    # report must still reach a pipe, a file and a reader that stops early.
    full = run_lintrank("check", "--tools", "flake8", "--threshold", "0", cwd=project)
    lines = full.stdout.splitlines()
    kept = int(lines[-1].split(" of ")[0])
    assert full.returncode == 1 and kept >= 3 and len(lines) == kept + 1
    out = tmp_path / "report.json"
    run_lintrank("check", "--tools", "flake8", "--format", "json", "--output", str(out),
                 cwd=project, check_rc=(1,))
    assert json.loads(out.read_text())["summary"]["findings"] == kept
    env = {**os.environ, "LINTRANK_CACHE_DIR": str(tmp_path / "c")}
    with subprocess.Popen([lintrank_exe(), "check", "--tools", "flake8", "--threshold", "0",
                           "."], cwd=project, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # the reader stops early, like `| head -1`
        assert proc.wait(timeout=120) in (0, 1)
        assert first and b"Traceback" not in proc.stderr.read()


def test_each_command_module_registers_the_command_it_is_named_for():
    # A run builds only the parser of the command it names (perf): by module name.
    import argparse

    from lintrank.core import cli

    for module in cli.COMMANDS:
        name = module.rsplit("cmd_", 1)[1]
        parser = cli.build_parser(name)
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        assert list(sub.choices) == [name]
    assert cli._command(["--debug", "check", "src"]) == "check"
    assert cli._command(["chek"]) is None and cli._command(["--help"]) is None


def test_help_and_a_wrong_command_name_every_command(tmp_path):
    """Without a known command the whole parser is built: every command is listed."""
    from lintrank.core import cli

    names = [m.rsplit("cmd_", 1)[1] for m in cli.COMMANDS]
    shown = run_lintrank("--help", cwd=tmp_path)
    assert shown.returncode == 0
    wrong = run_lintrank("chek", cwd=tmp_path)
    assert wrong.returncode == 2
    for name in names:
        assert name in shown.stdout
        assert repr(name) in wrong.stderr  # argparse: "choose from 'check', ..."
