"""On-disk cache of analyzer results and scores (one SQLite file, like a tool DB).

SQLite gives atomic, crash-safe writes and safe concurrent runs for free. Nothing
read back is ever executed: payloads are JSON and floats. A corrupt database is
rebuilt with a warning; an unwritable one turns caching off with one warning.

Every edit, config change or new model adds entries, so entries carry the time of
their last use and those unused for :data:`MAX_UNUSED` are dropped (as ruff drops
files not seen for 30 days); a hit refreshes the time at most once a day, so a warm
run stays a read.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lintrank.core.exceptions import LintrankWarning

if TYPE_CHECKING:
    from lintrank.core.config import Settings

CACHE_ENV = "LINTRANK_CACHE_DIR"
DB_NAME = "cache-v2.sqlite"
#: Earlier layouts, removed when the current one is opened (and by ``cache clean``).
OLD_DB_NAMES = ("cache-v1.sqlite",)
#: Entries not used for this long are dropped when a run closes the cache.
MAX_UNUSED = 30 * 86400.0
#: A hit refreshes its entry's last use when older than this; pruning runs this often.
TOUCH_EVERY = 86400.0
_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This file is a cache directory tag created by lintrank.\n"
        "# For information about cache directory tags see https://bford.info/cachedir/\n")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, payload TEXT NOT NULL,
    used REAL NOT NULL);
CREATE TABLE IF NOT EXISTS scores (model TEXT NOT NULL, row BLOB NOT NULL,
    score REAL NOT NULL, used REAL NOT NULL, PRIMARY KEY (model, row)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS modules (digest TEXT PRIMARY KEY, payload TEXT NOT NULL,
    used REAL NOT NULL);
CREATE TABLE IF NOT EXISTS outcomes (path TEXT NOT NULL, tool TEXT NOT NULL,
    mass REAL NOT NULL, findings INTEGER NOT NULL, PRIMARY KEY (path, tool)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cost_samples (tool TEXT PRIMARY KEY, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS derived (key TEXT PRIMARY KEY, payload TEXT NOT NULL,
    used REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value REAL NOT NULL);
"""
#: Tables whose entries age out, with their key columns.
_AGING = {"results": ("key",), "modules": ("digest",), "derived": ("key",),
          "scores": ("model", "row")}
_CHUNK = 500  # stay under SQLite's bound-parameter limit


class CacheWarning(LintrankWarning):
    """The cache could not be used as asked; the run goes on without it."""


def cache_dir(root: str, override: str | None = None) -> Path:
    """Where the cache lives: --cache-dir, then $LINTRANK_CACHE_DIR, then the root."""
    chosen = override or os.environ.get(CACHE_ENV)
    return Path(chosen) if chosen else Path(root) / ".lintrank_cache"


