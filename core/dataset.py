"""Read mined datasets (gzip JSON lines written by ``lintrank mine``) into arrays."""
from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Sequence

import numpy as np

from lintrank.core.exceptions import UsageError
from lintrank.core.features import N_FEATURES, schema_id


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
    rows: list[list[float]] = []
    labels, commits, repos, tools, codes, severities = [], [], [], [], [], []
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
                    if item["meta"].get("schema") != schema_id():
                        raise UsageError(
                            f"{path} was mined with feature schema "
                            f"{item['meta'].get('schema')!r}, this lintrank uses "
                            f"{schema_id()!r}; mine it again")
                    metas.append(item["meta"])
                    continue
                rows.append([np.nan if v is None else v for v in item["x"]])
                labels.append(item["label"])
                commits.append(f"{item['repo']}@{item['commit']}")
                repos.append(item["repo"])
                tools.append(item["tool"])
                codes.append(item["code"])
                severities.append(item.get("severity", "warning"))
    x = np.asarray(rows, dtype=np.float32).reshape(-1, N_FEATURES)
    return Dataset(x, np.asarray(labels, dtype=np.int8), commits, repos, tools, codes,
                   severities, metas)
