"""Read mined datasets (gzip JSON lines written by ``lintrank mine``) into arrays.

Mined rows hold the per-finding features (``ROW_FEATURES``); the project-memory
columns are computed here from the rows' own outcomes and times, past-only per
repository (:func:`lintrank.core.memory.past_columns`).
"""
from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Sequence

import numpy as np

from lintrank.core.exceptions import UsageError
from lintrank.core.features import N_ROW_FEATURES, row_schema_id
from lintrank.core.memory import past_columns


@dataclasses.dataclass
class Dataset:
    """Feature matrix, labels and provenance of mined findings."""

    x: np.ndarray  # float32 (n, N_FEATURES), NaN = missing
    y: np.ndarray  # int8 (n,)
    commits: list[str]
    repos: list[str]
    tools: list[str]
    codes: list[str]
    severities: list[str]
    metas: list[dict] = dataclasses.field(default_factory=list)  # one per file read

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, mask: np.ndarray) -> Dataset:
        """Rows where ``mask`` is true."""
        idx = np.flatnonzero(mask)
        pick = [int(i) for i in idx]
        return Dataset(self.x[idx], self.y[idx], [self.commits[i] for i in pick],
                       [self.repos[i] for i in pick], [self.tools[i] for i in pick],
                       [self.codes[i] for i in pick], [self.severities[i] for i in pick])


def load(paths: Sequence[str]) -> Dataset:
    """Load and concatenate datasets; all must use this lintrank's feature schema."""
    rows: list[list[float | None]] = []
    labels, commits, repos, tools, codes, severities = [], [], [], [], [], []
    times: list[float] = []
    paths_of: list[str] = []
    outcomes: list[str] = []
    metas: list[dict] = []
    for path in paths:
        try:
            handle = gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(
                path, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read dataset {path}: {exc.strerror}") from exc
        with handle:
            for n, line in enumerate(handle):
                try:
                    item = json.loads(line)
                except ValueError as exc:
                    raise UsageError(f"{path}:{n + 1}: not a JSON line") from exc
                if "meta" in item:
                    if item["meta"].get("schema") != row_schema_id():
                        raise UsageError(
                            f"{path} was mined with feature schema "
                            f"{item['meta'].get('schema')!r}, this lintrank mines "
                            f"{row_schema_id()!r}; mine it again")
                    metas.append(item["meta"])
                    continue
                if len(item["x"]) != N_ROW_FEATURES:
                    raise UsageError(f"{path}:{n + 1}: {len(item['x'])} features, the "
                                     f"schema has {N_ROW_FEATURES}; mine it again")
                rows.append(item["x"])
                labels.append(item["label"])
                commits.append(f"{item['repo']}@{item['commit']}")
                repos.append(item["repo"])
                tools.append(item["tool"])
                codes.append(item["code"])
                severities.append(item.get("severity", "warning"))
                times.append(float(item["time"]))
                paths_of.append(item["path"])
                outcomes.append(item["outcome"])
    x = mined_matrix(rows, repos, times, paths_of, tools, codes, outcomes)
    return Dataset(x, np.asarray(labels, dtype=np.int8), commits, repos, tools, codes,
                   severities, metas)


def mined_matrix(xs: Sequence[Sequence[float | None]], repos: Sequence[str],
                 times: Sequence[float], paths: Sequence[str], tools: Sequence[str],
                 codes: Sequence[str], outcomes: Sequence[str]) -> np.ndarray:
    """Mined rows' per-finding features (None: missing) with their project-memory
    columns appended, each row's from its repository's earlier fixes."""
    rows = np.asarray([[np.nan if v is None else v for v in x] for x in xs],
                      dtype=np.float32).reshape(-1, N_ROW_FEATURES)
    return np.hstack([rows, past_columns(repos, times, paths, tools, codes, outcomes)])
