"""The analyzers' own documentation of a code: a link and a one-paragraph summary.

Texts come from the analyzers themselves (pylint's message definitions, ``ruff
rule``, pycodestyle's docstrings), looked up once per code and process, so an
explanation quotes the tool rather than paraphrasing it.
"""
from __future__ import annotations

import functools
import inspect
import json
import subprocess
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lintrank.core.cache import Cache


def help_uri(tool: str, code: str, symbol: str, category: str) -> str:
    """Where the analyzer documents ``code``."""
    if tool == "pylint" and symbol:
        return (f"https://pylint.readthedocs.io/en/stable/user_guide/messages/"
                f"{category or 'warning'}/{symbol}.html")
    if tool == "ruff":
        return f"https://docs.astral.sh/ruff/rules/{symbol or code.lower()}/"
    if code[:1] == "F":
        return "https://flake8.pycqa.org/en/latest/user/error-codes.html"
    return "https://pycodestyle.pycqa.org/en/latest/intro.html#error-codes"


#: Texts known in this process: computed, or read from the cache by :func:`preload`.
_KNOWN: dict[tuple[str, str, str], str] = {}


def help_text(tool: str, code: str, symbol: str = "") -> str:
    """The analyzer's own short description of ``code`` ("" when it has none)."""
    key = (tool, code, symbol)
    if key not in _KNOWN:
        _KNOWN[key] = _lookup(tool, code, symbol)
    return _KNOWN[key]


def preload(cache: Cache | None, keys: Iterable[tuple[str, str, str]]) -> None:
    """Make the texts of ``keys`` (tool, code, symbol) known from the cache.

    Looking texts up costs a run 0.15-0.2 s (pylint's checkers registered to read
    their messages, one ``ruff rule --all``), mostly to explain codes that the last
    run explained too; the cache keeps them per analyzer version. Missing ones are
    looked up and stored.
    """
    wanted = sorted({k for k in keys if k not in _KNOWN})
    if not wanted or cache is None or not cache.enabled:
        return
    names = {k: f"help:{_versions()}:{k[0]}:{k[1]}:{k[2]}" for k in wanted}
    stored = cache.get_derived(list(names.values()))
    fresh: dict[str, object] = {}
    for key, name in names.items():
        text = stored.get(name)
        if isinstance(text, str):
            _KNOWN[key] = text
        else:
            fresh[name] = help_text(*key)
    if fresh:
        cache.put_derived(fresh)


@functools.lru_cache(maxsize=1)
def _versions() -> str:
    """The versions of the packages whose documentation the texts quote."""
    from importlib import metadata

    found = []
    for package in ("pylint", "ruff", "pycodestyle"):
        try:
            found.append(metadata.version(package))
        except metadata.PackageNotFoundError:
            found.append("-")
    return ",".join(found)


def _lookup(tool: str, code: str, symbol: str) -> str:
    if tool == "pylint":
        return _pylint_text(symbol or code)
    text = _ruff_text(code) if tool in ("ruff", "flake8") else ""
    # pycodestyle documents each of its codes in the docstring of its check.
    return text or (_pycodestyle_text(code) if tool == "flake8" else "")


def _first_paragraph(text: str, limit: int = 300) -> str:
    para = inspect.cleandoc(text).split("\n\n", 1)[0]
    para = " ".join(para.split())
    return para if len(para) <= limit else para[:limit - 3].rstrip() + "..."


def _pylint_text(msgid: str) -> str:
    store = _pylint_store()
    try:
        return _first_paragraph(store.get_message_definitions(msgid)[0].description)
    except Exception:  # pylint raises UnknownMessageError and friends
        return ""


@functools.lru_cache(maxsize=1)
def _pylint_store():  # type: ignore[no-untyped-def]
    from pylint import checkers
    from pylint.lint import PyLinter

    linter = PyLinter()
    checkers.initialize(linter)  # registers every built-in checker's messages
    return linter.msgs_store


def _ruff_text(code: str) -> str:
    rule = _ruff_rules().get(code)
    if not rule:
        return ""
    explanation = rule.get("explanation") or ""
    # Ruff's docs open with "## What it does\n<one paragraph>".
    if "## What it does" in explanation:
        return _first_paragraph(explanation.split("## What it does", 1)[1])
    return _first_paragraph(rule.get("summary") or "")


@functools.lru_cache(maxsize=1)
def _ruff_rules() -> dict[str, dict]:
    """Every ruff rule's documentation, from one ``ruff rule --all`` call (about 20 ms)."""
    from lintrank.plugins.ruff_source import _argv  # the same ruff the source runs

    ruff = _argv()
    if not ruff:
        return {}
    try:
        out = subprocess.run([*ruff, "rule", "--all", "--output-format", "json"],
                             capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL, check=True).stdout
        rules = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}
    return {r.get("code", ""): r for r in rules if isinstance(r, dict)} \
        if isinstance(rules, list) else {}


def _pycodestyle_text(code: str) -> str:
    try:
        import pycodestyle
    except ImportError:
        return ""
    for _, func in inspect.getmembers(pycodestyle, inspect.isfunction):
        doc = func.__doc__ or ""
        if f"{code}:" in doc or f"{code} " in doc:
            return _first_paragraph(doc)
    return ""
