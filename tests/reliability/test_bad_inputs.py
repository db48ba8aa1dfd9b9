"""Bad input never crashes a run nor loses the other files' findings.

One hostile project holds every bad file next to ``good.py``; flake8 runs it as a
single batch (``--jobs 1``), so each failing file must be isolated by bisection
without losing anyone else's findings. Each case asserts that file's exact
findings (tool, code, line, message); threshold 1 keeps exactly the protected ones.
"""
from __future__ import annotations

import os

import pytest

from tests.reliability.conftest import check, project

DEEP = 1000
#: name -> (content, [(tool, code, line, message fragment)]) for flake8 alone.
CASES: dict[str, tuple[str | bytes, list[tuple[str, str, int, str]]]] = {
    "syntax_error.py": (
        "def broken(:\n    pass\n",
        [("flake8", "E999", 1, "SyntaxError: invalid syntax")]),
    "utf8_cookie_latin1_bytes.py": (
        b'# -*- coding: utf-8 -*-\nname = "caf\xe9"\n',
        [("lintrank", "LR904", 2, "not valid utf-8: byte 0xe9")]),
    "latin1_no_cookie.py": (
        b'name = "caf\xe9"\n',
        [("lintrank", "LR904", 1, "not valid utf-8: byte 0xe9")]),
    "latin1_with_cookie.py": (
        b'# coding: latin-1\nname = "caf\xe9"\n',
        []),
    "mixed_encodings.py": (
        b'first = "\xc3\xa9t\xc3\xa9"\nsecond = "\xe9t\xe9"\n',
        [("lintrank", "LR904", 2, "not valid utf-8: byte 0xe9")]),
    "unknown_cookie.py": (
        b"# coding: klingon\nvalue = 1\n",
        [("lintrank", "LR904", 1, "unknown encoding: klingon")]),
    "bom.py": (
        b"\xef\xbb\xbfimport sys\n",
        [("flake8", "F401", 1, "'sys' imported but unused")]),
    "bom_contradicts_cookie.py": (
        b"\xef\xbb\xbf# coding: latin-1\nvalue = 1\n",
        [("lintrank", "LR904", 1, "byte-order mark contradicts")]),
    "nul_bytes.py": (
        b"value = 1\x00\nother = 2\n",
        [("flake8", "E999", 1, "null bytes")]),
    "empty.py": (b"", []),
    "no_trailing_newline.py": (
        b"value = 1",
        [("flake8", "W292", 1, "no newline at end of file")]),
    "crlf.py": (
        b"import os\r\nvalue = 1\r\n",
        [("flake8", "F401", 1, "'os' imported but unused")]),
    "deep_parentheses.py": (
        "value = " + "(" * DEEP + "1" + ")" * DEEP + "\n",
        [("flake8", "E999", 1, "too many nested parentheses")]),
    "deep_binop.py": (
        "value = " + " + ".join(["1"] * DEEP) + "\n",
        [("flake8", "LR902", 1, "RecursionError")]),
    "deep_attribute.py": (
        "value = len" + ".real" * DEEP + "\n",
        [("flake8", "LR902", 1, "RecursionError")]),
    "deep_unary.py": (
        "value = " + "-" * DEEP + "1\n",
        [("flake8", "LR902", 1, "RecursionError")]),
    "long_line.py": (
        'value = "' + "a" * 200_000 + '"\n',
        [("flake8", "E501", 1, "line too long (200010 > 79 characters)")]),
    "binary.py": (
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        [("flake8", "E999", 1, "null bytes"),
         ("lintrank", "LR904", 1, "not valid utf-8: byte 0x89")]),
    "unicode_näme.py": (
        "import os\n",
        [("flake8", "F401", 1, "'os' imported but unused")]),
    "-leading_dash.py": (
        "import os\n",
        [("flake8", "F401", 1, "'os' imported but unused")]),
    "with space.py": (
        "import os\n",
        [("flake8", "F401", 1, "'os' imported but unused")]),
    "new\nline.py": (  # flake8's output is line-based: a newline must not split it
        "import os\n",
        [("flake8", "F401", 1, "'os' imported but unused")]),
    "unit\x1fseparator.py": (
        "import os\n",
        [("flake8", "F401", 1, "'os' imported but unused")]),
    "colon:1:2.py": (
        "import os\n",
        [("flake8", "F401", 1, "'os' imported but unused")]),
    "folder.py/inner.py": (
        "import os\n",
        [("flake8", "F401", 1, "'os' imported but unused")]),
}
#: Files that are not readable regular files: (how to make it, message fragment).
SPECIAL = {
    "dangling_link.py": "No such file or directory",
    "link_loop_a.py": "Too many levels of symbolic links",
    "link_loop_b.py": "Too many levels of symbolic links",
    "fifo.py": "not a regular file",
    "dev_zero.py": "not a regular file",
}


