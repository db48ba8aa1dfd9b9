"""Can Python load this file? LR904 for undecodable files; syntax checks for budgets.

flake8 reads undecodable files as latin-1 and reports nothing, so with flake8 alone
a file that Python refuses to import (bad UTF-8, a wrong PEP 263 cookie, a BOM that
contradicts the cookie) would pass silently. The check decodes each file the way
the interpreter does; it costs one read and one decode per file (milliseconds).

:func:`syntax_broken` lets budget mode never skip a file with a syntax error, so a
budget cannot hide one (the safety floor only protects findings that exist).
"""
from __future__ import annotations

import ast
import codecs
import hashlib
import io
import os
import tokenize
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING

from lintrank.core.cache import Cache
from lintrank.core.files import MAX_PARSE_BYTES, read_regular
from lintrank.core.finding import Finding
from lintrank.core.hookspecs import hookimpl

if TYPE_CHECKING:
    from lintrank.core.context import FileContext

UNDECODABLE = "LR904"


def decode_problem(data: bytes) -> tuple[int, int, str] | None:
    """``(line, column, message)`` when ``data`` is not decodable as Python source."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if exc.msg.startswith("encoding problem"):  # what tokenize says for this case
            return 1, 0, "cannot decode: a UTF-8 byte-order mark contradicts the coding " \
                         "declaration; Python cannot import this file"
        if not exc.msg.startswith("invalid or missing"):
            return 1, 0, f"cannot decode: {exc.msg}; Python cannot import this file"
        encoding = "utf-8"  # no cookie and bad first lines: find the offending byte
    try:
        codecs.decode(data, encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1)
        return line, column, (f"not valid {encoding}: byte 0x{data[exc.start]:02x} "
                              f"({exc.reason}); Python cannot import this file")
    return None


def check(files: list[str], root: str) -> list[Finding]:
    """LR904 findings for ``files`` (unreadable ones are the engine's LR901)."""
    findings = []
    for rel in files:
        try:
            data = read_regular(os.path.join(root, rel))
        except OSError:
            continue
        problem = decode_problem(data)
        if problem:
            line, column, message = problem
            findings.append(Finding(tool="lintrank", code=UNDECODABLE, message=message,
                                    path=rel, line=line, column=column, severity="fatal",
                                    category="lintrank"))
    return findings


def syntax_broken(files: list[str], root: str, cache: Cache | None = None) -> set[str]:
    """Files that Python cannot parse (syntax error, NUL byte, bad encoding, too deep).

    Verdicts are cached by content digest, so a warm run parses nothing. Files over
    :data:`MAX_PARSE_BYTES` are not parsed (generated code; bounded cost).
    """
    digests: dict[str, str] = {}
    for rel in files:
        try:
            data = read_regular(os.path.join(root, rel))
        except OSError:
            continue  # LR901 already, never skipped
        if len(data) <= MAX_PARSE_BYTES:
            digests[rel] = _verdict_key(data)
    known = cache.get_modules(sorted(set(digests.values()))) if cache else {}
    fresh = {}
    for rel, key in digests.items():
        if key not in known and key not in fresh:
            fresh[key] = {"ok": _parses(os.path.join(root, rel))}
    if cache and fresh:
        cache.put_modules(fresh)
    verdicts = {**known, **fresh}
    return {rel for rel, key in digests.items()
            if not (isinstance(verdicts[key], dict) and verdicts[key].get("ok") is True)}


def parsed_verdict(data: bytes, ctx: FileContext) -> str | None:
    """The key under which :func:`syntax_broken` would store that ``data`` parses,
    when its context (parsed anyway while the analyzers ran) vouches for it.

    A budget run needs every file's verdict before it starts any analyzer: after a
    whole run that left none, it parsed all of pytest's 236 files again (0.5 s of a
    6.4 s budget). A context parses the decoded text with NUL bytes replaced, so only
    files without NUL bytes that decode as Python decodes them are vouched for; the
    rest, and files whose context did not parse, are left to :func:`syntax_broken`.
    """
    if ctx.parsed and len(data) <= MAX_PARSE_BYTES and b"\x00" not in data \
            and decode_problem(data) is None:
        return _verdict_key(data)
    return None


def remember_parsed(cache: Cache | None, keys: Iterable[str]) -> None:
    """Store the verdicts of :func:`parsed_verdict` for a later budget run."""
    verdicts = {key: {"ok": True} for key in keys}
    if cache and verdicts:
        cache.put_modules(verdicts)


def _verdict_key(data: bytes) -> str:
    return "parses:" + hashlib.blake2b(data, digest_size=16).hexdigest()


def _parses(path: str) -> bool:
    try:
        data = read_regular(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings belong to the analyzers
            ast.parse(data)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@hookimpl
def lintrank_add_findings(files: list[str], root: str) -> list[Finding]:
    return check(files, root)
