"""``load-plugins=lintrank.plugins.pylint``: rank and filter pylint's messages.

The plugin wraps whatever reporter the user chose (text, parseable, colorized, json2,
several at once) in :class:`RankingReporter`, installed from ``load_configuration``.
In ``-j`` mode the workers only collect messages and the parent replays every one
through ``linter.reporter.handle_message``, so the proxy sees the whole run in the
parent in both modes. It scores once in ``display_messages()``, which pylint calls
before it computes the score and the exit status, and removes the filtered messages
from ``linter.stats`` and ``linter.msg_status`` so that both follow the kept set.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from pylint.checkers import BaseChecker
from pylint.constants import MSG_TYPES, MSG_TYPES_STATUS
from pylint.lint import pylinter
from pylint.message import Message
from pylint.reporters import CollectingReporter, MultiReporter

from lintrank.core.exceptions import LintrankError
from lintrank.core.finding import Finding
from lintrank.core.severity import severity_of
from lintrank.plugins.adapter import host_settings, relative_path, score, standing_aside

if TYPE_CHECKING:
    from pylint.lint import PyLinter
    from pylint.reporters.base_reporter import BaseReporter
    from pylint.reporters.ureports.nodes import Section
    from pylint.utils import LinterStats

    from lintrank.core.config import Settings

#: pylint's exit status for a usage error.
USAGE_ERROR = 32


class LintrankOptions(BaseChecker):
    """Carries the plugin's options; it checks nothing itself."""

    name = "lintrank"
    options = (
        ("lintrank-threshold", {
            "type": "float", "default": None, "metavar": "<0..1>",
            "help": "Keep messages scoring at least this (0 keeps everything; default: "
                    "[tool.lintrank] or the model's threshold).",
        }),
        ("lintrank-top", {
            "type": "int", "default": None, "metavar": "<n>",
            "help": "Keep at most this many messages (certain errors are always kept).",
        }),
        ("lintrank-diff", {
            "type": "string", "default": None, "metavar": "<ref>",
            "help": "Keep only messages on lines changed since this git revision.",
        }),
        ("lintrank-new-only", {
            "action": "store_true", "default": None,
            "help": "Keep only messages on lines changed since HEAD.",
        }),
        ("lintrank-staged", {
            "action": "store_true", "default": None,
            "help": "Keep only messages on staged lines (pre-commit); all when none are.",
        }),
    )


def register(linter: PyLinter) -> None:
    """Register the options; the reporter comes in :func:`load_configuration`."""
    linter.register_checker(LintrankOptions(linter))


def load_configuration(linter: PyLinter) -> None:
    """Wrap the user's reporter once options are parsed (parent process only)."""
    # Workers use a CollectingReporter and call this again: the parent ranks.
    if standing_aside() or isinstance(linter.reporter, (CollectingReporter, RankingReporter)):
        return
    overrides = {"threshold": linter.config.lintrank_threshold,
                 "top": linter.config.lintrank_top, "diff": linter.config.lintrank_diff,
                 "new_only": linter.config.lintrank_new_only,
                 "staged": linter.config.lintrank_staged}
    _settings([], overrides)  # a bad value fails now, not after the whole run
    linter.set_reporter(RankingReporter(_coloured(linter), overrides, linter.msg_status))


def _coloured(linter: PyLinter) -> BaseReporter | MultiReporter:
    """The user's reporter after pylint's NO_COLOR / FORCE_COLOR handling.

    pylint applies it to a lone default reporter after configuration, but skips
    any MultiReporter, which the proxy is; so apply it here (a no-op when pylint
    already did, as for an explicit --output-format).
    """
    reporter = linter.reporter
    swap = getattr(pylinter, "_handle_force_color_no_color", None)  # pylint >= 4
    if swap is None or isinstance(reporter, MultiReporter):
        return reporter
    no_color, force_color = getattr(linter, "_color_env", (False, False))
    return swap(reporter, no_color=no_color, force_color=force_color,
                explicit_format=False)


def _settings(files: list[str], overrides: dict[str, object]) -> Settings:
    """lintrank settings for the files pylint checks; exit like pylint on a bad value."""
    try:
        return host_settings(files or ["."], overrides, "pylint options")
    except LintrankError as exc:
        print(f"lintrank: {exc}", file=sys.stderr)
        sys.exit(USAGE_ERROR)


def _nothing() -> None:
    """The proxy owns no output file; the wrapped reporter closes its own."""


