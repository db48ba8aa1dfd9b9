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
        findings = [json.dumps(_with_explanation(finding_record(item), item, result))
                    for item in result.results]
        # One finding per line: readable and greppable, and each line comes from
        # json's C encoder (indent=2 selects the pure-Python one: 1 s for 12k findings).
        self.stream.write(
            "{\n"
            f'  "version": {json.dumps(__version__)},\n'
            f'  "model": {json.dumps(result.model.info())},\n'
            '  "findings": [' + ("\n    " if findings else "")
            + ",\n    ".join(findings) + ("\n  " if findings else "") + "],\n"
            f'  "summary": {json.dumps(result.summary())}\n'
            "}\n")


def _with_explanation(record: dict, item,  # type: ignore[no-untyped-def]
                      result: CheckResult) -> dict:
    if result.explained:
        from lintrank.core.explain import as_json  # perf: explain imports numpy

        record["explanation"] = as_json(item, result.model)
    return record
