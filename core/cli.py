"""The ``lintrank`` command: argument parsing, errors, exit codes.

Each sub-command lives in its own ``cmd_*`` module exposing ``add_parser`` and
``run``; this module only dispatches and turns exceptions into exit codes.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import NoReturn

from lintrank.core import __version__, processes
from lintrank.core.exceptions import LintrankError, warning_line

COMMANDS = (
    "lintrank.core.cmd_check",
    "lintrank.core.cmd_debug",
    "lintrank.core.cmd_cache",
    "lintrank.core.cmd_feedback",
    "lintrank.core.cmd_lsp",
    "lintrank.core.cmd_learn",
    "lintrank.core.cmd_mine",
    "lintrank.core.cmd_train",
    "lintrank.core.cmd_eval",
)
#: The module of a sub-command, by its name.
_MODULE = "lintrank.core.cmd_{}"


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``command``, that sub-command's only.

    perf: each sub-command module imports what it needs (training, mining, the
    editor server...); a ``check`` need not import the others (20-30 ms a run).
    """
    parser = argparse.ArgumentParser(
        prog="lintrank",
        description="Rank flake8, pylint and ruff findings by learned importance.")
    parser.add_argument("--version", action="version", version=f"lintrank {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if command is not None and name != _MODULE.format(command):
            continue
        module = importlib.import_module(name)
        module.add_parser(sub).set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 nothing kept, 1 kept, 2 error)."""
    return _main(argv)[0]


def console() -> NoReturn:
    """The ``lintrank`` console script: :func:`main`, then a quick exit after ``check``.

    A ``check`` has written and closed everything when it returns, so the process
    ends at once rather than tearing down numpy and onnxruntime (0.03-0.05 s, a tenth
    of lintrank's own cost on a cold run of a small tree; mypy ends the same way).
    Not after a Dask run, whose library may still clean up at exit.
    """
    code, command = _main(None)
    if command == "check" and "distributed" not in sys.modules:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (BrokenPipeError, OSError):
            pass  # a closed pipe (``| head``): nothing more to say
        os._exit(code)
    sys.exit(code)


def _main(argv: Sequence[str] | None) -> tuple[int, str | None]:
    started = time.monotonic()  # a check's budget counts from here (its imports too)
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command(argv))
    args = parser.parse_args(argv)
    args.started = started
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2, None
    warnings.formatwarning = _format_warning
    with _stop_analyzers_on_signals():
        return _run(args), args.command


def _command(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` when it is a known one, else None (then the
    whole parser is built: for --help, and to name the choices of a wrong command)."""
    # Only --version and --debug, flags without values, may come before it.
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word is not None and _MODULE.format(word) in COMMANDS else None


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.handler(args))
    except LintrankError as exc:
        if args.debug:
            raise
        print(f"lintrank: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("lintrank: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a bug: one clear line and exit 2 in a hook, not a traceback
        if args.debug:
            raise
        print(f"lintrank: internal error: {type(exc).__name__}: {exc}\n  this is a bug: "
              "rerun with `lintrank --debug ...` and report the traceback", file=sys.stderr)
        return 2


@contextlib.contextmanager
def _stop_analyzers_on_signals() -> Iterator[None]:
    """On SIGINT/SIGTERM, kill the running analyzers first, so no orphaned pylint
    outlives a cancelled CI job or hook. SIGTERM then ends lintrank at once, as it
    would have without the handler (unwinding could wait on a thread, e.g. the LSP
    server's stdin reader); SIGINT unwinds as KeyboardInterrupt ("interrupted")."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        processes.stop_all()
        if signum == signal.SIGTERM:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
        processes.reset()


def _format_warning(message, category, filename, lineno, line=None) -> str:  # type: ignore[no-untyped-def]
    return warning_line(message) + "\n"


if __name__ == "__main__":
    console()
