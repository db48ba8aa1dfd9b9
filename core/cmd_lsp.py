"""``lintrank lsp``: run the Language Server on stdio (or TCP) for editors."""
from __future__ import annotations

import argparse

from lintrank.core.exceptions import UsageError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("lsp", help="start the Language Server (editors)",
                       description="Publish ranked, explained diagnostics for open Python "
                                   "files on open, save and (debounced) change. Needs "
                                   "`pip install lintrank[lsp]`.")
    p.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP port instead")
    return p


def run(args: argparse.Namespace) -> int:
    try:
        from lintrank.core.lsp.server import build_server
    except ImportError as exc:
        raise UsageError(f"`lintrank lsp` needs pygls ({exc}); "
                         "install it with: pip install 'lintrank[lsp]'") from exc
    server = build_server()
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            raise UsageError(f"--tcp expects HOST:PORT, not {args.tcp!r}")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    return 0
