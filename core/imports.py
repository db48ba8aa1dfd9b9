"""Local import graph, so cross-module analyzers' cache keys follow what a file imports.

pylint infers across modules: editing ``b.py`` can change pylint's findings in
``a.py`` when ``a`` imports ``b``. Per-file cache keys of such analyzers therefore
also hash the *syntax* of the project modules a file imports directly (an
``ast.dump`` without positions, so comment and formatting edits do not ripple).
Transitive imports and modules outside the checked files are not followed: the
cache stays an approximation, documented in the README; ``--no-cache`` is exact.
Facts per file are cached by content digest, so a warm run parses nothing.
"""
from __future__ import annotations

import ast
import hashlib
import os
import warnings
from collections.abc import Mapping, Sequence

from lintrank.core.cache import Cache
from lintrank.core.files import MAX_PARSE_BYTES, read_regular

#: One import statement as stored: [level, module, [names]] (JSON-friendly).
Import = list


def module_facts(data: bytes) -> dict[str, object]:
    """Imports and a position-free syntax digest of one file's content."""
    if len(data) > MAX_PARSE_BYTES:  # generated code: the content digest is stricter
        return {"syntax": hashlib.blake2b(data, digest_size=16).hexdigest(), "imports": []}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings belong to the analyzers
            tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {"syntax": hashlib.blake2b(data, digest_size=16).hexdigest(), "imports": []}
    imports: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.extend([0, alias.name, []] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imports.append([node.level, node.module or "",
                            [alias.name for alias in node.names if alias.name != "*"]])
    try:
        syntax = hashlib.blake2b(ast.dump(tree).encode(), digest_size=16).hexdigest()
    except RecursionError:  # a 1,000-deep expression: ast.dump recurses per level
        syntax = hashlib.blake2b(data, digest_size=16).hexdigest()
    return {"syntax": syntax, "imports": imports}


def valid_facts(facts: object) -> bool:
    """Whether cached facts have the shape :func:`module_facts` gives (else: a miss)."""
    if not isinstance(facts, dict) or not isinstance(facts.get("syntax"), str):
        return False
    imports = facts.get("imports")
    return isinstance(imports, list) and all(
        isinstance(i, list) and len(i) == 3 and type(i[0]) is int and isinstance(i[1], str)
        and isinstance(i[2], list) and all(isinstance(n, str) for n in i[2])
        for i in imports)


def module_names(files: Sequence[str]) -> dict[str, str]:
    """Dotted module name -> file, with packages found by their ``__init__.py``."""
    present = set(files)
    names: dict[str, str] = {}
    for rel in files:
        parts = rel.replace(os.sep, "/")[:-3].split("/")
        if parts[-1] == "__init__":
            parts.pop()
        # Climb while the folder is a package: its top is the import root
        # (this finds both `src/` layouts and flat layouts without configuration).
        start = len(parts) - 1
        while start > 0 and os.path.join(*parts[:start], "__init__.py") in present:
            start -= 1
        dotted = ".".join(parts[start:]) if parts else ""
        if dotted:
            names.setdefault(dotted, rel)
    return names


def dependencies(rel: str, imports: Sequence[Import], names: Mapping[str, str],
                 own_name: str | None) -> set[str]:
    """Files of the checked set that ``rel`` imports directly."""
    found: set[str] = set()
    is_init = os.path.basename(rel) == "__init__.py"
    for level, module, imported in imports:
        if level:
            if own_name is None:
                continue
            package = own_name.split(".")
            if not is_init:
                package = package[:-1]
            if level - 1 > len(package):
                continue
            package = package[:len(package) - (level - 1)]
            module = ".".join([*package, module] if module else package)
        for candidate in (module, *(f"{module}.{n}" for n in imported)):
            target = names.get(candidate)
            if target and target != rel:
                found.add(target)
    return found


def dependency_digests(files: Sequence[str], facts: Mapping[str, dict]) -> dict[str, str]:
    """Per file, a digest of the syntax of the local modules it imports directly."""
    names = module_names(files)
    own = {rel: name for name, rel in names.items()}
    digests: dict[str, str] = {}
    for rel in files:
        info = facts.get(rel)
        if info is None:
            continue
        deps = dependencies(rel, info["imports"], names, own.get(rel))
        text = "|".join(f"{d}:{facts[d]['syntax']}" for d in sorted(deps) if d in facts)
        digests[rel] = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return digests


def local_dependencies(files: list[str], root: str, digests: dict[str, str],
                       cache: Cache | None) -> dict[str, str]:
    """Per file, the digest of the local modules it imports (facts cached by content).

    Contents are read again only for files whose facts are not cached yet.
    """
    cached = cache.get_modules(list(set(digests.values()))) if cache else {}
    known = {k: v for k, v in cached.items() if valid_facts(v)}
    fresh: dict[str, dict] = {}
    for f in files:
        if digests[f] not in known and digests[f] not in fresh:
            data = _read(root, f)
            facts = module_facts(data)
            if hashlib.blake2b(data, digest_size=16).hexdigest() == digests[f]:
                fresh[digests[f]] = facts  # (a file edited since the scan is not cached)
            known[digests[f]] = facts
    if cache and fresh:
        cache.put_modules(fresh)
    return dependency_digests(files, {f: known[digests[f]] for f in files})


def _read(root: str, rel: str) -> bytes:
    try:
        return read_regular(os.path.join(root, rel))
    except OSError:
        return b""  # gone since the scan: the analyzer will report it
