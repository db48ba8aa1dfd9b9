"""``python -m lintrank.plugins.pylint_run ARGS``: ``python -m pylint ARGS`` for
lintrank's pylint source, less two costs a one-shot analyzer process does not need.

* Garbage collection. astroid keeps every module it builds or infers for the whole
  run, millions of long-lived objects, which CPython's default thresholds walk
  again and again: a third of a batch's time on pytest's tree. Collections run far
  less often here (:mod:`lintrank.core.collect`); a batch's peak memory did not
  change (measured on 1 and 9 files, and in whole cold runs).
* Interpreter teardown. Freeing that object graph at exit took 0.8 s after a
  one-file run and 3.4 s after 19 files, once pylint had written everything. The
  process ends with ``os._exit`` after flushing its output, with pylint's status.

The output and exit status are pylint's own (tests/test_sources.py runs both).
"""
from __future__ import annotations

import os
import sys


def status(code: object) -> int:
    """The exit status ``sys.exit(code)`` gives (a message is printed, then 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def main() -> None:
    import pylint

    # As `python -m pylint` does: the project folder (cwd) must not shadow modules.
    pylint.modify_sys_path()
    from lintrank.core.collect import fewer_collections

    try:
        with fewer_collections():
            pylint.run_pylint(sys.argv[1:])
        code = 0
    except SystemExit as exc:
        code = status(exc.code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # perf: skip freeing astroid's object graph (see above)


if __name__ == "__main__":
    main()
