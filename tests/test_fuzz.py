"""Fuzz the whole ``check`` pipeline with generated source text and raw bytes.

Each example writes one to three generated files next to a fixed well-formed file
and runs discovery, the real flake8 and ruff subprocesses, features, the ONNX
model, the policy and every reporter. No exception may escape, the well-formed
file's findings must not change, every certain error stays kept, and every
finding points at a file of the project.
"""
from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lintrank.core.config import Settings
from lintrank.core.pipeline import run_check
from lintrank.core.reporters.builtin import lintrank_reporters

GOOD = "import os\n\n\ndef total(values):\n    return sum(values) + undefined_name\n"
TOOLS = ["flake8", "ruff"]
#: Python-ish fragments: generated programs reach deeper into the parsers than noise.
FRAGMENTS = ["def f(", "):", "\n", "    ", "\t", "return ", "x", " = ", "(", ")", "[", "]",
             "lambda: ", "not ", "-", " + ", "'", '"', '"""', "#", " coding: latin-1\n",
             "\\", "\x00", "\ufeff", "é", "\r\n", "\r", "class C:", "import os", "yield",
             "async ", "await ", "f'{", "}'", "@", ":=", "if x else ", "0x", "1e", "..."]

python_ish = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
content_st = st.one_of(
    python_ish.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=300),
    st.tuples(python_ish, st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"]))
      .map(lambda t: t[0].encode(t[1], "replace")),
)
name_st = st.from_regex(r"[a-z_\-][a-z0-9_ \-]{0,10}\.py", fullmatch=True)


def _settings(root: str) -> Settings:
    return Settings(root=root, paths=["."], tools=TOOLS, threshold=1.0, jobs=1, cache=False,
                    history=False, timeout=60.0, quiet=True, format="json")


@pytest.fixture(scope="module")
def workspace(baseline_model_path):
    folder = Path(tempfile.mkdtemp(prefix="lintrank-fuzz-"))
    (folder / "pyproject.toml").write_text('[project]\nname = "fuzz"\nversion = "0"\n',
                                           encoding="utf-8")
    (folder / "good.py").write_text(GOOD, encoding="utf-8")
    config = _settings(str(folder))
    config.model = baseline_model_path
    reference = sorted((f.finding.tool, f.finding.code, f.finding.line, f.kept)
                       for f in run_check(config).results)
    assert ("flake8", "F821", 5, True) in reference
    yield folder, baseline_model_path, reference
    shutil.rmtree(folder, ignore_errors=True)


#: LINTRANK_FUZZ_EXAMPLES=2000 for a long hunt; the suite's default stays quick.
@settings(max_examples=int(os.environ.get("LINTRANK_FUZZ_EXAMPLES", "25")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.dictionaries(name_st, content_st, min_size=1, max_size=3))
def test_check_survives_generated_files(workspace, files):
    folder, model, reference = workspace
    fuzz = folder / "fuzz"
    shutil.rmtree(fuzz, ignore_errors=True)
    fuzz.mkdir()
    for name, data in files.items():
        (fuzz / name).write_bytes(data)
    config = _settings(str(folder))
    config.model = model
    result = run_check(config)  # no exception may escape
    good = sorted((r.finding.tool, r.finding.code, r.finding.line, r.kept)
                  for r in result.results if r.finding.path == "good.py")
    assert good == reference
    known = {"good.py", *(f"fuzz/{name}" for name in files)}
    for r in result.results:
        assert r.finding.path in known, r.finding
        if r.protected:
            assert r.kept
    assert result.files == len(known)
    for name, reporter in lintrank_reporters().items():  # every format renders it
        reporter(io.StringIO(), show_all=True).report(result)
