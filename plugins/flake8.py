"""``flake8 --format=lintrank``: flake8's own findings, ranked by score, noise filtered.

flake8 hands every violation of the run to its formatter in the main process, also
under ``--jobs``; this formatter holds them in :meth:`handle` and scores them in one
batch in :meth:`stop`. Exit code: flake8 exits 1 when it reported anything unless
``options.exit_zero``; the formatter shares that options object, so setting it when
nothing is kept makes the exit code follow the kept set (a user's own ``--exit-zero``
already set it and still wins).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flake8.exceptions import ExecutionError
from flake8.formatting.base import BaseFormatter
from flake8.formatting.default import COLORS, COLORS_OFF, Default
from flake8.statistics import Statistics
from flake8.violation import Violation

from lintrank.core.exceptions import LintrankError
from lintrank.core.finding import Finding
from lintrank.core.severity import severity_of
from lintrank.plugins.adapter import HostScoring, host_settings, relative_path, standing_aside
from lintrank.plugins.flake8_contexts import ContextSpool
from lintrank.plugins.flake8_pool import after_fork

if TYPE_CHECKING:
    from collections.abc import Callable

    from flake8.options.manager import OptionManager

    from lintrank.core.config import Settings
    from lintrank.core.scorer import Parsed


class LintrankFormatter(BaseFormatter):
    """flake8's default line plus the score, best first; filtered findings left out."""

    #: flake8's default line; ``[score]`` is appended so editors' parsers still match.
    error_format = Default.error_format

    @classmethod
    def add_options(cls, parser: OptionManager) -> None:
        """Register ``--lintrank-threshold`` / ``--lintrank-top`` (also config keys)."""
        parser.add_option(
            "--lintrank-threshold", type=float, default=None, metavar="F",
            parse_from_config=True,
            help="--format=lintrank: keep findings scoring at least F in 0..1 (0 keeps "
                 "everything; default: [tool.lintrank] or the model's threshold)")
        parser.add_option(
            "--lintrank-top", type=int, default=None, metavar="N", parse_from_config=True,
            help="--format=lintrank: keep at most N findings (certain errors are "
                 "always kept on top)")
        parser.add_option(
            "--lintrank-diff", default=None, metavar="REF", parse_from_config=True,
            help="--format=lintrank: keep only findings on lines changed since the git "
                 "revision REF")
        parser.add_option(
            "--lintrank-new-only", action="store_true", default=None,
            parse_from_config=True,
            help="--format=lintrank: keep only findings on lines changed since HEAD")
        parser.add_option(
            "--lintrank-staged", action="store_true", default=None,
            parse_from_config=True,
            help="--format=lintrank: keep only findings on staged lines (pre-commit); "
                 "all when nothing is staged")

    def after_init(self) -> None:
        """Read lintrank's settings now, so a bad value fails before the run."""
        self._aside = standing_aside()
        self._held: list[Violation] = []
        self._statistics = False
        self._settings: Settings | None = None
        self._scoring: HostScoring | None = None
        self._undo: Callable[[], None] | None = None
        self._spool: ContextSpool | None = None
        if self._aside:
            return
        overrides = {"threshold": self.options.lintrank_threshold,
                     "top": self.options.lintrank_top, "diff": self.options.lintrank_diff,
                     "new_only": self.options.lintrank_new_only,
                     "staged": self.options.lintrank_staged}
        try:
            self._settings = host_settings(self.options.filenames or ["."], overrides,
                                           "flake8 options")
        except LintrankError as exc:
            raise ExecutionError(str(exc)) from exc
        self._scoring = HostScoring(self._settings)
        try:
            warm = self._scoring.remembered()
        except Exception:  # noqa: BLE001 - then scoring reports it, after the checks
            return
        if not warm:
            # The workers build the code contexts from their trees: their spool is
            # named now, before they fork.
            self._spool = _spool(self._settings.root)
        # Scoring is prepared on threads while flake8's workers check, from the pool's
        # creation: threads before its fork are unsafe. A serial run checks in this
        # process, where threads importing numpy would change the module state that
        # checks may inspect (pylint's astroid fails on that): it prepares nothing.
        self._undo = after_fork(self._forked)

    def _forked(self) -> None:
        """flake8 made its checking processes: prepare, and read their contexts."""
        assert self._scoring is not None
        self._scoring.prepare()
        if self._spool is not None:
            self._spool.follow()

    def format(self, error: Violation) -> str | None:
        """flake8's default line (colours included when enabled)."""
        return self.error_format % {
            "code": error.code, "text": error.text, "path": error.filename,
            "row": error.line_number, "col": error.column_number,
            **(COLORS if self.color else COLORS_OFF),
        }

    def handle(self, error: Violation) -> None:
        """Hold the violation until the whole run is known (printed in :meth:`stop`)."""
        if self._aside:
            super().handle(error)
        else:
            self._held.append(error)

    def show_statistics(self, statistics: Statistics) -> None:
        """Defer ``--statistics``: it is printed for the kept findings in :meth:`stop`."""
        if self._aside:
            super().show_statistics(statistics)
        else:
            self._statistics = True

    def stop(self) -> None:
        """Score the run once, print the kept findings best first, set the exit code."""
        if not self._aside:
            if self._undo is not None:
                self._undo()  # a serial run never made the pool
            try:
                self._report()
            except LintrankError as exc:
                raise ExecutionError(str(exc)) from exc
            finally:
                if self._spool is not None:
                    self._spool.close()
        super().stop()

    def _spooled(self, findings: list[Finding]) -> dict[str, Parsed]:
        """Files with findings whose context the workers built (see flake8_contexts)."""
        if self._spool is None:
            return {}
        try:
            return self._spool.contexts({f.path for f in findings})
        except Exception:  # noqa: BLE001 - a broken spool only costs the parse
            return {}

    def _report(self) -> None:
        assert self._settings is not None and self._scoring is not None
        settings = self._settings
        by_id: dict[int, Violation] = {}
        findings = []
        for error in self._held:
            finding = _finding(error, settings.root)
            by_id[id(finding)] = error
            findings.append(finding)
        if findings:
            results = self._scoring.score(findings, self._spooled(findings))
        else:
            self._scoring.close()
            results = []
        kept = Statistics()
        anything = False
        for result in results:
            if not result.kept:
                continue
            anything = True
            error = by_id[id(result.finding)]
            kept.record(error)
            self.write(f"{self.format(error)} [{result.score:.2f}]", self.show_source(error))
        if self._statistics:
            super().show_statistics(kept)
        if not anything:
            # flake8 computes its exit code from this shared options object.
            self.options.exit_zero = True
        self._held = []


def _finding(error: Violation, root: str) -> Finding:
    """The core's record of one flake8 violation (1-based column -> 0-based)."""
    return Finding(tool="flake8", code=error.code, message=error.text,
                   path=relative_path(error.filename, root), line=error.line_number,
                   column=max(error.column_number - 1, 0),
                   severity=severity_of("flake8", error.code),
                   category=error.code.rstrip("0123456789"))


def _spool(root: str) -> ContextSpool | None:
    """A spool for the workers' contexts; None (they are parsed later) if it fails."""
    try:
        import lintrank.core.context  # noqa: F401 - imported once, before the fork

        return ContextSpool(root)
    except Exception:  # noqa: BLE001 - without a spool the files are parsed later
        return None
