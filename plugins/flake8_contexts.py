"""Code contexts built in flake8's checking processes, from the tree flake8 parsed.

``flake8 --format=lintrank`` needs a :class:`~lintrank.core.context.FileContext` of
every file with findings; built in the main process after the checks, that meant
a second ``ast.parse`` of every file, on the run's critical path. The ``LRK`` AST
plugin (:func:`spool`) builds the context in the worker instead, from flake8's own
tree, and appends it as one JSON line to a spool folder that the formatter names
in :data:`SPOOL_ENV`. It never reports anything, and does nothing without that
variable (plain flake8 runs, other formatters).

A context is used only for the exact bytes it was built from (a digest), and only
when flake8 read the same text lintrank reads; any other file, a failed or missing
record, is parsed in the main process as before.
"""
from __future__ import annotations

import ast
import atexit
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from lintrank.core.files import read_regular

if TYPE_CHECKING:
    from lintrank.core.scorer import Parsed  # not at run time: it imports numpy

#: The spool folder, set by the formatter for its run (and so its workers) only.
SPOOL_ENV = "LINTRANK_FLAKE8_SPOOL"

#: Following the spool stops after this many lines' contexts (files without findings
#: included): they must not become the run's largest memory (see core/prepare.py).
FOLLOW_LINES = 300_000
FOLLOW_SECONDS = 0.05  # how often the follower looks for new records
_out: dict[tuple[int, str], int] = {}  # (pid, folder) -> this process's spool file


def spool(tree: ast.Module, filename: str, lines: list[str]) -> tuple[()]:
    """flake8 AST plugin: spool this file's context when the formatter asks; no findings.

    Never raises: a failure leaves the file to the main process's parse.
    """
    folder = os.environ.get(SPOOL_ENV)
    if folder:
        try:
            _write(folder, tree, filename, lines)
        except Exception:  # noqa: BLE001, S110 - never a flake8 failure or finding
            pass
    return ()


def _write(folder: str, tree: ast.Module, filename: str, lines: list[str]) -> None:
    from lintrank.core.context import build_context, source_text
    from lintrank.core.notebooks import is_notebook

    if is_notebook(filename):
        return
    data = read_regular(filename)
    text = source_text(filename, data)
    # flake8 reads with universal newlines, as ast.parse reads lintrank's text: the
    # same lines make the same tree. Other text (an undecodable file) is parsed later.
    same = text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
    if same != "".join(lines):
        return
    ctx = build_context(filename, text, tree)
    # An absolute path: the main process keys it as it keys the findings.
    record = {"path": os.path.abspath(filename), "digest": _digest(data),
              "parsed": ctx.parsed, "stmt_kind": ctx.stmt_kind, "depth": ctx.depth,
              "flags": ctx.flags, "scope": ctx.scope,
              "scopes": [[s.kind, s.start, s.end, s.name] for s in ctx.scopes]}
    os.write(_spool_file(folder), (json.dumps(record, separators=(",", ":")) + "\n")
             .encode("utf-8", "surrogateescape"))


def _spool_file(folder: str) -> int:
    """This process's own append-only file: no interleaving, no locks, no buffer
    to lose (pool workers end with ``os._exit``)."""
    key = (os.getpid(), folder)
    if key not in _out:
        _out[key] = os.open(os.path.join(folder, f"{os.getpid()}.jsonl"),
                            os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return _out[key]


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class ContextSpool:
    """The formatter's side: a spool folder for one run, then its contexts.

    :meth:`follow` reads the records on a thread while the workers still write them,
    so that little is left to read once flake8 has checked the last file.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.folder = tempfile.mkdtemp(prefix="lintrank-flake8-")
        atexit.register(self._remove)  # should flake8 fail before the formatter stops
        os.environ[SPOOL_ENV] = self.folder  # before flake8 forks: the workers see it
        self._found: dict[str, Parsed] = {}
        self._read: dict[str, int] = {}  # spool file -> bytes of it already read
        self._budget = FOLLOW_LINES
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None

    def follow(self) -> None:
        """Read records on a thread from now on (after flake8's fork: a thread)."""
        if self._follower is None:
            self._follower = threading.Thread(target=self._follow, name="lintrank-spool",
                                              daemon=True)
            self._follower.start()

    def contexts(self, wanted: Iterable[str]) -> dict[str, Parsed]:
        """``{root-relative path: (bytes, context)}`` for the ``wanted`` files spooled.

        Paths are keyed as :func:`~lintrank.plugins.adapter.relative_path` keys
        findings; a damaged or stale record is left out (its file is parsed later).
        """
        self._halt()
        wanted = set(wanted)
        self._take(wanted)
        return {path: self._found[path] for path in wanted if path in self._found}

    def close(self) -> None:
        """Forget the folder: the variable, this process's own file, the files."""
        self._halt()
        if os.environ.get(SPOOL_ENV) == self.folder:
            del os.environ[SPOOL_ENV]
        own = _out.pop((os.getpid(), self.folder), None)  # a serial run spools here
        if own is not None:
            os.close(own)
        atexit.unregister(self._remove)
        self._remove()

    def _follow(self) -> None:
        try:
            while self._budget > 0 and not self._stop.wait(FOLLOW_SECONDS):
                self._take(None)
        except Exception:  # noqa: BLE001, S110 - contexts() reads whatever is left
            pass

    def _halt(self) -> None:
        self._stop.set()
        if self._follower is not None:
            self._follower.join()
            self._follower = None

    def _take(self, wanted: set[str] | None) -> None:
        """Turn the complete records not read yet into contexts (those of ``wanted``
        files; any file's while following, within its line budget)."""
        from lintrank.plugins.adapter import relative_path

        for name in sorted(os.listdir(self.folder)):
            with open(os.path.join(self.folder, name), "rb") as handle:
                handle.seek(self._read.get(name, 0))
                chunk = handle.read()
            complete = chunk.rfind(b"\n") + 1  # a record still being written waits
            self._read[name] = self._read.get(name, 0) + complete
            for line in chunk[:complete].splitlines():
                try:
                    record = json.loads(line)
                    path = relative_path(record["path"], self.root)
                    if path in self._found or (wanted is not None and path not in wanted):
                        continue
                    parsed = _context(path, self.root, record)
                except (ValueError, KeyError, TypeError, OSError):
                    continue
                if parsed is not None:
                    self._found[path] = parsed
                    self._budget -= parsed[1].n_lines

    def _remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _context(path: str, root: str, record: dict) -> Parsed | None:
    """The record as the context of the file's current bytes; None when they differ."""
    from lintrank.core.context import FileContext, Scope, source_text

    data = read_regular(os.path.join(root, path))
    if record["digest"] != _digest(data):
        return None  # the file changed since flake8 read it
    lines = source_text(path, data).splitlines()
    arrays = [record[k] for k in ("stmt_kind", "depth", "flags", "scope")]
    if any(not isinstance(a, list) or len(a) != len(lines) + 2 for a in arrays):
        return None
    scopes = [Scope(int(kind), int(start), int(end), str(name))
              for kind, start, end, name in record["scopes"]]
    return data, FileContext(path=path, lines=lines, parsed=bool(record["parsed"]),
                             stmt_kind=arrays[0], depth=arrays[1], flags=arrays[2],
                             scope=arrays[3], scopes=scopes)
