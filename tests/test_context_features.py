"""Per-file context (ast) and the versioned feature schema (issue 2, point 3)."""
from __future__ import annotations

import math
import textwrap

from lintrank.core.context import (IN_EXCEPT, IN_LOOP, IN_TRY, STMT_KINDS, build_context,
                                   is_test_path)
from lintrank.core.features import FEATURES, INDEX, N_ROW_FEATURES, file_features, schema_id
from lintrank.core.finding import Finding

SOURCE = textwrap.dedent("""\
    import os


    class Box:
        def open(self):
            for item in self.items:
                try:
                    use(item)
                except ValueError:
                    log(item)
            return os


    def helper():
        x = 1
        return x
    """)


def _finding(line: int, code: str = "E501", tool: str = "flake8") -> Finding:
    return Finding(tool=tool, code=code, message="m", path="pkg/box.py", line=line,
                   severity="style")


def test_context_statement_kinds_scopes_and_flags():
    ctx = build_context("pkg/box.py", SOURCE)
    assert ctx.parsed
    assert STMT_KINDS[ctx.stmt_kind[1]] == "Import"
    assert STMT_KINDS[ctx.stmt_kind[8]] == "Expr"
    assert STMT_KINDS[ctx.stmt_kind[11]] == "Return"
    assert ctx.flags[8] & IN_TRY and ctx.flags[8] & IN_LOOP
    assert ctx.flags[10] & IN_EXCEPT and not ctx.flags[8] & IN_EXCEPT
    assert ctx.scopes[ctx.scope[8]].kind == 3  # method
    assert ctx.scopes[ctx.scope[15]].kind == 2  # function
    assert ctx.scope[1] == 0  # module level
    assert ctx.depth[8] > ctx.depth[6] > ctx.depth[5]


def test_unparsable_file_gives_flat_context():
    ctx = build_context("bad.py", "def f(:\n  pass\n")
    assert not ctx.parsed and ctx.n_lines == 2
    row = file_features([_finding(1, "E999")], ctx, None)[0]
    assert math.isnan(row[INDEX["stmt_kind"]])


def test_deep_nesting_does_not_crash():
    text = "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n"
    ctx = build_context("deep.py", text)
    assert ctx.n_lines == 1  # parsed or not, no exception escapes


def test_feature_rows_shape_density_and_missing_history():
    ctx = build_context("pkg/box.py", SOURCE)
    findings = [_finding(8), _finding(8, "W291"), _finding(15, "E501")]
    rows = file_features(findings, ctx, None)
    assert len(rows) == 3 and all(len(r) == N_ROW_FEATURES for r in rows)
    assert rows[0][INDEX["file_findings"]] == 3
    assert rows[0][INDEX["file_same_code"]] == 2
    assert rows[0][INDEX["scope_findings"]] == 2
    assert rows[2][INDEX["scope_findings"]] == 1
    assert rows[0][INDEX["in_loop"]] == 1.0 and rows[2][INDEX["in_loop"]] == 0.0
    assert math.isnan(rows[0][INDEX["file_age_days"]])


def test_features_do_not_depend_on_other_files_or_order():
    ctx = build_context("pkg/box.py", SOURCE)
    a, b = _finding(8), _finding(15)
    assert file_features([a, b], ctx, None) == file_features([b, a], ctx, None)[::-1]


def test_schema_id_is_versioned_and_names_unique():
    assert len(set(FEATURES)) == len(FEATURES)
    version, digest = schema_id().split(":")
    assert version and len(digest) == 8


def test_is_test_path():
    assert is_test_path("tests/test_x.py") and is_test_path("pkg/x_test.py")
    assert is_test_path("conftest.py") and not is_test_path("pkg/app.py")
