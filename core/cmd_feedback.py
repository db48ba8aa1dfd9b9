"""``lintrank feedback``: record whether a finding was worth acting on."""
from __future__ import annotations

import argparse
import os
import subprocess

from lintrank.core import feedback
from lintrank.core.config import Settings, apply, find_root, load_file_options
from lintrank.core.context import read_source
from lintrank.core.engine import analyse
from lintrank.core.exceptions import UsageError
from lintrank.core.pipeline import open_cache, select_sources

#: Tricorder drops an analyzer whose "not useful" rate passes 10%.
NOT_USEFUL_ALARM = 0.10


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("feedback", help="mark a finding useful or not useful",
                       description="Record a verdict on a finding in .lintrank/feedback.jsonl "
                                   "(commit it: `lintrank learn` trains on it), or --list "
                                   "the verdicts per code.")
    p.add_argument("location", nargs="?", metavar="PATH:LINE", help="where the finding is")
    p.add_argument("code", nargs="?", metavar="CODE", help="its code or symbol (E501, "
                   "unused-import)")
    verdict = p.add_mutually_exclusive_group()
    verdict.add_argument("--useful", dest="useful", action="store_true", default=None,
                         help="the finding was worth acting on")
    verdict.add_argument("--not-useful", dest="useful", action="store_false",
                         help="the finding did not matter here")
    p.add_argument("--tool", help="the analyzer that reported it (default: any that does)")
    p.add_argument("--note", default="", help="why, in a few words")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="record without running the analyzers to confirm the finding")
    p.add_argument("--list", action="store_true", help="show the verdicts per code")
    p.add_argument("--config", metavar="FILE", help="TOML file with [tool.lintrank]")
    return p


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _list(find_root([args.location.rpartition(":")[0] or args.location]
                               if args.location else ["."]))
    if not args.location or not args.code or args.useful is None:
        raise UsageError("usage: lintrank feedback PATH:LINE CODE --useful|--not-useful")
    path, _, line_text = args.location.rpartition(":")
    if not path or not line_text.isdigit():
        raise UsageError(f"expected PATH:LINE, not {args.location!r}")
    if not os.path.isfile(path):
        raise UsageError(f"file not found: {path}")
    line = int(line_text)
    root = find_root([path])
    rel = os.path.relpath(os.path.abspath(path), root)
    lines = read_source(os.path.join(root, rel)).splitlines()
    if not 0 < line <= max(len(lines), 1):
        raise UsageError(f"{path} has {len(lines)} lines, not {line}")
    tool, code = args.tool or "", args.code
    if args.verify:
        tool, code = _confirm(root, rel, line, args.code, args.tool, args.config)
    entry = feedback.make(rel, line, code, args.useful, lines[line - 1] if lines else "",
                          tool=tool, author=_author(root), note=args.note)
    where = feedback.record(root, [entry])
    verdict = "useful" if args.useful else "not useful"
    print(f"recorded: {rel}:{line} {tool + ' ' if tool else ''}{code} is {verdict} "
          f"({os.path.relpath(where)}; commit it so `lintrank learn` sees it)")
    return 0


def _confirm(root: str, rel: str, line: int, code: str, tool: str | None,
             config: str | None) -> tuple[str, str]:
    """Run the analyzers on the file; return (tool, code) of the finding at ``line``."""
    settings = Settings(root=root)
    options, source = load_file_options(config, root)
    apply(settings, options, source or "pyproject.toml")
    sources = select_sources([tool] if tool else settings.tools)
    cache = open_cache(settings)
    try:
        found = analyse([rel], root, sources, cache, len(sources), settings.timeout).findings
    finally:
        if cache:
            cache.close()
    at_line = [f for f in found if f.line == line]
    for f in at_line:
        if code in (f.code, f.symbol):
            return f.tool, f.code
    there = ", ".join(sorted({f.code for f in at_line})) or "none"
    raise UsageError(f"{', '.join(s.name for s in sources)} report no {code} at "
                     f"{rel}:{line} (codes there: {there}); use --no-verify to record "
                     "it anyway")


def _author(root: str) -> str:
    try:
        out = subprocess.run(["git", "-C", root, "config", "user.email"], capture_output=True,
                             text=True, check=False, stdin=subprocess.DEVNULL)
    except OSError:
        return ""
    return out.stdout.strip()


def _list(root: str) -> int:
    counts = feedback.tally(feedback.load(root))
    if not counts:
        print(f"no feedback recorded in {feedback.feedback_path(root)}")
        return 0
    print(f"{'code':<12} {'useful':>6} {'not useful':>10}  rate")
    for code, (useful, not_useful) in counts.items():
        rate = not_useful / (useful + not_useful)
        alarm = "  <- over 10% not useful" if rate > NOT_USEFUL_ALARM else ""
        print(f"{code:<12} {useful:>6} {not_useful:>10}  {rate:4.0%}{alarm}")
    return 0
