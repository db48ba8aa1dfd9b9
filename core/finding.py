"""The one finding record every source produces and every reporter consumes."""
from __future__ import annotations

import dataclasses
from typing import Any

#: Analyzer-independent severity buckets, most severe first.
SEVERITIES = ("fatal", "error", "warning", "refactor", "convention", "style", "info")


@dataclasses.dataclass(frozen=True)
class Finding:
    """One analyzer finding, immutable and cheap to hash.

    ``severity`` is lintrank's normalised bucket (one of :data:`SEVERITIES`);
    ``category`` is the analyzer's own word for it (pylint's ``convention``,
    ruff's rule family, ...), kept for display and SARIF.
    """

    tool: str
    code: str
    message: str
    path: str
    line: int
    column: int = 0
    end_line: int | None = None
    end_column: int | None = None
    symbol: str = ""
    severity: str = "warning"
    category: str = ""

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Deterministic location order, independent of how work was split."""
        return (self.path, self.line, self.column, self.tool, self.code)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (used by caches and the JSON reporter)."""
        # perf: dataclasses.asdict deep-copies recursively; every field is a scalar.
        return {name: getattr(self, name) for name in FIELD_NAMES}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Rebuild a finding from :meth:`to_dict` output, ignoring unknown keys."""
        if data.keys() <= _FIELD_SET:  # perf: what to_dict wrote (a cached row) as it is
            return cls(**data)
        return cls(**{k: v for k, v in data.items() if k in FIELD_NAMES})


#: The fields of a finding, in declaration order (that of :meth:`Finding.to_dict`).
FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Finding))
_FIELD_SET = frozenset(FIELD_NAMES)


@dataclasses.dataclass(frozen=True)
class ScoredFinding:
    """A finding with its score and the policy's decision."""

    finding: Finding
    score: float
    kept: bool
    protected: bool = False
    critical: bool = False
    explanation: tuple[tuple[str, float], ...] = ()
