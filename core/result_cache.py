"""How analyzer results live in the cache: one key per (analyzer, file), findings as JSON.

A key covers everything that can change an analyzer's findings for a file: lintrank's
version, the analyzer and its version, the project's analyzer config, the file's path
and content and, for cross-module analyzers, the syntax of the modules it imports.
"""
from __future__ import annotations

import hashlib

from lintrank.core import __version__
from lintrank.core.finding import Finding
from lintrank.core.sources import Source
from lintrank.core.tasks import CRASHED, TIMED_OUT


def decode(hits: dict[str, list[dict]]) -> dict[str, list[Finding]]:
    """Rebuild cached findings; a damaged entry (wrong shape or types) is a miss."""
    decoded: dict[str, list[Finding]] = {}
    for key, rows in hits.items():
        try:
            found = [Finding.from_dict(d) for d in rows]
        except (TypeError, ValueError, AttributeError):
            continue  # re-analysed and overwritten by this run
        if all(isinstance(f.path, str) and isinstance(f.code, str) and isinstance(f.tool, str)
               and type(f.line) is int and type(f.column) is int for f in found):
            decoded[key] = found
    return decoded


def result_key(source: Source, fingerprint: str, rel: str, digest: str, deps: str) -> str:
    text = f"{__version__}|{source.name}|{source.version()}|{fingerprint}|{rel}|{digest}|{deps}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def per_file(findings: list[Finding], keys: dict[str, str]) -> dict[str, list[dict]]:
    """Group a batch's findings by file key; files with no findings cache ``[]``.

    Analyzer failures (LR902/LR903) are not cached: the next run tries again.
    """
    grouped: dict[str, list[dict]] = {key: [] for key in keys.values()}
    failed = set()
    for f in findings:
        key = keys.get(f.path)
        if key is None:
            continue
        if f.code in (CRASHED, TIMED_OUT):
            failed.add(key)
        grouped[key].append(f.to_dict())
    return {k: v for k, v in grouped.items() if k not in failed}
