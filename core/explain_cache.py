"""Explanations cached like scores: by (model hash, feature-row hash).

An explanation ablates every feature of a row through the model, so a JSON or SARIF
run of 12,000 findings made 360,000 model calls (2 s) every time, also on a warm
tree where every score came from the cache.
"""
from __future__ import annotations

import numpy as np

from lintrank.core.cache import Cache
from lintrank.core.explain import TOP, Entry, explain_rows
from lintrank.core.onnx_model import RewardModel
from lintrank.core.scorer import row_hashes


def explanations(model: RewardModel, rows: np.ndarray, cache: Cache | None
                 ) -> list[tuple[Entry, ...]]:
    """:func:`explain_rows` of ``rows``, computing only those not cached yet."""
    if cache is None or not cache.enabled or len(rows) == 0:
        return explain_rows(model, rows)
    keys = [f"explain:{TOP}:{model.sha256}:{digest.hex()}" for digest in row_hashes(rows)]
    known = cache.get_derived(keys)
    out: list[tuple[Entry, ...] | None] = [_decode(known.get(k)) for k in keys]
    missing = [i for i, entry in enumerate(out) if entry is None]
    if missing:
        fresh = explain_rows(model, rows[missing])
        for i, entries in zip(missing, fresh):
            out[i] = entries
        cache.put_derived({keys[i]: [list(e) for e in out[i] or ()] for i in missing})
    return [entries or () for entries in out]


def _decode(value: object) -> tuple[Entry, ...] | None:
    """A cached explanation; a damaged one (wrong shape or types) is a miss."""
    if not isinstance(value, list):
        return None
    entries = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], (int, float))):
            return None
        entries.append((item[0], float(item[1])))
    return tuple(entries)
