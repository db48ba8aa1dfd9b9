"""Machine-readable output: one JSON object (the CLI contract other tools rely on)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from lintrank.core import __version__
from lintrank.core.reporters.base import Reporter

if TYPE_CHECKING:
    from lintrank.core.pipeline import CheckResult


def finding_record(item) -> dict:  # type: ignore[no-untyped-def]
    """One finding as JSON: the Finding's fields plus score and decisions."""
    record = item.finding.to_dict()
    record.update(score=round(item.score, 6), kept=item.kept, protected=item.protected,
                  critical=item.critical)
    return record


class JsonReporter(Reporter):
    """``{"version", "model", "findings": [...], "summary"}``; all findings, ranked."""

    def report(self, result: CheckResult) -> None:
        payload = {
            "version": __version__,
            "model": result.model.info(),
            "findings": [_with_explanation(finding_record(item), item, result)
                         for item in result.results],
            "summary": result.summary(),
        }
        json.dump(payload, self.stream, indent=2)
        self.stream.write("\n")


def _with_explanation(record: dict, item, result: CheckResult) -> dict:  # type: ignore[no-untyped-def]
    if result.explained:
        from lintrank.core.explain import as_json  # perf: explain imports numpy

        record["explanation"] = as_json(item, result.model)
    return record
