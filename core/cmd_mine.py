"""``lintrank mine REPO --out DATASET``: a labelled dataset from git history."""
from __future__ import annotations

import argparse
import os
import sys
import time

from lintrank.core.exceptions import UsageError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("mine", help="mine labelled findings from a git repository's history")
    p.add_argument("repo", metavar="REPO", help="git work tree or bare mirror")
    p.add_argument("--out", required=True, metavar="DATASET",
                   help="output file (gzip JSON lines, .jsonl.gz)")
    p.add_argument("--since", metavar="DATE", help="only commits after DATE (git syntax)")
    p.add_argument("--max-commits", type=int, metavar="N",
                   help="only the last N first-parent commits")
    p.add_argument("--tools", default="flake8,ruff",
                   help="analyzers to run (default: flake8,ruff)")
    p.add_argument("--jobs", type=int, default=1, help="analyzer processes (default: 1)")
    p.add_argument("--name", help="repository name for provenance (default: from REPO)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="lint cache folder; reusing it resumes an interrupted run "
                        "(default: beside --out)")
    return p


def _default_name(repo: str) -> str:
    path = os.path.abspath(repo).rstrip("/")
    for suffix in ("/.git", "/repo", ".git"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    base = os.path.basename(path)
    return base.replace("+", "/", 1)


def _progress(quiet: bool):  # type: ignore[no-untyped-def]
    last = {"t": 0.0, "stage": ""}
    tty = sys.stderr.isatty()

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if quiet or (stage == last["stage"] and done < total and now - last["t"] < (
                0.2 if tty else 30)):
            return
        last.update(t=now, stage=stage)
        end = "\r" if tty and done < total else "\n"
        print(f"lintrank mine: {stage} {done}/{total}", end=end, file=sys.stderr,
              flush=True)

    return report


def run(args: argparse.Namespace) -> int:
    from lintrank.core.mine import MineOptions, mine, write_dataset
    from lintrank.core.pipeline import select_sources

    if not os.path.isdir(args.repo):
        raise UsageError(f"{args.repo} is not a folder; pass a git work tree or mirror")
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    sources = select_sources(tools)
    name = args.name or _default_name(args.repo)
    cache_dir = args.cache_dir or os.path.join(os.path.dirname(os.path.abspath(args.out)),
                                               "lint-cache")
    options = MineOptions(repo=args.repo, name=name, since=args.since,
                          max_commits=args.max_commits, jobs=args.jobs, cache_dir=cache_dir)
    from lintrank.core.gitwalk import mainline

    window = mainline(args.repo, since=args.since, max_commits=args.max_commits)
    meta = {"repo": name, "head": _head(args.repo), "since": args.since,
            "max_commits": args.max_commits, "tools": tools,
            "first": window[0].parent if window else None, "commits": len(window)}
    started = time.monotonic()
    rows, positives = write_dataset(mine(options, sources, _progress(False)), args.out, meta)
    print(f"lintrank mine: {name}: {rows} findings, {positives} fixed "
          f"({100.0 * positives / max(rows, 1):.1f}%) in {time.monotonic() - started:.0f} s "
          f"-> {args.out}", file=sys.stderr)
    return 0


def _head(repo: str) -> str:
    from lintrank.core.gitwalk import git

    return git(repo, "rev-parse", "HEAD").strip()
