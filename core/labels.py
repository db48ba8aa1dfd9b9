"""Label what happened to each finding of a file's old version in one commit.

Outcomes (``Outcome``) of one finding in one commit; the label of a unique
finding is decided by its outcomes over the mined history (see ``mine``):

* ``fixed`` (label 1): it disappeared, the commit edited at or near its line
  (within ``NEAR`` lines), its enclosing def/class still exists, and for
  line-length codes the line's content survives reflowed (or the commit says
  it is a lint/style change) - a line that merely got shorter is not a fix.
* ``suppressed`` (label 0): it disappeared because a ``noqa`` / ``pylint:
  disable`` pragma was added to its line: the team said "not important".
* ``kept_near`` (label 0): it survived an edit at or near its line.
* ``kept``: it survived, the change was elsewhere in the file (counted: a
  finding kept through ``KEPT_COMMITS`` commits to its file is persisting).
* excluded, no label: ``file_deleted``, ``scope_gone`` (enclosing def/class
  deleted or renamed), ``far`` (vanished with no edit near it), ``rewritten``
  (a long line rewritten rather than wrapped).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from lintrank.core.context import FileContext
from lintrank.core.finding import Finding
from lintrank.core.matching import Hunk, LineMap, match, scope_name

NEAR = 3
KEPT_COMMITS = 1
LENGTH_CODES = frozenset({"E501", "W505", "B950", "line-too-long", "C0301"})
LABELLED = {"fixed": 1, "suppressed": 0, "kept_near": 0, "kept": 0}
_PRAGMA = re.compile(r"#.*\b(noqa|pylint:\s*disable|type:\s*ignore|ruff:\s*noqa)", re.I)
_INTENT = re.compile(
    r"\b(lint|flake8|pep ?8|pycodestyle|pyflakes|pylint|ruff|black|isort|style|"
    r"format(ting)?|whitespace|line[- ]length|long lines?|unused|cleanup|clean up|"
    r"E\d{3}|W\d{3}|F\d{3})\b", re.I)
_WS = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^A-Za-z0-9_]+")


def lint_intent(subject: str) -> bool:
    """Whether a commit subject says the commit is a lint or style clean-up."""
    return bool(_INTENT.search(subject))


def _code_text(text: str) -> str:
    """A line without its comment and whitespace (for pragma and reflow checks)."""
    return _WS.sub("", text.split("#", 1)[0])


def outcomes(old: Sequence[Finding], old_ctx: FileContext, new: Sequence[Finding],
             new_ctx: FileContext, hunks: Sequence[Hunk], deleted: bool = False,
             intent: bool = False) -> tuple[list[str], dict[int, int]]:
    """Return the outcome of every old finding and the old->new index pairs."""
    if deleted:
        return ["file_deleted"] * len(old), {}
    pairs = match(old, old_ctx, new, new_ctx, hunks)
    linemap = LineMap(hunks)
    new_scopes = {s.name for s in new_ctx.scopes}
    pragma_lines = {_code_text(t) for t in new_ctx.lines if _PRAGMA.search(t)}
    added: list[str] | None = None
    result = []
    for i, f in enumerate(old):
        near = linemap.distance(f.line) <= NEAR
        if i in pairs:
            result.append("kept_near" if near else "kept")
            continue
        text = old_ctx.line_text(f.line)
        if scope_name(old_ctx, f.line) not in new_scopes:
            result.append("scope_gone")
        elif not _PRAGMA.search(text) and _code_text(text) in pragma_lines and _code_text(text):
            result.append("suppressed")
        elif not near:
            result.append("far")
        elif f.code in LENGTH_CODES and not intent:
            if added is None:
                added = _added_text(new_ctx, hunks)
            result.append("fixed" if _words(text) in added else "rewritten")
        else:
            result.append("fixed")
    return result, pairs


def _words(text: str) -> str:
    """Only the identifier and number characters of a line's code (reflow-proof)."""
    return _NON_WORD.sub("", text.split("#", 1)[0])


def _added_text(new_ctx: FileContext, hunks: Sequence[Hunk]) -> str:
    """The code text of all added lines, joined without whitespace (to find reflows)."""
    parts = []
    for _, _, c, d in hunks:
        parts.extend(_words(new_ctx.line_text(n)) for n in range(c, c + d))
    return "".join(parts)