class RankingReporter(MultiReporter):
    """Holds every message, then forwards the kept ones best first to the real reporter.

    A :class:`MultiReporter` so that pylint's own helpers (fail-on colouring) reach the
    wrapped reporters through ``_sub_reporters``.
    """

    name = "lintrank"

    def __init__(self, inner: BaseReporter | MultiReporter, overrides: dict[str, object],
                 status_before: int) -> None:
        self._inner = inner  # first: MultiReporter.__init__ sets ``out``
        subs = list(inner._sub_reporters) if isinstance(inner, MultiReporter) else [inner]
        super().__init__(subs, _nothing)
        self._overrides = overrides
        self._status_before = status_before  # messages emitted before the proxy existed
        self._held: list[Message] = []

    @property  # type: ignore[override]
    def out(self) -> TextIO | None:
        return self._inner.out

    @out.setter
    def out(self, output: TextIO | None) -> None:
        if output is not None:  # pylint's --output sets this after configuration
            self._inner.out = output

    @property
    def path_strip_prefix(self) -> str:
        return self._inner.path_strip_prefix

    def handle_message(self, msg: Message) -> None:
        self._held.append(msg)

    def writeln(self, string: str = "") -> None:
        self._inner.writeln(string)

    def display_reports(self, layout: Section) -> None:
        self._inner.display_reports(layout)

    def on_set_current_module(self, module: str, filepath: str | None) -> None:
        self._inner.on_set_current_module(module, filepath)

    def on_close(self, stats: LinterStats, previous_stats: LinterStats | None) -> None:
        self._inner.on_close(stats, previous_stats)

    def display_messages(self, layout: Section | None) -> None:
        """Rank the run, fix stats and exit status, then let the real reporter print."""
        held, self._held = self._held, []
        if held:
            self._release(held)
        self._inner.display_messages(layout)

    def _release(self, held: list[Message]) -> None:
        linter = self.linter
        # pylint sets config.files only after load_configuration: resolve the project now.
        settings = _settings(list(linter.config.files) if linter else [], self._overrides)
        by_id: dict[int, Message] = {}
        findings = []
        for msg in held:
            finding = _finding(msg, settings.root)
            by_id[id(finding)] = msg
            findings.append(finding)
        try:
            results = score(findings, settings)
        except LintrankError as exc:
            print(f"lintrank: {exc}", file=sys.stderr)
            sys.exit(USAGE_ERROR)
        kept = [by_id[id(r.finding)] for r in results if r.kept]
        # Not "results that are not kept": a diff-aware run leaves findings out of the
        # results altogether, and those must leave the stats too.
        kept_ids = {id(msg) for msg in kept}
        dropped = [msg for msg in held if id(msg) not in kept_ids]
        if linter is not None:
            _forget(linter.stats, dropped)
            status = self._status_before
            for msg in kept:
                status |= MSG_TYPES_STATUS[msg.C]
            linter.msg_status = status
        previous = None
        for msg in kept:
            if msg.module != previous:
                self._new_header(msg.module)
                previous = msg.module
            self._inner.handle_message(msg)

    def _new_header(self, module: str) -> None:
        # Text reporters print "***** Module x" once per module; in score order a
        # module can come back after another one, so let its header come back too.
        for rep in self._sub_reporters:
            seen = getattr(rep, "_modules", None)
            if isinstance(seen, set):
                seen.discard(module)


def _forget(stats: LinterStats, dropped: list[Message]) -> None:
    """Take filtered messages out of the counts pylint scores and exits by."""
    for msg in dropped:
        category = MSG_TYPES[msg.C]
        setattr(stats, category, max(getattr(stats, category, 0) - 1, 0))
        module_stats = stats.by_module.get(msg.module)
        if module_stats is not None and module_stats.get(category, 0) > 0:
            module_stats[category] -= 1  # type: ignore[literal-required]
        count = stats.by_msg.get(msg.symbol, 0) - 1
        if count > 0:
            stats.by_msg[msg.symbol] = count
        else:
            # --fail-on tests membership, so a count of zero must not stay behind.
            stats.by_msg.pop(msg.symbol, None)


def _finding(msg: Message, root: str) -> Finding:
    """The core's record of one pylint message."""
    return Finding(tool="pylint", code=msg.msg_id, symbol=msg.symbol, message=msg.msg,
                   path=relative_path(msg.abspath or msg.path, root), line=msg.line,
                   column=msg.column, end_line=msg.end_line, end_column=msg.end_column,
                   severity=severity_of("pylint", msg.msg_id), category=msg.category)
