"""``lintrank check``: analyse, score, rank, filter and report."""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator

from lintrank.core.blas import one_blas_thread
from lintrank.core.collect import fewer_collections
from lintrank.core.config import Settings, apply, find_root, load_file_options
from lintrank.core.engine import Progress
from lintrank.core.exceptions import UsageError
from lintrank.core.pipeline import record_reporting, run_check
from lintrank.core.plugin_manager import get_plugin_manager


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("check", help="rank the findings of flake8/pylint/ruff",
                       description="Run the analyzers, score every finding and print "
                                   "the important ones, best first.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: .)")
    p.add_argument("--tools", help="comma-separated analyzers (default: flake8,pylint)")
    p.add_argument("--threshold", type=float, metavar="F",
                   help="keep findings scoring at least F in 0..1 (0 keeps everything; "
                        "default: the model's recommended threshold)")
    p.add_argument("--top", type=int, metavar="N", help="keep at most N findings "
                   "(certain errors are always kept on top)")
    p.add_argument("--format", help="text, json or sarif (or a plugin's format)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")
    p.add_argument("--jobs", "-j", type=int, metavar="N",
                   help="parallel analyzer processes (default: CPU count)")
    p.add_argument("--no-cache", dest="cache", action="store_false", default=None,
                   help="neither read nor write the cache")
    p.add_argument("--cache-dir", metavar="DIR", help="cache folder (default: "
                   ".lintrank_cache in the project root, or $LINTRANK_CACHE_DIR)")
    p.add_argument("--model", metavar="PATH", help="ONNX reward model to use")
    p.add_argument("--config", metavar="FILE", help="TOML file with [tool.lintrank] "
                   "(default: pyproject.toml of the project root)")
    p.add_argument("--show-all", action="store_true",
                   help="text format: also list filtered findings, dimmed")
    p.add_argument("--quiet", "-q", action="store_true", default=None,
                   help="no progress bar")
    p.add_argument("--explain", action="store_true", default=None,
                   help="say why each finding scored what it did (features of the model, "
                        "priorities, the analyzer's help); always on in json/sarif")
    p.add_argument("--diff", metavar="REF", help="keep only findings on lines changed "
                   "since the git revision REF (working tree, staged or not)")
    p.add_argument("--new-only", action="store_true", default=None,
                   help="keep only findings on lines changed since HEAD (--diff HEAD)")
    p.add_argument("--staged", action="store_true", default=None,
                   help="pre-commit mode: keep only findings on lines staged for commit; "
                        "when nothing is staged (a manual --all-files run), keep all")
    p.add_argument("--notebooks", action="store_true", default=None,
                   help="also check Jupyter notebooks (*.ipynb) in folders; only ruff "
                        "analyzes them, so add ruff to --tools")
    engine = p.add_argument_group("engine (throughput)")
    engine.add_argument("--budget", metavar="SECONDS|P%",
                        help="stop analysing after SECONDS, or P%% of the estimated full "
                             "cost; the most rewarding work runs first and what is "
                             "skipped is reported (critical paths are never skipped)")
    engine.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="per-file limit for each analyzer; a file that hits it is "
                             "reported as LR903 and the run goes on (default: 120)")
    p.add_argument("--fallback-baseline", dest="model_fallback", action="store_true",
                   default=None, help="if the model is missing or invalid, score with "
                   "the baseline model instead of failing (a warning says so)")
    engine.add_argument("--executor", choices=("local", "dask"),
                        help="run file tasks locally (default) or on Dask")
    engine.add_argument("--scheduler", metavar="ADDRESS",
                        help="Dask scheduler address (default: start a LocalCluster)")
    engine.add_argument("--dask-workers", type=int, metavar="N",
                        help="LocalCluster workers, one analyzer at a time each (default: --jobs)")
    return p


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Defaults, then [tool.lintrank], then the command line."""
    paths = args.paths or ["."]
    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"path not found: {path}")
    root = find_root(paths)
    settings = Settings(root=root)
    options, source = load_file_options(args.config, root)
    apply(settings, options, source or "pyproject.toml")
    cli = {k: getattr(args, k) for k in ("tools", "threshold", "top", "format", "jobs",
                                          "cache", "cache_dir", "model", "quiet", "output",
                                          "explain", "diff", "new_only", "staged", "budget",
                                          "executor", "scheduler", "dask_workers",
                                          "timeout", "model_fallback", "notebooks")}
    apply(settings, {k: v for k, v in cli.items() if v is not None}, "command line")
    # Paths are given relative to where the user stands; the engine works from root.
    settings.paths = [os.path.relpath(os.path.abspath(p), root) for p in paths]
    return settings


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    reporters: dict[str, type] = {}
    # pluggy returns results last-registered first: reversed, a plugin's format wins.
    for provided in reversed(get_plugin_manager().hook.lintrank_reporters()):
        reporters.update(provided)
    if settings.format not in reporters:
        raise UsageError(f"unknown format {settings.format!r}; available: "
                         f"{', '.join(sorted(reporters))}")
    one_blas_thread()  # perf: before numpy loads beside the analyzers (see core/blas)
    # perf: findings decoded and scored all live until the report (see core/collect).
    with fewer_collections():
        with _progress(settings.quiet) as progress:
            result = run_check(settings, progress, getattr(args, "started", None))
        with _output(settings.output) as stream:
            reporters[settings.format](stream, show_all=args.show_all).report(result)
        record_reporting(settings, result)
    return 1 if result.kept else 0


@contextlib.contextmanager
def _output(path: str | None) -> Iterator:
    if not path:
        yield sys.stdout
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as stream:
        yield stream
    os.replace(tmp, path)  # a report file is never left half-written


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[Progress | None]:
    """A rich progress bar on stderr, only when it is a terminal and not --quiet."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, \
        TextColumn, TimeRemainingColumn

    with Bar("[progress.description]{task.description}", BarColumn(),
             MofNCompleteColumn(), TextColumn("files, {task.fields[findings]} findings"),
             TimeRemainingColumn(), transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("analysing", total=None, findings=0)

        def update(done: int, total: int, findings: int = 0) -> None:
            bar.update(task, completed=done, total=total, findings=findings)

        yield update
