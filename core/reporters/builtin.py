"""Registers the built-in output formats as an ordinary plugin."""
from __future__ import annotations

from lintrank.core.hookspecs import hookimpl
from lintrank.core.reporters.base import Reporter


@hookimpl
def lintrank_reporters() -> dict[str, type[Reporter]]:
    from lintrank.core.reporters.json import JsonReporter
    from lintrank.core.reporters.sarif import SarifReporter
    from lintrank.core.reporters.text import TextReporter

    return {"text": TextReporter, "json": JsonReporter, "sarif": SarifReporter}
