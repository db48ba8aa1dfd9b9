"""``lintrank learn [REPO]``: a project model from the repo's history and feedback."""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from importlib.util import find_spec

from lintrank.core.config import Settings, apply, find_root, load_file_options


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("learn", help="learn a project model from history and feedback "
                                     "(lintrank[train])",
                       description="Mine the repository's history (fixes, suppressions) "
                                   "and .lintrank/feedback.jsonl; write the project's past "
                                   "fixes to .lintrank/memory.json (scoring features), "
                                   "compare a project model with the shipped one on the "
                                   "later history, and write .lintrank/model.onnx only "
                                   "when it ranks better (that part needs lintrank[train]).")
    p.add_argument("repo", nargs="?", default=".", metavar="REPO",
                   help="the project (default: .)")
    p.add_argument("--tools", help="analyzers to mine with (default: the project's tools)")
    p.add_argument("--max-commits", type=int, default=1000, metavar="N",
                   help="mine the last N first-parent commits (default: 1000)")
    p.add_argument("--since", metavar="DATE", help="only commits after DATE (git syntax)")
    p.add_argument("--jobs", "-j", type=int, default=0, metavar="N",
                   help="analyzer processes (default: CPU count)")
    p.add_argument("--against", metavar="MODEL", help="the model to beat (default: the "
                   "shipped model)")
    p.add_argument("--config", metavar="FILE", help="TOML file with [tool.lintrank]")
    return p


def run(args: argparse.Namespace) -> int:
    from lintrank.core import learn
    from lintrank.core.onnx_model import load_model
    from lintrank.core.pipeline import open_cache, select_sources
    from lintrank.models import DEFAULT_MODEL

    started = time.monotonic()
    missing = [m for m in ("lightgbm", "onnxmltools", "onnx") if not find_spec(m)]
    if missing:  # said before mining, which takes minutes
        print(f"lintrank learn: the train extra is missing ({', '.join(missing)}): only "
              "the project memory will be written; pip install 'lintrank[train]' to "
              "fit a project model too", file=sys.stderr, flush=True)
    root = find_root([args.repo])
    top = learn.check_repo(root)
    settings = Settings(root=root)
    options, source = load_file_options(args.config, root)
    apply(settings, options, source or "pyproject.toml")
    if args.tools:
        apply(settings, {"tools": args.tools}, "command line")
    sources = select_sources(settings.tools)
    against = load_model(os.path.abspath(args.against or str(DEFAULT_MODEL)))
    jobs = args.jobs or os.cpu_count() or 1
    cache = open_cache(settings)
    mine_cache = os.path.join(str(cache.folder) if cache else root, "learn")
    try:
        print(f"lintrank learn: mining {top} ({', '.join(settings.tools)}) ...",
              file=sys.stderr, flush=True)
        rows, outcomes, found = learn.mine_rows(top, sources, args.max_commits, args.since,
                                                jobs, mine_cache)
        written = learn.save_memory(found, root, top)
        print(f"project memory: {found.total} past fixes of {len(found.codes)} codes in "
              f"{len(found.files)} files, written to {os.path.relpath(written)}")
        if missing:
            return 0
        verdicts = learn.feedback_rows(root, top, sources, cache, settings.timeout, found)
    finally:
        if cache:
            cache.close()
    name = f"project:{os.path.basename(os.path.abspath(root))}"
    report = learn.learn(root, top, rows, outcomes, verdicts, against, name)
    report.seconds = time.monotonic() - started
    _print(report, against.name)
    return 0


def _print(report, shipped_name: str) -> None:  # type: ignore[no-untyped-def]
    print(f"mined {report.mined} findings from {report.commits} commits "
          f"({report.fixed} fixed, {report.suppressed} suppressed) and "
          f"{report.verdicts} feedback verdicts in {report.seconds:.1f} s")
    if report.project:
        when = datetime.datetime.fromtimestamp(report.cut, datetime.timezone.utc)
        print(f"later history (commits from {when:%Y-%m-%d %H:%M} UTC): "
              f"{report.test_rows} findings, {report.test_fixed} fixed")
        print(f"  {'model':<28}{'auc':>7}{'ap':>7}{'p@10%':>7}{'within-commit auc':>19}")
        for label, figures in ((f"shipped ({shipped_name})", report.shipped),
                               ("project (older history)", report.project)):
            print(f"  {label:<28}{figures['auc']:>7.3f}{figures['ap']:>7.3f}"
                  f"{figures['p_at_10pct']:>7.3f}{figures['within_commit_auc']:>19.3f}")
    if report.written:
        print(f"the project model ranks better: wrote {os.path.relpath(report.written)} "
              "(fitted on all findings); lintrank check, the flake8/pylint plugins and "
              "the LSP use it from now on")
    else:
        print(f"keeping the shipped model: {report.reason}")
