"""Run a callback in flake8's main process once it has forked its checking processes.

flake8 ``--jobs`` forks a ``multiprocessing.Pool`` right after it makes the formatter.
A thread started before that fork can hold a lock (the import lock, a logging lock)
that the forked children then inherit held, and deadlock on. The formatter's
threads therefore start from flake8's pool creation, just after the fork
(``flake8.checker._try_initialize_processpool`` of flake8 7), so they overlap the
children's checking while this process only waits for their results. The hook is
flake8-internal: where it is missing, or flake8 checks serially, :func:`after_fork`
never calls back and the caller does its work later.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flake8 import checker

_HOOK = "_try_initialize_processpool"


def after_fork(callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` once, after flake8 creates its pool; returns an undo.

    Not when no pool could be made: flake8 then checks serially in this process,
    where the callback's threads would run beside the checks. An exception from
    ``callback`` is dropped, the pool is returned all the same. The undo puts
    flake8's function back when the hook never fired (a serial run), so nothing
    outlives the run in the module.
    """
    create = getattr(checker, _HOOK, None)
    if not callable(create):
        return _nothing

    @functools.wraps(create)
    def created(*args: Any, **kwargs: Any) -> Any:
        undo()  # one pool, one call back
        pool = create(*args, **kwargs)
        if pool is not None:
            try:
                callback()
            except Exception:  # noqa: BLE001, S110 - flake8's checks must go on regardless
                pass
        return pool

    def undo() -> None:
        if getattr(checker, _HOOK, None) is created:
            setattr(checker, _HOOK, create)

    setattr(checker, _HOOK, created)
    return undo


def _nothing() -> None:
    """Nothing to undo."""
