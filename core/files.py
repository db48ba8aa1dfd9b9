"""Find the Python files to check, the way flake8 and ruff do by default."""
from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator

#: Folders no analyzer should descend into (flake8's and ruff's defaults, plus ours).
DEFAULT_EXCLUDE = (
    ".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".nox", ".eggs",
    "*.egg", ".venv", "venv", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".lintrank_cache", "build", "dist", "node_modules", "site-packages", "__pypackages__",
)


#: Bigger files (generated code) go to the analyzers but are not parsed in-process:
#: ``ast`` needs seconds and over a GB for 10 MB, which no per-file timeout bounds.
MAX_PARSE_BYTES = 2_000_000


def _excluded(rel: str, patterns: re.Pattern[str]) -> bool:
    return bool(patterns.match(os.path.basename(rel)) or patterns.match(rel))


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    """One regex for all glob patterns: an fnmatch per pattern and path was most of
    discovering a tree's files."""
    return re.compile("|".join(f"(?:{fnmatch.translate(os.path.normcase(p))})"
                               for p in patterns))


def discover(paths: list[str], root: str, exclude: Iterable[str] = (),
             notebooks: bool = False) -> list[str]:
    """Return sorted, de-duplicated Python files under ``paths``, relative to ``root``.

    Files named explicitly are always returned (an explicit path is a request);
    symlinked folders are not followed, which also makes link loops harmless.
    Paths that do not exist are returned too: the engine reports them as LR901.
    Jupyter notebooks (``*.ipynb``) are found in folders only when ``notebooks``.
    """
    patterns = _compile((*DEFAULT_EXCLUDE, *exclude))
    suffixes = (".py", ".ipynb") if notebooks else (".py",)
    found: set[str] = set()
    for path in paths:
        full = os.path.join(root, path) if not os.path.isabs(path) else path
        if os.path.isdir(full):
            found.update(_walk(full, root, patterns, suffixes))
        else:
            found.add(_rel(full, root))
    return sorted(found)


def _walk(top: str, root: str, patterns: re.Pattern[str],
          suffixes: tuple[str, ...]) -> Iterator[str]:
    for folder, dirs, names in os.walk(top, followlinks=False):
        rel_folder = _rel(folder, root)
        dirs[:] = sorted(d for d in dirs
                         if not _excluded(os.path.join(rel_folder, d), patterns))
        for name in names:
            if name.endswith(suffixes):
                rel = os.path.join(rel_folder, name) if rel_folder != "." else name
                if not _excluded(rel, patterns):
                    yield rel


def _rel(path: str, root: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), root)
    return os.path.normpath(rel)


def read_regular(path: str) -> bytes:
    """Read a regular file's bytes; refuse FIFOs, devices and sockets with an OSError.

    A FIFO named ``x.py`` blocks ``open()`` forever and ``/dev/zero`` never ends, so
    the file is opened non-blocking and checked with ``fstat`` before any read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)


def inside_project(root: str, value: str, absolute_ok: bool = True) -> str:
    """Resolve a path from a config file: absolute stays, relative joins ``root``.

    A relative path must stay inside the project (after ``..`` and symlinks), so a
    checked-out repository's config cannot point lintrank's cache or report writes,
    or its model, at arbitrary places on the machine; an absolute path is the
    explicit way out, unless ``absolute_ok`` is false (the report file: a cloned
    repository must not make ``lintrank check`` overwrite ``~/.bashrc``).

    :raises ValueError: when the path resolves outside ``root``.
    """
    expanded = os.path.expanduser(value)
    if os.path.isabs(expanded) and absolute_ok:
        return expanded
    top = os.path.realpath(root)
    full = os.path.realpath(os.path.join(top, expanded))
    if os.path.commonpath([top, full]) != top:
        way_out = "use an absolute path if that is intended" if absolute_ok else \
            "pass it on the command line instead"
        kind = "relative path" if not os.path.isabs(expanded) else "path"
        raise ValueError(f"{kind} {value!r} leads outside the project root {top}; {way_out}")
    return full


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: readers
    see the old file or the new one, never half of one."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lintrank-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
