"""`lintrank learn` on a test-built repository: history + feedback -> project model."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import check_json, run_lintrank, write_tree

pytest.importorskip("lightgbm")
pytest.importorskip("onnxmltools")

ROUNDS = 24
LONG = "x" * 90


def commit(root: Path, message: str, when: int) -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": f"{when} +0000",
           "GIT_COMMITTER_DATE": f"{when} +0000"}
    for args in (["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com",
                                 "commit", "-qm", message]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env,
                       capture_output=True)


def module(r: int, fixed: bool) -> str:
    assign = "b = a + 1" if fixed else "b=a + 1"
    pragma = "  # noqa: E501" if fixed else ""
    return (f'"""Module {r}."""\nimport os\n\n\ndef f{r}(a):\n    {assign}\n'
            f'    text = "{LONG}"{pragma}\n    return b, text, os\n')


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """The team fixes every E225 and silences every E501 with noqa, round after round."""
    root = tmp_path_factory.mktemp("learnrepo")
    write_tree(root, {"pyproject.toml": "[project]\nname = 'l'\n\n[tool.lintrank]\n"
                                        "tools = ['flake8']\n", "pkg/__init__.py": ""})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    when = 1_600_000_000
    commit(root, "start", when)
    for r in range(ROUNDS):
        (root / "pkg" / f"m{r}.py").write_text(module(r, fixed=False), encoding="utf-8")
        when += 3600
        commit(root, f"add f{r}", when)
        (root / "pkg" / f"m{r}.py").write_text(module(r, fixed=True), encoding="utf-8")
        when += 3600
        commit(root, f"tidy f{r}", when)
    # Today's code: one new module with both codes and an unused import.
    (root / "pkg" / "new.py").write_text(
        f'"""New."""\nimport sys\n\n\ndef g(a):\n    b=a + 1\n    text = "{LONG}"\n'
        "    return b, text\n", encoding="utf-8")
    return root


def test_learn_writes_a_better_project_model_that_check_uses(
        repo: Path, baseline_model_path: str) -> None:
    env = {"LINTRANK_CACHE_DIR": str(repo / ".lintrank_cache")}
    run_lintrank("feedback", "pkg/new.py:2", "F401", "--not-useful", cwd=repo, env=env,
                 check_rc=(0,))
    proc = run_lintrank("learn", "--against", baseline_model_path, "--jobs", "1",
                        cwd=repo, env=env, check_rc=(0,))
    out = proc.stdout
    assert f"from {2 * ROUNDS + 1} commits" in out or "commits" in out
    assert "1 feedback verdicts" in out
    shipped = next(line for line in out.splitlines() if line.strip().startswith("shipped"))
    project = next(line for line in out.splitlines() if line.strip().startswith("project ("))
    assert float(project.split()[-4]) > float(shipped.split()[-4])  # AUC, later history
    assert "wrote .lintrank/model.onnx" in out
    assert (repo / ".lintrank" / "model.onnx").is_file()
    from lintrank.core import explain, memory

    # The project memory counts every fix mined: one E225 per round, in its module;
    # the E501s were silenced, not fixed.
    known = memory.load(str(repo))
    assert known is not None and known.total == ROUNDS
    assert known.codes == {("flake8", "E225"): ROUNDS}
    assert known.files == {f"pkg/m{r}.py": 1 for r in range(ROUNDS)}
    assert f"project memory: {ROUNDS} past fixes of 1 codes in {ROUNDS} files" in out
    from lintrank.core.onnx_model import load_model

    learned = load_model(str(repo / ".lintrank" / "model.onnx"))
    # Explanations of the project model compare with the project's median finding.
    assert explain.META_REFERENCE in learned._session.get_modelmeta().custom_metadata_map

    report = check_json("--threshold", "0", "pkg/new.py", cwd=repo, env=env)
    assert report["model"]["name"].startswith("project:")
    score = {r["code"]: r["score"] for r in report["findings"]}
    # Fixed by the team ranks above what it silences and what it called not useful.
    assert score["E225"] > score["E501"] and score["E225"] > score["F401"]
    # The flake8 plugin scores through the same project model, with no option.
    flake8 = subprocess.run([str(Path(sys.executable).parent / "flake8"), "--format=lintrank",
                             "--lintrank-threshold=0", "pkg/new.py"], cwd=repo,
                            capture_output=True, text=True, check=False,
                            env={**os.environ, **env})
    plugin = {line.split()[1]: float(line.rsplit("[", 1)[1].rstrip("]"))
              for line in flake8.stdout.splitlines()}
    assert plugin == pytest.approx({c: score[c] for c in plugin}, abs=0.006), flake8  # 2 digits
    # With the shipped model (the severity baseline here) the order differs.
    shipped_report = check_json("--threshold", "0", "--model", baseline_model_path,
                                "pkg/new.py", cwd=repo, env=env)
    base = {r["code"]: r["score"] for r in shipped_report["findings"]}
    assert base["E225"] == base["E501"] < base["F401"]


def test_learn_keeps_the_shipped_model_when_history_is_too_short(
        tmp_path: Path, baseline_model_path: str) -> None:
    write_tree(tmp_path, {"pyproject.toml": "[project]\nname = 's'\n", "a.py": "x=1\n"})
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    commit(tmp_path, "one", 1_600_000_000)
    proc = run_lintrank("learn", "--against", baseline_model_path, "--tools", "flake8",
                        cwd=tmp_path, check_rc=(0,))
    assert "keeping the shipped model" in proc.stdout
    assert not (tmp_path / ".lintrank" / "model.onnx").exists()


def test_learn_outside_git_is_a_usage_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pyproject.toml": "[project]\nname = 's'\n"})
    proc = run_lintrank("learn", "--tools", "flake8", cwd=tmp_path)
    assert proc.returncode == 2 and "git work tree" in proc.stderr


def test_feedback_rows_match_what_check_scores(tmp_path: Path) -> None:
    from lintrank.core import feedback, learn
    from lintrank.core.features import INDEX
    from lintrank.core.pipeline import select_sources

    write_tree(tmp_path, {"pyproject.toml": "[project]\nname = 'f'\n",
                          "a.py": "import os\nimport sys\nx=1\n"})
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    commit(tmp_path, "one", 1_600_000_000)
    feedback.record(str(tmp_path), [feedback.make("a.py", 2, "F401", False, "import sys"),
                                    feedback.make("a.py", 9, "E501", True, "gone")])
    rows = learn.feedback_rows(str(tmp_path), str(tmp_path), select_sources(["flake8"]),
                               None, 60.0)
    assert rows.y.tolist() == [0]  # the entry whose finding is gone is left out
    assert rows.x[0, INDEX["file_findings"]] == 3  # F401 x2 and E225, as in `check`
    assert rows.x[0, INDEX["file_same_code"]] == 2


def test_too_few_later_fixes_are_not_a_fair_comparison(tmp_path: Path,
                                                       baseline_model_path: str) -> None:
    import numpy as np

    from lintrank.core import learn
    from lintrank.core.features import N_FEATURES
    from lintrank.core.onnx_model import load_model

    n = 40
    y = np.zeros(n, dtype=np.int8)
    y[:15] = 1  # the older history has fixes; the later quarter only two
    y[30:32] = 1
    rows = learn.Rows(np.zeros((n, N_FEATURES), np.float32), y, np.arange(n, dtype=float),
                      [f"c{i}" for i in range(n)])
    none = rows.take(np.zeros(n, dtype=bool))
    report = learn.learn(str(tmp_path), str(tmp_path), rows, {}, none,
                         load_model(baseline_model_path), "project:t")
    assert not report.written and "at least 5 fixed" in report.reason
    assert not (tmp_path / ".lintrank" / "model.onnx").exists()


def test_mined_rows_weigh_by_commit_and_verdicts_keep_their_weight() -> None:
    """A project model is fitted with commit weights, as the shipped one is."""
    import numpy as np
    from lintrank.core.features import N_FEATURES
    from lintrank.core.learn import FEEDBACK_REPEAT, Rows, fit_weights

    def rows(commits: list[str]) -> Rows:
        n = len(commits)
        return Rows(np.zeros((n, N_FEATURES), np.float32), np.zeros(n, np.int8),
                    np.zeros(n), commits)

    # One bulk clean-up of 16 findings and four commits of one finding each.
    mined = rows(["bulk"] * 16 + ["a", "b", "c", "d"])
    weights = fit_weights(mined, rows(["feedback"] * 3))
    assert len(weights) == 20 + 3 * FEEDBACK_REPEAT
    assert weights[:20].mean() == pytest.approx(1.0)
    # Each bulk row weighs 1/sqrt(16) of a lone fix: the bulk commit counts 4 lone ones.
    assert weights[0] * 4 == pytest.approx(weights[16])
    assert (weights[20:] == 1.0).all()
