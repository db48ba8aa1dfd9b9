"""What a run prepares while its analyzers run: the model, git history, parsed files.

On a cold run the analyzer processes are the critical path and the parent process
only waits for them. Loading the model (importing onnxruntime and numpy), reading
the git history and parsing the analysed files in that time, on a thread, instead
of after it, takes most of lintrank's own cost off the wall clock (measured by
``benchmarks/overhead.py``). The history thread opens its own SQLite connection.

The threads run at a lower CPU priority than the analyzers: when the analyzers keep
every core busy, their work comes first (it is the critical path), and the
preparation fills the gaps, such as a core left idle while the last batch finishes.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from lintrank.core.cache import Cache
from lintrank.core.config import Settings
from lintrank.core.files import read_regular
from lintrank.core.history import FileHistory
from lintrank.core.history_cache import project_history

if TYPE_CHECKING:
    from lintrank.core.onnx_model import RewardModel
    from lintrank.core.scorer import Parsed

#: Lines parsed ahead at most: contexts of a huge tree must not become the run's
#: largest memory (about 170 bytes a line, so 50 MiB at most; dropped after scoring).
AHEAD_LINES = 300_000
#: How much lower the preparing threads' priority is (``nice`` steps; Linux only,
#: where a thread has its own nice value and the ``git`` it starts inherits it).
NICER = 10


@dataclasses.dataclass
class Prepared:
    """The model, the project's history and the files parsed ahead."""

    model: RewardModel
    history: dict[str, FileHistory]
    parsed: dict[str, Parsed]
    #: Syntax verdicts the parsed files vouch for (:func:`encoding.parsed_verdict`).
    parses: list[str] = dataclasses.field(default_factory=list)


class Preparer:
    """Prepares scoring on threads from :meth:`start` until :meth:`finish`."""

    def __init__(self, settings: Settings, cache: Cache | None) -> None:
        self.settings = settings
        self.cache = cache
        self.model: RewardModel | None = None
        self.history: dict[str, FileHistory] | None = None
        self.parsed: dict[str, Parsed] = {}
        self.parses: list[str] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, files: Sequence[str] = ()) -> None:
        """Start preparing; ``files`` are those being analysed, worth parsing ahead.

        The history is read on a thread of its own: it mostly waits for ``git``,
        which runs meanwhile beside the model's import on the other thread.
        """
        self._threads = [
            threading.Thread(target=self._guarded, args=(self._history_work,),
                             name="lintrank-history", daemon=True),
            threading.Thread(target=self._guarded, args=(self._model_work, list(files)),
                             name="lintrank-prepare", daemon=True)]
        for thread in self._threads:
            thread.start()

    def finish(self, needs_history: bool = True, files: Sequence[str] = ()) -> Prepared:
        """Stop parsing ahead and complete, here, whatever was not prepared.

        While the threads are still at work (``git`` reading the history), the
        calling thread parses ``files`` meanwhile instead of waiting idle.

        :raises lintrank.core.exceptions.LintrankError: when the model cannot be used.
        """
        self._parse_ahead(list(files), lambda: not any(t.is_alive() for t in self._threads))
        self._stop.set()
        for thread in self._threads:
            thread.join()
        if self.error is not None:
            raise self.error
        if self.model is None:
            self._load_model()
        if self.history is None:
            self.history = self._history(self.cache) if needs_history else {}
        assert self.model is not None
        return Prepared(self.model, self.history, self.parsed, self.parses)

    def abandon(self) -> None:
        """Wait for the threads and drop their work (nothing turned out to need it).

        Joined rather than left behind: a daemon thread still importing an extension
        module while the interpreter shuts down can crash it.
        """
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _guarded(self, work: Callable[..., None], *args: object) -> None:
        try:
            yield_cpu()
            work(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            self.error = exc

    def _history_work(self) -> None:
        # SQLite connections belong to their thread: this one opens its own.
        cache = Cache(self.cache.folder) if self.cache is not None and self.cache.enabled \
            else None
        try:
            self.history = self._history(cache)
        finally:
            if cache is not None:
                cache.close()

    def _history(self, cache: Cache | None) -> dict[str, FileHistory]:
        return project_history(self.settings.root, cache) if self.settings.history else {}

    def _model_work(self, files: list[str]) -> None:
        self._load_model()
        self._parse_ahead(files)

    def _load_model(self) -> None:
        from lintrank.core.scoring import resolve_model  # perf: numpy, onnxruntime

        self.model = resolve_model(self.settings)

    def _parse_ahead(self, files: list[str], done: Callable[[], bool] | None = None) -> None:
        from lintrank.core.encoding import parsed_verdict
        from lintrank.core.scorer import context_of

        done = done or self._stop.is_set
        budget = AHEAD_LINES
        for path in files:
            if done() or budget <= 0:
                return
            if path in self.parsed:
                continue
            try:
                data = read_regular(os.path.join(self.settings.root, path))
            except OSError:
                continue  # scored from an empty context, as without parsing ahead
            ctx = context_of(path, data)
            self.parsed[path] = (data, ctx)
            if (key := parsed_verdict(data, ctx)) is not None:
                self.parses.append(key)
            budget -= ctx.n_lines


def yield_cpu() -> None:
    """Lower the calling thread's CPU priority by :data:`NICER` (Linux; else nothing)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid,
                       min(os.getpriority(os.PRIO_PROCESS, tid) + NICER, 19))
    except OSError:
        pass  # not permitted here: the thread keeps the process's priority
