"""The reporter interface every output format implements."""
from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from lintrank.core.pipeline import CheckResult

#: Score bands shared by SARIF levels, the LSP severities and the text colours.
HIGH, MEDIUM = 0.7, 0.4


def band(score: float, protected: bool = False) -> str:
    """``high``, ``medium`` or ``low``; protected findings are always ``high``."""
    if protected or score >= HIGH:
        return "high"
    return "medium" if score >= MEDIUM else "low"


class Reporter:
    """Writes one :class:`CheckResult` to a stream."""

    def __init__(self, stream: TextIO, show_all: bool = False) -> None:
        self.stream = stream
        self.show_all = show_all  # include filtered findings (text only)

    def report(self, result: CheckResult) -> None:
        """Write the whole result; called once per run."""
        raise NotImplementedError
