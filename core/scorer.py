"""Turn findings into scores: per-file features, one batched model call, a cache."""
from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import os
from collections.abc import Sequence

import numpy as np

from lintrank.core.cache import Cache
from lintrank.core.context import FileContext, build_context, read_source, source_text
from lintrank.core.features import N_FEATURES, N_ROW_FEATURES, file_features, row_schema_id
from lintrank.core.files import read_regular
from lintrank.core.finding import Finding
from lintrank.core.history import FileHistory
from lintrank.core.memory import ProjectMemory, fill
from lintrank.core.onnx_model import RewardModel

#: A file read and parsed ahead of scoring: its bytes (for the row-cache key) and context.
Parsed = tuple[bytes, FileContext]
_ROW_DTYPE = np.dtype("<f4")  # cached rows: little-endian float32 on any machine


def feature_matrix(findings: Sequence[Finding], root: str,
                   history: dict[str, FileHistory] | None = None,
                   contexts: dict[str, FileContext] | None = None,
                   cache: Cache | None = None,
                   prepared: dict[str, Parsed] | None = None,
                   memory: ProjectMemory | None = None) -> np.ndarray:
    """Feature rows for ``findings`` in order; each file is read and parsed once.

    With a cache, a file's rows are reused while its content, its findings and its
    history are unchanged, so a warm run parses nothing (the parse is most of the
    scoring cost on a large tree). ``prepared`` files were read and parsed already.
    ``memory`` fills the project-memory columns (missing without it); they are not
    cached with the rows, as ``lintrank learn`` moves them without any file changing.
    """
    rows = np.zeros((len(findings), N_FEATURES), dtype=np.float32)
    by_file: dict[str, list[int]] = collections.defaultdict(list)
    for i, f in enumerate(findings):
        by_file[f.path].append(i)
    contexts = contexts or {}
    history = history or {}
    prepared = prepared or {}
    keys, data = _row_keys(by_file, findings, root, history, contexts, cache, prepared)
    hits = cache.get_derived(list(keys.values())) if keys and cache else {}
    fresh: dict[str, str] = {}
    for path, indices in by_file.items():
        key = keys.get(path)
        cached = _cached_rows(hits.get(key) if key else None, len(indices))
        if cached is not None:
            rows[indices, :N_ROW_FEATURES] = cached
            continue
        ctx = contexts.get(path) or (prepared[path][1] if path in prepared else
                                     context_of(path, data[path]) if path in data else
                                     load_context(path, root))
        file_rows = file_features([findings[i] for i in indices], ctx,
                                  history.get(path.replace(os.sep, "/")))
        file_matrix = np.asarray(file_rows, dtype=np.float32)
        rows[indices, :N_ROW_FEATURES] = file_matrix
        if key:
            fresh[key] = _stored_rows(file_matrix)
    if fresh and cache:
        cache.put_derived(fresh)
    fill(rows, N_ROW_FEATURES, findings, memory)
    return rows


def _row_keys(by_file: dict[str, list[int]], findings: Sequence[Finding], root: str,
              history: dict[str, FileHistory], contexts: dict[str, FileContext],
              cache: Cache | None, prepared: dict[str, Parsed]
              ) -> tuple[dict[str, str], dict[str, bytes]]:
    """Cache key per file (schema, path, content, its findings, its history) and bytes."""
    keys: dict[str, str] = {}
    data: dict[str, bytes] = {}
    if cache is None or not cache.enabled:
        return keys, data
    for path, indices in by_file.items():
        if path in contexts:
            continue  # an editor buffer is not what is on disk
        if path in prepared:
            data[path] = prepared[path][0]
        else:
            try:
                data[path] = read_regular(os.path.join(root, path))
            except OSError:
                continue
        digest = hashlib.blake2b(row_schema_id().encode(), digest_size=16)
        digest.update(path.encode("utf-8", "replace") + b"\0" + data[path] + b"\0")
        digest.update(repr([(findings[i].tool, findings[i].code, findings[i].line,
                             findings[i].severity) for i in indices]).encode())
        digest.update(_history_fingerprint(history.get(path.replace(os.sep, "/"))))
        keys[path] = "rows32:" + digest.hexdigest()
    return keys, data


def _history_fingerprint(hist: FileHistory | None) -> bytes:
    if hist is None:
        return b"-"
    facts = hist.project
    return repr((hist.as_row(), hist.recent, sorted(hist.marks.items()),
                 None if facts is None else (facts.max_line_length, sorted(facts.codes)))
                ).encode()


def _stored_rows(matrix: np.ndarray) -> str:
    """A file's rows as the cache keeps them: their float32 bytes (what the model
    reads, so nothing is lost), in base64; JSON lists of floats cost 10x more."""
    return base64.b64encode(matrix.astype(_ROW_DTYPE).tobytes()).decode("ascii")


def _cached_rows(hit: object, count: int) -> np.ndarray | None:
    """Rows of :func:`_stored_rows`; an entry of the wrong shape is a miss, never a
    crash or a wrong score."""
    if not isinstance(hit, str):
        return None
    try:
        raw = base64.b64decode(hit, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != count * N_ROW_FEATURES * _ROW_DTYPE.itemsize:
        return None
    return np.frombuffer(raw, dtype=_ROW_DTYPE).reshape(count, N_ROW_FEATURES)


def context_of(path: str, data: bytes) -> FileContext:
    """Context of a file's bytes, decoded as :func:`read_source` reads it from disk."""
    return build_context(path, source_text(path, data))


def load_context(path: str, root: str) -> FileContext:
    """Context of a file on disk; an unreadable file gets an empty context."""
    try:
        text = read_source(os.path.join(root, path))
    except OSError:
        text = ""
    return build_context(path, text)


def score_rows(model: RewardModel, rows: np.ndarray, cache: Cache | None) -> np.ndarray:
    """Score rows, reusing cached scores keyed by (model hash, feature-row hash)."""
    if not cache or not cache.enabled or len(rows) == 0:
        return model.predict(rows)
    hashes = row_hashes(rows)
    known = cache.get_scores(model.sha256, hashes)
    scores = np.empty(len(rows), dtype=np.float64)
    missing = [i for i, h in enumerate(hashes) if h not in known]
    for i, h in enumerate(hashes):
        if h in known:
            scores[i] = known[h]
    if missing:
        fresh = model.predict(rows[missing])
        scores[missing] = fresh
        cache.put_scores(model.sha256, {hashes[i]: float(s) for i, s in zip(missing, fresh)})
    return scores


def row_hashes(rows: np.ndarray) -> list[bytes]:
    """A 16-byte digest per feature row (with the model hash, the score-cache key).

    The rows' float32 bytes, as the model reads them: hashing their repr instead
    cost 30x more (0.25 s for 12,000 rows).
    """
    rows = np.ascontiguousarray(rows, dtype=np.float32)
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in rows]
