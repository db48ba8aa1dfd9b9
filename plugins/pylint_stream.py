"""A pylint reporter that streams findings file by file (lintrank's pylint source).

Loaded with ``--load-plugins=lintrank.plugins.pylint_stream
--output-format=lintrank-stream``: pylint resolves a reporter given by class path
with astroid's own module finder, which does not see editable installs.

pylint's ``json2`` reporter writes everything when the run ends, so a run stopped at
a deadline (budget mode) yields nothing. This one writes each message as a JSON
line as it comes and, once pylint has finished a file, a ``{"done": path}`` line,
flushed: the findings of the finished files of a stopped run are complete and
usable. ``{"end": true}`` closes a whole run.
"""
from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, TextIO

from pylint.reporters.base_reporter import BaseReporter

if TYPE_CHECKING:
    from pylint.lint import PyLinter
    from pylint.message import Message
    from pylint.reporters.ureports.nodes import Section
    from pylint.utils import LinterStats


class StreamReporter(BaseReporter):
    """``--output-format=lintrank-stream``."""

    name = "lintrank-stream"
    extension = "jsonl"

    def __init__(self, output: TextIO | None = None) -> None:
        super().__init__(output or sys.stdout)
        # pylint first parses every file (in order), then lints them in that order;
        # set_current_module announces each file once per pass.
        self._order: list[str] = []
        self._position: dict[str, int] = {}  # index of each file in ``_order``
        self._done = 0  # files of ``_order`` reported done

    def handle_message(self, msg: Message) -> None:
        self.out.write(json.dumps({
            "type": msg.category, "symbol": msg.symbol, "message": msg.msg or "",
            "messageId": msg.msg_id, "path": msg.path, "line": msg.line,
            "column": msg.column, "endLine": msg.end_line, "endColumn": msg.end_column,
        }) + "\n")

    def on_set_current_module(self, module: str, filepath: str | None) -> None:
        if filepath is None:
            return
        if filepath not in self._position:  # the parsing pass
            self._position[filepath] = len(self._order)
            self._order.append(filepath)
            return
        # The linting pass reached ``filepath``: every file before it is finished
        # (files pylint could not parse are skipped by this pass: done when passed).
        self._finish(self._position[filepath])

    def _finish(self, upto: int) -> None:
        for path in self._order[self._done:upto]:
            self.out.write(json.dumps({"done": path}) + "\n")
        self._done = max(self._done, upto)
        self.out.flush()

    def display_messages(self, layout: Section | None) -> None:
        """Messages were written as they came."""

    def display_reports(self, layout: Section) -> None:
        """lintrank runs pylint with ``--reports=n``."""

    def _display(self, layout: Section) -> None:
        """Nothing to lay out."""

    def on_close(self, stats: LinterStats, previous_stats: LinterStats | None) -> None:
        self._finish(len(self._order))
        self.out.write('{"end": true}\n')
        self.out.flush()


def register(linter: PyLinter) -> None:
    """pylint plugin entry: make ``lintrank-stream`` an output format."""
    linter.register_reporter(StreamReporter)
