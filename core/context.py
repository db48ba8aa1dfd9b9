"""Per-file code context, computed once per file with the stdlib ``ast``.

``ast`` costs well under 1% of a flake8 run while libcst costs about twice a whole
flake8 run (measured on flask/src), so the hot path uses ``ast``; libcst is kept
for concrete-syntax work (comments, pragmas) outside it.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import os
import warnings

from lintrank.core.files import MAX_PARSE_BYTES, read_regular
from lintrank.core.notebooks import code_text, is_notebook

#: Statement kinds the schema knows; index = feature value, unknown = len().
STMT_KINDS = (
    "Module", "FunctionDef", "AsyncFunctionDef", "ClassDef", "Return", "Delete",
    "Assign", "AugAssign", "AnnAssign", "For", "AsyncFor", "While", "If", "With",
    "AsyncWith", "Match", "Raise", "Try", "TryStar", "Assert", "Import", "ImportFrom",
    "Global", "Nonlocal", "Expr", "Pass", "Break", "Continue", "TypeAlias",
)
_STMT_INDEX = {name: i for i, name in enumerate(STMT_KINDS)}
SCOPE_KINDS = ("module", "class", "function", "method")

# Flags per line (bit positions are part of the feature schema's meaning).
IN_LOOP, IN_TRY, IN_EXCEPT, IN_WITH, IN_CLASS = 1, 2, 4, 8, 16
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclasses.dataclass
class Scope:
    """A module, class or function and its line span."""

    kind: int
    start: int
    end: int
    name: str = ""  # dotted qualified name ("Box.open"); "" for the module


@dataclasses.dataclass
class FileContext:
    """What lintrank knows about one file's code, indexed by 1-based line."""

    path: str
    lines: list[str]
    parsed: bool
    stmt_kind: list[int]
    depth: list[int]
    flags: list[int]
    scope: list[int]
    scopes: list[Scope]

    @property
    def n_lines(self) -> int:
        return len(self.lines)

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def at(self, line: int) -> int:
        """Clamp ``line`` into the per-line arrays (index 0 is unused)."""
        return min(max(line, 1), len(self.stmt_kind) - 1)


def read_source(path: str) -> str:
    """Read a file as Python would (PEP 263 cookie, BOM); undecodable bytes replaced.

    A notebook reads as its code cells joined, where ruff's findings are placed.
    """
    return source_text(path, read_regular(path))  # a FIFO named *.py must not block


def source_text(path: str, data: bytes) -> str:
    """The text of a file's bytes as :func:`read_source` reads it."""
    return code_text(data) if is_notebook(path) else decode_source(data)


def decode_source(data: bytes) -> str:
    """Decode a file's bytes as Python would; undecodable bytes are replaced."""
    try:
        import tokenize
        import io
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return data.decode("utf-8", "replace")


def build_context(path: str, text: str, tree: ast.Module | None = None) -> FileContext:
    """Build the line-indexed context of ``text``; unparsable code gives a flat one.

    ``tree`` is ``text`` already parsed (flake8 hands its tree to plugins): the same
    context, without a second parse.
    """
    lines = text.splitlines()
    size = len(lines) + 2
    ctx = FileContext(path=path, lines=lines, parsed=False, stmt_kind=[0] * size,
                      depth=[0] * size, flags=[0] * size, scope=[0] * size,
                      scopes=[Scope(0, 1, max(len(lines), 1))])
    if len(text) > MAX_PARSE_BYTES:
        return ctx  # generated code: a flat context keeps the run bounded
    if tree is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes
                tree = ast.parse(text.replace("\x00", ""), filename=path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return ctx
    ctx.parsed = True
    try:
        _visit(tree.body, ctx, depth=0, flags=0, scope=0)
    except RecursionError:
        pass  # keep what was filled; a 1000-deep expression must not stop the run
    return ctx


def _visit(body: list[ast.stmt], ctx: FileContext, depth: int, flags: int, scope: int) -> None:
    for node in body:
        start = getattr(node, "lineno", 1)
        end = getattr(node, "end_lineno", None) or start
        kind = _STMT_INDEX.get(type(node).__name__, len(STMT_KINDS))
        # Pre-order: children overwrite their parent's span with deeper facts.
        # perf: slice assignments, not a loop over the lines (a class's lines were
        # written once per enclosing statement, in Python).
        stop = min(end, len(ctx.stmt_kind) - 2) + 1
        if stop > start:
            span = stop - start
            ctx.stmt_kind[start:stop] = [kind] * span
            ctx.depth[start:stop] = [depth] * span
            ctx.flags[start:stop] = [flags] * span
            ctx.scope[start:stop] = [scope] * span
        decorated, nested = _shape(type(node))
        if decorated:
            for decorator in node.decorator_list:  # type: ignore[attr-defined]
                line = decorator.lineno
                if line < len(ctx.stmt_kind):
                    ctx.stmt_kind[line], ctx.depth[line], ctx.scope[line] = kind, depth, scope
        if nested:  # perf: most statements hold no statements
            _visit_children(node, ctx, depth, flags, scope, start, end)


@functools.cache
def _shape(kind: type) -> tuple[bool, bool]:
    """Whether a statement type has decorators, and whether it can hold statements."""
    fields = set(kind._fields)
    return "decorator_list" in fields, not fields.isdisjoint(
        ("body", "orelse", "finalbody", "handlers", "cases"))


def _visit_children(node: ast.stmt, ctx: FileContext, depth: int, flags: int,
                    scope: int, start: int, end: int) -> None:
    if isinstance(node, (ast.ClassDef, *_FUNCS)):
        in_class = ctx.scopes[scope].kind == 1
        kind = 1 if isinstance(node, ast.ClassDef) else (3 if in_class else 2)
        parent = ctx.scopes[scope].name
        ctx.scopes.append(Scope(kind, start, end, f"{parent}.{node.name}" if parent
                                else node.name))
        inner_flags = flags | IN_CLASS if kind == 1 else flags & ~(IN_LOOP | IN_TRY | IN_EXCEPT)
        _visit(node.body, ctx, depth + 1, inner_flags, len(ctx.scopes) - 1)
        return
    extra = IN_LOOP if isinstance(node, _LOOPS) else IN_WITH if isinstance(
        node, (ast.With, ast.AsyncWith)) else 0
    for field in ("body", "orelse", "finalbody"):
        block = getattr(node, field, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            try_flag = IN_TRY if field == "body" and isinstance(node, _tries()) else 0
            _visit(block, ctx, depth + 1, flags | extra | try_flag, scope)
    for handler in getattr(node, "handlers", ()):
        _visit(handler.body, ctx, depth + 1, flags | IN_EXCEPT, scope)
    for case in getattr(node, "cases", ()):
        _visit(case.body, ctx, depth + 1, flags, scope)


def _tries() -> tuple[type, ...]:
    return (ast.Try, getattr(ast, "TryStar", ast.Try))


def is_test_path(path: str) -> bool:
    """Whether ``path`` looks like test code (pytest/unittest conventions)."""
    parts = path.replace(os.sep, "/").split("/")
    name = parts[-1]
    return (name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
            or any(p in ("tests", "test", "testing") for p in parts[:-1]))