class Cache:
    """Key/value access to results and scores; every failure degrades to a miss."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._db: sqlite3.Connection | None = None
        self._rebuilt = False
        self._open()

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def _open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_markers(self.folder)
            _remove_old_layouts(self.folder)
            self._db = self._connect()
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                return self._disable(exc)
            warnings.warn(CacheWarning(f"cache {self.path} is corrupt ({exc}); rebuilding"),
                          stacklevel=3)
            self._remove_files()
            self._rebuilt = True
            try:
                self._db = self._connect()
            except (sqlite3.Error, OSError) as again:
                self._disable(again)
        except OSError as exc:
            self._disable(exc)
        return None

    @property
    def path(self) -> Path:
        return self.folder / DB_NAME

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        db.execute("SELECT count(*) FROM results LIMIT 1").fetchone()
        return db

    def _remove_files(self) -> None:
        _remove_database(self.path)

    def _disable(self, exc: BaseException) -> None:
        warnings.warn(CacheWarning(f"cache {self.folder} unusable ({exc}); running "
                                   "without cache"), stacklevel=3)
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None

    def _failed(self, exc: sqlite3.Error) -> None:
        """Rebuild once if the file turned out corrupt (a truncated file often opens
        fine and fails on the first read); any other failure turns the cache off."""
        if isinstance(exc, sqlite3.DatabaseError) and _is_corruption(exc) \
                and not self._rebuilt:
            self._rebuilt = True
            warnings.warn(CacheWarning(f"cache {self.path} is corrupt ({exc}); rebuilding"),
                          stacklevel=4)
            self.close()
            self._remove_files()
            try:
                self._db = self._connect()
                return
            except (sqlite3.Error, OSError) as again:
                exc = again  # type: ignore[assignment]
        self._disable(exc)

    def _query(self, sql: str, params: Sequence[object]) -> list[tuple]:
        if self._db is None:
            return []
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            self._failed(exc)
            return []

    def _write(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        if self._db is None:
            return
        rows = list(rows)
        try:
            with self._db:  # one transaction: all or nothing on a crash
                # IMMEDIATE takes the write lock up front, so concurrent runs queue
                # on the busy timeout instead of failing on a lock upgrade.
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(sql, rows)
        except sqlite3.Error as exc:
            self._failed(exc)

    def _get_json(self, table: str, column: str, keys: Sequence[str]) -> dict[str, object]:
        found: dict[str, object] = {}
        stale: list[str] = []
        since = time.time() - TOUCH_EVERY
        for start in range(0, len(keys), _CHUNK):
            part = list(keys[start:start + _CHUNK])
            marks = ",".join("?" * len(part))
            for key, payload, used in self._query(
                    f"SELECT {column}, payload, used FROM {table} "
                    f"WHERE {column} IN ({marks})", part):
                try:
                    found[key] = json.loads(payload)
                except ValueError:
                    continue  # a damaged row is just a miss
                if _stale(used, since):
                    stale.append(key)
        self._touch(table, [(k,) for k in stale])
        return found

    def _put_json(self, table: str, items: dict[str, object]) -> None:
        # Aging tables record the write as a use; the small bounded ones have no time.
        extra = (time.time(),) if table in _AGING else ()
        marks = ", ".join("?" * (2 + len(extra)))
        self._write(f"INSERT OR REPLACE INTO {table} VALUES ({marks})",
                    ((k, json.dumps(v, separators=(",", ":")), *extra)
                     for k, v in items.items()))

    def _touch(self, table: str, keys: list[tuple[object, ...]]) -> None:
        """Record that ``keys`` (tuples of ``_AGING[table]`` values) were used now."""
        if keys:
            where = " AND ".join(f"{c} = ?" for c in _AGING[table])
            now = time.time()
            self._write(f"UPDATE {table} SET used = ? WHERE {where}",
                        ((now, *k) for k in keys))

    def prune(self, now: float | None = None) -> None:
        """Drop entries unused for :data:`MAX_UNUSED` (at most once a day)."""
        now = time.time() if now is None else now
        last = self._query("SELECT value FROM meta WHERE key = 'pruned'", ())
        if last and isinstance(last[0][0], float) and last[0][0] > now - TOUCH_EVERY:
            return
        for table in _AGING:
            self._write(f"DELETE FROM {table} WHERE used < ?", [(now - MAX_UNUSED,)])
        self._write("INSERT OR REPLACE INTO meta VALUES ('pruned', ?)", [(now,)])

    def get_results(self, keys: Sequence[str]) -> dict[str, list[dict]]:
        """Return cached payloads for the keys that hit."""
        return self._get_json("results", "key", keys)  # type: ignore[return-value]

    def put_results(self, items: dict[str, list[dict]]) -> None:
        self._put_json("results", items)  # type: ignore[arg-type]

    def get_scores(self, model: str, rows: Sequence[bytes]) -> dict[bytes, float]:
        found: dict[bytes, float] = {}
        stale: list[tuple[object, ...]] = []
        since = time.time() - TOUCH_EVERY
        for start in range(0, len(rows), _CHUNK):
            part = list(rows[start:start + _CHUNK])
            marks = ",".join("?" * len(part))
            # SQLite columns are not typed: a damaged or edited row (text, NaN, 7.0)
            # is a miss, never a crash or an out-of-range score.
            for row, score, used in self._query(
                    f"SELECT row, score, used FROM scores WHERE model = ? AND row IN ({marks})",
                    [model, *part]):
                if type(score) is float and 0.0 <= score <= 1.0:
                    found[row] = score
                    if _stale(used, since):
                        stale.append((model, row))
        self._touch("scores", stale)
        return found

    def put_scores(self, model: str, items: dict[bytes, float]) -> None:
        now = time.time()
        self._write("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)",
                    ((model, k, v, now) for k, v in items.items()))

    def get_derived(self, keys: Sequence[str]) -> dict[str, object]:
        """Cached values computed from inputs (feature rows, git history) by key."""
        return self._get_json("derived", "key", keys)

    def put_derived(self, items: dict[str, object]) -> None:
        self._put_json("derived", items)

    def keep_latest_derived(self, prefix: str, keep: int) -> None:
        """Drop all but the ``keep`` most recently written derived values whose key
        starts with ``prefix`` (rowids grow with every write, replacements included)."""
        end = prefix + "\uffff"
        self._write("DELETE FROM derived WHERE key >= ? AND key < ? AND rowid NOT IN "
                    "(SELECT rowid FROM derived WHERE key >= ? AND key < ? "
                    "ORDER BY rowid DESC LIMIT ?)", [(prefix, end, prefix, end, keep)])

    def has_derived(self, key: str) -> bool:
        """Whether ``key`` has a derived value, without reading (decoding) it."""
        return bool(self._query("SELECT 1 FROM derived WHERE key = ?", [key]))

    def get_modules(self, digests: Sequence[str]) -> dict[str, dict]:
        """Cached per-content module facts (imports, syntax digest) by content digest."""
        return self._get_json("modules", "digest", digests)  # type: ignore[return-value]

    def put_modules(self, items: dict[str, dict]) -> None:
        self._put_json("modules", items)  # type: ignore[arg-type]

    def get_outcomes(self) -> dict[tuple[str, str], tuple[float, int]]:
        """Past (path, tool) -> (importance mass, finding count), for budget mode."""
        return {(p, t): (m, n) for p, t, m, n in
                self._query("SELECT path, tool, mass, findings FROM outcomes", ())}

    def put_outcomes(self, items: dict[tuple[str, str], tuple[float, int]]) -> None:
        self._write("INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?)",
                    ((p, t, m, n) for (p, t), (m, n) in items.items()))

    def get_costs(self) -> dict[str, list[list[float]]]:
        """Recent (lines, seconds) of analyzer batches, per analyzer."""
        found: dict[str, list[list[float]]] = {}
        for tool, payload in self._query("SELECT tool, payload FROM cost_samples", ()):
            try:
                rows = json.loads(payload)
                found[tool] = [[float(x), float(y)] for x, y in rows]
            except (ValueError, TypeError):
                continue  # a damaged row: relearn
        return found

    def put_costs(self, items: dict[str, list[list[float]]]) -> None:
        self._put_json("cost_samples", items)  # type: ignore[arg-type]

    def info(self) -> dict[str, object]:
        """Counts and size for `lintrank cache info`."""
        counts = {table: self._query(f"SELECT count(*) FROM {table}", ())
                  for table in ("results", "scores", "modules", "outcomes")}
        size = sum(p.stat().st_size for p in self.folder.glob(DB_NAME + "*") if p.is_file())
        return {"path": str(self.folder), "enabled": self.enabled,
                **{table: rows[0][0] if rows else 0 for table, rows in counts.items()},
                "bytes": size}

    def close(self) -> None:
        if self._db is not None:
            self.prune()
        if self._db is not None:  # pruning may have found it unusable
            self._db.close()
            self._db = None


def _stale(used: object, since: float) -> bool:
    """Whether an entry's last use (a damaged one counts as none) is before ``since``."""
    return not isinstance(used, float) or used < since


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


