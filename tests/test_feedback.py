"""`lintrank feedback` records verdicts in a committable file that survives edits."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lintrank.core import feedback
from lintrank.core.finding import Finding

from tests.helpers import SAMPLE, run_lintrank, write_tree


def test_record_verify_and_list(tmp_path: Path) -> None:
    write_tree(tmp_path, SAMPLE)
    ok = run_lintrank("feedback", "pkg/app.py:1", "F401", "--not-useful", "--note", "re-export",
                      cwd=tmp_path, check_rc=(0,))
    assert "not useful" in ok.stdout
    run_lintrank("feedback", "pkg/app.py:11", "E201", "--useful", "--tool", "flake8",
                 cwd=tmp_path, check_rc=(0,))
    # A code the analyzers do not report there is refused, unless told otherwise.
    refused = run_lintrank("feedback", "pkg/app.py:1", "E501", "--useful", cwd=tmp_path)
    assert refused.returncode == 2 and "report no E501" in refused.stderr
    run_lintrank("feedback", "pkg/app.py:1", "E501", "--useful", "--no-verify",
                 cwd=tmp_path, check_rc=(0,))
    lines = (tmp_path / ".lintrank" / "feedback.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [(e["code"], e["tool"], e["useful"]) for e in entries] == [
        ("F401", "flake8", False), ("E201", "flake8", True), ("E501", "", True)]
    assert entries[0]["note"] == "re-export" and entries[0]["fingerprint"]
    listed = run_lintrank("feedback", "--list", cwd=tmp_path, check_rc=(0,))
    assert "F401" in listed.stdout and "over 10% not useful" in listed.stdout


@pytest.mark.parametrize("args", [("pkg/app.py", "F401", "--useful"),
                                  ("pkg/app.py:99", "F401", "--useful"),
                                  ("nope.py:1", "F401", "--useful"),
                                  ("pkg/app.py:1", "F401")])
def test_bad_arguments_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    write_tree(tmp_path, SAMPLE)
    assert run_lintrank("feedback", *args, cwd=tmp_path).returncode == 2


def test_entries_find_their_finding_after_lines_move() -> None:
    entry = feedback.make("a.py", 3, "E225", False, "    x=1")
    moved = ["# new header", "", "import os", "", "def f():", "    x=1"]
    findings = [Finding("flake8", "E225", "m", "a.py", 6, 5),
                Finding("flake8", "E225", "m", "a.py", 3, 5),
                Finding("flake8", "E501", "m", "a.py", 6, 80)]
    assert feedback.match(entry, findings, moved) is findings[0]
    assert feedback.match(entry, findings[1:], moved) is None  # its line is gone
    by_symbol = feedback.make("a.py", 3, "unused-import", True, "import os")
    pylint = Finding("pylint", "W0611", "m", "a.py", 3, symbol="unused-import")
    assert feedback.match(by_symbol, [pylint], moved) is pylint


def test_latest_verdict_wins_and_bad_lines_are_skipped(tmp_path: Path) -> None:
    first = feedback.make("a.py", 1, "E501", True, "x = 1")
    second = feedback.Feedback(**{**first.__dict__, "useful": False, "time": first.time + 1})
    feedback.record(str(tmp_path), [first])
    with open(feedback.feedback_path(str(tmp_path)), "a", encoding="utf-8") as handle:
        handle.write("<<<<<<< HEAD\n")
    feedback.record(str(tmp_path), [second])
    with pytest.warns(UserWarning, match="unreadable entry"):
        entries = feedback.load(str(tmp_path))
    assert entries == [first, second]
    assert feedback.latest(entries) == [second]
    assert feedback.tally(entries) == {"E501": (0, 1)}
