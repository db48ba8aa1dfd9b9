"""``lintrank cache info|clean``."""
from __future__ import annotations

import argparse
import json

from lintrank.core.cache import Cache, cache_dir, clean
from lintrank.core.config import find_root


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("cache", help="show or delete the result and score cache")
    p.add_argument("--cache-dir", metavar="DIR", help="cache folder to act on")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (("info", "print the cache's location and size as JSON"),
                       ("clean", "delete the cache folder")):
        action = actions.add_parser(name, help=text)
        # Also after the action (`cache info --cache-dir DIR PATH`); SUPPRESS keeps
        # this copy from overwriting one given before the action.
        action.add_argument("--cache-dir", metavar="DIR", default=argparse.SUPPRESS,
                            help="cache folder to act on")
        action.add_argument("path", nargs="?", default=".",
                            help="project folder (default: .)")
    return p


def run(args: argparse.Namespace) -> int:
    folder = cache_dir(find_root([args.path]), args.cache_dir)
    if args.action == "clean":
        existed = clean(folder)
        print(f"removed {folder}" if existed else f"no cache at {folder}")
        return 0
    if not folder.exists():
        print(json.dumps({"path": str(folder), "exists": False}))
        return 0
    cache = Cache(folder)
    print(json.dumps(cache.info(), indent=2))
    cache.close()
    return 0
