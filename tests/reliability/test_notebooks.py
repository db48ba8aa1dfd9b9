"""Jupyter notebooks, checked only when asked for (``--notebooks``/``notebooks = true``):
ruff analyzes them, flake8 and pylint never see one, and a broken notebook is a
finding that leaves the other files' findings intact.
"""
from __future__ import annotations

import json

from tests.reliability.conftest import GOOD_FLAKE8, check, project


def _notebook(*cells: tuple[str, str]) -> str:
    return json.dumps({"cells": [{"cell_type": kind, "metadata": {}, "source": source,
                                  **({"outputs": [], "execution_count": None}
                                     if kind == "code" else {})}
                                 for kind, source in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


#: Line 1 of the joined code cells is ``x = 1``; cell 3 starts on line 2.
NOTEBOOK = _notebook(("markdown", "# title"), ("code", "x = 1\n"),
                     ("code", "import json\nprint(undefined_name)\n"))
WARNING = ("lintrank: warning: notebooks need ruff: flake8 and pylint cannot analyze "
           "*.ipynb, so 1 notebook(s) are not checked; add ruff to --tools\n")


def test_notebook_finding_from_ruff_on_its_code_line(tmp_path, model):
    root = project(tmp_path / "proj", {"nb.ipynb": NOTEBOOK})
    run = check(root, "--tools", "ruff", "--notebooks", "--threshold", "0", model=model)
    assert run.rc == 1, run.stderr
    assert run.stderr == ""
    found = {(f["line"], f["code"]): f["message"] for f in run.of("nb.ipynb")}
    assert found[(2, "F401")] == "`json` imported but unused"
    assert found[(3, "F821")] == "Undefined name `undefined_name`"


def test_notebooks_are_not_discovered_without_the_opt_in(tmp_path, model):
    root = project(tmp_path / "proj", {"nb.ipynb": NOTEBOOK})
    run = check(root, "--tools", "ruff", "--threshold", "0", model=model)
    assert run.rc == 1 and run.stderr == ""
    assert run.of("nb.ipynb") == []
    assert run.of("good.py")
    (root / "pyproject.toml").write_text('[tool.lintrank]\nnotebooks = true\n',
                                         encoding="utf-8")
    run = check(root, "--tools", "ruff", "--threshold", "0", model=model)
    assert ("nb.ipynb", 3, "ruff", "F821") in run.rows("nb.ipynb")


def test_corrupt_notebook_is_a_finding_and_other_findings_stay(tmp_path, model):
    root = project(tmp_path / "proj", {"bad.ipynb": '{"cells": [oops',
                                       "nb.ipynb": NOTEBOOK})
    run = check(root, "--tools", "flake8,pylint,ruff", "--notebooks", model=model)
    assert run.rc == 1, run.stderr
    assert run.stderr == ""
    bad = run.of("bad.ipynb")
    assert [(f["tool"], f["code"], f["line"]) for f in bad] == [("ruff", "invalid-syntax", 1)]
    assert "isn't valid JSON" in bad[0]["message"]
    assert {f["tool"] for f in run.of("nb.ipynb")} == {"ruff"}  # never flake8/pylint
    flake8_good = [r for r in run.rows("good.py") if r[2] == "flake8"]
    assert flake8_good == GOOD_FLAKE8


def test_notebooks_without_ruff_give_one_clear_warning(tmp_path, model, good_only):
    root = project(tmp_path / "proj", {"nb.ipynb": NOTEBOOK})
    run = check(root, "--tools", "flake8", "--notebooks", model=model)
    assert run.rc == 1
    assert run.stderr == WARNING
    assert run.rows() == good_only
