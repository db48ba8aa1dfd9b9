"""Turn findings into scores: per-file features, one batched model call, a cache."""
from __future__ import annotations

import collections
import os
from collections.abc import Sequence

import numpy as np

from lintrank.core.cache import Cache
from lintrank.core.context import FileContext, build_context, read_source
from lintrank.core.features import N_FEATURES, file_features, row_hash
from lintrank.core.finding import Finding
from lintrank.core.history import FileHistory
from lintrank.core.onnx_model import RewardModel


def feature_matrix(findings: Sequence[Finding], root: str,
                   history: dict[str, FileHistory] | None = None,
                   contexts: dict[str, FileContext] | None = None) -> np.ndarray:
    """Feature rows for ``findings`` in order; each file is read and parsed once."""
    rows = np.zeros((len(findings), N_FEATURES), dtype=np.float32)
    by_file: dict[str, list[int]] = collections.defaultdict(list)
    for i, f in enumerate(findings):
        by_file[f.path].append(i)
    for path, indices in by_file.items():
        ctx = (contexts or {}).get(path) or load_context(path, root)
        hist = (history or {}).get(path.replace(os.sep, "/"))
        file_rows = file_features([findings[i] for i in indices], ctx, hist)
        rows[indices] = np.asarray(file_rows, dtype=np.float32)
    return rows


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
    hashes = [row_hash(r.tolist()) for r in rows]
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
