"""Work prepared while the analyzers run gives exactly the scores of doing it after."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading

import pytest

from lintrank.core import prepare
from lintrank.core.config import Settings
from lintrank.core.exceptions import ModelError
from lintrank.core.features import schema_id
from lintrank.core.pipeline import open_cache, run_check, select_sources
from lintrank.core.scoring import resolve_model, score_findings
from tests.helpers import SAMPLE, write_tree
from tests.plugin_fixtures import committed


@pytest.fixture()
def project(tmp_path):  # type: ignore[no-untyped-def]
    root = committed(write_tree(tmp_path / "proj", SAMPLE))
    (root / "pkg" / "app.py").write_text("import os\nimport sys\n\n\ndef f( x ):\n"
                                         "    return y\n", encoding="utf-8")  # uncommitted
    return root


def _settle(preparer: prepare.Preparer) -> None:
    for thread in preparer._threads:
        thread.join()


def _settings(root, cache_dir) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(root=str(root), paths=["."], tools=["flake8", "pylint"], threshold=0.0,
                    cache_dir=str(cache_dir))


def _scores(results) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [(r.finding.path, r.finding.line, r.finding.code, r.score, r.kept)
            for r in results]


def test_cold_run_scores_equal_scoring_after_the_analysis(project, tmp_path):
    settings = _settings(project, tmp_path / "cache")
    cold = run_check(settings)  # the model, history and contexts prepared on a thread
    assert cold.results and cold.analysed["flake8"] == 3
    # The same findings scored the plain way: nothing prepared, no cache.
    plain = dataclasses.replace(settings, cache=False)
    again = score_findings([r.finding for r in cold.results], plain, resolve_model(plain),
                           None)
    assert sorted(_scores(cold.results)) == sorted(_scores(again))
    warm = run_check(settings)  # nothing analysed: history comes from the cache
    assert warm.analysed["flake8"] == 0
    assert _scores(warm.results) == _scores(cold.results)


def test_history_is_computed_once_per_head_and_stored(project, tmp_path):
    settings = _settings(project, tmp_path / "cache")
    cache = open_cache(settings)
    assert cache is not None
    preparer = prepare.Preparer(settings, cache)
    preparer.start(["pkg/app.py"])
    _settle(preparer)  # finish() stops parsing ahead: let it parse first
    ready = preparer.finish()
    assert ready.history["pkg/app.py"].recent  # the uncommitted edit is the last change
    assert set(ready.parsed) == {"pkg/app.py"}
    cache.close()
    cache = open_cache(settings)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, text=True,
                          capture_output=True, check=True).stdout.strip()
    key = f"history:{schema_id()}:{head}:{project}"
    assert cache.get_derived([key])  # stored by the history thread's connection
    again = prepare.Preparer(settings, cache)
    assert again.finish().history == ready.history  # no threads: completed here
    cache.close()


def test_parsing_ahead_stops_at_its_line_budget(project, tmp_path, monkeypatch):
    monkeypatch.setattr(prepare, "AHEAD_LINES", 3)
    settings = _settings(project, tmp_path / "cache")
    preparer = prepare.Preparer(settings, None)
    preparer.start(["pkg/app.py", "pkg/clean.py", "pkg/__init__.py"])
    _settle(preparer)
    ready = preparer.finish()
    assert list(ready.parsed) == ["pkg/app.py"]  # 6 lines: over the budget, then stop
    assert ready.parsed["pkg/app.py"][1].parsed


def test_a_bad_model_fails_the_run_after_the_analysis_with_its_message(project, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    settings = dataclasses.replace(_settings(project, tmp_path / "cache"), model=str(bad))
    with pytest.raises(ModelError, match="bad.onnx"):
        run_check(settings)
    assert select_sources(["flake8"])  # the process is still usable afterwards


def test_parsed_notebooks_read_as_their_code_cells(tmp_path):
    cell = {"cell_type": "code", "source": ["import os\n", "x = 1\n"], "metadata": {},
            "outputs": [], "execution_count": None}
    (tmp_path / "n.ipynb").write_text(json.dumps(
        {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    preparer = prepare.Preparer(Settings(root=str(tmp_path), history=False), None)
    preparer.start(["n.ipynb"])
    _settle(preparer)
    ctx = preparer.finish(needs_history=False).parsed["n.ipynb"][1]
    assert ctx.lines == ["import os", "x = 1"] and ctx.parsed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice: Linux")
def test_preparing_threads_yield_the_cpu_to_the_analyzers():
    """The preparing threads run at a lower priority than the rest of the process."""
    from lintrank.core.prepare import NICER, yield_cpu

    seen: list[int] = []

    def work() -> None:
        yield_cpu()
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    before = os.getpriority(os.PRIO_PROCESS, 0)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [min(before + NICER, 19)]
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the main thread is untouched
