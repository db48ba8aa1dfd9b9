"""The versioned feature schema and the per-finding feature vectors.

The schema is the contract between :mod:`lintrank.core.scorer` and every model:
its version is written into each ONNX model's metadata and checked on load.
No feature uses the label of any finding; history values come from the past only.
"""
from __future__ import annotations

import collections
import hashlib
import math
import os
from collections.abc import Sequence

from lintrank.core import recency
from lintrank.core.context import (IN_CLASS, IN_EXCEPT, IN_LOOP, IN_TRY, IN_WITH,
                                   FileContext, is_test_path)
from lintrank.core.finding import SEVERITIES, Finding
from lintrank.core.history import FileHistory
from lintrank.core.severity import split_code

SCHEMA_VERSION = "5"
#: The per-finding part (everything but the project memory) is what ``lintrank mine``
#: writes; its own version lets schema-3 datasets be used without re-mining, the
#: memory columns being computed from the mined rows (:mod:`lintrank.core.memory`).
ROW_SCHEMA_VERSION = "4"
TOOLS = ("flake8", "pylint", "ruff")
MISSING = math.nan

ROW_FEATURES: tuple[str, ...] = (
    # finding metadata
    "tool", "code_letter", "code_number", "severity",
    # code context (ast)
    "stmt_kind", "scope_kind", "scope_lines", "depth", "in_loop", "in_try",
    "in_except", "in_with", "in_class", "module_level",
    # file
    "is_test_file", "is_init", "is_setup_or_conftest", "file_lines",
    # the flagged line
    "line_length", "line_is_comment", "line_has_pragma",
    # density of findings (presence only, never their labels)
    "file_findings", "file_same_code", "scope_findings", "scope_same_code",
    "file_distinct_codes", "findings_per_100_lines",
    # history of the file, from commits before the analysed revision only
    "file_age_days", "file_commits", "file_commits_90d", "days_since_change",
    "file_authors", "file_churn_lines_90d",
    # project conventions at the analysed revision (config files, existing pragmas)
    "max_line_length", "line_excess", "code_in_config", "file_noqa_lines",
    "file_noqa_same_code",
    # the most recent change (uncommitted edits, else the last commit): is the
    # file part of it, and how far is the flagged line from its lines
    "in_last_change", "last_change_distance",
    # edits of the flagged line and its neighbours in the last 90 days
    # (:mod:`lintrank.core.recency`)
    *recency.FEATURES,
)
#: The project's own past (``lintrank learn``'s mining, :mod:`lintrank.core.memory`):
#: fixes of this (tool, code), fixes in this file, all fixes, and this code's share.
MEMORY_FEATURES: tuple[str, ...] = (
    "project_code_fixes", "project_file_fixes", "project_fixes", "project_code_fix_share",
)
FEATURES = ROW_FEATURES + MEMORY_FEATURES
N_ROW_FEATURES = len(ROW_FEATURES)
N_FEATURES = len(FEATURES)
INDEX = {name: i for i, name in enumerate(FEATURES)}


def schema_id() -> str:
    """Version plus a digest of the names: a renamed feature is a new schema."""
    return _identify(SCHEMA_VERSION, FEATURES)


def row_schema_id() -> str:
    """The schema of the per-finding rows (:func:`file_features`, mined datasets)."""
    return _identify(ROW_SCHEMA_VERSION, ROW_FEATURES)


def _identify(version: str, names: tuple[str, ...]) -> str:
    return f"{version}:{hashlib.sha256(','.join(names).encode()).hexdigest()[:8]}"


def _letter_value(letters: str) -> float:
    # Stable number per code family ("E" -> 5, "PLR" -> distinct), for tree splits.
    value = 0
    for char in letters[:3]:
        value = value * 27 + (ord(char) - 64)
    return float(value) if letters else MISSING


def file_features(findings: Sequence[Finding], ctx: FileContext,
                  history: FileHistory | None) -> list[list[float]]:
    """Return one per-finding row (``ROW_FEATURES``) per finding of one file, in order."""
    by_code = collections.Counter(f.code for f in findings)
    by_scope: collections.Counter[int] = collections.Counter()
    by_scope_code: collections.Counter[tuple[int, str]] = collections.Counter()
    for f in findings:
        scope = ctx.scope[ctx.at(f.line)]
        by_scope[scope] += 1
        by_scope_code[(scope, f.code)] += 1
    name = os.path.basename(ctx.path)
    n_lines = max(ctx.n_lines, 1)
    hist = history.as_row() if history else [MISSING] * 6
    project = history.project if history else None
    max_length = float(project.max_line_length) if project else MISSING
    pragmas = [t for t in ctx.lines if "noqa" in t or "pylint:" in t]
    edits = recency.Edits(history.marks, history.now) if history else None
    # perf: what is the same for every finding of the file, or of one code in it,
    # is computed once (a run has thousands of findings in a few hundred files).
    of_file = [float(is_test_path(ctx.path)), float(name == "__init__.py"),
               float(name in ("setup.py", "conftest.py")), float(ctx.n_lines)]
    density = [float(len(findings)), float(len(by_code)), 100.0 * len(findings) / n_lines]
    of_code: dict[tuple[str, str, str], tuple[list[float], list[float]]] = {}
    rows = []
    for f in findings:
        known = of_code.get((f.tool, f.code, f.severity))
        if known is None:
            letters, number = split_code(f.code)
            known = of_code[(f.tool, f.code, f.severity)] = (
                [float(TOOLS.index(f.tool)) if f.tool in TOOLS else float(len(TOOLS)),
                 _letter_value(letters), float(number),
                 float(SEVERITIES.index(f.severity)) if f.severity in SEVERITIES else 2.0],
                [float(project.mentions(f.code)) if project else MISSING,
                 float(len(pragmas)), float(sum(f.code in t for t in pragmas))])
        head, config = known
        at = ctx.at(f.line)
        scope_index = ctx.scope[at]
        scope = ctx.scopes[scope_index] if scope_index < len(ctx.scopes) else ctx.scopes[0]
        flags = ctx.flags[at]
        text = ctx.line_text(f.line)
        rows.append([
            *head,
            float(ctx.stmt_kind[at]) if ctx.parsed else MISSING,
            float(scope.kind), float(scope.end - scope.start + 1), float(ctx.depth[at]),
            float(bool(flags & IN_LOOP)), float(bool(flags & IN_TRY)),
            float(bool(flags & IN_EXCEPT)), float(bool(flags & IN_WITH)),
            float(bool(flags & IN_CLASS)), float(scope_index == 0),
            *of_file,
            float(len(text)), float(text.lstrip().startswith("#")),
            float("noqa" in text or "pylint:" in text or "type: ignore" in text),
            density[0], float(by_code[f.code]), float(by_scope[scope_index]),
            float(by_scope_code[(scope_index, f.code)]), density[1], density[2],
            *hist,
            max_length, float(len(text)) - max_length if project else MISSING,
            *config,
            float(history.recent is not None) if history else MISSING,
            history.recent_distance(f.line) if history else MISSING,
            *(edits.features(f.line, (scope.start, scope.end)) if edits
              else recency.UNKNOWN),
        ])
    return rows
