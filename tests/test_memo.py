"""The remembered ranking: a repeat is recalled exactly; any input that moves misses."""
from __future__ import annotations

import dataclasses

import pluggy
import pytest

from lintrank.core import memo
from lintrank.core.config import Settings
from lintrank.core.finding import Finding
from lintrank.core import hookspecs
from lintrank.core.hookspecs import hookimpl
from lintrank.core.pipeline import open_cache
from lintrank.plugins.adapter import score
from tests.helpers import SAMPLE, write_tree
from tests.plugin_fixtures import committed, git


@pytest.fixture()
def project(tmp_path):  # type: ignore[no-untyped-def]
    root = committed(write_tree(tmp_path / "proj", SAMPLE))
    return root


def _settings(root, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(root=str(root), threshold=0.0, cache_dir=str(tmp_path / "cache"))


def _findings() -> list[Finding]:
    return [Finding("flake8", "F401", "'os' imported but unused", "pkg/app.py", 1, 0,
                    severity="warning", category="F"),
            Finding("flake8", "F821", "undefined name 'reslt'", "pkg/app.py", 8, 11,
                    severity="error", category="F"),
            Finding("flake8", "E201", "whitespace after '('", "pkg/app.py", 11, 10,
                    severity="style", category="E")]


def _ranked(results) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [(r.finding, r.score, r.kept, r.protected) for r in results]


def _key(settings: Settings, findings: list[Finding] | None = None) -> memo.Memo | None:
    return memo.memo_key(findings or _findings(), settings)


def test_a_repeat_is_recalled_equal_in_any_order(project, tmp_path):
    settings = _settings(project, tmp_path)
    first = score(_findings(), settings)  # scored and remembered
    cache = open_cache(settings)
    shuffled = list(reversed(_findings()))  # pylint -j hands them over in any order
    key = _key(settings, shuffled)
    assert key == _key(settings)
    recalled = memo.recall(cache, key, shuffled)
    cache.close()
    assert recalled is not None and _ranked(recalled) == _ranked(first)
    assert _ranked(score(shuffled, settings)) == _ranked(first)


def test_hosts_learn_whether_a_ranking_is_remembered_before_any_finding(project, tmp_path):
    settings = _settings(project, tmp_path)
    cache = open_cache(settings)
    assert memo.remembered(cache, settings) == (False, None)  # and git not asked
    score(_findings(), settings)
    assert memo.remembered(cache, settings) == (True, memo.git_state(settings))
    assert not memo.remembered(cache, dataclasses.replace(settings, threshold=0.5))[0]
    assert not memo.remembered(cache, dataclasses.replace(settings, new_only=True))[0]
    cache.close()


def test_a_ranking_of_another_commit_or_edit_is_no_warm_run(project, tmp_path):
    """After a commit (every pre-commit run follows one) or an edit, hosts prepare
    the scoring while they check: the remembered ranking is of another git state."""
    settings = _settings(project, tmp_path)
    score(_findings(), settings)
    app = project / "pkg" / "app.py"
    for change in ("commit", "edit"):
        cache = open_cache(settings)
        try:
            assert memo.remembered(cache, settings)[0]
            app.write_text(app.read_text() + f"# {change}\n")
            if change == "commit":
                git("commit", "-q", "-am", "more", cwd=project)
            assert not memo.remembered(cache, settings)[0]
        finally:
            cache.close()
        score(_findings(), settings)  # ranked in the new state
    cache = open_cache(settings)
    assert memo.remembered(cache, settings)[0]
    cache.close()


def test_a_basis_and_contents_given_make_the_same_key(project, tmp_path):
    settings = _settings(project, tmp_path)
    contents = {"pkg/app.py": (project / "pkg" / "app.py").read_bytes()}
    assert _key(settings) == memo.memo_key(_findings(), settings, memo.memo_basis(settings),
                                           contents)


def test_every_input_that_moves_changes_the_key(project, tmp_path):
    settings = _settings(project, tmp_path)
    base = _key(settings)
    assert base and base == _key(settings)
    moved = [_key(dataclasses.replace(settings, threshold=0.5)),
             _key(dataclasses.replace(settings, priorities={"E": 2.0})),
             _key(settings, _findings()[:2])]
    (project / "pkg" / "app.py").write_text("import os\n", encoding="utf-8")
    moved.append(_key(settings))  # the file's content (and the worktree's state)
    git("commit", "-q", "-am", "edit", cwd=project)
    moved.append(_key(settings))  # a new HEAD: new history features
    (project / "pkg" / "clean.py").write_text("x = 1\n", encoding="utf-8")
    moved.append(_key(settings))  # another file edited: the last change moved
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    moved.append(_key(dataclasses.replace(settings, model=str(model))))
    assert len({base, *moved}) == len(moved) + 1
    # One slot per project and settings: the latest ranking replaces the one before.
    assert len({m.slot for m in (base, *moved[3:6])}) == 1


def test_runs_whose_inputs_move_without_files_are_not_memoised(project, tmp_path):
    settings = _settings(project, tmp_path)
    for change in ({"diff": "HEAD~1"}, {"new_only": True}, {"staged": True},
                   {"explain": True}, {"format": "json"}):
        assert _key(dataclasses.replace(settings, **change)) is None, change


def test_a_damaged_entry_is_a_miss(project, tmp_path):
    settings = _settings(project, tmp_path)
    cache = open_cache(settings)
    key = _key(settings)
    assert key is not None
    for bad in ([[0, "x", True, False]], [[7, 0.5, True, False]] * 3, "x", [[0, 0.5]]):
        cache.put_derived({key.slot: {"key": key.key, "ranking": bad}})
        assert memo.recall(cache, key, _findings()) is None
    cache.put_derived({key.slot: {"key": "another", "ranking": [[0, 0.5, True, False]]}})
    assert memo.recall(cache, key, _findings()[:1]) is None
    cache.close()


class _Adjuster:
    """A plugin that adjusts scores: its code may read anything, so no memo."""

    @hookimpl
    def lintrank_adjust_score(self, finding, score, extras):  # type: ignore[no-untyped-def]
        return score


def test_a_plugin_adjusting_scores_turns_the_memo_off(project, tmp_path, monkeypatch):
    manager = pluggy.PluginManager("lintrank")  # not the process-wide one: no leak
    manager.add_hookspecs(hookspecs)
    manager.register(_Adjuster())
    monkeypatch.setattr(memo, "get_plugin_manager", lambda: manager)
    assert _key(_settings(project, tmp_path)) is None
