"""Human output: score, location, code and message, best first (rich on a terminal)."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, TextIO

from lintrank.core.budget import describe_skipped
from lintrank.core.reporters.base import Reporter, band

if TYPE_CHECKING:
    from rich.console import Console

    from lintrank.core.finding import ScoredFinding
    from lintrank.core.pipeline import CheckResult

_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}
#: One line of output as (text, style) parts; "" is unstyled.
Parts = list[tuple[str, str]]


class TextReporter(Reporter):
    """``path:line:col: CODE message  [score]``, like flake8 with a score column."""

    def report(self, result: CheckResult) -> None:
        lines = [part for item in result.results if item.kept or self.show_all
                 for part in _finding_lines(item, result.explained)]
        s = result.summary()
        model = result.model
        lines.append([(f"{s['kept']} of {s['findings']} findings kept "
                       f"({s['filtered']} filtered below {result.threshold:g}, "
                       f"{s['protected']} protected) in {s['files']} files; model "
                       f"{model.name} ({model.kind}) {model.sha256[:12]}", "dim")])
        skipped = describe_skipped(result.skipped, result.budget)
        if skipped:
            lines.append([(skipped, "yellow")])
        console = _console(self.stream)
        if console is None or console.color_system is None:
            # perf: without colours rich would only strip the markup again (0.1 s for
            # a thousand findings, a tenth of a cold run's own cost on a small tree).
            self.stream.write("".join("".join(t for t, _ in parts) + "\n" for parts in lines))
            return
        from rich.markup import escape

        console.print("\n".join("".join(f"[{style}]{escape(text)}[/{style}]" if style
                                        else escape(text) for text, style in parts)
                                for parts in lines))


def _console(stream: TextIO) -> Console | None:
    """A rich console for ``stream``; None where rich could not colour it anyway
    (not a terminal and no ``FORCE_COLOR``), sparing its import."""
    isatty = getattr(stream, "isatty", None)
    if not (os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1"
            or (isatty is not None and isatty())):
        return None
    from rich.console import Console

    # emoji=False: rich would turn a location like "x.py:100:80" into an emoji.
    return Console(file=stream, highlight=False, soft_wrap=True, emoji=False)


def _finding_lines(item: ScoredFinding, explained: bool) -> list[Parts]:
    """A finding's line, then its explanation when the result carries them."""
    f = item.finding
    dim = "" if item.kept else "dim "
    mark = "!" if item.protected else ("*" if item.critical else " ")
    symbol = f" ({f.symbol})" if f.symbol and f.symbol != f.code else ""
    line: Parts = [(f"{item.score:5.3f}{mark}", dim + _STYLE[band(item.score, item.protected)]),
                   (f" {f.path}:{f.line}:{f.column + 1}: ", dim.strip()),
                   (f.code, dim + "bold"), (f" {f.message}{symbol}", dim.strip())]
    if not item.kept:
        line.append((" {filtered}", "dim"))
    if not explained:
        return [line]
    from lintrank.core.explain import why  # perf: explain imports numpy

    return [line, [(f"        {why(item)}", "dim")]]
