"""Contexts built in flake8's workers equal the main process's own parse; the plugin
reports nothing; a stale or damaged spool only costs the parse (real flake8 runs)."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from flake8 import checker
from lintrank.core.finding import Finding
from lintrank.core.scorer import context_of
from lintrank.core.severity import severity_of
from lintrank.plugins.adapter import host_settings, score
from lintrank.plugins.flake8_contexts import SPOOL_ENV, ContextSpool
from lintrank.plugins.flake8_pool import after_fork

from tests.plugin_fixtures import flake8_keys, flake8_rows, make_tree, run_tool

NESTED = """\
import os


class Box:
    @property
    def size(self):
        try:
            with open(os.devnull) as handle:
                for line in handle:
                    if line:
                        continue
        except OSError:
            return undefined_name
        finally:
            pass
        return 0

    class Inner:
        def go(self, value):
            match value:
                case 1:
                    return  1
                case _:
                    while value:
                        value -= 1
"""

#: Files whose bytes flake8 and lintrank might read differently.
ODD: dict[str, bytes] = {
    "pkg/__init__.py": b"",
    "pkg/nested.py": NESTED.encode(),
    "pkg/crlf.py": NESTED.replace("\n", "\r\n").encode(),
    "pkg/lone_cr.py": b"import sys\rx = 1 \rdef f( ):\r    return sys\r",
    "pkg/bom.py": b"\xef\xbb\xbf" + NESTED.encode(),
    "pkg/latin.py": "# -*- coding: latin-1 -*-\nname = 'caf\xe9'  \n".encode("latin-1"),
    "pkg/undecodable.py": b"x = '\xff\xfe'  \nimport os\n",
    "pkg/form_feed.py": b"def f():\n    return 1\n\x0c\nclass A:\n    pass  \n",
    "pkg/syntax_error.py": b"def broken(:\n    pass\n",
    "pkg/skipped.py": b"# flake8: noqa\nimport os\n",
}


@pytest.fixture()
def odd(tmp_path, baseline_model_path):  # type: ignore[no-untyped-def]
    root = make_tree(tmp_path, {}, baseline_model_path)
    for rel, data in ODD.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _spooled(root: Path, *args: str, follow: bool = False) -> ContextSpool:
    """A spool that a real flake8 run over ``root`` wrote (read as it writes)."""
    spool = ContextSpool(str(root))
    try:
        if follow:
            spool.follow()
        run_tool("flake8", *args, "pkg", cwd=root, **{SPOOL_ENV: spool.folder})
        return spool
    except BaseException:
        spool.close()
        raise


@pytest.mark.parametrize(("jobs", "follow"), [("--jobs=1", False), ("--jobs=2", True)])
def test_spooled_contexts_equal_the_parse(odd, jobs, follow):
    spool = _spooled(odd, jobs, follow=follow)
    found = spool.contexts(ODD)
    spool.close()
    assert {"pkg/nested.py", "pkg/crlf.py", "pkg/bom.py", "pkg/latin.py",
            "pkg/lone_cr.py", "pkg/form_feed.py"} <= set(found)
    for path, (data, ctx) in found.items():
        assert data == (odd / path).read_bytes()
        assert dataclasses.astuple(ctx) == dataclasses.astuple(context_of(path, data)), path
    assert SPOOL_ENV not in os.environ and not os.path.exists(spool.folder)


def test_the_plugin_reports_nothing(odd, tmp_path):
    args = ("--count", "--statistics", "--show-source", "pkg")
    plain = run_tool("flake8", *args, cwd=odd)
    spooling = run_tool("flake8", *args, cwd=odd, **{SPOOL_ENV: str(tmp_path)})
    assert spooling.stdout == plain.stdout and spooling.returncode == plain.returncode
    assert "LRK" not in plain.stdout and list(tmp_path.glob("*.jsonl"))


def test_stale_or_damaged_records_are_left_to_the_parse(odd):
    spool = _spooled(odd)
    try:
        (odd / "pkg/nested.py").write_text(NESTED + "x = 1\n", encoding="utf-8")
        record = {"path": str(odd / "pkg/crlf.py"), "digest": "0", "parsed": True}
        with open(os.path.join(spool.folder, "0.jsonl"), "w", encoding="utf-8") as out:
            out.write("{not json\n" + json.dumps(record) + "\n" + '{"path": "pkg/bo')
        found = spool.contexts(ODD)
    finally:
        spool.close()
    assert "pkg/nested.py" not in found  # changed after flake8 read it
    assert "pkg/bom.py" in found  # the unfinished record left the worker's alone
    data, ctx = found["pkg/crlf.py"]  # the damaged record left the good one alone
    assert dataclasses.astuple(ctx) == dataclasses.astuple(context_of("pkg/crlf.py", data))


@pytest.mark.parametrize("jobs", ["--jobs=1", "--jobs=2"])
def test_formatter_scores_as_parsing_in_the_main_process(odd, jobs):
    """The cold run (spooled contexts, prepared on threads) ranks as scoring the same
    violations with nothing prepared, every file parsed here, no cache."""
    ranked = run_tool("flake8", "--format=lintrank", "--lintrank-threshold=0", jobs, "pkg",
                      cwd=odd)
    plain = run_tool("flake8", "--format=%(path)s|%(row)d|%(col)d|%(code)s|%(text)s", "pkg",
                     cwd=odd)
    findings = []
    for line in plain.stdout.splitlines():
        path, row, col, code, text = line.split("|", 4)
        findings.append(Finding("flake8", code, text, os.path.normpath(path), int(row),
                                max(int(col) - 1, 0), severity=severity_of("flake8", code),
                                category=code.rstrip("0123456789")))
    settings = host_settings([str(odd)], {"threshold": 0.0}, "test")
    settings = dataclasses.replace(settings, cache=False)
    expected = [(r.finding.path, r.finding.line, r.finding.column + 1, r.finding.code,
                 f"{r.score:.2f}") for r in score(findings, settings)]
    got = [(*key, row["score"])
           for key, row in zip(flake8_keys(ranked.stdout), flake8_rows(ranked.stdout))]
    assert got == expected and len(got) > 10
    warm = run_tool("flake8", "--format=lintrank", "--lintrank-threshold=0", jobs, "pkg",
                    cwd=odd)
    assert warm.stdout == ranked.stdout


def test_after_fork_calls_back_once_after_the_pool_and_undoes():
    original = checker._try_initialize_processpool
    calls: list[bool] = []
    undo = after_fork(lambda: calls.append(True))
    try:
        assert checker._try_initialize_processpool is not original
        pool = checker._try_initialize_processpool(2, [])
        try:
            assert calls == [True]
            assert checker._try_initialize_processpool is original  # one call back
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
    finally:
        undo()
    assert checker._try_initialize_processpool is original
    after_fork(lambda: calls.append(True))()  # undone before any pool: nothing left
    assert checker._try_initialize_processpool is original and calls == [True]
