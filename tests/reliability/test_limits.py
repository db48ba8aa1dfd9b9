"""Per-file analyzer timeouts keep a pathological file from hanging the run.

pylint never finishes on a multi-megabyte generated module and flake8 needs many
seconds; with a small ``--timeout`` (or ``timeout`` in ``[tool.lintrank]``) that
file becomes one LR903 finding and every other file keeps its findings.
"""
from __future__ import annotations

import pytest

from tests.reliability.conftest import GOOD_FLAKE8, check, project

TEN_MB = 10_000_000


@pytest.fixture(scope="module")
def huge(tmp_path_factory):
    # Twenty small modules share the batch: the huge one must run alone, or each
    # bisection step after its timeout would last as long as the whole batch's limit.
    root = project(tmp_path_factory.mktemp("huge"),
                   {f"pkg/m{i:02}.py": "import os\n" for i in range(20)})
    with open(root / "generated.py", "w", encoding="utf-8") as handle:
        written, i = 0, 0
        while written < TEN_MB:
            line = f"value_{i} = {i} * 2\n"
            written += handle.write(line)
            i += 1
    return root


def test_flake8_timeout_on_10mb_file(huge, model):
    # --jobs 1: both files share one batch, so the bisection path is what is bounded.
    run = check(huge, "--tools", "flake8", "--jobs", "1", "--timeout", "2", model=model,
                timeout=120)
    assert run.rc == 1, run.stderr
    [finding] = run.of("generated.py")
    assert finding["code"] == "LR903" and finding["kept"] and finding["protected"]
    assert finding["message"] == "flake8 could not analyse this file: timed out after 2 s"
    assert run.rows("good.py") == GOOD_FLAKE8
    assert [r[3] for r in run.rows() if r[0].startswith("pkg/")] == ["F401"] * 20


def test_pylint_timeout_from_config_on_10mb_file(huge, model, tmp_path):
    config = tmp_path / "lintrank.toml"
    config.write_text("[tool.lintrank]\ntimeout = 10\n", encoding="utf-8")
    run = check(huge, "--tools", "pylint", "--jobs", "2", "--config", str(config),
                model=model, timeout=300)
    assert run.rc == 1, run.stderr
    [finding] = run.of("generated.py")
    assert finding["code"] == "LR903"
    assert finding["message"] == "pylint could not analyse this file: timed out after 10 s"
    codes = {f["code"] for f in run.of("good.py")}
    assert {"E0602", "W0611"} <= codes  # undefined name (kept), unused import


@pytest.mark.parametrize("value", ["0", "-1"])
def test_timeout_must_be_positive(tmp_path, model, value):
    run = check(project(tmp_path), "--tools", "flake8", "--timeout", value, model=model)
    assert run.rc == 2
    assert run.stderr.strip() == ("lintrank: error: configuration error in command line: "
                                  f"timeout must be positive, not {float(value):g}")


def test_budget_never_skips_a_syntax_error(tmp_path, model):
    files = {f"pkg/m{i}.py": "".join(f"x{j} = {j}\n" for j in range(300)) for i in range(20)}
    files["pkg/zz_broken.py"] = "def broken(:\n    pass\n"
    root = project(tmp_path, files)
    bitten = []
    for _ in ("cold", "warm"):  # the warm run takes the parse verdicts from the cache
        run = check(root, "--tools", "flake8", "--budget", "1%", "--jobs", "1", model=model,
                    cache=True)
        assert run.rc == 1, run.stderr
        assert [(f["code"], f["kept"]) for f in run.of("pkg/zz_broken.py")] == \
            [("E999", True)]
        skipped = run.report["summary"]["skipped"].get("flake8", [])
        assert "pkg/zz_broken.py" not in skipped
        bitten.append(len(skipped))
    assert bitten[0] >= 1  # the cold run's budget did skip files
    assert run.report["summary"]["cached"]["flake8"] >= 1


def test_parse_verdicts_of_parsed_files_never_vouch_for_a_syntax_error(tmp_path, monkeypatch):
    """The files a run parsed anyway (for scoring) vouch that they parse, so a later
    budget run need not parse them again; never one with a syntax error, NUL bytes or
    an encoding Python refuses."""
    from lintrank.core import encoding
    from lintrank.core.cache import Cache
    from lintrank.core.scorer import context_of

    texts = {"good.py": b"x = 1\n", "broken.py": b"def broken(:\n    pass\n",
             "nul.py": b"x = 1\n\x00\n", "latin.py": b"x = '\xe9'\n"}
    verdicts = {name: encoding.parsed_verdict(data, context_of(name, data))
                for name, data in texts.items()}
    assert verdicts["good.py"] is not None
    assert verdicts["broken.py"] is None and verdicts["nul.py"] is None
    assert verdicts["latin.py"] is None  # invalid UTF-8: LR904, left to syntax_broken
    for name, data in texts.items():
        (tmp_path / name).write_bytes(data)
    cache = Cache(tmp_path / "cache")
    encoding.remember_parsed(cache, [v for v in verdicts.values() if v])
    parsed: list[str] = []
    real = encoding._parses
    monkeypatch.setattr(encoding, "_parses", lambda path: parsed.append(path) or real(path))
    broken = encoding.syntax_broken(sorted(texts), str(tmp_path), cache)
    cache.close()
    # The vouched file is not parsed again; the others are, and are broken.
    assert sorted(p.rsplit("/", 1)[-1] for p in parsed) == ["broken.py", "latin.py", "nul.py"]
    assert broken == {"broken.py", "latin.py", "nul.py"}
