"""Match the findings of a file's old version to those of its new version.

Three passes, each on what the previous left unmatched:
1. position: a finding on a line the diff did not touch maps through the hunk
   offsets to the same code at the mapped line;
2. identity: (tool, code, normalised line text, enclosing scope, message without
   numbers), with multiplicity;
3. fuzzy: same tool, code and scope, line texts similar (difflib ratio >= 0.7).
"""
from __future__ import annotations

import bisect
import collections
import difflib
import re
from collections.abc import Sequence

from lintrank.core.context import FileContext
from lintrank.core.finding import Finding

Hunk = tuple[int, int, int, int]
FUZZY_RATIO = 0.7
_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


def normalise(text: str) -> str:
    """Line text with whitespace collapsed (indentation and reflow do not matter)."""
    return _SPACE.sub(" ", text).strip()


def scope_name(ctx: FileContext, line: int) -> str:
    """Qualified name of the def/class enclosing ``line`` ("" at module level)."""
    index = ctx.scope[ctx.at(line)]
    return ctx.scopes[index].name if index < len(ctx.scopes) else ""


class LineMap:
    """Map old line numbers to new ones through ``diff -U0`` hunks."""

    def __init__(self, hunks: Sequence[Hunk]) -> None:
        # For a pure insertion (old_count 0) git gives the line *after which* it goes.
        self._starts = [a if b else a + 1 for a, b, _, _ in hunks]
        self._ends = [a + b - 1 if b else a for a, b, _, _ in hunks]
        self._hunks = list(hunks)
        shift, self._shift_after = 0, []
        for _, b, _, d in hunks:
            shift += d - b
            self._shift_after.append(shift)

    def new_line(self, line: int) -> int | None:
        """Where an untouched old line is now; None if the diff changed it."""
        i = bisect.bisect_right(self._starts, line) - 1
        if i >= 0 and self._hunks[i][1] and line <= self._ends[i]:
            return None
        return line + (self._shift_after[i] if i >= 0 else 0)

    def distance(self, line: int) -> int:
        """Lines between ``line`` and the nearest change (0 = on a changed line)."""
        best = 1 << 30
        for (a, b, _, _), start, end in zip(self._hunks, self._starts, self._ends):
            if b == 0:  # insertion between lines a and a + 1
                best = min(best, max(0, a - line, line - a - 1))
            elif start <= line <= end:
                return 0
            else:
                best = min(best, start - line if line < start else line - end)
        return best


def _key(f: Finding, ctx: FileContext) -> tuple[str, str, str, str, str]:
    return (f.tool, f.code, normalise(ctx.line_text(f.line)), scope_name(ctx, f.line),
            _DIGITS.sub("#", f.message))


def match(old: Sequence[Finding], old_ctx: FileContext, new: Sequence[Finding],
          new_ctx: FileContext, hunks: Sequence[Hunk]) -> dict[int, int]:
    """Return ``{old index: new index}`` for findings that survive the change."""
    pairs: dict[int, int] = {}
    free_new = set(range(len(new)))
    linemap = LineMap(hunks)
    at_line: dict[tuple[str, str, int], list[int]] = collections.defaultdict(list)
    for j, f in enumerate(new):
        at_line[(f.tool, f.code, f.line)].append(j)
    for i, f in enumerate(old):
        mapped = linemap.new_line(f.line)
        if mapped is None:
            continue
        for j in at_line.get((f.tool, f.code, mapped), ()):
            if j in free_new:
                pairs[i] = j
                free_new.discard(j)
                break
    by_key: dict[tuple, list[int]] = collections.defaultdict(list)
    for j in sorted(free_new):
        by_key[_key(new[j], new_ctx)].append(j)
    for i, f in enumerate(old):
        if i in pairs:
            continue
        bucket = by_key.get(_key(f, old_ctx))
        if bucket:
            j = bucket.pop(0)
            pairs[i] = j
            free_new.discard(j)
    _fuzzy(old, old_ctx, new, new_ctx, pairs, free_new)
    return pairs


def _fuzzy(old: Sequence[Finding], old_ctx: FileContext, new: Sequence[Finding],
           new_ctx: FileContext, pairs: dict[int, int], free_new: set[int]) -> None:
    candidates = []
    for i, f in enumerate(old):
        if i in pairs:
            continue
        scope, text = scope_name(old_ctx, f.line), normalise(old_ctx.line_text(f.line))
        for j in free_new:
            g = new[j]
            if g.tool != f.tool or g.code != f.code or scope_name(new_ctx, g.line) != scope:
                continue
            matcher = difflib.SequenceMatcher(None, text, normalise(new_ctx.line_text(g.line)))
            # perf: the cheap upper bounds reject most pairs before ratio()
            if matcher.real_quick_ratio() < FUZZY_RATIO or matcher.quick_ratio() < FUZZY_RATIO:
                continue
            ratio = matcher.ratio()
            if ratio >= FUZZY_RATIO:
                candidates.append((-ratio, abs(f.line - g.line), i, j))
    for _, _, i, j in sorted(candidates):
        if i not in pairs and j in free_new:
            pairs[i] = j
            free_new.discard(j)
