"""Human output with rich: score, location, code and message, best first."""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from lintrank.core.budget import describe_skipped
from lintrank.core.explain import why
from lintrank.core.pipeline import CheckResult
from lintrank.core.reporters.base import Reporter, band

_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}


class TextReporter(Reporter):
    """``path:line:col: CODE message  [score]``, like flake8 with a score column."""

    def report(self, result: CheckResult) -> None:
        console = Console(file=self.stream, highlight=False, soft_wrap=True)
        # perf: one print of all lines; a print per line costs ~0.4 ms in rich.
        lines = []
        for item in result.results:
            if not (item.kept or self.show_all):
                continue
            f = item.finding
            style = _STYLE[band(item.score, item.protected)]
            mark = "!" if item.protected else ("*" if item.critical else " ")
            dim = "" if item.kept else "[dim]"
            lines.append(
                f"{dim}[{style}]{item.score:5.3f}{mark}[/{style}] "
                f"{escape(f.path)}:{f.line}:{f.column + 1}: "
                f"[bold]{escape(f.code)}[/bold] {escape(f.message)}"
                + (f" ({escape(f.symbol)})" if f.symbol and f.symbol != f.code else "")
                + (" [dim]{filtered}[/dim]" if not item.kept else "")
                + ("[/dim]" if dim else ""))
            if result.explained:
                lines.append(f"[dim]        {escape(why(item))}[/dim]")
        if lines:
            console.print("\n".join(lines))
        s = result.summary()
        model = result.model
        console.print(
            f"[dim]{s['kept']} of {s['findings']} findings kept "
            f"({s['filtered']} filtered below {result.threshold:g}, "
            f"{s['protected']} protected) in {s['files']} files; model "
            f"{escape(model.name)} ({model.kind}) {model.sha256[:12]}[/dim]")
        skipped = describe_skipped(result.skipped, result.budget)
        if skipped:
            console.print(f"[yellow]{escape(skipped)}[/yellow]")
