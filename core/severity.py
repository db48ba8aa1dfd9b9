"""Map analyzer codes to lintrank's severity buckets; pure and cached per code."""
from __future__ import annotations

import functools
import re

_PYLINT_LETTERS = {"F": "fatal", "E": "error", "W": "warning", "R": "refactor",
                   "C": "convention", "I": "info"}
# Multi-letter prefixes used by ruff for rule families, longest first.
_RUFF_PREFIXES = (
    ("PLE", "error"), ("PLW", "warning"), ("PLR", "refactor"), ("PLC", "convention"),
    ("UP", "refactor"), ("SIM", "refactor"), ("RUF", "warning"), ("ANN", "convention"),
    ("D", "convention"), ("N", "convention"), ("I", "style"), ("S", "warning"),
    ("B", "warning"), ("C4", "refactor"), ("C90", "refactor"),
)
_CODE_RE = re.compile(r"^([A-Za-z]+)(\d*)")


@functools.lru_cache(maxsize=4096)
def severity_of(tool: str, code: str) -> str:
    """Return the normalised severity of ``code`` as reported by ``tool``."""
    if code.startswith("LR9") or code in ("E999", "E902", "invalid-syntax"):
        return "fatal"
    if tool == "pylint":
        return _PYLINT_LETTERS.get(code[:1], "warning")
    if code[:1] == "F":
        # pyflakes: undefined names and misplaced statements are real errors.
        return "error" if code[:3] in ("F82", "F70", "F63", "F50", "F52") else "warning"
    if code[:1] in ("E", "W") and code[1:2].isdigit():
        return "error" if code.startswith("E9") else "style"
    for prefix, severity in _RUFF_PREFIXES:
        if code.startswith(prefix):
            return severity
    return "warning"


@functools.lru_cache(maxsize=4096)
def split_code(code: str) -> tuple[str, int]:
    """Split ``E501`` into ``("E", 501)``; non-matching codes give ``("", -1)``."""
    match = _CODE_RE.match(code)
    if not match:
        return "", -1
    return match.group(1).upper(), int(match.group(2)) if match.group(2) else -1