_MARKERS = (("CACHEDIR.TAG", _TAG), (".gitignore", "# Created by lintrank\n*\n"))


def _holds(path: Path, text: str) -> bool:
    try:
        return path.is_file() and path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def _write_markers(folder: Path) -> None:
    """CACHEDIR.TAG (backup tools skip it) and a .gitignore (git skips it), like ruff."""
    for name, text in _MARKERS:
        target = folder / name
        if not target.exists():
            tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)


def _remove_old_layouts(folder: Path) -> None:
    """Delete databases of earlier cache layouts: nothing reads them any more."""
    for name in OLD_DB_NAMES:
        _remove_database(folder / name)


def _remove_database(path: Path) -> None:
    """Delete an SQLite database and its WAL and shared-memory files, if present."""
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(str(path) + suffix)
        except FileNotFoundError:
            pass


def clean(folder: Path) -> bool:
    """Delete the cache folder's lintrank files; return whether anything was there."""
    existed = folder.exists()
    if existed:
        markers = dict(_MARKERS)
        for child in folder.iterdir():
            # Markers only when they hold lintrank's own text: a cache_dir pointed at
            # a home folder must not cost the user a global ~/.gitignore.
            if child.name.startswith((DB_NAME, *OLD_DB_NAMES)) or (
                    child.name in markers and _holds(child, markers[child.name])):
                child.unlink()
        try:
            folder.rmdir()
        except OSError:
            pass  # something else lives there; leave it
    return existed


def open_cache(settings: Settings) -> Cache | None:
    """The run's cache, or None when caching is off (``--no-cache``)."""
    return Cache(cache_dir(settings.root, settings.cache_dir)) if settings.cache else None