def _specials(root) -> None:
    os.symlink("does_not_exist.py", root / "dangling_link.py")
    os.symlink("link_loop_b.py", root / "link_loop_a.py")
    os.symlink("link_loop_a.py", root / "link_loop_b.py")
    os.mkfifo(root / "fifo.py")  # open() on it would block forever
    os.symlink("/dev/zero", root / "dev_zero.py")  # read() on it would never end
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")  # a folder link loop: never followed


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, model):
    root = project(tmp_path_factory.mktemp("hostile"),
                   {name: content for name, (content, _) in CASES.items()})
    _specials(root)
    return root, check(root, "--tools", "flake8", "--jobs", "1", model=model, timeout=120)


def _rows(run, path):
    return sorted((f["tool"], f["code"], f["line"]) for f in run.of(path))


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_has_its_exact_findings(hostile, name):
    _, run = hostile
    expected = CASES[name][1]
    path = os.path.normpath(name)
    assert _rows(run, path) == sorted((t, c, line) for t, c, line, _ in expected)
    for tool, code, _, fragment in expected:
        messages = [f["message"] for f in run.of(path) if f["code"] == code]
        assert any(fragment in m for m in messages), (fragment, messages)
        protected = code in ("E999", "LR901", "LR902", "LR903", "LR904", "F821")
        assert all(f["kept"] == protected for f in run.of(path) if f["code"] == code)


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_unreadable_file_is_lr901(hostile, name):
    _, run = hostile
    assert _rows(run, name) == [("lintrank", "LR901", 1)]
    [finding] = run.of(name)
    assert finding["message"] == f"cannot read file: {SPECIAL[name]}"
    assert finding["kept"] and finding["protected"]


def test_good_file_intact_and_exit_status(hostile, good_only):
    _, run = hostile
    assert run.rc == 1, run.stderr  # protected findings were kept
    assert run.rows("good.py") == good_only
    assert run.stderr == ""
    # The folder link loop (sub/up -> ..) is not followed: nothing is seen twice.
    assert not [f for f in run.report["findings"] if f["path"].startswith("sub")]
    assert run.report["summary"]["files"] == len(CASES) + len(SPECIAL) + 1


def test_kept_set_is_exactly_the_protected_findings(hostile):
    _, run = hostile
    kept = {(f["path"], f["code"]) for f in run.kept()}
    protected = {(f["path"], f["code"]) for f in run.report["findings"] if f["protected"]}
    assert kept == protected and ("good.py", "F821") in kept


def test_pylint_isolates_what_it_cannot_parse(tmp_path, model):
    """pylint dies on a 1,000-deep expression; the others' pylint findings stay."""
    root = project(tmp_path, {name: CASES[name][0] for name in (
        "syntax_error.py", "deep_binop.py", "nul_bytes.py", "utf8_cookie_latin1_bytes.py")})
    run = check(root, "--tools", "pylint", "--jobs", "1", model=model)
    assert run.rc == 1, run.stderr
    assert ("pylint", "E0001", 1) in _rows(run, "syntax_error.py")
    assert ("pylint", "E0001", 1) in _rows(run, "nul_bytes.py")
    codes = {code for _, code, _ in _rows(run, "deep_binop.py")}
    assert codes & {"F0002", "LR902"}, _rows(run, "deep_binop.py")
    assert ("lintrank", "LR904", 2) in _rows(run, "utf8_cookie_latin1_bytes.py")
    assert ("pylint", "E0602", 5) in _rows(run, "good.py")  # undefined name: kept
    assert all(f["kept"] for f in run.of("good.py") if f["code"] == "E0602")


def test_ruff_reports_syntax_and_encoding(tmp_path, model):
    root = project(tmp_path, {name: CASES[name][0] for name in (
        "syntax_error.py", "latin1_no_cookie.py", "deep_binop.py")})
    run = check(root, "--tools", "ruff", model=model)
    assert run.rc == 1, run.stderr
    assert {c for t, c, _ in _rows(run, "syntax_error.py") if t == "ruff"} == {"invalid-syntax"}
    assert ("ruff", "E902", 1) in _rows(run, "latin1_no_cookie.py")
    assert ("ruff", "F821", 5) in _rows(run, "good.py")


def test_odd_but_valid_files_keep_nothing_and_exit_0(tmp_path, model):
    """Nothing certain to report: exit status 0, whatever the encoding oddities."""
    names = ("empty.py", "bom.py", "crlf.py", "latin1_with_cookie.py", "long_line.py")
    root = project(tmp_path, {name: CASES[name][0] for name in names})
    (root / "good.py").unlink()
    run = check(root, "--tools", "flake8", model=model)
    assert run.rc == 0, run.stderr
    assert run.kept() == [] and len(run.report["findings"]) == 3  # F401, F401, E501
